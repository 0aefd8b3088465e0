"""Runbook s.2 hard blockers and s.9's disagreement blocker: any failure means DO NOT ACTIVATE."""

import pytest

from shadowgate.checks import blockers as b
from shadowgate.checks import gate_rules as g


@pytest.mark.check("B1")
def test_B1_consensus_needing_patchtst_while_shadow(intent_snapshot, target, thresholds, judge):
    judge(b.b1_consensus_in_shadow(intent_snapshot, target, thresholds))


@pytest.mark.check("B2")
def test_B2_patchtst_voting_while_flag_on(intent_snapshot, env_file, target, thresholds, judge):
    judge(b.b2_voting_while_flag_on(intent_snapshot, env_file, target, thresholds))


@pytest.mark.check("B3")
def test_B3_payload_p95(intent_snapshot, thresholds, judge):
    judge(b.b3_payload_p95(intent_snapshot, thresholds))


@pytest.mark.check("B4")
def test_B4_restart_loop(
    unit_at_start, unit_now, recent_auto_restart, previous_unit, thresholds, judge
):
    judge(
        b.b4_restart_loop(unit_at_start, unit_now, recent_auto_restart, previous_unit, thresholds)
    )


@pytest.mark.check("B5")
def test_B5_gate_quorum(gate_verdicts, thresholds, judge):
    judge(g.b5_quorum(gate_verdicts.all(), thresholds))


@pytest.mark.check("B6")
def test_B6_hard_disagreement_in_shadow(intent_snapshot, target, thresholds, judge):
    judge(b.b6_hard_disagreement(intent_snapshot, target, thresholds))
