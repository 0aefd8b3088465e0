"""Monitoring rules M1-M4 over hand-made windows since T+0: each band edge just inside (PASS)
and just outside (WARN), each red flag raised alone, thin / stale / unreadable / uncovered
windows INCONCLUSIVE, and never a FAIL (outside a band is a WARN), asserting status and value.
A row never says PASS beside "outside" (DECISIONS.md "Ambiguities")."""

from __future__ import annotations

import pytest

from shadowgate.checks import monitoring
from shadowgate.verdict import Status
from tests.support.handmade import MINUTE, NOW, SECOND, vote, voting
from tests.support.monitoring_scenes import T0, TARGET, TH, confidences, since_t0

FULL = {"consensus": 4, "patchtst": voting("BUY")}  # all four active voters agree
SPLIT = {"consensus": 3, "patchtst": voting("HOLD", 0.5)}  # one model differs
LOW = {"consensus": 1, "patchtst": voting("SELL")}  # severe disagreement


def consensus(full: int, low: int = 0, n: int = 100):
    return since_t0([FULL] * full + [LOW] * low + [SPLIT] * (n - full - low))


def m1(window, thresholds=TH):
    return monitoring.m1_consensus_distribution(window, T0, thresholds)


def said_outside(measured: str) -> bool:
    """Whether a row's text places its figure outside a band it names."""
    return any(word in measured for word in ("outside", "below", "above"))


@pytest.mark.parametrize(
    ("full", "low", "status", "healthy", "flag"),
    [
        (40, 0, Status.PASS, True, False),
        (39, 0, Status.WARN, False, False),
        (70, 0, Status.PASS, True, False),
        (71, 0, Status.WARN, False, False),
        (80, 0, Status.WARN, False, False),
        (81, 0, Status.WARN, False, True),
        (50, 30, Status.PASS, True, False),
        (50, 31, Status.WARN, True, True),
    ],
    ids=["40%", "39%", "70%", "71%", "80%", "81%", "low 30%", "low 31%"],
)
def test_m1_passes_only_inside_its_bands(full, low, status, healthy, flag):
    verdict = m1(consensus(full, low))
    assert verdict.status is status, verdict.message()
    assert verdict.value == pytest.approx(full / 100) and verdict.sample == 100
    assert ("within the healthy 40%..70%" in verdict.measured) is healthy
    assert said_outside(verdict.measured) is (status is Status.WARN)
    assert verdict.detail.startswith("red flag:") is flag


def test_m1_counts_full_consensus_from_the_active_voters():
    """Three of three when lgbm runs on fallback rules is full, whatever total_models says."""
    on_rules = vote("BUY", 1.05, "lgbm", inactive=True, inactive_reason="fallback_rules")
    fallback = {"xgb": vote(), "nhits": vote(), "lgbm": on_rules}
    three = {"consensus": 3, "patchtst": voting("BUY"), "others": fallback}
    verdict = m1(since_t0([three] * 85 + [SPLIT] * 15))
    assert verdict.status is Status.WARN and verdict.value == pytest.approx(0.85)
    assert "full consensus 85/100 (85.0%) above 80%" in verdict.detail


def test_m1_message_states_t0_and_the_span():
    verdict = m1(consensus(50))
    assert verdict.window.startswith(
        "since T+0 2025-12-31T23:00:00Z (--activated-at), read 1 h after; "
    )
    assert "consensus_count 3: 50, 4: 50" in verdict.measured
    assert verdict.section == "s.5 metric 1"


def agreement(agree: int, opposite: int = 0, n: int = 100):
    """PatchTST agreeing, opposite (hard) and HOLD (soft) against a BUY ensemble."""
    kinds = [{"patchtst": voting("BUY")}] * agree + [{"patchtst": voting("SELL")}] * opposite
    return since_t0(kinds + [{"patchtst": voting("HOLD", 0.5)}] * (n - agree - opposite))


@pytest.mark.parametrize(
    ("agree", "status", "flag"),
    [
        (39, Status.WARN, "contrarian"),
        (40, Status.WARN, ""),
        (49, Status.WARN, ""),
        (50, Status.PASS, ""),
        (80, Status.PASS, ""),
        (81, Status.WARN, ""),
        (90, Status.WARN, ""),
        (91, Status.WARN, "copying"),
    ],
    ids=lambda x: str(x),
)
def test_m2_passes_only_inside_the_runbooks_50_to_80(agree, status, flag):
    """Runbook s.5 metric 2 "Threshold: 50-80% agreement"; its red-flag words past 40 / 90."""
    verdict = monitoring.m2_agreement(agreement(agree), T0, TARGET, TH)
    assert verdict.status is status, verdict.message()
    assert verdict.value == pytest.approx(agree / 100) and verdict.sample == 100
    assert ("within the healthy 50%..80%" in verdict.measured) is (status is Status.PASS)
    assert said_outside(verdict.measured) is (status is Status.WARN)
    assert (flag in verdict.detail) if flag else not verdict.detail.startswith("red flag:")


@pytest.mark.parametrize(("opposite", "status"), [(25, Status.PASS), (26, Status.WARN)])
def test_m3_hard_disagreement_edge(opposite, status):
    verdict = monitoring.m3_hard_disagreement(agreement(60, opposite), T0, TARGET, TH)
    assert verdict.status is status, verdict.message()
    assert verdict.value == pytest.approx(opposite / 100)
    assert verdict.measured.endswith("at most 25%" if status is Status.PASS else "above 25%")


