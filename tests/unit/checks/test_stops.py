"""Stop conditions S1-S5 over hand-made windows, unit states and baselines: each condition
failing alone, each threshold just inside and just outside its edge, thin, empty and stale data
INCONCLUSIVE (never PASS), asserting status and value."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shadowgate.checks import stops
from shadowgate.checks.stops import PnlBaseline
from shadowgate.config import Thresholds
from shadowgate.verdict import Status
from tests.support.handmade import HOUR, MINUTE, NOW, SECOND, intent, series, timed, vote, voting
from tests.support.stop_scenes import (
    BASELINE,
    FRESH,
    INVOCATION,
    S5_T0,
    T0,
    TARGET,
    TH,
    anchor,
    at,
    closed,
    confident,
    disagreeing,
    in_slice,
    s5,
    since,
    slices,
    unit,
)


def th(**sets: object) -> Thresholds:
    return Thresholds.load(sets=[f"{key.replace('__', '.')}={v}" for key, v in sets.items()])


# -- S1: crashed, restarted or silent --------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "now", "window", "t0", "status", "value"),
    [
        ("healthy", unit(), FRESH, anchor(), Status.PASS, 10 / 60),
        ("failed", unit(state=("failed", "failed")), FRESH, anchor(), Status.FAIL, 10 / 60),
        ("auto-restart pending", unit(state=("activating", "auto-restart")), FRESH, anchor(),
         Status.FAIL, 10 / 60),
        ("another invocation", unit(invocation="b" * 32), FRESH, anchor(), Status.FAIL, 10 / 60),
        ("automatic restart after T+0", unit(T0 + 10 * MINUTE, restarts=1), FRESH,
         anchor(invocation=None), Status.FAIL, 10 / 60),
        ("activation's start 30 s after T+0", unit(T0 + 30 * SECOND), FRESH,
         anchor(invocation=None), Status.PASS, 10 / 60),
        ("start by hand 31 s after T+0", unit(T0 + 31 * SECOND), FRESH, anchor(invocation=None),
         Status.INCONCLUSIVE, 10 / 60),
        ("started long before T+0 (no restart since)", unit(T0 - HOUR, restarts=3), FRESH,
         anchor(invocation=None), Status.PASS, 10 / 60),
        ("no start time", unit(None), FRESH, anchor(invocation=None), Status.INCONCLUSIVE,
         10 / 60),
        ("silent 15 min", unit(), since(series(30, newest=NOW - 15 * MINUTE)), anchor(),
         Status.PASS, 15.0),
        ("silent 15 min 6 s", unit(), since(series(30, newest=NOW - 15 * MINUTE - 6 * SECOND)),
         anchor(), Status.FAIL, 15.1),
        ("no intent yet, T+0 10 min ago", unit(NOW - 10 * MINUTE), since([], NOW - 10 * MINUTE),
         anchor(NOW - 10 * MINUTE), Status.PASS, 10.0),
        ("no intent since T+0 16 min ago", unit(NOW - 16 * MINUTE), since([], NOW - 16 * MINUTE),
         anchor(NOW - 16 * MINUTE), Status.FAIL, 16.0),
        ("read time unknown", unit(), since(series(30), read_at=None), anchor(),
         Status.INCONCLUSIVE, None),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)  # fmt: skip
def test_s1_each_condition_alone(case, now, window, t0, status, value):
    verdict = stops.s1_service_crashed(now, window, t0, TH)
    assert verdict.status is status, verdict.message()
    assert verdict.value == pytest.approx(value)
    assert "since T+0 " in verdict.window and verdict.section == "s.5 stop 1"


def test_s1_says_which_restart_and_how_to_fix_an_early_t0():
    late = unit(T0 + 5 * MINUTE)
    verdict = stops.s1_service_crashed(late, FRESH, anchor(invocation=None), TH)
    assert "started by hand at" in verdict.detail
    assert f"--activated-at={at(T0 + 5 * MINUTE).isoformat()}" in verdict.detail
    other = stops.s1_service_crashed(unit(invocation="b" * 32), FRESH, anchor(), TH)
    assert f"InvocationID {INVOCATION} at the activation, {'b' * 32} now" in other.detail
    grace = th(stop__s1_start_grace_seconds=600)
    assert stops.s1_service_crashed(late, FRESH, anchor(invocation=None), grace).ok


# -- S2: full consensus sustained ------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "records", "status", "value"),
    [
        ("sustained 90%", slices((9, 10), (9, 10), (9, 10)), Status.FAIL, 0.9),
        ("sustained at exactly 85%", slices((17, 20), (17, 20), (17, 20)), Status.PASS, 0.85),
        ("sustained on 5 intents a slice", slices((5, 5), (5, 5), (5, 5)), Status.FAIL, 1.0),
        ("one slice of 4", slices((5, 5), (4, 4), (5, 5)), Status.WARN, 1.0),
        ("latest slice only", slices((5, 10), (5, 10), (9, 10)), Status.WARN, 0.9),
        ("not in the latest slice", slices((9, 10), (9, 10), (8, 10)), Status.WARN, 0.8),
        ("oldest slice before T+0 (empty)", slices((0, 0), (9, 10), (9, 10)), Status.WARN, 0.9),
        ("healthy", slices((5, 10), (6, 10), (7, 10)), Status.PASS, 0.7),
        ("all slices thin, no breach", slices((2, 4), (2, 4), (2, 4)), Status.INCONCLUSIVE, 0.5),
        ("empty", [], Status.INCONCLUSIVE, 0),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_s2_sustained_means_every_slice_judged_and_above(case, records, status, value):
    verdict = stops.s2_full_consensus_sustained(since(records, NOW - 35 * MINUTE), anchor(), TH)
    assert verdict.status is status, verdict.message()
    assert verdict.value == pytest.approx(value)


def test_s2_shows_the_per_slice_figures():
    window = since(slices((9, 10), (4, 4), (9, 10)), NOW - 35 * MINUTE)
    verdict = stops.s2_full_consensus_sustained(window, anchor(), TH)
    assert verdict.status is Status.WARN
    assert verdict.measured == (
        "full consensus per slice, oldest first: 23:30:00Z..23:40:00Z 9/10 (90.0%); "
        "23:40:00Z..23:50:00Z 4/4 (100.0%) (too thin); 23:50:00Z..00:00:00Z 9/10 (90.0%)"
    )
    assert "not proven sustained" in verdict.detail


@pytest.mark.parametrize(
    ("window", "status"),
    [
        (since(slices((9, 10), (9, 10), (9, 10)), NOW - 35 * MINUTE, covered=False), Status.FAIL),
        (since(in_slice(0, 9, 10), NOW - 35 * MINUTE), Status.INCONCLUSIVE),  # silent 20 min
        (since(slices((5, 10), (6, 10), (7, 10)), NOW - 35 * MINUTE, covered=False),
         Status.INCONCLUSIVE),
    ],
)  # fmt: skip
def test_s2_a_sustained_breach_stands_a_pass_needs_fresh_whole_data(window, status):
    verdict = stops.s2_full_consensus_sustained(window, anchor(), TH)
    assert verdict.status is status, verdict.message()


def test_s2_counts_full_consensus_from_the_active_voters():
    """Four of four with PatchTST voting is full; a model on fallback rules leaves three."""
    fallback = {"xgb": vote(), "lgbm": vote(inactive=True, inactive_reason="fallback_rules"),
                "nhits": vote()}  # fmt: skip
    records = [
        intent(NOW - k * 30 * SECOND, patchtst=voting(), consensus=3, others=fallback)
        for k in range(60, 0, -1)
    ]
    verdict = stops.s2_full_consensus_sustained(since(records, NOW - 35 * MINUTE), anchor(), TH)
    assert verdict.status is Status.FAIL and verdict.value == 1.0


# -- S3, S4: the latest 100 since T+0 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "records", "status", "value"),
    [
        ("30% of 100", disagreeing(100, 30), Status.PASS, 0.30),
        ("31% of 100", disagreeing(100, 31), Status.FAIL, 0.31),
        ("35% of 20", disagreeing(20, 7), Status.FAIL, 0.35),
        ("19 intents", disagreeing(19, 19), Status.INCONCLUSIVE, None),
        ("only the latest 100 count", disagreeing(150, 50), Status.PASS, 0.0),
        ("stale breach stands", disagreeing(100, 40, NOW - HOUR), Status.FAIL, 0.40),
        ("stale, no breach", disagreeing(100, 0, NOW - HOUR), Status.INCONCLUSIVE, 60.0),
        ("empty", [], Status.INCONCLUSIVE, 0),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_s3_hard_disagreement(case, records, status, value):
    verdict = stops.s3_hard_disagreement(since(records, NOW - 2 * HOUR), anchor(), TARGET, TH)
    assert verdict.status is status, verdict.message()
    assert verdict.value == pytest.approx(value)


@pytest.mark.parametrize(
    ("case", "records", "status", "value"),
    [
        ("constant", confident([0.6] * 100), Status.FAIL, 0.0),
        ("range 0.01", confident([0.60] * 50 + [0.61] * 50), Status.PASS, 0.01),
        ("range 0.0099", confident([0.60] * 50 + [0.6099] * 50), Status.FAIL, 0.0099),
        ("20 votes", confident([0.6] * 20), Status.FAIL, 0.0),
        ("19 votes", confident([0.6] * 19), Status.INCONCLUSIVE, None),
        ("HOLD placeholders only", confident([0.5] * 100, "HOLD"), Status.INCONCLUSIVE, None),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_s4_confidence_collapse(case, records, status, value):
    verdict = stops.s4_confidence_collapse(since(records, NOW - 2 * HOUR), anchor(), TARGET, TH)
    assert verdict.status is status, verdict.message()
    assert verdict.value == pytest.approx(value)


# -- S5: the first hour after T+0 against the 24 h before ------------------------------------


@pytest.mark.parametrize(
    ("case", "outcomes", "baseline", "status", "value"),
    [
        ("10 points below", closed(10, 10), BASELINE, Status.PASS, 0.10),
        ("15 points below", closed(9, 11), BASELINE, Status.FAIL, 0.15),
        ("mean loss 2x", closed(12, 8, 2.0), BASELINE, Status.PASS, 0.0),
        ("mean loss 2.01x", closed(12, 8, 2.01), BASELINE, Status.FAIL, 0.0),
        ("9 outcomes", closed(0, 9, 5.0), BASELINE, Status.INCONCLUSIVE, None),
        ("10 outcomes", closed(3, 7), BASELINE, Status.FAIL, 0.30),
        ("no baseline", closed(12, 8), None, Status.INCONCLUSIVE, None),
        ("thin baseline", closed(12, 8), replace(BASELINE, outcomes=9, wins=5, losses=4),
         Status.INCONCLUSIVE, None),
        ("thin baseline hides a breach", closed(0, 20), replace(BASELINE, outcomes=9, wins=9),
         Status.INCONCLUSIVE, None),
        ("stale baseline", closed(12, 8), replace(BASELINE, end_ms=S5_T0 - 2 * HOUR),
         Status.INCONCLUSIVE, None),
        ("baseline not covered", closed(12, 8), replace(BASELINE, covered=False),
         Status.INCONCLUSIVE, None),
        ("baseline without a loss", closed(12, 8), replace(BASELINE, losses=0, mean_loss=None),
         Status.INCONCLUSIVE, None),
        ("no outcomes stream", None, BASELINE, Status.INCONCLUSIVE, None),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)  # fmt: skip
def test_s5_against_the_baseline(case, outcomes, baseline, status, value):
    verdict = s5(outcomes, baseline)
    assert verdict.status is status, verdict.message()
    assert verdict.value == pytest.approx(value)


def test_s5_edges_by_threshold():
    assert s5(closed(9, 11), thresholds=th(stop__s5_max_win_rate_drop=0.15)).status is Status.PASS
    assert s5(closed(9, 11), thresholds=th(stop__s5_max_win_rate_drop=0.149)).status is Status.FAIL
    assert s5(closed(9, 11), thresholds=th(stop__s5_min_outcomes=21)).status is Status.INCONCLUSIVE


@pytest.mark.parametrize(
    ("span", "status"), [(24 * HOUR, Status.PASS), (24 * HOUR - MINUTE, Status.INCONCLUSIVE)]
)
def test_s5_baseline_must_span_the_whole_24_h_before(span, status):
    """`stop.s5_before_hours` is hours: a baseline one minute short of 24 h is no yardstick."""
    verdict = s5(closed(12, 8), replace(BASELINE, start_ms=BASELINE.end_ms - span))
    assert verdict.status is status, verdict.message()
    short = "the baseline does not hold the whole 24 h before"
    assert (short in verdict.measured) is (status is Status.INCONCLUSIVE), verdict.measured


@pytest.mark.parametrize(("loss", "status"), [(1.0, Status.PASS), (1.01, Status.FAIL)])
def test_s5_loss_ratio_is_the_first_hours_mean_loss_over_the_baselines(loss, status):
    """Mean loss 1.01 against a baseline's 0.5 is 2.02x, past the 2x stop; 1.0 is 2x, not past."""
    verdict = s5(closed(12, 8, loss), replace(BASELINE, mean_loss=0.5))
    assert verdict.status is status, verdict.message()
    assert f"mean loss {loss / 0.5:.2f}x the baseline's" in verdict.measured


