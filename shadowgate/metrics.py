"""Pure measurements over Intents and Outcomes: the numbers the runbook's awk pipelines print.

No I/O and no thresholds here: a check reads a window (stream.py), measures it with these
functions and compares with `Thresholds` itself. Every rate is a `Ratio` that keeps its sample
size, so a message can say "31/100 (31.0%)" and an empty window stays distinguishable from 0%.

Conventions shared by all functions (what a vote is: `votes`):
- A failed vote still appears in the runbook's agreement awk (as not agreeing), but it is no
  prediction: confidences, action mix and hits leave it out.
- Confidence spread reads BUY/SELL votes only: HOLD confidences are engine placeholders.
- Every aggregate is independent of input order.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

from shadowgate.intents import ACTIONS, Intent, ModelVote, Outcome
from shadowgate.votes import active_voters, is_failed

OUTCOME_SIDE = {"BUY": "LONG", "SELL": "SHORT"}  # intent side -> trade.closed side
OPPOSITE = {"BUY": "SELL", "SELL": "BUY"}
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ratio:
    """`hits` out of `total`; `value` is None for an empty sample (not 0%)."""

    hits: int
    total: int

    def __post_init__(self) -> None:
        if not 0 <= self.hits <= self.total:
            raise ValueError(f"Ratio needs 0 <= hits <= total, got {self.hits}/{self.total}")

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    def __str__(self) -> str:
        if not self.total:
            return "0/0 (no events)"
        return f"{self.hits}/{self.total} ({self.hits / self.total:.1%})"


def share(items: Iterable[T], predicate: Callable[[T], bool]) -> Ratio:
    """How many of `items` satisfy `predicate`, out of all of them."""
    hits = total = 0
    for item in items:
        total += 1
        hits += bool(predicate(item))
    return Ratio(hits, total)


# --- consensus --------------------------------------------------------------------------------


def consensus_distribution(intents: Iterable[Intent]) -> dict[int, int]:
    """consensus_count -> number of events, ascending (the runbook's `sort | uniq -c`)."""
    return dict(sorted(Counter(i.consensus_count for i in intents).items()))


def is_full_consensus(intent: Intent) -> bool:
    """All active voters agree ("consensus=4" in the runbook), counted from the intent's own
    voters, never from total_models: right when a fifth model joins or one runs on fallback
    rules. An intent without active voters (fallback only) is never full."""
    return intent.consensus_count >= len(active_voters(intent)) > 0


def full_consensus_share(intents: Iterable[Intent]) -> Ratio:
    """Share of events at full consensus (M1, S2, W2)."""
    return share(intents, is_full_consensus)


def low_consensus_share(intents: Iterable[Intent], max_count: int = 1) -> Ratio:
    """Share of events with consensus 0..max_count (M1 red flag "consensus=0-1"); fallback
    intents count here, as they do in the runbook's awk (their consensus reads 1)."""
    return share(intents, lambda i: i.consensus_count <= max_count)


# --- the model against the ensemble -----------------------------------------------------------


def _with_model(intents: Iterable[Intent], model: str) -> Iterator[tuple[Intent, ModelVote]]:
    """Lazily: a day holds ~100,000 intents, and every caller only walks the pairs once."""
    return ((i, i.breakdown[model]) for i in intents if model in i.breakdown)


def agreement(intents: Iterable[Intent], model: str) -> Ratio:
    """`model`'s action equals the ensemble side, over events that carry `model` in the
    breakdown (shadow or not), as the runbook's awk does: HOLD and failed votes disagree."""
    return share(_with_model(intents, model), lambda iv: iv[1].action == iv[0].side)


def hard_disagreement(intents: Iterable[Intent], model: str) -> Ratio:
    """`model` says the opposite (BUY vs SELL) of the ensemble; same denominator as
    `agreement`, so both read "of the events where the model spoke"."""
    return share(_with_model(intents, model), lambda iv: iv[1].action == OPPOSITE.get(iv[0].side))


def failed_predictions(intents: Iterable[Intent], model: str) -> Ratio:
    """`model`'s failed votes over the events that carry `model`."""
    return share(_with_model(intents, model), lambda iv: is_failed(iv[1], model))


def _predictions(intents: Iterable[Intent], model: str) -> list[ModelVote]:
    return [v for _, v in _with_model(intents, model) if not is_failed(v, model)]


def action_distribution(intents: Iterable[Intent], model: str) -> dict[str, Ratio]:
    """Share of each action (always BUY, SELL, HOLD; others if seen) among `model`'s real
    predictions (failed votes left out) (G1)."""
    votes = _predictions(intents, model)
    counts = Counter(v.action for v in votes)
    return {a: Ratio(counts[a], len(votes)) for a in [*ACTIONS, *sorted(counts.keys() - ACTIONS)]}


def largest_share(distribution: dict[str, Ratio]) -> tuple[str, Ratio] | None:
    """The most frequent action and its share (ties: the first in ACTIONS order); None if empty."""
    if not distribution:
        return None
    action, ratio = max(distribution.items(), key=lambda item: item[1].hits)
    return (action, ratio) if ratio.total else None


def model_confidences(intents: Iterable[Intent], model: str) -> list[float]:
    """`model`'s confidence in every BUY/SELL prediction within 0..1 (shadow included): HOLD
    confidences are engine placeholders (0.5, later 0.0) and would fake a spread; odd values
    are counted by `odd_confidences` instead (G2, M4, S4)."""
    return [
        v.confidence for v in _predictions(intents, model) if v.action in OPPOSITE and not v.odd
    ]


# --- distributions ----------------------------------------------------------------------------


def _percentile_sorted(ordered: Sequence[float], q: float) -> float:
    h = (len(ordered) - 1) * (q / 100)
    lo = math.floor(h)
    if lo + 1 >= len(ordered):
        return float(ordered[-1])
    a, b = ordered[lo], ordered[lo + 1]
    # Clamped so rounding can never step outside [a, b]: keeps the result monotone in q.
    return float(min(max(a + (h - lo) * (b - a), a), b))


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (q in 0..100) by linear interpolation between closest ranks
    (Hyndman-Fan type 7, numpy's default), in pure Python. The runbook's awk reads the single
    rank `vals[int(n*q)]` (1-based, so empty below 10 values); type 7 stays within one rank of it
    and is defined for any n >= 1.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    return _percentile_sorted(ordered, q)


@dataclass(frozen=True, slots=True)
class Spread:
    """Summary of a distribution (G2, M4, S4). std is the population std (the window is all
    we judge, not a sample of something larger)."""

    n: int
    mean: float
    std: float
    p10: float
    p50: float
    p90: float

    @property
    def range_p10_p90(self) -> float:
        return self.p90 - self.p10

    def __str__(self) -> str:
        return (
            f"n={self.n} mean={self.mean:.4f} std={self.std:.4f} P10={self.p10:.4f} "
            f"P50={self.p50:.4f} P90={self.p90:.4f} P10..P90={self.range_p10_p90:.4f}"
        )


def confidence_spread(values: Iterable[float]) -> Spread | None:
    """Mean, population std and P10/P50/P90 (type 7) of `values`; None when there are none.
    Mean and std are computed exactly (statistics module), so a constant input has std 0."""
    ordered = sorted(values)
    if not ordered:
        return None
    return Spread(
        n=len(ordered),
        mean=statistics.mean(ordered),
        std=statistics.pstdev(ordered),
        p10=_percentile_sorted(ordered, 10),
        p50=_percentile_sorted(ordered, 50),
        p90=_percentile_sorted(ordered, 90),
    )


def payload_p95(intents: Iterable[Intent]) -> float | None:
    """95th percentile (type 7) of payload sizes in bytes (B3); None for no intents."""
    sizes = [i.payload_bytes for i in intents]
    return percentile(sizes, 95) if sizes else None


# --- time -------------------------------------------------------------------------------------


def time_slices(
    intents: Iterable[Intent], end_ms: int, slice_ms: float, count: int
) -> list[list[Intent]]:
    """The last `count` consecutive slices of `slice_ms` ending at `end_ms`, oldest first.

    Slice k (0 = latest) holds end_ms - (k+1)*slice_ms < ts_ms <= end_ms - k*slice_ms, so the
    event at end_ms itself is in the latest slice; events outside all slices are dropped.
    Within a slice, input order is kept. (S2 "sustained": the breach in every slice.)
    """
    if slice_ms <= 0 or count < 0:
        raise ValueError(f"time_slices needs slice_ms > 0 and count >= 0, got {slice_ms}, {count}")
    slices: list[list[Intent]] = [[] for _ in range(count)]
    for intent in intents:
        back = end_ms - intent.ts_ms
        if back >= 0 and (k := int(back // slice_ms)) < count:
            slices[count - 1 - k].append(intent)
    return slices


def _stream_order(entry: Intent | Outcome) -> tuple[int, int, str]:
    """Sort key in stream order: time, then the sequence part of the entry id "ms-seq"."""
    _, _, seq = entry.entry_id.partition("-")
    return entry.ts_ms, int(seq) if seq.isdigit() else -1, entry.entry_id


# --- outcomes ---------------------------------------------------------------------------------


def join_outcomes(
    intents: Iterable[Intent], outcomes: Iterable[Outcome], window_ms: float
) -> list[tuple[Intent, Outcome]]:
    """Pair closed trades with the intents that likely opened them (no id links them).

    Rule: an outcome joins the latest intent of the same symbol with side BUY->LONG or
    SELL->SHORT whose ts_ms is at or before the outcome's and at most `window_ms` earlier.
    Each intent joins at most one outcome: outcomes are taken in stream order, and an outcome
    whose latest intent is already taken stays unjoined (it is not pushed onto an older intent,
    which would pair it with a signal it most likely did not come from). Pairs come in outcome
    order. Sorting plus one bisect per outcome: O((n + m) log n).
    """
    by_key: dict[tuple[str, str], list[Intent]] = defaultdict(list)
    for intent in sorted(intents, key=_stream_order):
        if intent.side in OUTCOME_SIDE:
            by_key[intent.symbol, OUTCOME_SIDE[intent.side]].append(intent)
    times = {key: [i.ts_ms for i in group] for key, group in by_key.items()}
    taken: set[tuple[tuple[str, str], int]] = set()
    pairs: list[tuple[Intent, Outcome]] = []
    for outcome in sorted(outcomes, key=_stream_order):
        key = (outcome.symbol, outcome.side)
        at = bisect_right(times.get(key, []), outcome.ts_ms) - 1
        if at < 0:
            continue
        intent = by_key[key][at]
        if outcome.ts_ms - intent.ts_ms <= window_ms and (key, at) not in taken:
            taken.add((key, at))
            pairs.append((intent, outcome))
    return pairs


def model_hit(intent: Intent, outcome: Outcome, model: str) -> bool | None:
    """Was `model`'s direction right? The price went up iff (LONG and pnl > 0) or (SHORT and
    pnl < 0), down iff the reverse; a BUY vote hits if up, SELL if down (a flat pnl of 0 is
    neither, so both miss). None when the model has no real directional vote (absent, HOLD,
    failed)."""
    vote = intent.breakdown.get(model)
    if vote is None or is_failed(vote, model) or vote.action not in OPPOSITE:
        return None
    pnl = outcome.pnl_percent
    up = (outcome.side == "LONG" and pnl > 0) or (outcome.side == "SHORT" and pnl < 0)
    down = (outcome.side == "LONG" and pnl < 0) or (outcome.side == "SHORT" and pnl > 0)
    return up if vote.action == "BUY" else down


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
    if buckets < 1:
        raise ValueError(f"calibration needs at least 1 bucket, got {buckets}")
    scored = sorted(
        (intent.breakdown[model].confidence, hit)
        for intent, outcome in pairs
        if (hit := model_hit(intent, outcome, model)) is not None
    )
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
