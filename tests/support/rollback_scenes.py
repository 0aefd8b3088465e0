"""Inputs shared by tests/unit/checks' rule tests and their edge tests (rollback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shadowgate.checks.rollback import JournalSince
from shadowgate.config import Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.host import JournalLine, UnitState
from tests.support.handmade import MINUTE, NOW

TARGET = Target()


TH = Thresholds.load()


S = timedelta(seconds=1)


START = datetime.fromtimestamp((NOW - 2 * MINUTE) / 1000, UTC)  # the rollback began


RESTART = START + 4 * S  # systemctl restart, active at once


INV = "0123456789abcdef0123456789abcdef"


RECORDED = Anchor(RESTART, "rollback record 20261126T120000Z-rollback-1a2b3c", INV, START)


MANUAL = Anchor(START, "--rollback-started-at", started_at=START)


SHADOW_PLAIN = (
    "[SHADOW] PatchTST | BTCUSDT | action=BUY conf=0.6150 | prob=0.6150 logit=0.4685 "
    "| mode=SHADOW_ONLY"
)


def unit(started: datetime | None = RESTART, invocation: str | None = INV) -> UnitState:
    return UnitState(
        TARGET.unit, "loaded", "active", "running", "success", 0, 4242, started, invocation,
        started,
    )  # fmt: skip


def line(after: timedelta, text: str, level: str | None = None) -> JournalLine:
    """A line `after` the restart: plain (`level` None) or a JSON line's msg."""
    return JournalLine(RESTART + after, text, level)


def read(*lines: JournalLine, waited=timedelta(seconds=45), state=None) -> JournalSince:
    state = state or unit()
    return JournalSince(tuple(lines), state, (state.started or RESTART) + waited)
