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
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Generic, TypeVar

from shadowgate.intents import ACTIONS, Intent, ModelVote, Outcome
from shadowgate.votes import active_voters, is_failed

OUTCOME_SIDE = {"BUY": "LONG", "SELL": "SHORT"}  # intent side -> trade.closed side
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


def stream_order(entry: Intent | Outcome) -> tuple[int, int, str]:
    """Sort key in stream order: time, then the sequence part of the entry id "ms-seq"."""
    _, _, seq = entry.entry_id.partition("-")
    return entry.ts_ms, int(seq) if seq.isdigit() else -1, entry.entry_id


# --- outcomes ---------------------------------------------------------------------------------


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
        times = self._times.get((intent.symbol, side)) if side else None
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
