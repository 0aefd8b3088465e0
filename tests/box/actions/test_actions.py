"""The runbook end to end in a real systemd with the stand-in engine, through the actions as
an operator runs them: shadow -> `pytest -m preactivation` GO -> actions/activate.py (the
engine votes, its activation suite passes) -> actions/rollback.py (its rollback suite passes,
R4 measures the rollback time, < 60 s; R5 NOT OK when the engine crash-loops after it)."""

from __future__ import annotations

import re

import pytest

from shadowgate import evidence
from shadowgate.testbed import installer
from tests.support.box_actions import action, activated
from tests.support.matrix_support import ENGINE_OPTIONS, RATE

pytestmark = pytest.mark.systemd


@pytest.fixture
def activated_in(box, redis_server, engine_unit, tmp_path):
    """The reports dir of an engine `activated` without a weight."""
    reports = tmp_path / "reports"
    with activated(box, redis_server, engine_unit, reports):
        yield reports


def test_preactivation_activate_rollback_end_to_end(box, redis_server, activated_in):
    reports = activated_in
    env = box.exec(["cat", installer.ENV_FILE], check=True).stdout
    assert "PATCHTST_SHADOW_ONLY" not in env and "PATCHTST_MODEL_PATH=" in env
    activated = evidence.records(reports)[-2]  # then the activation suite's own record
    assert activated["action"] == "activate" and activated["invocation_id"]
    a1 = next(c.verdict for c in evidence.run_records(reports)[-1].checks if c.check_id == "A1")
    assert a1 and a1.status == "PASS" and "has no PATCHTST_SHADOW_ONLY (/proc/" in a1.measured

    done, took = action(box, "rollback.py", redis_server.url, reports)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "rollback: verdict: shadowgate rollback: OK" in said
    verified = evidence.run_records(reports)[-1]
    r4 = next(c.verdict for c in verified.checks if c.check_id == "R4")
    assert r4.status == "PASS" and r4.value < 60, r4.detail
    r1 = next(c.verdict for c in verified.checks if c.check_id == "R1")  # the process, as it is
    assert r1.status == "PASS" and "PATCHTST_SHADOW_ONLY='true' (/proc/" in r1.measured
    # R5: the same process 10 s later
    r5 = next(c.verdict for c in verified.checks if c.check_id == "R5")
    assert (r5.status, r5.value) == ("PASS", 0), r5.detail
    print(f"rollback: {r4.value:.1f} s to shadow evidence (R4); the action took {took:.1f} s")
    rolled = next(r for r in reversed(evidence.records(reports)) if r.get("action"))
    assert rolled["action"] == "rollback" and rolled["journal"]["file"]
    assert evidence.verify(reports).ok


def crash_loop_from_next_start(box, redis_url: str) -> None:
    """A drop-in (daemon-reloaded, no restart) that makes the engine's next start the
    crash_loop scenario's: the rollback's restart begins the loop."""
    text = installer.engine_unit_text(redis_url, "crash_loop", RATE, 26, 5, options=ENGINE_OPTIONS)
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    installer.add_drop_ins(box, {"crash.conf": f"ExecStart=\n{exec_start}"})


def test_a_rollback_whose_engine_crash_loops_is_not_ok(box, redis_server, activated_in):
    """R1-R4 may pass while systemd restarts the engine every few seconds: R5 FAILs naming
    NRestarts, and actions/rollback.py exits 1 with the one next step."""
    reports = activated_in
    crash_loop_from_next_start(box, redis_server.url)
    done, _ = action(box, "rollback.py", redis_server.url, reports)
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    verified = evidence.run_records(reports)[-1]
    assert verified.phase == "rollback" and not verified.passed
    r5 = next(c.verdict for c in verified.checks if c.check_id == "R5")
    assert r5.status == "FAIL" and r5.value >= 1, r5.detail
    assert re.match(r"crash-looping: NRestarts \d+ -> \d+ in [\d.]+ s after the restart", r5.detail)
    assert (
        f"rollback NOT OK: the engine is not staying up after the rollback (R5: {r5.detail}); "
        f"look at `journalctl -u {installer.ENGINE_UNIT} --since '10 minutes ago'`; the flag is "
        f"back in {installer.ENV_FILE} (runbook s.6)"
    ) in said
    assert "PATCHTST_SHADOW_ONLY=true" in box.exec(["cat", installer.ENV_FILE]).stdout
    print(next(line for line in said.splitlines() if "rollback NOT OK" in line))
