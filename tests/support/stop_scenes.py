"""Inputs shared by tests/unit/checks' rule tests and their edge tests (stops)."""

from __future__ import annotations

from datetime import UTC, datetime

from shadowgate.checks import stops
from shadowgate.checks.stops import PnlBaseline
from shadowgate.config import Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.host import UnitState
from shadowgate.intents import Intent
from shadowgate.outcomes import Outcome
from tests.support.handmade import HOUR, MINUTE, NOW, SECOND, intent, series, timed, voting

TARGET = Target()


TH = Thresholds.load()


T0 = NOW - 45 * MINUTE


INVOCATION = "a" * 32


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def anchor(t0: int = T0, invocation: str | None = INVOCATION) -> Anchor:
    source = "activation record r-1" if invocation else "--activated-at"
    return Anchor(at(t0), source, invocation)


def since(records, t0: int = T0, **kw):
    """The intents (or outcomes) since T+0 as `intents_since_t0` reads them."""
    return timed(records, t0, **kw)


def unit(
    started_ms: int | None = T0 + 2 * SECOND,
    restarts: int = 0,
    invocation: str = INVOCATION,
    state: tuple[str, str] = ("active", "running"),
) -> UnitState:
    started = None if started_ms is None else at(started_ms)
    return UnitState(
        "quantum-ai-engine.service", "loaded", *state, "success", restarts, 4242, started,
        invocation, started,
    )  # fmt: skip


FRESH = since(series(30))  # newest 10 s before the read


SLICE = 10 * MINUTE


def in_slice(k: int, full: int, total: int) -> list[Intent]:
    """`total` intents in slice k (0: the oldest of three, 2: the latest), `full` of them at
    full consensus (PatchTST voting with the three others)."""
    end = NOW - (2 - k) * SLICE
    return [
        intent(end - (j + 1) * 10 * SECOND, **({"patchtst": voting(), "consensus": 4}
                                                 if j < full else {"patchtst": voting("SELL")}))
        for j in range(total)
    ][::-1]  # fmt: skip


def slices(*figures: tuple[int, int]) -> list[Intent]:
    return [i for k, (full, total) in enumerate(figures) for i in in_slice(k, full, total)]


def disagreeing(n: int, hard: int, newest: int = NOW - 10 * SECOND) -> list[Intent]:
    return [
        intent(newest - (n - 1 - k) * 10 * SECOND, patchtst=voting("SELL" if k < hard else "BUY"))
        for k in range(n)
    ]


def confident(values: list[float], action: str = "BUY") -> list[Intent]:
    return [
        intent(NOW - (len(values) - k) * 10 * SECOND, patchtst=voting(action, c))
        for k, c in enumerate(values)
    ]


S5_T0 = NOW - 90 * MINUTE


BASELINE = PnlBaseline(S5_T0 - 24 * HOUR - 5 * MINUTE, S5_T0 - 5 * MINUTE, True, 50, 30, 20, 1.0,
                       0, "20260101T000000Z-preactivation-abc123")  # fmt: skip


def closed(wins: int, losses: int, loss: float = 1.0, t0: int = S5_T0) -> list[Outcome]:
    pnls = [1.0] * wins + [-loss] * losses
    return [
        Outcome(f"{t0 + k * MINUTE}-0", t0 + k * MINUTE, "BTCUSDT", "LONG", 100.0, 101.0, p)
        for k, p in enumerate(pnls)
    ]


def s5(outcomes, baseline=BASELINE, t0=S5_T0, thresholds=TH, **kw):
    window = None if outcomes is None else since(outcomes, t0, **kw)
    return stops.s5_pnl_degradation(window, baseline, anchor(t0), NOW, thresholds)