def test_s5_judges_the_first_hour_only_and_says_when_it_is_not_over():
    late_losses = closed(12, 8) + closed(0, 30, 9.0, S5_T0 + 61 * MINUTE)[:25]
    assert s5(late_losses).status is Status.PASS
    young = s5(closed(12, 8, t0=NOW - 30 * MINUTE), t0=NOW - 30 * MINUTE)
    assert young.status is Status.INCONCLUSIVE and "not yet over" in young.measured
    breach = s5(closed(2, 18, t0=NOW - 30 * MINUTE), t0=NOW - 30 * MINUTE)
    assert breach.status is Status.FAIL and "not yet over" in breach.detail


def test_s5_says_plainly_why_it_is_inconclusive():
    verdict = s5(closed(0, 3), None)
    assert verdict.measured.startswith(
        "no S5 baseline: no preactivation record of this target before T+0 holds one; "
        "only 3 outcomes closed in the first 1 h, need 10"
    )
    unread = s5(closed(12, 8), covered=False)
    assert unread.status is Status.INCONCLUSIVE and "no longer holds" in unread.measured
    stale = s5(closed(12, 8), replace(BASELINE, end_ms=S5_T0 - 2 * HOUR))
    assert "the baseline ended 2 h before T+0" in stale.measured


def test_baseline_round_trips_through_the_record_facts():
    window = timed(closed(3, 2, 0.5), S5_T0 - 24 * HOUR, errors=1)
    measured = PnlBaseline.measure(window, S5_T0 - 24 * HOUR, S5_T0)
    assert (measured.outcomes, measured.wins, measured.losses) == (5, 3, 2)
    assert measured.mean_loss == pytest.approx(0.5) and measured.unreadable == 1
    fact = measured.to_fact()
    assert fact["win_rate"] == pytest.approx(0.6) and "run_id" not in fact
    assert PnlBaseline.from_fact(fact, "r-9") == replace(measured, run_id="r-9")
    assert PnlBaseline.from_fact({"outcomes": 3}, "r-9") is None
    assert PnlBaseline.from_fact(fact | {"wins": 6}, "r-9") is None
    assert PnlBaseline.from_fact(None, "r-9") is None
    assert PnlBaseline.measure(None, 0, HOUR).outcomes == 0