@pytest.mark.parametrize(
    ("low", "high", "band", "flag"),
    [
        (0.10, 0.12, "below the healthy 0.05", False),  # 0.0199999... in floats: 0.02
        (0.10, 0.1199, "below the healthy 0.05", True),
        (0.60, 0.65, "within the healthy >= 0.05", False),
        (0.60, 0.6499, "below the healthy 0.05", False),
        (0.7, 0.7, "below the healthy 0.05", True),
    ],
    ids=["0.02", "0.0199", "0.05", "0.0499", "flat"],
)
def test_m4_passes_only_at_or_above_the_healthy_range(low, high, band, flag):
    verdict = monitoring.m4_confidence_distribution(confidences(low, high), T0, TARGET, TH)
    assert verdict.status is (Status.PASS if band.startswith("within") else Status.WARN)
    assert verdict.value == pytest.approx(high - low) and verdict.sample == 20
    assert verdict.measured.endswith("; " + band)
    assert ("flatlined" in verdict.detail) is flag


@pytest.mark.parametrize("agree", range(0, 101, 5))
def test_m2_never_passes_beside_outside(agree):
    verdict = monitoring.m2_agreement(agreement(agree), T0, TARGET, TH)
    assert (verdict.status is Status.PASS) is (50 <= agree <= 80)
    assert (verdict.status is Status.PASS) is not said_outside(verdict.measured)


def test_m4_reads_buy_sell_votes_only():
    """HOLD placeholders (0.5, later 0.0) would fake a spread: 30 HOLDs beside 20 flat votes."""
    holds = [{"patchtst": voting("HOLD", c)} for c in (0.0, 0.5) for _ in range(15)]
    verdict = monitoring.m4_confidence_distribution(
        since_t0(holds + [{"patchtst": voting("SELL", 0.62)}] * 20), T0, TARGET, TH
    )
    assert verdict.status is Status.WARN and verdict.value == 0 and verdict.sample == 20


RULES = {
    "M1": lambda w: m1(w),
    "M2": lambda w: monitoring.m2_agreement(w, T0, TARGET, TH),
    "M3": lambda w: monitoring.m3_hard_disagreement(w, T0, TARGET, TH),
    "M4": lambda w: monitoring.m4_confidence_distribution(w, T0, TARGET, TH),
}
HEALTHY = {"consensus": 4, "patchtst": voting("BUY", 0.6)}
SPREAD = {"consensus": 3, "patchtst": voting("HOLD", 0.5)}
MIXED = [HEALTHY | {"patchtst": voting("BUY", 0.55 + k / 100)} for k in range(10)] + [SPREAD] * 5
GUARD_CASES = [  # (case, window, status, value of an INCONCLUSIVE verdict)
    ("30 fresh", since_t0(MIXED * 2), Status.PASS, None),
    ("empty", since_t0([]), Status.INCONCLUSIVE, 0),
    ("15 min 6 s old", since_t0(MIXED * 2, newest=NOW - 15 * MINUTE - 6 * SECOND),
     Status.INCONCLUSIVE, 15.1),
    ("3% unreadable", since_t0(MIXED * 2, errors=1), Status.INCONCLUSIVE, 1 / 31),
    ("T+0 no longer held", since_t0(MIXED * 2, covered=False), Status.INCONCLUSIVE, None),
]  # fmt: skip


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize(("case", "window", "status", "value"), GUARD_CASES, ids=lambda x: x)
def test_every_monitoring_rule_is_inconclusive_on_data_that_proves_nothing(
    rule, case, window, status, value
):
    verdict = RULES[rule](window)
    assert verdict.status is status, verdict.message()
    if status is Status.INCONCLUSIVE:
        assert verdict.value == pytest.approx(value)
        assert "cannot prove it safe" in verdict.detail
    assert verdict.window.startswith("since T+0 2025-12-31T23:00:00Z")


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("n", [19, 20])
def test_fewer_than_min_intents_since_t0_is_inconclusive(rule, n):
    """Half at full consensus, every vote a BUY of its own confidence: judged from 20 on."""
    kinds = [{"consensus": 3 + k % 2, "patchtst": voting("BUY", 0.5 + k / 100)} for k in range(n)]
    verdict = RULES[rule](since_t0(kinds))
    assert (verdict.status is Status.INCONCLUSIVE) is (n < 20), verdict.message()
    assert verdict.sample == n
    if n < 20:
        assert verdict.value is None and "on at least 20 events" in verdict.threshold


@pytest.mark.parametrize("rule", ["M2", "M3", "M4"])
def test_without_patchtst_votes_nothing_is_judged_healthy(rule):
    verdict = RULES[rule](since_t0([{"missing": True, "consensus": 3}] * 100))
    assert verdict.status is Status.INCONCLUSIVE and verdict.sample == 0, verdict.message()


@pytest.mark.parametrize("rule", sorted(RULES))
def test_red_flags_never_fail(rule):
    worst = since_t0([{"consensus": 1, "patchtst": voting("SELL", 0.9)}] * 100)
    assert RULES[rule](worst).status is Status.WARN
