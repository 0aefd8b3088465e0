"""Running the actions against the engine in the systemd box."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shadowgate.actions.flow import REPO
from shadowgate.testbed import installer
from shadowgate.testbed.suiterun import DRILL, box_runner, run_suite
from tests.support.matrix_support import ENGINE_OPTIONS, RATE, SETTLE_S, WINDOW_DRILL

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


@contextmanager
def activated(
    box, redis_server, engine_unit, reports: Path, *extra: str
) -> Iterator[subprocess.CompletedProcess]:
    """The healthy engine through `pytest -m preactivation` (GO) and actions/activate.py with
    `extra` (its suite OK); yields activate.py's run, then removes the activation's backups
    and the lock."""
    unit = engine_unit(
        "healthy_voting", backfill_hours=26, rate=RATE, seed=5, options=ENGINE_OPTIONS
    )
    installer.settle(unit, SETTLE_S)
    try:
        pre = run_suite(box_runner(box), redis_server.url, reports, "preactivation", *SETS)
        assert pre.exit_code == 0, pre.output

        done, _ = action(
            box, "activate.py", redis_server.url, reports, "--approved-by=alice", *extra
        )
        said = done.stdout + done.stderr
        assert done.returncode == 0, said
        assert "activate: verdict: shadowgate activation: OK" in said
        yield done
    finally:
        box.exec(
            ["sh", "-c", f"rm -f {installer.ENV_FILE}.bak.activation.2* {installer.ENV_FILE}.lock"]
        )
