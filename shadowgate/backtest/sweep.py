"""The sliding evaluation: at each position (one every `step` minutes) a monitoring run as if
T+0 had been `since` minutes before it, judged on what the history held up to the position.

Incremental: one pass over the history. An intent enters the window since T+0 when the
position reaches it and leaves when T+0 passes it, each time updating running counts (and a
sorted list of confidences), so a week's 2,000 positions cost one fold of its entries, not
2,000 windows re-measured. What the rules read of a bounded tail (S3/S4's latest 100, S2's
last three slices) is read from the window's end; S5's baseline (the 24 h before T+0) is
summed the same way and its rule is called on the outcomes since T+0.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from shadowgate.backtest.history import History, Seen
from shadowgate.backtest.judge import BACKTESTED, Figures, Judged, judged
from shadowgate.checks import catalog, stops
from shadowgate.config import Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.intents import ParseError
from shadowgate.metrics import Ratio
from shadowgate.outcomes import Outcome
from shadowgate.verdict import Status
from shadowgate.window import HOUR_MS, MINUTE_MS, Window, WindowSummary, covers

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Plan:
    """Where the windows sit: T+0 `since_minutes` before each position (120: the end of the
    window_2h phase, where every M and S rule runs), a position every `step_minutes`, the
    first T+0 not before `first_t0_ms`."""

    since_minutes: int = 120
    step_minutes: int = 5
    first_t0_ms: int | None = None  # no T+0 before this (e.g. the real activation's)

    def __post_init__(self) -> None:
        if self.since_minutes < 1 or self.step_minutes < 1:
            raise ValueError(
                f"the window since T+0 and the step must be >= 1 min, got "
                f"{self.since_minutes} and {self.step_minutes}"
            )

    def positions(self, history: History) -> range:
        """Whole minutes from the first at which the window since T+0 lies inside the
        history (and T+0 is not before `first_t0_ms`), to its end (the last capture's read)."""
        if history.intents_oldest_ms is None or history.end_ms is None:
            return range(0)
        first_t0 = max(history.intents_oldest_ms, self.first_t0_ms or 0)
        first = math.ceil((first_t0 + self.since_minutes * MINUTE_MS) / MINUTE_MS) * MINUTE_MS
        return range(first, history.end_ms + 1, self.step_minutes * MINUTE_MS)

    def moments(self, history: History) -> Iterator[tuple[Anchor, int]]:
        """(T+0, position) of every position: T+0 on a whole minute, so its ms are exact."""
        source = f"backtest: placed {self.since_minutes} min before the position"
        for at_ms in self.positions(history):
            t0 = EPOCH + timedelta(milliseconds=at_ms - self.since_minutes * MINUTE_MS)
            yield Anchor(t0, source), at_ms


@dataclass(frozen=True, slots=True)
class Row:
    """One check at one position under one threshold setting."""

    at_ms: int
    setting: str
    check: str
    judged: Judged


class _Since:
    """The engine's entries since T+0 up to the position, with the rules' counts kept running."""

    def __init__(self, seen: Sequence[Seen], key: str, oldest_ms: int | None) -> None:
        self._seen, self._next = seen, 0
        self._key, self._oldest = key, oldest_ms
        self.window: deque[Seen] = deque()
        self.records = self.errors = self.full = self.low = self.voted = self.agree = 0
        self.hard = 0
        self.confidences: list[float] = []  # sorted

    def _count(self, s: Seen, sign: int) -> None:
        if s.error:
            self.errors += sign
            return
        self.records += sign
        self.full += sign * s.full
        self.low += sign * s.low
        self.voted += sign * s.voted
        self.agree += sign * s.agree
        self.hard += sign * s.hard
        if s.confidence is not None:
            if sign > 0:
                bisect.insort(self.confidences, s.confidence)
            else:
                del self.confidences[bisect.bisect_left(self.confidences, s.confidence)]

    def advance(self, t0_ms: int, at_ms: int) -> None:
        while self._next < len(self._seen) and self._seen[self._next].ts_ms <= at_ms:
            s = self._seen[self._next]
            self._next += 1
            if s.ts_ms >= t0_ms:
                self.window.append(s)
                self._count(s, 1)
        while self.window and self.window[0].ts_ms < t0_ms:
            self._count(self.window.popleft(), -1)

    def _newest_ms(self) -> int | None:
        return next((s.ts_ms for s in reversed(self.window) if not s.error), None)

    def summary(self, t0_ms: int, at_ms: int) -> WindowSummary:
        """The window as the guard reads a since-T+0 read (no foreign or future entries: a
        history holds none the guard would count)."""
        return WindowSummary(
            key=self._key, noun="intent", n_records=self.records, n_errors=self.errors,
            first_error=None, foreign=0, first_id=None, last_id=None, first_ms=None,
            last_ms=None, newest_ms=self._newest_ms(), start_ms=t0_ms, end_ms=None,
            covered=covers(self._oldest, t0_ms), oldest_ms=self._oldest, read_at_ms=at_ms,
        )  # fmt: skip

    def latest(self, count: int) -> list[Seen]:
        """The latest `count` intents (the rule's `records[-count:]`: 0 or less reads back
        further, as that slice does)."""
        records = (s for s in reversed(self.window) if not s.error)
        if count > 0:
            return [s for _, s in zip(range(count), records, strict=False)][::-1]
        return list(records)[::-1][-count:]

    def slices(self, at_ms: int, count: int, slice_ms: float) -> list[Ratio]:
        """Full consensus per slice ending at the position, oldest first (`metrics.time_slices`)."""
        hits, totals = [0] * count, [0] * count
        for s in reversed(self.window):
            k = int((at_ms - s.ts_ms) // slice_ms)
            if k >= count:
                break
            if not s.error:
                totals[count - 1 - k] += 1
                hits[count - 1 - k] += s.full
        return [Ratio(h, t) for h, t in zip(hits, totals, strict=True)]


class _Outcomes:
    """The outcomes since T+0 (a Window, as S5 reads it) and the 24 h before T+0 as running sums
    (the baseline a preactivation run would have measured just before T+0)."""

    def __init__(self, history: History) -> None:
        self._all = history.outcomes
        self._ts = [o.ts_ms for o in self._all]
        self._errors = history.outcome_errors
        self._error_ts = [int(e.entry_id.partition("-")[0]) for e in self._errors]
        self._oldest, self._key = history.outcomes_oldest_ms, history.outcomes_stream
        self.exists = history.outcomes_oldest_ms is not None
        self._before = self._after = self._end = 0  # indices: baseline start, T+0, position
        self._wins = self._losses = 0
        self._loss_sum = Fraction(0)

    def _count(self, o: Outcome, sign: int) -> None:
        self._wins += sign * (o.pnl_percent > 0)
        if o.pnl_percent < 0:
            self._losses += sign
            self._loss_sum += sign * Fraction(-o.pnl_percent)

    def advance(self, start_ms: int, t0_ms: int, at_ms: int) -> None:
        ts = self._ts
        while self._end < len(ts) and ts[self._end] <= at_ms:
            self._end += 1
        while self._after < self._end and ts[self._after] < t0_ms:
            self._count(self._all[self._after], 1)
            self._after += 1
        while self._before < self._after and ts[self._before] < start_ms:
            self._count(self._all[self._before], -1)
            self._before += 1

    def _errors_in(self, lo_ms: int, hi_ms: int) -> tuple[ParseError, ...]:
        """The unreadable outcomes in [lo_ms, hi_ms)."""
        lo, hi = (
            bisect.bisect_left(self._error_ts, lo_ms),
            bisect.bisect_left(self._error_ts, hi_ms),
        )
        return self._errors[lo:hi]

    def baseline(self, start_ms: int, t0_ms: int) -> stops.PnlBaseline:
        mean_loss = float(self._loss_sum / self._losses) if self._losses else None
        return stops.PnlBaseline(
            start_ms, t0_ms, covers(self._oldest, start_ms), self._after - self._before,
            self._wins, self._losses, mean_loss, len(self._errors_in(start_ms, t0_ms)), "backtest",
        )  # fmt: skip

    def since(self, t0_ms: int, at_ms: int) -> Window[Outcome] | None:
        if not self.exists:
            return None
        records = self._all[self._after : self._end]
        first, last = records[:1], records[-1:]
        return Window(
            key=self._key, records=records, errors=self._errors_in(t0_ms, at_ms + 1), foreign=0,
            first_id=first[0].entry_id if first else None,
            last_id=last[0].entry_id if last else None,
            first_ms=first[0].ts_ms if first else None,
            last_ms=last[0].ts_ms if last else None, start_ms=t0_ms,
            end_ms=None, requested_count=None, covered=covers(self._oldest, t0_ms),
            oldest_ms=self._oldest, noun="outcome", read_at_ms=at_ms,
        )  # fmt: skip


def _figures(since: _Since, model: str, t0_ms: int, at_ms: int, th: Thresholds) -> Figures:
    latest = since.latest(catalog.get("S3").limits(th).integer("window.snapshot_count"))
    voted = [s for s in latest if s.voted]
    s2 = catalog.get("S2").limits(th)
    slice_ms = stops.s2_slice_ms(s2)
    return Figures(
        since=since.summary(t0_ms, at_ms),
        model=model,
        full=Ratio(since.full, since.records),
        low=Ratio(since.low, since.records),
        agree=Ratio(since.agree, since.voted),
        hard=Ratio(since.hard, since.voted),
        confidences=since.confidences,
        latest_hard=Ratio(sum(s.hard for s in voted), len(voted)),
        latest_confidences=sorted(s.confidence for s in latest if s.confidence is not None),
        slices=since.slices(at_ms, s2.integer("stop.s2_slices"), slice_ms),
    )


def sweep(
    history: History, th: Thresholds, setting: str, moments: Iterable[tuple[Anchor, int]]
) -> Iterator[Row]:
    """Every backtested check at every (T+0, position) of `moments` (both never decreasing)
    under thresholds `th`."""
    since = _Since(history.intents, history.stream, history.intents_oldest_ms)
    outcomes = _Outcomes(history)
    before_ms = int(catalog.get("S5").limits(th).number("stop.s5_before_hours") * HOUR_MS)
    for t0, at_ms in moments:
        t0_ms = t0.ms
        since.advance(t0_ms, at_ms)
        outcomes.advance(t0_ms - before_ms, t0_ms, at_ms)
        fig = _figures(since, history.model, t0_ms, at_ms, th)
        for check in BACKTESTED:
            if check == "S5":
                baseline = outcomes.baseline(t0_ms - before_ms, t0_ms)
                verdict = stops.s5_pnl_degradation(
                    outcomes.since(t0_ms, at_ms), baseline, t0, at_ms, th
                )
                value = verdict.value if isinstance(verdict.value, float) else None
                said = Judged(Status(verdict.status), value, verdict.sample or 0)
            else:
                said = judged(check, fig, th)
            yield Row(at_ms, setting, check, said)


@dataclass(frozen=True)
class Setting:
    """One threshold setting tried: a label ("shipped", "stop.s4_min_p10_p90=0.02") and the
    thresholds it stands for."""

    label: str
    thresholds: Thresholds


@dataclass(frozen=True)
class Result:
    """A backtest: the history, where its windows sat, the settings tried, every row."""

    history: History
    plan: Plan
    settings: tuple[Setting, ...]
    rows: tuple[Row, ...]

    def rows_of(self, setting: str, check: str) -> list[Row]:
        return [r for r in self.rows if r.setting == setting and r.check == check]


def run(history: History, settings: Sequence[Setting], plan: Plan) -> Result:
    """Every setting swept over `history` (one fold each: thresholds move slice and snapshot
    sizes, so folds are not shared)."""
    rows = [
        row
        for s in settings
        for row in sweep(history, s.thresholds, s.label, plan.moments(history))
    ]
    return Result(history, plan, tuple(settings), tuple(rows))
