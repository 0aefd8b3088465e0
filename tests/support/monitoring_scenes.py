"""Inputs shared by tests/unit/checks' rule tests and their edge tests (monitoring)."""

from __future__ import annotations

from datetime import UTC, datetime

from shadowgate.config import Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from tests.support.handmade import HOUR, NOW, SECOND, intent, timed, voting

TARGET = Target()


TH = Thresholds.load()


T0_MS = NOW - HOUR


def since_t0(kinds: list[dict], *, newest: int = NOW - 10 * SECOND, **window) -> object:
    """Intents 10 s apart, the newest at `newest`, one per keyword dict, in a window from T+0."""
    n = len(kinds)
    records = [intent(newest - (n - 1 - k) * 10 * SECOND, **kw) for k, kw in enumerate(kinds)]
    return timed(records, T0_MS, **window)


def confidences(low: float, high: float, n: int = 20):
    """Half the model's BUY votes at `low`, half at `high`: P10 = low, P90 = high."""
    return since_t0(
        [{"patchtst": voting("BUY", low)}] * (n // 2)
        + [{"patchtst": voting("BUY", high)}] * (n // 2)
    )


T0 = Anchor(datetime.fromtimestamp(T0_MS / 1000, UTC), "--activated-at")
