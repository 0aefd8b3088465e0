"""Pure measurements over Intents: the numbers the runbook's awk pipelines print (closed
trades are measured in `trades`).

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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from shadowgate.intents import ACTIONS, Intent, ModelVote
from shadowgate.votes import active_voters, is_failed

OPPOSITE = {"BUY": "SELL", "SELL": "BUY"}
SAMPLE_IDS = 3  # entry ids quoted as evidence behind a verdict
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


@dataclass(frozen=True, slots=True)
class Hits:
    """A count of findings and the first few entry ids behind it: what a verdict quotes, kept
    without the findings themselves (a one-pass scan holds no intents)."""

    n: int = 0
    ids: tuple[str, ...] = ()

    def add(self, entry_id: str) -> Hits:
        ids = self.ids if len(self.ids) == SAMPLE_IDS else (*self.ids, entry_id)
        return Hits(self.n + 1, ids)

    def then(self, later: Hits) -> Hits:
        """These findings followed by `later`'s, as if counted in one pass."""
        return Hits(self.n + later.n, (*self.ids, *later.ids)[:SAMPLE_IDS])


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


def prediction(intent: Intent, model: str) -> ModelVote | None:
    """`model`'s real prediction on `intent`: its vote unless absent or failed."""
    vote = intent.breakdown.get(model)
    return None if vote is None or is_failed(vote, model) else vote


def _predictions(intents: Iterable[Intent], model: str) -> list[ModelVote]:
    return [v for i in intents if (v := prediction(i, model)) is not None]


def action_shares(counts: Mapping[str, int]) -> dict[str, Ratio]:
    """Share of each action (always BUY, SELL, HOLD; others if seen) among counted actions."""
    n = sum(counts.values())
    return {a: Ratio(counts.get(a, 0), n) for a in [*ACTIONS, *sorted(counts.keys() - ACTIONS)]}


def action_distribution(intents: Iterable[Intent], model: str) -> dict[str, Ratio]:
    """Share of each action among `model`'s real predictions (failed votes left out) (G1)."""
    return action_shares(Counter(v.action for v in _predictions(intents, model)))


def largest_share(distribution: dict[str, Ratio]) -> tuple[str, Ratio] | None:
    """The most frequent action and its share (ties: the first in ACTIONS order); None if empty."""
    if not distribution:
        return None
    action, ratio = max(distribution.items(), key=lambda item: item[1].hits)
    return (action, ratio) if ratio.total else None


def spread_vote(vote: ModelVote) -> bool:
    """A prediction whose confidence measures spread: BUY/SELL within 0..1 (shadow included).
    HOLD confidences are engine placeholders (0.5, later 0.0) and would fake a spread; odd
    values are counted by `odd_confidences` instead (G2, M4, S4)."""
    return vote.action in OPPOSITE and not vote.odd


def model_confidences(intents: Iterable[Intent], model: str) -> list[float]:
    """`model`'s confidence in every prediction that measures spread (`spread_vote`)."""
    return [v.confidence for v in _predictions(intents, model) if spread_vote(v)]


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
