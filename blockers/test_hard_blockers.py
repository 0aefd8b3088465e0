"""Runbook s.2 hard blockers and s.9's disagreement blocker: any failure means DO NOT ACTIVATE."""

import pytest

from shadowgate.checks import blockers as b
from shadowgate.checks import gates

pytestmark = pytest.mark.preactivation


def test_B1_consensus_needing_patchtst_while_shadow(intent_snapshot, target, thresholds, judge):
    judge(b.b1_consensus_in_shadow(intent_snapshot, target, thresholds))


def test_B2_patchtst_voting_while_flag_on(intent_snapshot, env_file, target, thresholds, judge):
    judge(b.b2_voting_while_flag_on(intent_snapshot, env_file, target, thresholds))


def test_B3_payload_p95(intent_snapshot, thresholds, judge):
    judge(b.b3_payload_p95(intent_snapshot, thresholds))


@pytest.mark.window_30m
@pytest.mark.window_2h
@pytest.mark.window_6h
def test_B4_restart_loop(
    unit_at_start, unit_now, recent_auto_restart, previous_unit, thresholds, judge
):
    judge(
        b.b4_restart_loop(unit_at_start, unit_now, recent_auto_restart, previous_unit, thresholds)
    )


def test_B5_gate_quorum(gate_verdicts, thresholds, judge):
    judge(gates.b5_quorum(gate_verdicts.all(), thresholds))


def test_B6_hard_disagreement_in_shadow(intent_snapshot, target, thresholds, judge):
    judge(b.b6_hard_disagreement(intent_snapshot, target, thresholds))
