"""Stream checks (P2, P3, P5, B1-B3, B5, B6, G1-G4) on stand-in engine data: each passes on the
healthy engine and fails, with value and threshold in its message, on the engine's bad state."""

from __future__ import annotations

import pytest

from shadowgate.checks import blockers, gate_rules, preconditions
from shadowgate.config import Target, Thresholds
from shadowgate.host import JournalLine
from shadowgate.verdict import Status
from tests.support.dayscans import scanned
from tests.support.engine_data import engine_windows

TARGET = Target()
TH = Thresholds.load()
SHADOW_LINE = JournalLine(ts=None, message="[SHADOW] PatchTST | BTCUSDT | action=BUY conf=0.62")


@pytest.fixture(scope="module")
def healthy(redis_module):
    return engine_windows(redis_module, "healthy_shadow")


@pytest.fixture
def data(redis_server):
    return lambda scenario, **kw: engine_windows(redis_server, scenario, **kw)


def all_checks(w, journal=(SHADOW_LINE,)):
    day = scanned(w.day, w.outcomes)
    gate_list = [
        gate_rules.g1_action_diversity(day, TARGET, TH),
        gate_rules.g2_confidence_spread(day, TARGET, TH),
        gate_rules.g3_agreement(day, TARGET, TH),
        gate_rules.g4_calibration(day, w.outcomes, TARGET, TH),
    ]
    return [
        preconditions.p2_shadow_behaviour(w.snapshot, list(journal), TARGET, TH),
        preconditions.p3_no_full_consensus_24h(day, TARGET, TH),
        preconditions.p5_observation_long_enough(day, TARGET, TH, w.now_ms),
        blockers.b1_consensus_in_shadow(w.snapshot, TARGET, TH),
        blockers.b3_payload_p95(w.snapshot, TH),
        blockers.b6_hard_disagreement(w.snapshot, TARGET, TH),
        *gate_list,
        gate_rules.b5_quorum(gate_list, TH),
    ]


def failing(verdicts):
    return {v.check_id: v for v in verdicts if not v.ok and v.status is not Status.DEFERRED}


def test_healthy_shadow_passes_every_stream_check(healthy):
    verdicts = all_checks(healthy)
    assert failing(verdicts) == {}
    assert {v.check_id for v in verdicts} == {
        "P2", "P3", "P5", "B1", "B3", "B6", "G1", "G2", "G3", "G4", "B5",
    }  # fmt: skip
    g4 = next(v for v in verdicts if v.check_id == "G4")
    assert g4.status is Status.PASS, g4.message()


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("shadow_leak", {"P3", "B1"}),
        ("bloat", {"B3"}),
        ("flatline", {"G1", "G2", "G3", "G4", "B5"}),  # constant confidence: G4 FAIL, not DEFERRED
        ("contrarian", {"B6", "G3"}),
        ("collapse", {"G2", "G4", "B5"}),  # constant confidence: no calibration either
    ],
)
def test_bad_engine_fails_exactly_its_checks(data, scenario, expected):
    bad = failing(all_checks(data(scenario)))
    assert set(bad) == expected, {k: v.message() for k, v in bad.items()}
    for verdict in bad.values():
        text = verdict.message()
        assert "measured:" in text and "threshold:" in text and "runbook" in text


def test_b1_message_names_count_threshold_and_entries(data):
    w = data("shadow_leak")
    v = blockers.b1_consensus_in_shadow(w.snapshot, TARGET, TH)
    assert v.status is Status.FAIL
    assert f"of {len(w.snapshot)} intents" in v.measured
    assert "<= 0 events" in v.threshold
    assert v.evidence and all("-" in e for e in v.evidence)


def test_b3_bloat_states_p95_and_limit(data):
    v = blockers.b3_payload_p95(data("bloat").snapshot, TH)
    assert v.status is Status.FAIL and v.value >= 1500
    assert v.measured.startswith(f"p95 {v.value:.0f} bytes") and v.threshold == "p95 < 1500 bytes"


def test_b6_contrarian_states_share(data):
    v = blockers.b6_hard_disagreement(data("contrarian").snapshot, TARGET, TH)
    assert v.status is Status.FAIL and v.value > 0.30
    assert "<= 30%" in v.threshold and "%)" in v.measured


def test_p2_fails_without_journal_lines_or_tags(data, healthy):
    no_lines = preconditions.p2_shadow_behaviour(healthy.snapshot, [], TARGET, TH)
    assert no_lines.status is Status.FAIL
    assert "0 shadow journal lines" in no_lines.measured
    voting = data("healthy_voting", shadow=False)
    untagged = preconditions.p2_shadow_behaviour(voting.snapshot, [SHADOW_LINE], TARGET, TH)
    assert untagged.status is Status.FAIL
    assert untagged.value == 100 and "(100 voting" in untagged.measured and untagged.evidence


