"""What one read of a stream returned (Window), whether a time window is still held (Coverage),
and the words both use in assertion messages.

The engine caps its stream at about 10,000 entries, so a time window may reach further back
than the stream does: `Window.covered` says whether it did, and `describe()` says so in words
instead of letting "zero events found" pass for a clean result. A count window (the runbook's
`COUNT 100` snapshot) says whether it found all it asked for or reached the stream's start.
Every window records when it was read (`read_at_ms`, Redis's TIME), so a check can state how
old the newest record was: stale data must never pass for a clean result either. Entries dated
in the future (shadowgate.stream) are no part of a window: it counts them and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from shadowgate.intents import Intent, ParseError
from shadowgate.votes import odd_confidences

ENGINE_CAP = 10_000  # entries the engine keeps (XADD MAXLEN ~), quoted in coverage messages
HOUR_MS = 3_600_000  # stream ids are milliseconds: every "last N hours" window counts in these
MINUTE_MS = 60_000


class Timed(Protocol):
    """A record of a stream entry (Intent, Outcome): its id and the time Redis accepted it."""

    @property
    def entry_id(self) -> str: ...
    @property
    def ts_ms(self) -> int: ...


R = TypeVar("R", bound=Timed)


def utc(ms: int | None, date: bool = True) -> str:
    """A stream time as the operator reads it: 2026-11-26 06:30:00Z (or 06:30:00Z)."""
    if ms is None:
        return "?"
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ" if date else "%H:%M:%SZ")


def span(ms: int) -> str:
    """A duration as the runbook says it: 24 h, 30 min, 1 h 30 min, 45 s."""
    seconds = round(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    parts.append(f"{secs} s" if secs or not (hours or minutes) else "")
    return " ".join(p for p in parts if p)


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _coverage_text(start_ms: int, end_ms: int | None, covered: bool, oldest_ms: int | None) -> str:
    if end_ms is None:
        window = f"window since {utc(start_ms)}"
    else:
        window = f"{span(end_ms - start_ms)} window from {utc(start_ms)}"
    if covered:
        return f"{window} covered (oldest entry {utc(oldest_ms)})"
    if oldest_ms is None:
        return f"{window} NOT covered (the stream holds no entries)"
    return (
        f"{window} NOT covered (oldest entry {utc(oldest_ms)}: the stream, capped by the engine "
        f"at about {ENGINE_CAP:,} entries, does not reach back that far; earlier events cannot "
        "be counted)"
    )


class Described:
    """What a read says about itself, from counts alone: shared by a Window (which holds its
    records) and a WindowSummary (a one-pass scan that keeps none), so every check's message
    reads the same whichever it was measured over. Subclasses provide the attributes."""

    __slots__ = ()
    key: str
    noun: str
    foreign: int
    first_id: str | None
    last_id: str | None
    first_ms: int | None
    last_ms: int | None
    start_ms: int | None
    end_ms: int | None
    requested_count: int | None
    covered: bool | None
    oldest_ms: int | None
    read_at_ms: int | None
    reached_end: bool | None
    future: int  # entries dated in the future (any publisher's): not records, errors nor foreign
    future_newest_id: str | None
    if TYPE_CHECKING:  # read-only here: a Window computes them, a WindowSummary stores them

        @property
        def n_records(self) -> int: ...
        @property
        def n_errors(self) -> int: ...
        @property
        def newest_ms(self) -> int | None: ...
        @property
        def first_error(self) -> ParseError | None: ...
        @property  # intent reads: votes with a confidence outside 0..1
        def odd_votes(self) -> dict[str, int] | None: ...

    @property
    def entries(self) -> int:
        """Entries read: records + parse errors + foreign."""
        return self.n_records + self.n_errors + self.foreign

    @property
    def owned(self) -> int:
        """Entries that were ours to read (records + parse errors): the unreadable share's base."""
        return self.n_records + self.n_errors

    @property
    def age_ms(self) -> int | None:
        """How old the newest record was when the read ended; None if unknown."""
        if self.newest_ms is None or self.read_at_ms is None:
            return None
        return max(0, self.read_at_ms - self.newest_ms)

    def in_the_future(self) -> str:
        """The entries dated in the future, in words ("" when none): how many, and how far the
        newest is ahead of Redis's TIME at the read."""
        if not self.future or self.future_newest_id is None:
            return ""
        newest = self.future_newest_id
        ahead = (
            ""
            if self.read_at_ms is None
            else f" is {(id_ms(newest) - self.read_at_ms) / 1000:,.0f} s ahead of Redis TIME"
        )
        return (
            f"{plural(self.future, 'entry', 'entries')} dated in the future, newest ID "
            f"{newest}{ahead} (not counted: a clock step or a hand-made id)"
        )

    def freshness(self) -> str:
        """The age of the newest record in words, for every stream check's message."""
        if self.newest_ms is None:
            return f"no {self.noun} read"
        age = "age unknown" if self.age_ms is None else f"{span(self.age_ms)} old"
        return f"newest {self.noun} {utc(self.newest_ms)} ({age} at read time)"

    def _requested(self) -> str:
        if self.requested_count is None:
            assert self.start_ms is not None and self.covered is not None  # a time window
            return _coverage_text(self.start_ms, self.end_ms, self.covered, self.oldest_ms)
        text = f"latest {plural(self.requested_count, self.noun)} requested"
        if self.n_records < self.requested_count:
            text += f", only {self.n_records} found"
            if self.reached_end:
                text += f" back to the stream's oldest entry ({utc(self.oldest_ms)})"
        return text

    def describe(self) -> str:
        """One line for assertion messages: what was read, counts, and window coverage."""
        future = f"; {self.in_the_future()}" if self.future else ""
        if self.first_id is None:
            return f"{self.key}: empty, no entries read; {self._requested()}{future}"
        same_day = utc(self.first_ms)[:10] == utc(self.last_ms)[:10]
        counts = ", ".join(
            (
                plural(self.n_records, self.noun),
                plural(self.n_errors, "parse error"),
                plural(self.foreign, "foreign entry", "foreign entries") + " skipped",
            )
        )
        return (
            f"{self.key} entries {self.first_id} ({utc(self.first_ms)}) .. {self.last_id} "
            f"({utc(self.last_ms, date=not same_day)}): {counts}; {self._requested()}{future}"
        )


