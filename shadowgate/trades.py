"""Closed trades against the intents that opened them: the join, direction hits, calibration
buckets and win rates (G4, S5, W4).

Pure like `metrics` (no I/O, no thresholds). No id links a trade.closed to its intent, so the
join rule below is the one place that decides which signal a trade most likely came from.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Generic, TypeVar

from shadowgate.intents import Intent, ModelVote
from shadowgate.metrics import OPPOSITE, Ratio, prediction, share
from shadowgate.outcomes import Outcome

OUTCOME_SIDE = {"BUY": "LONG", "SELL": "SHORT"}  # intent side -> trade.closed side
T = TypeVar("T")


def stream_order(entry: Intent | Outcome) -> tuple[int, int, str]:
    """Sort key in stream order: time, then the sequence part of the entry id "ms-seq"."""
    _, _, seq = entry.entry_id.partition("-")
    return entry.ts_ms, int(seq) if seq.isdigit() else -1, entry.entry_id


Key = tuple[str, str]  # (symbol, outcome side)


class OutcomeJoin(Generic[T]):
    """Pair closed trades with the intents that likely opened them (no id links them), with
    the intents streamed past once and only O(outcomes) kept.

    Rule: an outcome joins the latest intent, in stream order, of the same symbol with side
    BUY->LONG or SELL->SHORT whose ts_ms is at or before the outcome's and at most `window_ms`
    earlier. Each intent joins at most one outcome: outcomes are taken in stream order, and an
    outcome whose latest intent is already taken stays unjoined (it is not pushed onto an older
    intent, which would pair it with a signal it most likely did not come from). Pairs come in
    outcome order.

    How: the outcomes of a key cut time into gaps (gap k ends at the k-th outcome's time); an
    intent only ever matters as the latest of its gap, so `offer` keeps one item per gap, and
    outcome k's latest intent is the one of the newest non-empty gap <= k. Intents may come in
    any order; `item` is what a pair carries for the intent (the intent, or what a check
    needs of it).
    """

    def __init__(self, outcomes: Iterable[Outcome], window_ms: float) -> None:
        self._outcomes = sorted(outcomes, key=stream_order)
        self._window_ms = window_ms
        self._times: dict[Key, list[int]] = defaultdict(list)
        for outcome in self._outcomes:
            self._times[outcome.symbol, outcome.side].append(outcome.ts_ms)
        self._latest: dict[Key, dict[int, tuple[Intent, int, T]]] = {}

    def offer(self, intent: Intent, item: T) -> None:
        """Consider `intent` (carrying `item`) as a candidate for the outcomes after it."""
        side = OUTCOME_SIDE.get(intent.side)
        if side is None:  # no trade.closed carries this side
            return
        times = self._times.get((intent.symbol, side))
        if not times or (gap := bisect_left(times, intent.ts_ms)) == len(times):
            return
        gaps = self._latest.setdefault((intent.symbol, side), {})
        held = gaps.get(gap)
        if held is None or _later(intent, held[0]):
            gaps[gap] = (intent, intent.ts_ms, item)

    def absorb(self, other: OutcomeJoin[T]) -> None:
        """Take in what `other` (same outcomes and window) was offered, as if offered here:
        per gap the later intent is kept, whichever join saw it."""
        for key, their_gaps in other._latest.items():
            gaps = self._latest.setdefault(key, {})
            for gap, theirs in their_gaps.items():
                held = gaps.get(gap)
                if held is None or _later(theirs[0], held[0]):
                    gaps[gap] = theirs

    def pairs(self) -> list[tuple[T, Outcome]]:
        """(item, outcome) for every joined outcome, in outcome stream order."""
        seen: dict[Key, int] = defaultdict(int)
        newest: dict[Key, int] = {}
        taken: set[tuple[Key, int]] = set()
        pairs: list[tuple[T, Outcome]] = []
        for outcome in self._outcomes:
            key = (outcome.symbol, outcome.side)
            k = seen[key]
            seen[key] = k + 1
            gaps = self._latest.get(key, {})
            if k in gaps:
                newest[key] = k
            gap = newest.get(key)
            if gap is None:
                continue
            _, ts_ms, item = gaps[gap]
            if outcome.ts_ms - ts_ms <= self._window_ms and (key, gap) not in taken:
                taken.add((key, gap))
                pairs.append((item, outcome))
        return pairs


def _later(intent: Intent, held: Intent) -> bool:
    """`intent` comes after `held` in stream order, or is `held` again (as a stable sort keeps
    the later of equals); the time alone decides but for a tie."""
    if intent.ts_ms != held.ts_ms:
        return intent.ts_ms > held.ts_ms
    return stream_order(intent) >= stream_order(held)


def join_outcomes(
    intents: Iterable[Intent], outcomes: Iterable[Outcome], window_ms: float
) -> list[tuple[Intent, Outcome]]:
    """`OutcomeJoin`'s pairs over a list of intents."""
    join: OutcomeJoin[Intent] = OutcomeJoin(outcomes, window_ms)
    for intent in intents:
        join.offer(intent, intent)
    return join.pairs()


def direction_hit(action: str, outcome: Outcome) -> bool:
    """Was a BUY or SELL right? The price went up iff (LONG and pnl > 0) or (SHORT and pnl <
    0), down iff the reverse; a BUY hits if up, SELL if down (a flat pnl of 0 is neither, so
    both miss)."""
    pnl = outcome.pnl_percent
    up = (outcome.side == "LONG" and pnl > 0) or (outcome.side == "SHORT" and pnl < 0)
    down = (outcome.side == "LONG" and pnl < 0) or (outcome.side == "SHORT" and pnl > 0)
    return up if action == "BUY" else down


def directional(intent: Intent, model: str) -> ModelVote | None:
    """`model`'s real BUY/SELL prediction on `intent`, the only kind a hit is judged on."""
    vote = prediction(intent, model)
    return vote if vote is not None and vote.action in OPPOSITE else None


def model_hit(intent: Intent, outcome: Outcome, model: str) -> bool | None:
    """Was `model`'s direction right (`direction_hit`)? None when the model has no real
    directional vote (absent, HOLD, failed)."""
    vote = directional(intent, model)
    return None if vote is None else direction_hit(vote.action, outcome)


@dataclass(frozen=True, slots=True)
class Bucket:
    """Confidence range [lo, hi] of one calibration bucket and its directional hits."""

    lo: float
    hi: float
    n: int
    hits: int

    @property
    def hit_rate(self) -> float:
        return self.hits / self.n

    def __str__(self) -> str:
        return f"{self.lo:.3f}..{self.hi:.3f}: {Ratio(self.hits, self.n)}"


def calibration_buckets(
    pairs: Iterable[tuple[Intent, Outcome]], model: str, buckets: int
) -> list[Bucket]:
    """Equal-count (quantile) buckets of `model`'s confidence over joined pairs with a
    directional vote, lowest confidence first (G4).

    Equal confidences never straddle a boundary (so the result does not depend on input
    order); when ties make that impossible, fewer than `buckets` non-empty buckets come back,
    and a check should read that as too little spread to judge calibration.
    """
    scored = [
        (intent.breakdown[model].confidence, hit)
        for intent, outcome in pairs
        if (hit := model_hit(intent, outcome, model)) is not None
    ]
    return buckets_of(scored, buckets)


def buckets_of(scored: Iterable[tuple[float, bool]], buckets: int) -> list[Bucket]:
    """`calibration_buckets` over (confidence, hit) pairs."""
    if buckets < 1:
        raise ValueError(f"calibration needs at least 1 bucket, got {buckets}")
    scored = sorted(scored)
    result: list[Bucket] = []
    start = 0
    for b in range(1, buckets + 1):
        stop = max(start, len(scored) * b // buckets)
        while 0 < stop < len(scored) and scored[stop][0] == scored[stop - 1][0]:
            stop += 1
        if stop > start:
            chunk = scored[start:stop]
            result.append(Bucket(chunk[0][0], chunk[-1][0], len(chunk), sum(h for _, h in chunk)))
        start = stop
    return result


def non_decreasing(rates: Sequence[float]) -> bool:
    """Each rate at least the previous one (calibrated: more confident, more often right)."""
    return all(a <= b for a, b in pairwise(rates))


def win_rate(outcomes: Iterable[Outcome]) -> Ratio:
    """Share of closed trades with pnl_percent > 0 (S5, W4)."""
    return share(outcomes, lambda o: o.pnl_percent > 0)


def mean_loss(outcomes: Iterable[Outcome]) -> float | None:
    """Mean magnitude of the losing trades' pnl_percent (S5 "loss magnitude"); None if none lost."""
    losses = [-o.pnl_percent for o in outcomes if o.pnl_percent < 0]
    return statistics.mean(losses) if losses else None
