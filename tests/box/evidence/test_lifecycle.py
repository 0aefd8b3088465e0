"""The lifecycle (ARCHITECTURE.md "The lifecycle") walked in a real systemd with the stand-in
engine, through the commands an operator runs, `shadowgate status` asserted at every step:

    SHADOW -> GO: ARMED -> activate.py: ACTIVE -> a window's STOP: STOPPED
    -> rollback.py --on-stop: ROLLED_BACK -> a second --on-stop does nothing
    -> the window and the monitor say "rolled back ...; nothing to monitor" (exit 0)
    -> activate.py refused (the old GO arms nothing) -> a fresh GO: ARMED
    -> activate.py (observation 14.4 s): ACTIVE -> `conclude` refused before the decision point
    -> T+14.4 s: AWAITING_DECISION -> `shadowgate conclude --decision=continue`: CONCLUDED

The STOP is S3 on demand: `stop.s3_hard_disagreement_above` is set to 2% for every command
(the same thresholds throughout, as the actions demand), so the healthy voting engine's
hard disagreement stops the first window; every other threshold is the drills' own.
"""

from __future__ import annotations

import sys
import time

import pytest

from shadowgate.actions.flow import REPO
from shadowgate.testbed import installer
from shadowgate.testbed.suiterun import DRILL, box_runner, run_suite
from tests.support.matrix_support import ENGINE_OPTIONS, RATE, SETTLE_S, WINDOW_DRILL

pytestmark = pytest.mark.systemd
STOP_ON_S3 = "--set=stop.s3_hard_disagreement_above=0.02"
SETS = (*DRILL, *WINDOW_DRILL, STOP_ON_S3)
# The re-try's GO (s.6): P3's "no full consensus in 24 h" and P5's shadow observation over the
# last 18 s only, so the minutes the engine voted before the rollback lie outside them.
RETRY = (*SETS, "--set=window.precondition_hours=0.005", "--set=shadow.min_observation_hours=0.005")
OBSERVED_H = 0.004  # the second activation's observation hours (14.4 s): then its decision


def command(box, argv: list[str], redis_url: str, reports, *sets: str):
    done = box.exec(
        [*argv, f"--redis-url={redis_url}", f"--reports-dir={reports}", *sets],
        cwd=str(REPO), timeout=400,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def script(name: str) -> list[str]:
    return [sys.executable, str(REPO / "actions" / name)]


SHADOWGATE = [sys.executable, "-m", "shadowgate.cli"]


def invocation(box) -> str:
    show = ["show", "-p", "InvocationID", "--value", installer.ENGINE_UNIT]
    return box.systemctl(*show).stdout.strip()


def test_the_lifecycle_end_to_end_with_status_at_every_step(
    box, redis_server, engine_unit, tmp_path
):
    reports = tmp_path / "reports"
    url = redis_server.url

    def status(expected: str, *sets: str) -> str:
        code, said = command(box, [*SHADOWGATE, "status"], url, reports, *(sets or SETS))
        assert code == 0, said
        assert said.startswith(f"state:   {expected} since"), said
        print(said.splitlines()[0])
        return said

    def window() -> tuple[int, str]:
        argv = [sys.executable, "-m", "pytest", "-m", "window_30m", "-p", "no:cacheprovider",
                f"--rootdir={REPO}"]  # fmt: skip
        return command(box, argv, url, reports, *SETS)

    unit = engine_unit("healthy_voting", backfill_hours=26, rate=RATE, seed=5,
                       options=ENGINE_OPTIONS)  # fmt: skip
    installer.settle(unit, SETTLE_S)
    try:
        status("SHADOW")
        pre = run_suite(box_runner(box), url, reports, "preactivation", *SETS)
        assert pre.exit_code == 0, pre.output
        status("ARMED")

        code, said = command(box, [*script("activate.py"), "--approved-by=alice"], url, reports,
                             *SETS)  # fmt: skip
        assert code == 0, said
        status("ACTIVE")

        time.sleep(3)  # a few seconds of the voting engine since T+0
        code, said = window()
        assert code == 1 and "STOP: roll back now (runbook s.6): S3" in said, said
        status("STOPPED")

        code, said = command(box, [*script("rollback.py"), "--on-stop"], url, reports, *SETS)
        assert code == 0 and "rollback: verdict: shadowgate rollback: OK" in said, said
        rolled = status("ROLLED_BACK")
        assert "(trigger S3)" in rolled and "verified by run" in rolled, rolled
        assert "  Rollback\n" in rolled and "  Post-Activation\n" in rolled, rolled

        engine_run = invocation(box)
        code, said = command(box, [*script("rollback.py"), "--on-stop"], url, reports, *SETS)
        assert code == 0 and "rollback --on-stop: already rolled back at " in said, said
        assert invocation(box) == engine_run  # no second restart
        status("ROLLED_BACK")

        code, said = window()
        assert code == 0 and "(trigger S3); nothing to monitor" in said, said
        assert "STOP: roll back now" not in said
        code, said = command(box, [*SHADOWGATE, "monitor"], url, reports, *SETS)
        assert code == 0 and "nothing to monitor" in " ".join(said.split()), said
        status("ROLLED_BACK")

        code, said = command(box, [*script("activate.py"), "--approved-by=alice"], url, reports,
                             *SETS)  # fmt: skip
        assert code == 2 and "not ARMED: the state is ROLLED_BACK since" in said, said
        assert "PATCHTST_SHADOW_ONLY=true" in box.exec(["cat", installer.ENV_FILE]).stdout
        status("ROLLED_BACK")

        time.sleep(20)  # the voting minutes out of the re-try GO's 18 s windows
        pre = run_suite(box_runner(box), url, reports, "preactivation", *RETRY)
        assert pre.exit_code == 0, pre.output
        status("ARMED", *RETRY)

        activate = [
            *script("activate.py"),
            "--approved-by=alice",
            f"--observation-hours={OBSERVED_H}",
        ]
        code, said = command(box, activate, url, reports, *RETRY)
        assert code == 0, said
        status("ACTIVE", *RETRY)
        code, said = command(box, [*SHADOWGATE, "conclude", "--decision=continue", "--by=alice"],
                             url, reports, *RETRY)  # fmt: skip
        assert code == 2 and "ACTIVE" in said, said  # not before the decision point
        time.sleep(OBSERVED_H * 3600 + 1)
        status("AWAITING_DECISION", *RETRY)
        code, said = command(box, [*SHADOWGATE, "conclude", "--decision=continue", "--by=alice"],
                             url, reports, *RETRY)  # fmt: skip
        assert code == 0 and "CONCLUDED" in said, said
        concluded = status("CONCLUDED", *RETRY)
        assert "  Conclusion\n" in concluded and "continue" in concluded, concluded
    finally:
        box.exec(
            ["sh", "-c", f"rm -f {installer.ENV_FILE}.bak.activation.2* {installer.ENV_FILE}.lock"]
        )
