"""Runbook s.5 "Immediate Stop Conditions", since T+0: any FAIL means roll back now (s.6)."""

import pytest

from shadowgate.checks import stops as s


@pytest.mark.check("S1")
def test_S1_service_crashed_restarted_or_silent(t0, intents_since_t0, unit_now, thresholds, judge):
    judge(s.s1_service_crashed(unit_now, intents_since_t0, t0, thresholds))


@pytest.mark.check("S2")
def test_S2_full_consensus_sustained(intents_since_t0, t0, thresholds, judge):
    judge(s.s2_full_consensus_sustained(intents_since_t0, t0, thresholds))


@pytest.mark.check("S3")
def test_S3_hard_disagreement(intents_since_t0, t0, target, thresholds, judge):
    judge(s.s3_hard_disagreement(intents_since_t0, t0, target, thresholds))


@pytest.mark.check("S4")
def test_S4_confidence_collapse(intents_since_t0, t0, target, thresholds, judge):
    judge(s.s4_confidence_collapse(intents_since_t0, t0, target, thresholds))


@pytest.mark.check("S5")
def test_S5_pnl_degradation(outcomes_since_t0, pnl_baseline, t0, now_ms, thresholds, judge):
    judge(s.s5_pnl_degradation(outcomes_since_t0, pnl_baseline, t0, now_ms, thresholds))
