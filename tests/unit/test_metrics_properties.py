"""metrics: properties that hold for any window the engine could publish."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowgate import metrics as m
from shadowgate import trades as tr
from shadowgate import votes as vt
from shadowgate.intents import Intent
from shadowgate.outcomes import Outcome
from tests.support.metric_strategies import PT, outcome_lists, windows

fast = settings(max_examples=50, deadline=None)  # this module's own budget, not a global profile


finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


def ratios(window: list[Intent]) -> list[m.Ratio]:
    return [
        m.full_consensus_share(window),
        m.low_consensus_share(window),
        m.agreement(window, PT),
        m.hard_disagreement(window, PT),
        m.failed_predictions(window, PT),
        m.share(window, lambda i: vt.beyond_others(i, PT)),
        m.share(window, lambda i: vt.counts_model(i, PT)),
        *m.action_distribution(window, PT).values(),
    ]


def aggregates(window: list[Intent], outcomes: list[Outcome]) -> list[object]:
    """Every aggregate over the window, in a comparable form."""
    pairs = tr.join_outcomes(window, outcomes, 20 * 60_000)
    return [
        ratios(window),
        m.consensus_distribution(window),
        m.largest_share(m.action_distribution(window, PT)),
        sorted(m.model_confidences(window, PT)),
        m.confidence_spread(m.model_confidences(window, PT)),
        m.payload_p95(window),
        [sorted(i.entry_id for i in s) for s in m.time_slices(window, 40 * 60_000, 10 * 60_000, 3)],
        [(i.entry_id, o.entry_id) for i, o in pairs],
        tr.calibration_buckets(pairs, PT, 3),
        tr.win_rate(outcomes),
        tr.mean_loss(outcomes),
    ]


@fast
@given(windows())
def test_ratios_are_rates(window):
    for r in ratios(window):
        assert 0 <= r.hits <= r.total
        assert r.value is None if r.total == 0 else 0.0 <= r.value <= 1.0
    agree, hard = m.agreement(window, PT), m.hard_disagreement(window, PT)
    assert agree.hits + hard.hits <= agree.total == hard.total


@fast
@given(windows())
def test_distributions_sum_to_their_sample(window):
    assert sum(m.consensus_distribution(window).values()) == len(window)
    dist = m.action_distribution(window, PT)
    directional = dist["BUY"].hits + dist["SELL"].hits
    odd_pt = sum(1 for i in window if PT in i.breakdown and i.breakdown[PT].odd)
    assert directional - odd_pt <= len(m.model_confidences(window, PT)) <= directional
    assert len({r.total for r in dist.values()}) == 1


@fast
@given(windows(), outcome_lists(), st.data())
def test_every_aggregate_ignores_input_order(window, outcomes, data):
    shuffled = data.draw(st.permutations(window))
    shuffled_outcomes = data.draw(st.permutations(outcomes))
    assert aggregates(shuffled, shuffled_outcomes) == aggregates(window, outcomes)


@fast
@given(st.lists(finite, min_size=1, max_size=40), st.floats(0, 100), st.floats(0, 100))
def test_percentile_is_monotone_and_within_range(values, q1, q2):
    lo, hi = sorted((q1, q2))
    assert min(values) <= m.percentile(values, lo) <= m.percentile(values, hi) <= max(values)


@fast
@given(st.lists(finite, min_size=1, max_size=40))
def test_spread_is_ordered(values):
    s = m.confidence_spread(values)
    assert s is not None
    assert s.n == len(values)
    assert min(values) <= s.p10 <= s.p50 <= s.p90 <= max(values)
    assert min(values) <= s.mean <= max(values)
    assert s.std >= 0
    assert s.range_p10_p90 >= 0


@fast
@given(finite, st.integers(1, 40))
def test_constant_has_no_spread(value, n):
    s = m.confidence_spread([value] * n)
    assert s is not None
    assert (s.std, s.range_p10_p90, s.mean) == (0.0, 0.0, value)


@fast
@given(windows(), outcome_lists(), st.integers(0, 30 * 60_000))
def test_join_pairs_only_matching_earlier_intents_once(window, outcomes, window_ms):
    pairs = tr.join_outcomes(window, outcomes, window_ms)
    for intent, outcome in pairs:
        assert intent.symbol == outcome.symbol
        assert tr.OUTCOME_SIDE[intent.side] == outcome.side
        assert 0 <= outcome.ts_ms - intent.ts_ms <= window_ms
    assert max(Counter(i.entry_id for i, _ in pairs).values(), default=1) == 1
    assert max(Counter(o.entry_id for _, o in pairs).values(), default=1) == 1


@fast
@given(windows(), outcome_lists(), st.integers(1, 5))
def test_calibration_buckets_partition_the_directional_pairs(window, outcomes, k):
    pairs = tr.join_outcomes(window, outcomes, 30 * 60_000)
    buckets = tr.calibration_buckets(pairs, PT, k)
    directional = [p for p in pairs if tr.model_hit(*p, PT) is not None]
    assert sum(b.n for b in buckets) == len(directional)
    assert len(buckets) <= k
    for b in buckets:
        assert b.lo <= b.hi and 0 <= b.hits <= b.n and 0.0 <= b.hit_rate <= 1.0
    for lower, upper in pairwise(buckets):
        assert lower.hi < upper.lo  # ties never straddle a boundary


@fast
@given(windows(), st.integers(0, 60 * 60_000), st.integers(1, 20 * 60_000), st.integers(0, 4))
def test_time_slices_are_consecutive_and_disjoint(window, end, width, count):
    slices = m.time_slices(window, end, width, count)
    assert len(slices) == count
    for k, chunk in enumerate(reversed(slices)):
        assert all(end - (k + 1) * width < i.ts_ms <= end - k * width for i in chunk)
    inside = [i for i in window if end - count * width < i.ts_ms <= end]
    assert sum(len(s) for s in slices) == len(inside)


@fast
@given(windows())
def test_vote_classification_is_consistent(window):
    """Every vote is active, excluded or failed; active voters are exactly the rest; shadow
    evidence is always an exclusion; consensus beyond the others needs the model to speak."""
    for i in window:
        active = vt.active_voters(i)
        for name, vote in i.breakdown.items():
            assert (name in active) == (not vt.is_excluded(vote) and not vt.is_failed(vote, name))
            assert not vt.is_shadow(vote) or vt.is_excluded(vote)
        assert not vt.beyond_others(i, PT) or PT in i.breakdown or PT in i.unreadable_votes
        assert m.is_full_consensus(i) == (i.consensus_count >= len(active) > 0)
        assert all(0 <= c <= 1 for c in m.model_confidences([i], PT))
