"""Runbook s.6 "Rollback Verification", one test a row, since the rollback's restart (its
record or --rollback-started-at); R5: the engine stays up after it."""

import pytest

from shadowgate.checks import rollback as r


@pytest.mark.check("R1")
def test_R1_shadow_flag_back_in_env_file(
    env_file, target, env_chain, process_after_rollback, judge
):
    judge(r.r1_shadow_flag_back(env_file, target, env_chain, process_after_rollback))


@pytest.mark.check("R2")
def test_R2_shadow_journal_lines_returning(
    journal_since_rollback, rollback, target, thresholds, judge
):
    judge(r.r2_shadow_lines_returning(journal_since_rollback, rollback, target, thresholds))


@pytest.mark.check("R3")
def test_R3_no_consensus_needing_the_model(intents_since_rollback, target, thresholds, judge):
    judge(r.r3_no_consensus_needing_the_model(intents_since_rollback, target, thresholds))


@pytest.mark.check("R4")
def test_R4_rollback_time(
    env_file, env_chain, process_after_rollback, journal_since_rollback, intents_since_rollback,
    rollback, target, thresholds, judge,
):  # fmt: skip
    judge(r.r4_rollback_time(
        env_file, env_chain, process_after_rollback, journal_since_rollback,
        intents_since_rollback, rollback, target, thresholds,
    ))  # fmt: skip


@pytest.mark.check("R5")
def test_R5_engine_stays_up_after_the_restart(
    unit_stays_up_after_rollback, rollback, thresholds, judge
):
    judge(r.r5_engine_stays_up(unit_stays_up_after_rollback, rollback, thresholds))
