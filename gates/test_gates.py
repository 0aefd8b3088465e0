"""The P0.4 gate simulation's four gates (runbook s.1 "gate evaluation", s.7 gate status).

Each gate is computed once per run through `gate_verdicts`, so B5 counts what these judged."""

import pytest

from shadowgate.checks import gate_rules as g


@pytest.mark.check("G1")
def test_G1_action_diversity(gate_verdicts, judge):
    judge(gate_verdicts.of(g.g1_action_diversity))


@pytest.mark.check("G2")
def test_G2_confidence_spread(gate_verdicts, judge):
    judge(gate_verdicts.of(g.g2_confidence_spread))


@pytest.mark.check("G3")
def test_G3_agreement_with_ensemble(gate_verdicts, judge):
    judge(gate_verdicts.of(g.g3_agreement))


@pytest.mark.check("G4")
def test_G4_calibration(gate_verdicts, judge):
    judge(gate_verdicts.of(g.g4_calibration))
