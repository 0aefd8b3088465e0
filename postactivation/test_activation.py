"""Runbook s.4 "Post-Activation Verification (T+0 to T+5 min)", one test a row, since the
activation's restart (T+0: its record or --activated-at)."""

import pytest

from shadowgate.checks import activation as a


@pytest.mark.check("A0")
def test_A0_service_active_after_restart(unit_after_restart, t0, thresholds, judge):
    judge(a.a0_service_active(unit_after_restart, t0, thresholds))


@pytest.mark.check("A1")
def test_A1_model_loaded_voting_from_observed_file(
    journal_after_restart,
    unit_after_restart,
    t0,
    observed_model,
    observed_model_file,
    target,
    strategy,
    env_chain,
    process_after_restart,
    judge,
):
    judge(
        a.a1_model_loaded_voting(
            journal_after_restart,
            unit_after_restart.second,
            t0,
            observed_model,
            observed_model_file,
            target,
            strategy.weight,
            env_chain,
            process_after_restart,
        )
    )


@pytest.mark.check("A2")
def test_A2_consensus_needing_the_model_appearing(intents_after_restart, target, thresholds, judge):
    judge(a.a2_consensus_needing_the_model(intents_after_restart, target, thresholds))


@pytest.mark.check("A3")
def test_A3_no_excluded_model_vote(intents_after_restart, target, thresholds, judge):
    judge(a.a3_no_excluded_vote(intents_after_restart, target, thresholds))


@pytest.mark.check("A4")
def test_A4_model_in_breakdown_not_shadow(intents_after_restart, target, thresholds, judge):
    judge(a.a4_model_in_breakdown(intents_after_restart, target, thresholds))
