"""Starting the stand-in engine for a matrix row and waiting for what a row needs, shared by
the preactivation and fidelity matrices (the `suite` fixture is in conftest.py)."""

from __future__ import annotations

import time

from shadowgate.testbed import installer

SETTLE_S = 3.0  # live events and a [SHADOW] line after the start; crash_loop crashes once


def start_engine(engine_unit, scenario="healthy_shadow", **options):
    unit = engine_unit(scenario, backfill_hours=26, rate=5, seed=5, **options)
    time.sleep(SETTLE_S)
    return unit


def wait_for_restart(box, timeout=30.0):
    """Until systemd has restarted the crashing engine at least once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = box.systemctl("show", "-p", "NRestarts", installer.ENGINE_UNIT).stdout
        if int(shown.strip().partition("=")[2] or 0) >= 1:
            return
        time.sleep(0.2)
    raise AssertionError("the crash_loop engine was never restarted")
