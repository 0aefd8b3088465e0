"""Runbook s.5 "Critical Metrics" over the intents since T+0: red flags are WARN (shown in
yellow, recorded); stopping is the stop conditions' job."""

import pytest

from shadowgate.checks import monitoring as m


@pytest.mark.check("M1")
def test_M1_consensus_distribution(intents_since_t0, t0, thresholds, judge):
    judge(m.m1_consensus_distribution(intents_since_t0, t0, thresholds))


@pytest.mark.check("M2")
def test_M2_agreement_with_ensemble(intents_since_t0, t0, target, thresholds, judge):
    judge(m.m2_agreement(intents_since_t0, t0, target, thresholds))


@pytest.mark.check("M3")
def test_M3_hard_disagreement(intents_since_t0, t0, target, thresholds, judge):
    judge(m.m3_hard_disagreement(intents_since_t0, t0, target, thresholds))


@pytest.mark.check("M4")
def test_M4_confidence_distribution(intents_since_t0, t0, target, thresholds, judge):
    judge(m.m4_confidence_distribution(intents_since_t0, t0, target, thresholds))
