"""Inputs shared by tests/unit/checks' rule tests and their edge tests (unit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shadowgate.checks import blockers
from shadowgate.checks.hostfacts import PreviousUnit
from shadowgate.config import Target, Thresholds
from shadowgate.host import AutoRestart, UnitState

TARGET = Target()


NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


INVOCATION = "0123456789abcdef0123456789abcdef"


def unit(
    active: str = "active",
    sub: str = "running",
    restarts: int = 0,
    up: timedelta = timedelta(hours=30),
    invocation: str | None = INVOCATION,
) -> UnitState:
    started = NOW - up
    return UnitState(
        TARGET.unit, "loaded", active, sub, "success", restarts, 4242, started, invocation,
        started,
    )  # fmt: skip


def previous(invocation: str | None = INVOCATION, restarts: int | None = 0) -> PreviousUnit:
    return PreviousUnit("20261126T063000Z-preactivation-1a2b3c", "2026-11-26T06:30:00Z",
                        invocation, restarts)  # fmt: skip


TH = Thresholds.load()


QUIET = AutoRestart(False, "active (running) without a break since 2026-11-25 06:00:00 UTC")


def b4(first=None, now=None, recent=QUIET, previous=None, th=TH):
    first = first or unit()
    return blockers.b4_restart_loop(first, now or first, recent, previous, th)
