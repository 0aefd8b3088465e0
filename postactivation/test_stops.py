"""Runbook s.5 "Immediate Stop Conditions", since T+0: any FAIL means roll back now (s.6)."""

import pytest

from shadowgate.checks import stops as s


@pytest.mark.window_30m
@pytest.mark.window_2h
@pytest.mark.window_6h
def test_S1_service_crashed_restarted_or_silent(
    activation, intents_since_t0, unit_now, thresholds, judge
):
    judge(s.s1_service_crashed(unit_now, intents_since_t0, activation, thresholds))


@pytest.mark.window_30m
@pytest.mark.window_2h
@pytest.mark.window_6h
def test_S2_full_consensus_sustained(intents_since_t0, activation, thresholds, judge):
    judge(s.s2_full_consensus_sustained(intents_since_t0, activation, thresholds))


@pytest.mark.window_30m
@pytest.mark.window_2h
@pytest.mark.window_6h
def test_S3_hard_disagreement(intents_since_t0, activation, target, thresholds, judge):
    judge(s.s3_hard_disagreement(intents_since_t0, activation, target, thresholds))


@pytest.mark.window_30m
@pytest.mark.window_2h
@pytest.mark.window_6h
def test_S4_confidence_collapse(intents_since_t0, activation, target, thresholds, judge):
    judge(s.s4_confidence_collapse(intents_since_t0, activation, target, thresholds))


@pytest.mark.window_2h
@pytest.mark.window_6h
def test_S5_pnl_degradation(outcomes_since_t0, pnl_baseline, activation, now_ms, thresholds, judge):
    judge(s.s5_pnl_degradation(outcomes_since_t0, pnl_baseline, activation, now_ms, thresholds))
