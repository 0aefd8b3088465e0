"""Helpers for tests that fork."""

from __future__ import annotations

import threading
import time


def single_threaded() -> None:
    """Wait (up to 2 s) for threads an earlier test left behind (daemon servers winding
    down): a scan only forks while this process runs alone."""
    deadline = time.monotonic() + 2.0
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == 1, f"threads still running: {threading.enumerate()}"
