"""The P0.4 gate simulation's four gates (runbook s.1 "gate evaluation", s.7 gate status)."""

import pytest

pytestmark = pytest.mark.preactivation


def test_G1_action_diversity(gate_verdicts, judge):
    judge(gate_verdicts[0])


def test_G2_confidence_spread(gate_verdicts, judge):
    judge(gate_verdicts[1])


def test_G3_agreement_with_ensemble(gate_verdicts, judge):
    judge(gate_verdicts[2])


def test_G4_calibration(gate_verdicts, judge):
    judge(gate_verdicts[3])
