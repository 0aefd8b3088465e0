"""Runbook s.8 weight increase criteria, 24 h after T+0: each one not met is a FAIL (do not
increase the weight); one not yet provable is INCONCLUSIVE."""

import pytest

from shadowgate.checks import weight as w


@pytest.mark.check("W1")
def test_W1_uptime_since_t0(unit_now, t0, host_clock, thresholds, judge):
    judge(w.w1_uptime(unit_now, t0, host_clock, thresholds))


@pytest.mark.check("W2")
def test_W2_full_consensus_stable(intents_since_t0, t0, thresholds, judge):
    judge(w.w2_full_consensus_stable(intents_since_t0, t0, thresholds))


@pytest.mark.check("W3")
def test_W3_agreement_stable(intents_since_t0, t0, target, thresholds, judge):
    judge(w.w3_agreement_stable(intents_since_t0, t0, target, thresholds))


@pytest.mark.check("W4")
def test_W4_pnl_not_worse(outcomes_since_t0, pnl_baseline, t0, thresholds, judge):
    judge(w.w4_pnl_not_worse(outcomes_since_t0, pnl_baseline, t0, thresholds))