@dataclass(frozen=True, slots=True)
class Window(Described, Generic[R]):
    """What one read returned: records (chronological), parse errors, foreign entries passed,
    and the span.

    Count windows (`latest`) have start/end None and `covered` None, and say in `reached_end`
    whether the stream's oldest entry came before `requested_count` records were found; time
    windows have `requested_count` and `reached_end` None. first/last are the first and last
    entry read, whatever it parsed to.
    """

    key: str
    records: tuple[R, ...]
    errors: tuple[ParseError, ...]
    foreign: int
    first_id: str | None
    last_id: str | None
    first_ms: int | None
    last_ms: int | None
    start_ms: int | None
    end_ms: int | None  # exclusive; None: up to the newest entry
    requested_count: int | None
    covered: bool | None  # the stream's oldest entry is at or before start_ms
    oldest_ms: int | None  # the stream's oldest entry, read after the window (None: empty)
    noun: str = "record"  # what a record is, for describe(): intent, outcome
    read_at_ms: int | None = field(default=None, compare=False)  # Redis TIME, read's end
    reached_end: bool | None = None  # count windows: read back to the stream's oldest entry
    future: int = 0  # entries dated in the future: not among the records, errors or foreign
    future_newest_id: str | None = None

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[R]:
        return iter(self.records)

    @property
    def n_records(self) -> int:
        return len(self.records)

    @property
    def n_errors(self) -> int:
        return len(self.errors)

    @property
    def first_error(self) -> ParseError | None:
        return self.errors[0] if self.errors else None

    @property
    def newest_ms(self) -> int | None:
        """Time of the newest record; None without records."""
        return self.records[-1].ts_ms if self.records else None

    @property
    def odd_votes(self) -> dict[str, int] | None:
        intents = [r for r in self.records if isinstance(r, Intent)]
        return odd_confidences(intents) if intents else None


@dataclass(frozen=True, slots=True)
class WindowSummary(Described):
    """A time window read in one pass and not kept: the same facts as a Window's, as counts
    (a day of 1,000,000 intents would otherwise be held as objects)."""

    key: str
    noun: str
    n_records: int
    n_errors: int
    first_error: ParseError | None
    foreign: int
    first_id: str | None
    last_id: str | None
    first_ms: int | None
    last_ms: int | None
    newest_ms: int | None
    start_ms: int | None
    end_ms: int | None
    covered: bool | None
    oldest_ms: int | None
    read_at_ms: int | None = field(default=None, compare=False)
    odd_votes: dict[str, int] | None = None
    requested_count: int | None = None
    reached_end: bool | None = None
    future: int = 0
    future_newest_id: str | None = None

    def then(self, later: WindowSummary, oldest_ms: int | None, read_at_ms: int) -> WindowSummary:
        """This window read on by `later`, which starts where this one ends, as one pass
        would have summed it up; coverage is the stream's oldest entry read after both."""
        return WindowSummary(
            key=self.key,
            noun=self.noun,
            n_records=self.n_records + later.n_records,
            n_errors=self.n_errors + later.n_errors,
            first_error=self.first_error or later.first_error,
            foreign=self.foreign + later.foreign,
            first_id=self.first_id if self.first_id is not None else later.first_id,
            last_id=later.last_id if later.last_id is not None else self.last_id,
            first_ms=self.first_ms if self.first_id is not None else later.first_ms,
            last_ms=later.last_ms if later.last_id is not None else self.last_ms,
            newest_ms=later.newest_ms if later.newest_ms is not None else self.newest_ms,
            start_ms=self.start_ms,
            end_ms=later.end_ms,
            covered=None if self.start_ms is None else covers(oldest_ms, self.start_ms),
            oldest_ms=oldest_ms,
            read_at_ms=read_at_ms,
            future=self.future + later.future,
            future_newest_id=later.future_newest_id or self.future_newest_id,
        )


@dataclass(frozen=True, slots=True)
class Coverage:
    """Whether the stream still holds everything from start_ms on (see module docstring)."""

    key: str
    start_ms: int
    oldest_ms: int | None
    covered: bool

    def __bool__(self) -> bool:
        return self.covered

    def describe(self) -> str:
        return _coverage_text(self.start_ms, None, self.covered, self.oldest_ms)


def id_ms(entry_id: str) -> int:
    """The millisecond part of a stream entry id: when Redis (its clock) accepted it."""
    return int(entry_id.partition("-")[0])


def covers(oldest_ms: int | None, start_ms: int) -> bool:
    """A window from start_ms is held when the stream's oldest entry is at or before it."""
    return oldest_ms is not None and oldest_ms <= start_ms
