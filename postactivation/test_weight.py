"""Runbook s.8 weight increase criteria, 24 h after T+0: each one not met is a FAIL (do not
increase the weight); one not yet provable is INCONCLUSIVE."""

import pytest

from shadowgate.checks import weight as w

pytestmark = pytest.mark.window_24h


def test_W1_uptime_since_t0(unit_now, activation, host_clock, thresholds, judge):
    judge(w.w1_uptime(unit_now, activation, host_clock, thresholds))


def test_W2_full_consensus_stable(intents_since_t0, activation, thresholds, judge):
    judge(w.w2_full_consensus_stable(intents_since_t0, activation, thresholds))


def test_W3_agreement_stable(intents_since_t0, activation, target, thresholds, judge):
    judge(w.w3_agreement_stable(intents_since_t0, activation, target, thresholds))


def test_W4_pnl_not_worse(outcomes_since_t0, pnl_baseline, activation, thresholds, judge):
    judge(w.w4_pnl_not_worse(outcomes_since_t0, pnl_baseline, activation, thresholds))
