"""The one-pass day scan against the list functions it replaced: for any window the engine
could publish, every figure the day's checks read is the same, and G4's streaming join gives
exactly the pairs of the former join over a sorted list (kept here as the reference)."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowgate import metrics as m
from shadowgate import stream
from shadowgate import trades as tr
from shadowgate import votes as vt
from shadowgate.config import Target
from shadowgate.dayscan import scan_stream, scan_window
from shadowgate.intents import Intent
from shadowgate.outcomes import Outcome, parse_outcome
from tests.support.dayscans import figures
from tests.support.engine_data import HOUR_MS, NOW_MS, backfill
from tests.support.handmade import timed
from tests.support.metric_strategies import PT, SYMBOLS, intents, outcome_lists, windows

fast = settings(max_examples=200, deadline=None)
MIN = 60_000


def reference_join(
    intents: list[Intent], outcomes: list[Outcome], window_ms: float
) -> list[tuple[Intent, Outcome]]:
    """The join as it was written over a sorted list of every intent (before the scan)."""
    by_key: dict[tuple[str, str], list[Intent]] = defaultdict(list)
    for intent in sorted(intents, key=tr.stream_order):
        if intent.side in tr.OUTCOME_SIDE:
            by_key[intent.symbol, tr.OUTCOME_SIDE[intent.side]].append(intent)
    times = {key: [i.ts_ms for i in group] for key, group in by_key.items()}
    taken: set[tuple[tuple[str, str], int]] = set()
    pairs: list[tuple[Intent, Outcome]] = []
    for outcome in sorted(outcomes, key=tr.stream_order):
        key = (outcome.symbol, outcome.side)
        at = bisect_right(times.get(key, []), outcome.ts_ms) - 1
        if at < 0:
            continue
        intent = by_key[key][at]
        if outcome.ts_ms - intent.ts_ms <= window_ms and (key, at) not in taken:
            taken.add((key, at))
            pairs.append((intent, outcome))
    return pairs


@st.composite
def dense_intents(draw: st.DrawFn) -> list[Intent]:
    """Few minutes and few symbols, so times tie and outcomes compete for the same intent; ids
    may share a millisecond (sequence numbers) and arrive out of stream order."""
    found = []
    for seq in range(draw(st.integers(0, 25))):
        base = draw(intents(seq))
        at = draw(st.integers(0, 12)) * MIN
        symbol = draw(st.sampled_from(SYMBOLS))
        found.append(replace(base, ts_ms=at, entry_id=f"{at}-{seq}", symbol=symbol))
    return found


@st.composite
def dense_outcomes(draw: st.DrawFn) -> list[Outcome]:
    found = []
    for seq in range(draw(st.integers(0, 15))):
        at = draw(st.integers(0, 14)) * MIN + draw(st.sampled_from([0, 1, MIN // 2]))
        side = draw(st.sampled_from(["LONG", "SHORT"]))
        pnl = draw(st.sampled_from([-1.0, 0.0, 1.0]))
        symbol = draw(st.sampled_from(SYMBOLS))
        found.append(Outcome(f"{at}-{seq}", at, symbol, side, 1.0, 1.0, pnl))
    return found


@fast
@given(dense_intents(), dense_outcomes(), st.sampled_from([0, MIN, 3 * MIN, 20 * MIN]))
def test_streaming_join_gives_exactly_the_former_pairs(window, outcomes, window_ms):
    expected = [(i.entry_id, o.entry_id) for i, o in reference_join(window, outcomes, window_ms)]
    pairs = tr.join_outcomes(window, outcomes, window_ms)
    assert [(i.entry_id, o.entry_id) for i, o in pairs] == expected
    in_stream_order = tr.join_outcomes(sorted(window, key=tr.stream_order), outcomes, window_ms)
    assert [(i.entry_id, o.entry_id) for i, o in in_stream_order] == expected


@fast
@given(windows(), outcome_lists(), st.sampled_from([MIN, 20 * MIN]))
def test_the_scan_measures_what_the_list_functions_measure(window, outcomes, window_ms):
    ordered = sorted(window, key=tr.stream_order)
    day = scan_window(timed(ordered, 0), PT, timed(outcomes, 0), window_ms)
    assert day.agreement == m.agreement(ordered, PT)
    assert day.hard_disagreement == m.hard_disagreement(ordered, PT)
    assert day.action_distribution() == m.action_distribution(ordered, PT)
    assert list(day.confidences) == m.model_confidences(ordered, PT)
    hits = [i.entry_id for i in ordered if vt.beyond_others(i, PT)]
    assert (day.beyond_others.n, day.beyond_others.ids) == (len(hits), tuple(hits[:3]))
    assert dict(day.failures.most_common()) == vt.failure_forms(ordered, PT)
    assert day.window.odd_votes == (vt.odd_confidences(ordered) if ordered else None)
    voted = [
        i for i in ordered if vt.failure_form(i, PT) is None and not vt.is_shadow(i.breakdown[PT])
    ]
    newest = day.newest_vote
    assert (
        (newest.entry_id, newest.ts_ms) == (voted[-1].entry_id, voted[-1].ts_ms)
        if voted
        else newest is None
    )
    joined = day.joined(day.outcomes, window_ms)
    expected = [(tr.directional(i, PT), o) for i, o in reference_join(ordered, outcomes, window_ms)]
    assert joined == expected


@fast
@given(st.lists(intents(), min_size=1, max_size=3))
def test_excluded_is_shadow_or_inactive(found):
    for intent in found:
        for v in intent.breakdown.values():
            assert vt.is_excluded(v) == (vt.is_shadow(v) or v.inactive)


def test_the_streamed_scan_equals_the_scan_of_the_window_read_whole(redis_server):
    """The live path (`scan_stream`, no intent kept) and a Window read whole then scanned
    agree on every figure, over garbage, foreign entries and outcomes in all forms."""
    backfill(redis_server, "garbage")
    backfill(redis_server, "later_engine", hours=2.0, seed=5)
    client = stream.connect(redis_server.url)
    target = Target()
    reader = stream.StreamReader(client, target.stream, batch=97, clock=lambda: NOW_MS)
    outcomes = stream.StreamReader(
        client, target.outcomes_stream, parser=parse_outcome, clock=lambda: NOW_MS
    ).window(NOW_MS - 24 * HOUR_MS)
    start, join_ms = NOW_MS - 24 * HOUR_MS, 60 * MIN
    streamed = scan_stream(reader, start, PT, outcomes, join_ms)
    whole = scan_window(reader.window(start), PT, outcomes, join_ms)
    assert streamed.window == whole.window and streamed.window.n_errors > 0
    assert streamed.window.foreign > 0 and streamed.window.first_error is not None
    assert figures(streamed) == figures(whole)
    assert streamed.joined(outcomes, join_ms) == whole.joined(outcomes, join_ms)
    assert streamed.joined(outcomes, join_ms)
