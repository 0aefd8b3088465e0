"""Where the kill -9 tests kill an action, hooked from outside the production code, in the
child process a test starts (nothing in shadowgate/ reads a variable that could SIGKILL an
operator's rollback).

The points, by name: each step of an action's StepLog once it is logged (the step's name); a
temp file of envedit written (`tmp-written`: the env file's or a backup's) and renamed or
linked into place (`renamed`: before the directory's fsync); a record's line and file in the
reports dir, its journal anchor not yet (`recorded`).

    python -m tests.support.crash_points POINT SCRIPT [ARG...]   # SCRIPT, killed at POINT
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from shadowgate import envedit
from shadowgate.actions import steps
from shadowgate.evidence import log


def install(reached: Callable[[str], None]) -> None:
    """Call `reached(point)` at every point this process passes from now on."""
    logged, written, synced, published = (
        steps.StepLog._add,
        envedit.write_all,
        envedit.fsync_dir,
        log.publish,
    )

    def step(
        self: steps.StepLog, name: str, began: datetime, start: float, ok: bool, detail: str
    ) -> None:
        logged(self, name, began, start, ok, detail)
        if ok:
            reached(name)

    def temp_written(fd: int, data: bytes) -> None:
        written(fd, data)
        reached("tmp-written")

    def renamed(directory: Path) -> None:
        reached("renamed")
        synced(directory)

    def recorded(pending: Path, final: Path) -> None:
        published(pending, final)
        reached("recorded")

    steps.StepLog._add = step  # type: ignore[method-assign]
    envedit.write_all = temp_written
    envedit.fsync_dir = renamed
    log.publish = recorded


def kill_at(point: str) -> None:
    """SIGKILL this process, as kill -9 would, when it reaches `point`."""

    def reached(name: str) -> None:
        if name == point:
            os.kill(os.getpid(), signal.SIGKILL)

    install(reached)


if __name__ == "__main__":
    kill_at(sys.argv[1])
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
