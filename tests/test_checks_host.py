"""Host checks (P1, P4, P6, P7, B4) on env files, backups and unit states an engine can show:
each passes on the healthy state and fails, with value and threshold, on the bad one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shadowgate.checks import blockers, preconditions
from shadowgate.checks.preconditions import Backup
from shadowgate.config import Target, Thresholds
from shadowgate.envfile import parse_env
from shadowgate.host import FileFacts, UnitState
from shadowgate.verdict import Status

TARGET = Target()
TH = Thresholds.load()
MODEL = "/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth"
HEALTHY_ENV = f"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH={MODEL}\n"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def unit(active="active", sub="running", restarts=0, up_hours=30.0) -> UnitState:
    return UnitState(
        TARGET.unit, "loaded", active, sub, "success", restarts, 4242,
        NOW - timedelta(hours=up_hours),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "ok", "measured"),
    [
        (HEALTHY_ENV, True, "1 anchored PATCHTST_SHADOW_ONLY= line(s): 'true'"),
        (f"PATCHTST_MODEL_PATH={MODEL}\n", False, "0 anchored PATCHTST_SHADOW_ONLY= line(s): none"),
        ("PATCHTST_SHADOW_ONLY=true\nPATCHTST_SHADOW_ONLY=true\n", False, "2 anchored"),
        ("PATCHTST_SHADOW_ONLY=false\n", False, "'false'"),
        ("# PATCHTST_SHADOW_ONLY=true\n", False, "0 anchored"),
    ],
)
def test_p1_shadow_flag_exactly_once(text, ok, measured):
    v = preconditions.p1_shadow_flag(parse_env(text), TARGET)
    assert v.ok is ok, v.message()
    assert measured in v.measured
    assert v.threshold == "exactly one line PATCHTST_SHADOW_ONLY=true"


def test_p1_reports_env_file_surprises():
    v = preconditions.p1_shadow_flag(parse_env("export PATCHTST_SHADOW_ONLY=true\n"), TARGET)
    assert v.status is Status.FAIL and v.detail.startswith("env file surprises:")


def test_p4_stable_unit_passes_and_each_defect_fails():
    assert preconditions.p4_service_stable(unit(), NOW, TH).status is Status.PASS
    young = preconditions.p4_service_stable(unit(up_hours=2), NOW, TH)
    assert young.status is Status.FAIL and "uptime 2.00 h" in young.measured
    assert ">= 24 h" in young.threshold
    looping = preconditions.p4_service_stable(unit(restarts=3), NOW, TH)
    assert looping.status is Status.FAIL and "NRestarts=3" in looping.measured
    down = preconditions.p4_service_stable(unit("activating", "auto-restart"), NOW, TH)
    assert down.status is Status.FAIL and "not running" in down.measured


def test_b4_restart_loop_needs_a_steady_running_unit():
    assert blockers.b4_restart_loop(unit(), unit(), TH).status is Status.PASS
    grew = blockers.b4_restart_loop(unit(), unit(restarts=1, up_hours=0.001), TH)
    assert grew.status is Status.FAIL and "restarted during the run" in grew.measured
    failed = blockers.b4_restart_loop(unit(), unit("failed", "failed"), TH)
    assert failed.status is Status.FAIL and "failed (failed)" in failed.measured


def test_p6_backup_must_restore_shadow():
    good = Backup("/etc/quantum/ai-engine.env.bak.activation.1", parse_env(HEALTHY_ENV))
    assert preconditions.p6_rollback_plan([good], TARGET).status is Status.PASS
    none = preconditions.p6_rollback_plan([], TARGET)
    assert none.status is Status.FAIL and "cp /etc/quantum/ai-engine.env" in none.detail
    stale = Backup("/etc/quantum/ai-engine.env.bak.2", parse_env(f"PATCHTST_MODEL_PATH={MODEL}\n"))
    flagless = preconditions.p6_rollback_plan([good, stale], TARGET)
    assert flagless.status is Status.FAIL and "PATCHTST_SHADOW_ONLY lines none" in flagless.measured
    broken = Backup("/etc/quantum/ai-engine.env.bak.3", None, "is not readable")
    assert "is not readable" in preconditions.p6_rollback_plan([broken], TARGET).measured


def test_p7_model_file_must_exist_and_be_non_empty():
    env = parse_env(HEALTHY_ENV)
    facts = FileFacts(MODEL, True, True, True, 1024, "ab" * 32)
    assert preconditions.p7_model_path(env, facts, TARGET).status is Status.PASS
    empty = FileFacts(MODEL, True, True, True, 0, "cd" * 32)
    v = preconditions.p7_model_path(env, empty, TARGET)
    assert v.status is Status.FAIL and "size=0" in v.measured
    missing = FileFacts(MODEL, False, False, False, None, None)
    assert "exists=False" in preconditions.p7_model_path(env, missing, TARGET).measured
    unset = preconditions.p7_model_path(parse_env("PATCHTST_SHADOW_ONLY=true\n"), None, TARGET)
    assert unset.status is Status.FAIL and "0 anchored PATCHTST_MODEL_PATH= lines" in unset.measured
