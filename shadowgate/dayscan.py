"""The precondition window's checks (P3, P5, G1-G4) and the report's confidence plot, measured
in one pass of accumulators instead of over a list of intents: a day of 1,000,000 intents then
costs one read batch plus what the checks keep (the model's BUY/SELL confidences, 8 bytes each,
and one candidate intent per gap between outcomes for G4's join).

The live run scans the stream (`scan_stream`); rule unit tests scan a hand-made Window
(`scan_window`); both feed the same `DayScan.add`, so there is one path from intents to
figures, and the per-intent questions are `votes`' and `metrics`' own."""

from __future__ import annotations

import dataclasses
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shadowgate import metrics, votes
from shadowgate.intents import Intent, ModelVote, Outcome
from shadowgate.stream import StreamReader
from shadowgate.window import Window, WindowSummary

if TYPE_CHECKING:
    from shadowgate.config import Target

Pairs = list[tuple[ModelVote | None, Outcome]]  # the model's BUY/SELL vote (or None), outcome


@dataclass(frozen=True, slots=True)
class Voted:
    """The newest intent where the model voted: a prediction that is no shadow evidence (P5)."""

    entry_id: str
    ts_ms: int


@dataclass(slots=True, eq=False)
class DayScan:
    """What the day's checks read of the window, for one model (`Target.breakdown_key`)."""

    model: str
    outcomes: Window[Outcome] | None = None  # joined against (G4), read before the scan
    join_ms: float = 0.0
    window: WindowSummary | None = None  # set when the pass ends
    beyond_others: metrics.Hits = field(default_factory=metrics.Hits)  # P3: only the model explains
    failures: Counter[str] = field(default_factory=Counter)  # the model's failure forms
    newest_vote: Voted | None = None  # P5
    actions: Counter[str] = field(default_factory=Counter)  # G1: its real predictions
    confidences: array = field(default_factory=lambda: array("d"))  # G2 / the plot
    spoke: int = 0  # G3: intents carrying the model's vote (agreement's denominator)
    agree: int = 0
    opposed: int = 0
    odd: Counter[str] = field(default_factory=Counter)  # votes outside 0..1, by model name
    _join: metrics.OutcomeJoin[ModelVote | None] | None = None
    _spread: list[metrics.Spread | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.outcomes is not None:
            self._join = metrics.OutcomeJoin(self.outcomes.records, self.join_ms)

    def add(self, intent: Intent) -> None:
        """Account for one engine intent (in stream order)."""
        model, breakdown = self.model, intent.breakdown
        for name, v in breakdown.items():
            if v.odd:
                self.odd[name] += 1
        if votes.beyond_others(intent, model):
            self.beyond_others = self.beyond_others.add(intent.entry_id)
        vote = breakdown.get(model)
        if vote is None or votes.is_failed(vote, model):
            self.failures[votes.failure_form(intent, model)] += 1
        else:
            self.actions[vote.action] += 1
            if metrics.spread_vote(vote):
                self.confidences.append(vote.confidence)
            if not votes.is_shadow(vote):
                self.newest_vote = Voted(intent.entry_id, intent.ts_ms)
        if vote is not None:
            self.spoke += 1
            self.agree += vote.action == intent.side
            self.opposed += vote.action == metrics.OPPOSITE.get(intent.side)
        if self._join is not None:
            self._join.offer(intent, metrics.directional(intent, model))

    def of(self, target: Target) -> DayScan:
        """This scan, when it measured the target's model (a scan of another model's votes
        would pass its figures off as the target's)."""
        if target.breakdown_key != self.model:
            raise ValueError(f"the day was scanned for {self.model}, not {target.breakdown_key}")
        return self

    def finish(self, window: WindowSummary) -> DayScan:
        odd = dict(sorted(self.odd.items())) if window.n_records else None
        self.window = dataclasses.replace(window, odd_votes=odd)
        return self

    @property
    def agreement(self) -> metrics.Ratio:
        return metrics.Ratio(self.agree, self.spoke)

    @property
    def hard_disagreement(self) -> metrics.Ratio:
        return metrics.Ratio(self.opposed, self.spoke)

    def spread(self) -> metrics.Spread | None:
        """The confidences' spread (G2 and the report's plot), computed once."""
        if not self._spread:
            self._spread.append(metrics.confidence_spread(self.confidences))
        return self._spread[0]

    def action_distribution(self) -> dict[str, metrics.Ratio]:
        return metrics.action_shares(self.actions)

    def joined(self, outcomes: Window[Outcome] | None, join_ms: float) -> Pairs:
        """G4's pairs; only for the outcomes and join window this scan was built with."""
        if outcomes is not self.outcomes or join_ms != self.join_ms or self._join is None:
            raise ValueError("the day was scanned against other outcomes or another join window")
        return self._join.pairs()


def scan_stream(
    reader: StreamReader[Intent],
    start_ms: int,
    model: str,
    outcomes: Window[Outcome] | None = None,
    join_ms: float = 0.0,
) -> DayScan:
    """The window from `start_ms` to now, read once in batches and not kept."""
    day = DayScan(model, outcomes, join_ms)
    return day.finish(reader.summary(start_ms, day.add))


def scan_window(
    window: Window[Intent],
    model: str,
    outcomes: Window[Outcome] | None = None,
    join_ms: float = 0.0,
) -> DayScan:
    """The same figures over a Window already read (rule unit tests, small windows)."""
    day = DayScan(model, outcomes, join_ms)
    for intent in window.records:
        day.add(intent)
    return day.finish(summary_of(window))


def summary_of(window: Window) -> WindowSummary:
    """A Window's facts without its records."""
    names = [f.name for f in dataclasses.fields(WindowSummary)]
    return WindowSummary(**{name: getattr(window, name) for name in names})