def test_b2_fails_only_while_the_flag_is_on(data):
    from shadowgate.envfile import parse_env

    w = data("shadow_leak")
    on = blockers.b2_voting_while_flag_on(
        w.snapshot, parse_env("PATCHTST_SHADOW_ONLY=true\n"), TARGET, TH
    )
    assert on.status is Status.FAIL and "PATCHTST_SHADOW_ONLY true" in on.measured
    off = blockers.b2_voting_while_flag_on(w.snapshot, parse_env("X=1\n"), TARGET, TH)
    assert off.status is Status.PASS and "see P1" in off.measured


def test_capped_stream_makes_p3_and_p5_inconclusive(data):
    w = data("healthy_shadow", maxlen=3000)  # ~3000 intents at 10 s spacing: < 24 h
    p3 = preconditions.p3_no_full_consensus_24h(scanned(w.day), TARGET, TH)
    assert p3.status is Status.INCONCLUSIVE
    assert "no longer holds the whole window" in p3.measured and "NOT covered" in p3.window
    p5 = preconditions.p5_observation_long_enough(scanned(w.day), TARGET, TH, w.now_ms)
    assert p5.status is Status.INCONCLUSIVE and ">= 24 h" in p5.threshold


def test_too_few_events_is_inconclusive_not_pass(data):
    w = data("healthy_shadow", hours=0.4)  # ~120 events
    g1 = gate_rules.g1_action_diversity(scanned(w.day), TARGET, TH)
    assert g1.status is Status.INCONCLUSIVE and "at least 200 events" in g1.threshold


def test_g4_deferred_without_outcomes_and_quorum_becomes_two_of_three(data):
    w = data("flatline", outcomes=False)
    gate_list = gate_rules.GateVerdicts(scanned(w.day, w.outcomes), w.outcomes, TARGET, TH).all()
    assert gate_list[3].status is Status.DEFERRED
    quorum = gate_rules.b5_quorum(gate_list, TH)
    assert quorum.threshold == ">= 2/3 (G4 deferred)" and quorum.status is Status.FAIL


def test_quorum_passes_on_three_of_three_with_g4_deferred(data):
    healthy = data("healthy_shadow", outcomes=False, seed=3)
    ok = gate_rules.b5_quorum(
        gate_rules.GateVerdicts(scanned(healthy.day), None, TARGET, TH).all(), TH
    )
    assert ok.status is Status.PASS and ok.measured.startswith("3/3 gates passed")


def test_garbage_above_the_unreadable_share_makes_every_stream_check_inconclusive(data):
    w = data("garbage")
    assert w.snapshot.errors and w.snapshot.foreign
    share = len(w.snapshot.errors) / w.snapshot.owned
    assert share > TH.number("window.max_unreadable_share")
    verdicts = all_checks(w)
    undecided = {v.check_id for v in verdicts if v.status is Status.INCONCLUSIVE}
    assert undecided == {"P2", "P3", "P5", "B1", "B3", "B6", "G1", "G2", "G3", "G4", "B5"}
    b3 = next(v for v in verdicts if v.check_id == "B3")
    assert b3.value == pytest.approx(share) and "unreadable" in b3.measured
    assert "first parse error" in b3.window


def test_garbage_below_the_unreadable_share_is_counted_and_verdicts_unchanged(data):
    lenient = Thresholds.load(sets=["window.max_unreadable_share=0.5"])
    w = data("garbage")
    verdicts = [
        blockers.b3_payload_p95(w.snapshot, lenient),
        blockers.b1_consensus_in_shadow(w.snapshot, TARGET, lenient),
    ]
    assert [v.status for v in verdicts] == [Status.PASS, Status.PASS]
    assert all("parse error" in v.window for v in verdicts)


def test_gate_verdicts_computes_each_gate_once_for_its_test_and_b5(healthy):
    day = scanned(healthy.day, healthy.outcomes)
    run = gate_rules.GateVerdicts(day, healthy.outcomes, TARGET, TH)
    g2 = run.of(gate_rules.g2_confidence_spread)
    assert run.all()[1] is g2
    assert run.of(gate_rules.g2_confidence_spread) is g2
    assert g2 == gate_rules.g2_confidence_spread(day, TARGET, TH)  # the run's own inputs


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("PASS", "WARN", "FAIL", "PASS"), (2, 4, False)),  # a gate's WARN did not pass
        (("PASS", "PASS", "INCONCLUSIVE", "DEFERRED"), (2, 3, True)),
        ((Status.PASS, None, "NOT EVALUATED", "NOT RUN"), (1, 4, False)),
    ],
)
def test_gate_total_counts_passed_over_gates_that_count(statuses, expected):
    total = gate_rules.gate_total(statuses)
    assert (total.passed, total.counted, total.deferred) == expected
    assert str(total) == f"{expected[0]}/{expected[1]}"
