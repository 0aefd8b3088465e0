"""Weight increase criteria W1-W4 over hand-made units, hours and outcomes: each criterion
failing alone, each band edge just inside and just outside in one hour, thin hours, too early,
too few outcomes and no baseline INCONCLUSIVE, asserting status and value."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from shadowgate.checks import weight
from shadowgate.config import Target, Thresholds
from shadowgate.host import UnitState
from shadowgate.verdict import Status
from tests.support.handmade import HOUR, NOW
from tests.support.weight_scenes import (
    BASE,
    HEALTHY_DAY,
    T0,
    T0_AT,
    TH,
    baseline,
    closed,
    hours,
    one_hour,
    w2,
)

TARGET = Target()
HOST_NOW = datetime.fromtimestamp(NOW / 1000, UTC)
RUNNING = UnitState(
    "quantum-ai-engine.service", "loaded", "active", "running", "success", 0, 4242,
    T0_AT + timedelta(seconds=2), "inv-t0", T0_AT + timedelta(seconds=1),
)  # fmt: skip


def th(**sets: object) -> Thresholds:
    return Thresholds.load(sets=[f"{key.replace('__', '.')}={v}" for key, v in sets.items()])


# -- W1: up > 24 h since T+0, no crash --


@pytest.mark.parametrize(
    ("case", "unit", "t0", "now", "status", "hours"),
    [
        ("up 25 h", RUNNING, T0, HOST_NOW, Status.PASS, 25 - 2 / 3600),
        ("up 24 h exactly", RUNNING, T0, T0_AT + timedelta(hours=24, seconds=2),
         Status.INCONCLUSIVE, 24.0),
        ("up 24 h 1 s", RUNNING, T0, T0_AT + timedelta(hours=24, seconds=3), Status.PASS,
         24 + 1 / 3600),
        ("stopped", replace(RUNNING, active_state="failed", sub_state="failed"), T0, HOST_NOW,
         Status.FAIL, None),
        ("new InvocationID", replace(RUNNING, invocation_id="inv-later"), T0, HOST_NOW,
         Status.FAIL, 25 - 2 / 3600),
        ("started 31 s after T+0, no InvocationID",
         replace(RUNNING, active_enter=T0_AT + timedelta(seconds=31)),
         replace(T0, invocation_id=None), HOST_NOW, Status.FAIL, 25 - 31 / 3600),
        ("started 30 s after T+0, no InvocationID",
         replace(RUNNING, active_enter=T0_AT + timedelta(seconds=30)),
         replace(T0, invocation_id=None), HOST_NOW, Status.PASS, 25 - 30 / 3600),
        ("no start time", replace(RUNNING, active_enter=None, exec_main_start=None), T0,
         HOST_NOW, Status.INCONCLUSIVE, None),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)  # fmt: skip
def test_w1_uptime_since_t0(case, unit, t0, now, status, hours):
    verdict = weight.w1_uptime(unit, t0, now, TH)
    assert verdict.status is status, verdict.message()
    assert verdict.value == (None if hours is None else pytest.approx(hours))
    assert verdict.window.startswith("T+0 2025-12-30T23:00:00Z (activation record")


# -- W2 / W3: every hour of T+0..T+24 h within the band --


def w3(window, thresholds=TH):
    return weight.w3_agreement_stable(window, T0, TARGET, thresholds)


@pytest.mark.parametrize(
    ("figures", "status", "in_band"),
    [
        ((12, 18), Status.PASS, 24),  # 40%
        ((11, 19), Status.FAIL, 23),  # 36.7%
        ((21, 9), Status.PASS, 24),  # 70%
        ((22, 8), Status.FAIL, 23),  # 73.3%
        ((9, 10), Status.INCONCLUSIVE, 23),  # 19 intents: not judged
        ((30, 0), Status.FAIL, 23),
    ],
    ids=["40%", "36.7%", "70%", "73.3%", "thin hour", "100%"],
)
@pytest.mark.parametrize("h", [0, 23])
def test_w2_every_hour_in_the_band(figures, status, in_band, h):
    verdict = w2(hours(one_hour(h, figures)))
    assert verdict.status is status, verdict.message()
    assert verdict.value == in_band and verdict.sample == 24 * 30 - 30 + sum(figures)
    if status is Status.FAIL:
        assert verdict.detail.startswith(f"out of band: h{h + 1} ")


def test_w3_agreement_per_hour_uses_its_own_band():
    """40% full consensus is 40% agreement: inside W2's band, outside W3's 55..75%."""
    day = [(17, 13)] * 24  # 56.7%
    assert w3(hours(day)).status is Status.PASS
    assert w2(hours(day)).status is Status.PASS
    verdict = w3(hours(HEALTHY_DAY))
    assert verdict.status is Status.FAIL and verdict.value == 0
    assert verdict.measured.startswith("patchtst agreement per hour since T+0: h1 12/30 (40.0%)")


def test_hourly_finding_stands_on_stale_data_but_never_passes_on_it():
    stale = hours(one_hour(5, (30, 0)), read_at=NOW + HOUR)
    assert w2(stale).status is Status.FAIL
    verdict = w2(hours(HEALTHY_DAY, read_at=NOW + HOUR))
    assert verdict.status is Status.INCONCLUSIVE and "engine silent since" in verdict.measured


def test_hourly_too_early_and_uncovered_are_inconclusive():
    early = w2(hours(HEALTHY_DAY[:20]))
    assert early.status is Status.INCONCLUSIVE and early.value == 20
    assert "too few intents to judge h21, h22, h23, h24" in early.detail
    uncovered = w2(hours(HEALTHY_DAY, covered=False))
    assert uncovered.status is Status.INCONCLUSIVE and "no longer holds" in uncovered.measured


def test_hourly_thresholds_are_read():
    verdict = w2(hours(HEALTHY_DAY), th(weight__full_consensus_min=0.41))
    assert verdict.status is Status.FAIL and verdict.value == 0
    assert w2(hours([(6, 9)] * 24), th(weight__min_intents_per_hour=15)).status is Status.PASS


# -- W4: PnL not worse than the baseline --


@pytest.mark.parametrize(
    ("wins", "losses", "status", "change"),
    [
        (50, 50, Status.PASS, -0.05),  # 5 points below: the edge, inside
        (49, 51, Status.FAIL, -0.06),
        (70, 30, Status.PASS, 0.15),
        (10, 9, Status.INCONCLUSIVE, None),  # 19 outcomes
        (10, 10, Status.PASS, -0.05),
    ],
    ids=["-5 points", "-6 points", "+15 points", "19 outcomes", "20 outcomes"],
)
def test_w4_win_rate_against_the_baseline(wins, losses, status, change):
    verdict = weight.w4_pnl_not_worse(closed(wins, losses), BASE, T0, TH)
    assert verdict.status is status, verdict.message()
    assert verdict.value == (None if change is None else pytest.approx(change))
    assert "win rate 55/100 (55.0%)" in verdict.window.partition("baseline (record pre-1)")[2]


@pytest.mark.parametrize(
    ("outcomes", "baseline", "measured", "value"),
    [
        (None, BASE, "no outcomes stream", None),
        (closed(60, 40), None, "no PnL baseline in the record", None),
        (closed(60, 40), baseline(10, 19), "only 19 events", None),
        (
            closed(60, 40, errors=3),
            BASE,
            "3/103 (2.9%) of the engine's entries unreadable",
            3 / 103,
        ),
    ],
    ids=["no stream", "no baseline", "thin baseline", "unreadable"],
)
def test_w4_without_a_comparison_is_inconclusive(outcomes, baseline, measured, value):
    verdict = weight.w4_pnl_not_worse(outcomes, baseline, T0, TH)
    assert verdict.status is Status.INCONCLUSIVE, verdict.message()
    assert verdict.value == (None if value is None else pytest.approx(value))
    assert verdict.measured.startswith(measured)
    assert "cannot prove it safe" in verdict.detail


def test_w4_tolerance_is_read():
    verdict = weight.w4_pnl_not_worse(closed(50, 50), BASE, T0, th(weight__max_win_rate_drop=0.04))
    assert verdict.status is Status.FAIL and verdict.value == pytest.approx(-0.05)
