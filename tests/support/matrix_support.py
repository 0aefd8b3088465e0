"""Starting the stand-in engine for a matrix row and waiting for what a row needs, shared by
the preactivation and fidelity matrices (the `suite` fixture is in conftest.py)."""

from __future__ import annotations

import time

from shadowgate.testbed import installer

SETTLE_S = 3.0  # live events and a [SHADOW] line after the start; crash_loop crashes once

# Post-activation drills (the voting engine, fast): the runbook's minutes and hours in seconds.
RATE = 40.0  # live decisions per second (fast engine: a 5 s slice holds ~170 intents)
SLICE_S = 5.0  # stop.s2_slice_minutes, in seconds
MAX_AGE_S = 9.0  # window.max_age_minutes, in seconds: silent after this long
S5_AFTER_S = 10.8  # stop.s5_after_hours, in seconds: S5's "first hour after T+0"
ENGINE_OPTIONS = ("outcome_delay_s=[0.5,2]",)  # trades close within seconds
WINDOW_DRILL = (
    f"--set=stop.s2_slice_minutes={SLICE_S / 60:.6f}",
    f"--set=window.max_age_minutes={MAX_AGE_S / 60:.6f}",
    f"--set=stop.s5_after_hours={S5_AFTER_S / 3600:.6f}",
    "--set=weight.min_uptime_hours=0.002",  # W1: up > 7.2 s instead of 24 h
    "--set=weight.observation_hours=1",  # W2/W3: the first hour only (not over in a drill)
)


def start_engine(engine_unit, scenario="healthy_shadow", **options):
    unit = engine_unit(scenario, backfill_hours=26, rate=5, seed=5, **options)
    installer.settle(unit, SETTLE_S)
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
