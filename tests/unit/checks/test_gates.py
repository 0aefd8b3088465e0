"""Gates G1-G4 and their quorum (B5) over hand-made windows: each condition failing alone,
each threshold just inside and just outside its edge, the quorum's WARN / FAIL / INCONCLUSIVE,
asserting status and value."""

from __future__ import annotations

import pytest

from shadowgate.checks import gate_rules
from shadowgate.config import Target, Thresholds
from shadowgate.verdict import Status
from tests.support.dayscans import g4, scanned
from tests.support.gate_scenes import DAY, D, F, P, U, calibrated, day, verdicts
from tests.support.handmade import MINUTE, NOW, SECOND, intent, timed

TARGET = Target()
TH = Thresholds.load()


def th(**sets: object) -> Thresholds:
    return Thresholds.load(sets=[f"{key.replace('__', '.')}={v}" for key, v in sets.items()])


@pytest.mark.parametrize(
    ("groups", "sets", "status", "value"),
    [
        (((140, "BUY", 0.6, "BUY"), (60, "SELL", 0.6, "BUY")), {}, Status.PASS, 0.70),
        (((141, "BUY", 0.6, "BUY"), (59, "SELL", 0.6, "BUY")), {}, Status.FAIL, 0.705),
        (
            ((179, "BUY", 0.6, "BUY"), (21, "SELL", 0.6, "BUY")),
            {"gates__g1_max_share": 1.0},
            Status.PASS,
            0.895,
        ),
        (
            ((180, "BUY", 0.6, "BUY"), (20, "SELL", 0.6, "BUY")),
            {"gates__g1_max_share": 1.0},
            Status.FAIL,
            0.90,
        ),  # SELL at 10% is not above 10%: one action
        (((139, "BUY", 0.6, "BUY"), (60, "SELL", 0.6, "BUY")), {}, Status.INCONCLUSIVE, None),
    ],
    ids=["largest 70%", "largest 70.5%", "second 10.5%", "second 10%", "199 events"],
)
def test_g1_action_diversity(groups, sets, status, value):
    verdict = gate_rules.g1_action_diversity(day(*groups), TARGET, th(**sets))
    assert verdict.status is status, verdict.message()
    assert verdict.value == (None if value is None else pytest.approx(value))


@pytest.mark.parametrize(
    ("sets", "status"),
    [
        ({"gates__g2_min_p10_p90": 0.125, "gates__g2_min_std": 0.0625}, Status.PASS),
        ({"gates__g2_min_p10_p90": 0.1251, "gates__g2_min_std": 0.0625}, Status.FAIL),
        ({"gates__g2_min_p10_p90": 0.125, "gates__g2_min_std": 0.0626}, Status.FAIL),
    ],
    ids=["both at the edge", "range just short", "std just short"],
)
def test_g2_spread_of_buy_sell_votes_only(sets, status):
    holds = (300, "HOLD", 0.0, "BUY")  # placeholders: would fake a spread if read
    window = day((100, "BUY", 0.25, "BUY"), (100, "SELL", 0.375, "BUY"), holds)
    verdict = gate_rules.g2_confidence_spread(window, TARGET, th(**sets))
    assert (verdict.status, verdict.value, verdict.sample) == (status, 0.125, 200)
    assert "BUY/SELL votes (HOLD placeholders" in verdict.measured


@pytest.mark.parametrize(
    ("agree", "hard", "status"),
    [(110, 0, Status.PASS), (109, 0, Status.FAIL), (150, 0, Status.PASS), (151, 0, Status.FAIL),
     (110, 49, Status.PASS), (110, 50, Status.FAIL)],
    ids=["55%", "54.5%", "75%", "75.5%", "hard 24.5%", "hard 25%"],
)  # fmt: skip
def test_g3_agreement_band_and_hard_disagreement(agree, hard, status):
    window = day(
        (agree, "BUY", 0.6, "BUY"),
        (hard, "SELL", 0.6, "BUY"),
        (200 - agree - hard, "HOLD", 0.5, "BUY"),
    )
    verdict = gate_rules.g3_agreement(window, TARGET, TH)
    assert (verdict.status, verdict.value) == (status, agree / 200)


def test_gates_are_inconclusive_on_a_stale_window():
    stale = scanned(timed([intent(NOW - 16 * MINUTE - k * SECOND) for k in range(300, 0, -1)], DAY))
    for rule in (
        gate_rules.g1_action_diversity,
        gate_rules.g2_confidence_spread,
        gate_rules.g3_agreement,
    ):
        verdict = rule(stale, TARGET, TH)
        assert verdict.status is Status.INCONCLUSIVE and "engine silent" in verdict.measured


