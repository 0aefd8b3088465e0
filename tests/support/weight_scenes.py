"""Inputs shared by tests/unit/checks' rule tests and their edge tests (weight)."""

from __future__ import annotations

from datetime import UTC, datetime

from shadowgate.checks import weight
from shadowgate.checks.stops import PnlBaseline
from shadowgate.config import Thresholds
from shadowgate.evidence.anchors import Anchor
from tests.support.handmade import HOUR, MINUTE, NOW, SECOND, intent, outcome, timed, voting

TH = Thresholds.load()


T0_MS = NOW - 25 * HOUR


FULL = {"consensus": 4, "patchtst": voting("BUY")}


SPLIT = {"consensus": 3, "patchtst": voting("HOLD", 0.5)}


def hours(per_hour: list[tuple[int, int]], **window):
    """For each hour after T+0, (intents at full consensus / agreeing, others), spread evenly
    over the hour; the window read now (T+25 h) unless told."""
    records = []
    for h, (full, other) in enumerate(per_hour):
        kinds = [FULL] * full + [SPLIT] * other
        step = HOUR // (len(kinds) + 1)
        records += [intent(T0_MS + h * HOUR + (k + 1) * step, **kw) for k, kw in enumerate(kinds)]
    records.append(intent(NOW - 10 * SECOND, **SPLIT))  # the engine still publishing now
    return timed(records, T0_MS, **window)


HEALTHY_DAY = [(12, 18)] * 24  # 40% every hour


def one_hour(h: int, figures: tuple[int, int]) -> list[tuple[int, int]]:
    return [*HEALTHY_DAY[:h], figures, *HEALTHY_DAY[h + 1 :]]


def baseline(wins: int, outcomes: int) -> PnlBaseline:
    """S5's baseline as the preactivation record keeps it: the 24 h before T+0."""
    losses = outcomes - wins
    return PnlBaseline(T0_MS - 24 * HOUR, T0_MS, True, outcomes, wins, losses, 1.0, 0, "pre-1")


def closed(wins: int, losses: int, **window):
    """Outcomes since T+0, a minute apart: `wins` that made money, then `losses`."""
    hits = [True] * wins + [False] * losses
    return timed(
        [outcome(T0_MS + (k + 1) * MINUTE, "BTCUSDT", hit) for k, hit in enumerate(hits)],
        T0_MS,
        **window,
    )


BASE = baseline(55, 100)


T0_AT = datetime.fromtimestamp(T0_MS / 1000, UTC)


T0 = Anchor(T0_AT, "activation record 20251230T230000Z-activate-abc123", "inv-t0")


def w2(window, thresholds=TH):
    return weight.w2_full_consensus_stable(window, T0, thresholds)
