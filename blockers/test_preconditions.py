"""Runbook s.1 required preconditions and s.4 pre-activation verification, one test a row."""

import pytest

from shadowgate.checks import preconditions as p


@pytest.mark.check("P1")
def test_P1_shadow_flag_in_env_file(env_file, target, env_chain, judge):
    judge(p.p1_shadow_flag(env_file, target, env_chain))


@pytest.mark.check("P2")
def test_P2_shadow_verified_by_behaviour(
    intent_snapshot, journal_recent, target, thresholds, judge
):
    judge(p.p2_shadow_behaviour(intent_snapshot, journal_recent, target, thresholds))


@pytest.mark.check("P3")
def test_P3_zero_full_consensus_24h(intent_day, target, thresholds, judge):
    judge(p.p3_no_full_consensus_24h(intent_day, target, thresholds))


@pytest.mark.check("P4")
def test_P4_service_stable(unit_at_start, host_clock, thresholds, judge):
    judge(p.p4_service_stable(unit_at_start, host_clock, thresholds))


@pytest.mark.check("P5")
def test_P5_shadow_observation_long_enough(shadow_history, target, thresholds, now_ms, judge):
    judge(p.p5_observation_long_enough(shadow_history, target, thresholds, now_ms))


@pytest.mark.check("P6")
def test_P6_rollback_plan_backup_restores_shadow(
    env_backups, env_file, env_file_facts, target, env_chain, judge
):
    judge(p.p6_rollback_plan(env_backups, env_file, env_file_facts, target, env_chain))


@pytest.mark.check("P7")
def test_P7_model_to_activate_is_the_model_observed(
    env_file, model_file, unit_at_start, journal_since_start, target, env_chain, judge
):
    judge(
        p.p7_model_observed(
            env_file, model_file, unit_at_start, journal_since_start, target, env_chain
        )
    )