# -- G4 calibration --


@pytest.mark.parametrize(
    ("hits", "status", "value"),
    [
        ([(0.55, 10, 20), (0.65, 10, 20), (0.75, 11, 20)], Status.PASS, 0.05),
        ([(0.55, 10, 20), (0.65, 10, 20), (0.75, 10, 20)], Status.FAIL, 0.0),  # too flat
        ([(0.55, 11, 20), (0.65, 10, 20), (0.75, 12, 20)], Status.FAIL, 0.05),  # a dip
        ([(0.55, 4, 10), (0.65, 5, 10), (0.75, 7, 10)], Status.PASS, 0.3),  # 30 outcomes
        ([(0.6, 20, 30)], Status.FAIL, 0.0),  # constant confidence: cannot be calibrated
    ],
    ids=["lift 5 points", "flat", "dip", "30 outcomes", "one level"],
)
def test_g4_calibration_is_rising_and_steep_enough(hits, status, value):
    intents, outcomes = calibrated(hits)
    verdict = g4(intents, outcomes)
    assert (verdict.status, verdict.value) == (status, pytest.approx(value)), verdict.message()
    total = sum(n for _, _, n in hits)
    assert f"{total} of {total} outcomes (" in verdict.measured


def test_g4_one_level_says_why_it_is_not_deferred():
    verdict = g4(*calibrated([(0.6, 20, 30)]))
    assert "1 distinct confidence levels" in verdict.measured
    assert "cannot be calibrated (not deferred" in verdict.detail


@pytest.mark.parametrize(
    ("outcomes", "why"),
    [
        (None, "does not exist"),
        (timed([], DAY), "holds no outcome in the window"),
        (calibrated([(0.55, 4, 9), (0.65, 5, 10), (0.75, 7, 10)])[1], "only 29 usable outcomes"),
    ],
)
def test_g4_deferred_only_without_enough_usable_outcomes(outcomes, why):
    intents = calibrated([(0.55, 4, 10), (0.65, 5, 10), (0.75, 7, 10)])[0]
    verdict = g4(intents, outcomes)
    assert verdict.status is Status.DEFERRED
    assert why in verdict.measured + verdict.detail and "quorum becomes >= 2/3" in verdict.detail


def test_g4_unreadable_outcomes_are_inconclusive_not_deferred():
    intents, outcomes = calibrated([(0.55, 4, 10), (0.65, 5, 10), (0.75, 7, 10)], outcome_errors=1)
    verdict = g4(intents, outcomes)
    assert (verdict.status, verdict.value) == (Status.INCONCLUSIVE, pytest.approx(1 / 31))


# -- the quorum --


@pytest.mark.parametrize(
    ("raw", "judged", "b5", "passed"),
    [
        ((P, P, P, P), (P, P, P, P), P, 4),
        ((P, P, P, F), (P, P, P, Status.WARN), P, 3),
        ((P, P, P, U), (P, P, P, Status.WARN), P, 3),
        ((P, P, F, F), (P, P, F, F), F, 2),
        ((P, P, U, F), (P, P, U, F), U, 2),
        ((P, P, F, D), (P, P, Status.WARN, D), P, 2),
        ((P, F, F, D), (P, F, F, D), F, 1),
        ((P, U, F, D), (P, U, F, D), U, 1),
    ],
)
def test_quorum_judges_the_gates_together(raw, judged, b5, passed):
    gate_list = gate_rules.with_quorum(verdicts(*raw), TH)
    assert tuple(g.status for g in gate_list) == judged
    quorum = gate_rules.b5_quorum(gate_list, TH)
    assert (quorum.status, quorum.value) == (b5, passed)


def test_a_failed_gate_says_the_quorum_holds_and_the_report_counts_it_as_not_passed():
    gate_list = gate_rules.with_quorum(verdicts(P, P, P, F), TH)
    assert gate_list[3].detail == "G4 failed; quorum 3/4 holds"
    assert str(gate_rules.gate_total(g.status for g in gate_list)) == "3/4"
    failing = gate_rules.with_quorum(verdicts(P, F, F, P), TH)
    assert failing[1].detail == "G2 failed; quorum 2/4 fails, needs 3/4"


@pytest.mark.parametrize(("quorum", "status"), [(3, Status.PASS), (4, Status.FAIL)])
def test_quorum_threshold_edge(quorum, status):
    assert gate_rules.b5_quorum(verdicts(P, P, P, F), th(gates__quorum=quorum)).status is status
