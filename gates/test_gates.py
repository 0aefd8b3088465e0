"""The P0.4 gate simulation's four gates (runbook s.1 "gate evaluation", s.7 gate status).

Each gate is computed once per run through `gate_verdicts`, so B5 counts what these judged."""

import pytest

from shadowgate.checks import gates as g

pytestmark = pytest.mark.preactivation


def test_G1_action_diversity(gate_verdicts, intent_day, target, thresholds, judge):
    judge(gate_verdicts.of(g.g1_action_diversity, intent_day, target, thresholds))


def test_G2_confidence_spread(gate_verdicts, intent_day, target, thresholds, judge):
    judge(gate_verdicts.of(g.g2_confidence_spread, intent_day, target, thresholds))


def test_G3_agreement_with_ensemble(gate_verdicts, intent_day, target, thresholds, judge):
    judge(gate_verdicts.of(g.g3_agreement, intent_day, target, thresholds))


def test_G4_calibration(gate_verdicts, intent_day, outcomes_day, target, thresholds, judge):
    judge(gate_verdicts.of(g.g4_calibration, intent_day, outcomes_day, target, thresholds))
