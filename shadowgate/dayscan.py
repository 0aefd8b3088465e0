"""The precondition window's checks (P3, P5, G1-G4) and the report's confidence plot, measured
in one pass of accumulators instead of over a list of intents: a day of 1,000,000 intents then
costs one read batch plus what the checks keep (the model's BUY/SELL confidences, 8 bytes each,
and one candidate intent per gap between outcomes for G4's join).

The live run scans the stream (`scan_stream`); rule unit tests scan a hand-made Window
(`scan_window`); both feed the same `DayScan.add`, so there is one path from intents to
figures, and the per-intent questions are `votes`' and `metrics`' own.

A long stream (`window.split_scan_entries`) is scanned in two halves at once, the later half by
a forked process (`shadowgate.forked`), and the halves' accumulators are joined
(`DayScan.absorb`): every figure is a sum, a count, a first or a latest, so the join gives what
one pass gives (tests/integration/test_dayscan_split.py holds them equal)."""

from __future__ import annotations

import dataclasses
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shadowgate import forked, metrics, trades, votes
from shadowgate.intents import Intent, ModelVote
from shadowgate.outcomes import Outcome
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
    _join: trades.OutcomeJoin[ModelVote | None] | None = None
    _spread: list[metrics.Spread | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.outcomes is not None:
            self._join = trades.OutcomeJoin(self.outcomes.records, self.join_ms)

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
            form = votes.failure_form(intent, model)
            assert form is not None, "failure_form names every missing or failed vote"
            self.failures[form] += 1
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
            self._join.offer(intent, trades.directional(intent, model))

    def absorb(self, later: DayScan) -> None:
        """Take in `later`'s figures: a scan for the same model, outcomes and join window of
        the part of the window that follows this scan's, as if one pass had read both."""
        if (later.model, later.join_ms, later._join is None) != (
            self.model,
            self.join_ms,
            self._join is None,
        ):
            raise ValueError("the scans to join measured other models, outcomes or join windows")
        self.beyond_others = self.beyond_others.then(later.beyond_others)
        self.failures.update(later.failures)
        if later.newest_vote is not None:
            self.newest_vote = later.newest_vote
        self.actions.update(later.actions)
        self.confidences.extend(later.confidences)
        self.spoke += later.spoke
        self.agree += later.agree
        self.opposed += later.opposed
        self.odd.update(later.odd)
        if self._join is not None and later._join is not None:
            self._join.absorb(later._join)

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
    split_entries: int = 0,
) -> DayScan:
    """The window from `start_ms` to now, read once in batches and not kept; when the stream
    holds at least `split_entries` entries (0: never), in two halves by two processes."""
    day = DayScan(model, outcomes, join_ms)
    middle = _middle(reader, start_ms, split_entries)
    if middle is None:
        return day.finish(reader.summary(start_ms, day.add))
    second = forked.Forked(
        lambda: scan_stream(reader, middle, model, outcomes, join_ms),
        "the process scanning the second half of the window",
    )
    try:
        first = reader.summary(start_ms, day.add, middle)
        later = second.result()
    except forked.ForkedError as exc:
        hint = "--set window.split_scan_entries=0 scans in one process"
        raise forked.ForkedError(f"{exc} ({hint})") from None
    finally:
        second.close()
    assert later.window is not None  # finished by scan_stream
    day.absorb(later)
    return day.finish(first.then(later.window, reader.oldest_ms(), reader.clock()))


def _middle(reader: StreamReader[Intent], start_ms: int, split_entries: int) -> int | None:
    """Where to split the window's scan: halfway in time between its first and the stream's
    newest entry (or now, Redis's TIME, when that entry is dated in the future); None when the
    stream is too short to gain, or this process (or its Redis client) may not fork."""
    if split_entries < 1 or not forked.can_fork() or not reader.client.forkable:
        return None
    if reader.length() < split_entries:
        return None
    oldest, newest = reader.oldest_ms(), reader.newest_ms()
    if oldest is None or newest is None:
        return None
    newest = min(newest, reader.clock())
    first = max(start_ms, oldest)
    return (first + newest + 1) // 2 if newest > first else None


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
