"""The runbook end to end in a real systemd with the stand-in engine, through the actions as
an operator runs them: shadow -> `pytest -m preactivation` GO -> actions/activate.py (the
engine votes, its activation suite passes) -> actions/rollback.py (its rollback suite passes,
R4 measures the rollback time, < 60 s)."""

from __future__ import annotations

import sys
import time

import pytest

from shadowgate import evidence
from shadowgate.actions.flow import REPO
from shadowgate.testbed import installer
from shadowgate.testbed.suiterun import DRILL, box_runner, run_suite
from tests.matrix_support import ENGINE_OPTIONS, RATE, SETTLE_S, WINDOW_DRILL

pytestmark = pytest.mark.systemd
SETS = (*DRILL, *WINDOW_DRILL)  # the same thresholds for the suite and both actions


def action(box, script: str, redis_url: str, reports, *extra: str):
    argv = [
        sys.executable,
        str(REPO / "actions" / script),
        f"--redis-url={redis_url}",
        f"--reports-dir={reports}",
        *SETS,
        *extra,
    ]
    began = time.monotonic()
    done = box.exec(argv, cwd=str(REPO), timeout=400)
    return done, time.monotonic() - began


def test_preactivation_activate_rollback_end_to_end(box, redis_server, engine_unit, tmp_path):
    reports = tmp_path / "reports"
    unit = engine_unit(
        "healthy_voting", backfill_hours=26, rate=RATE, seed=5, options=ENGINE_OPTIONS
    )
    installer.settle(unit, SETTLE_S)
    try:
        pre = run_suite(box_runner(box), redis_server.url, reports, "preactivation", *SETS)
        assert pre.exit_code == 0, pre.output

        done, _ = action(box, "activate.py", redis_server.url, reports, "--approved-by=alice")
        said = done.stdout + done.stderr
        assert done.returncode == 0, said
        assert "activate: verdict: shadowgate activation: OK" in said
        env = box.exec(["cat", installer.ENV_FILE], check=True).stdout
        assert "PATCHTST_SHADOW_ONLY" not in env and "PATCHTST_MODEL_PATH=" in env
        activated = evidence.records(reports)[-2]  # then the activation suite's own record
        assert activated["action"] == "activate" and activated["invocation_id"]
        a1 = next(c for c in evidence.run_records(reports)[-1].checks if c.check_id == "A1")
        assert a1.status == "PASS" and "has no PATCHTST_SHADOW_ONLY (/proc/" in a1.measured

        done, took = action(box, "rollback.py", redis_server.url, reports)
        said = done.stdout + done.stderr
        assert done.returncode == 0, said
        assert "rollback: verdict: shadowgate rollback: OK" in said
        verified = evidence.run_records(reports)[-1]
        r4 = next(c for c in verified.checks if c.check_id == "R4")
        assert r4.status == "PASS" and r4.value < 60, r4.detail
        r1 = next(c for c in verified.checks if c.check_id == "R1")  # the process, as it is
        assert r1.status == "PASS" and "PATCHTST_SHADOW_ONLY='true' (/proc/" in r1.measured
        print(f"rollback: {r4.value:.1f} s to shadow evidence (R4); the action took {took:.1f} s")
        rolled = next(r for r in reversed(evidence.records(reports)) if r.get("action"))
        assert rolled["action"] == "rollback" and rolled["journal"]["file"]
        assert evidence.verify(reports).ok
    finally:
        box.exec(
            ["sh", "-c", f"rm -f {installer.ENV_FILE}.bak.activation.2* {installer.ENV_FILE}.lock"]
        )
