"""Read trade.intent / trade.closed entries from the engine's Redis, read-only, into Windows.

The suite runs against production Redis, so the client it gets can only send read commands
(`ReadOnlyRedis` has no other method and no pass-through). Every Redis failure becomes one
`StreamError` whose message names the URL (password removed) and the stream key, because the
operator reading it is under time pressure.

Windows come two ways (shadowgate.window says what one holds):
- `latest(n)`: the runbook's `XREVRANGE ... COUNT n` snapshot, as the newest n *records*: other
  publishers share the stream, so it reads back in batches past their entries (and past
  unreadable ones, all counted) until n are found or the stream's oldest entry is reached.
- `window(start, end)`: a time window, half-open [start_ms, end_ms), read forward in batches of
  `window.read_batch` entries so memory stays flat whatever the window holds, pipelined
  (`ReadOnlyRedis.xrange_batches`: Redis builds the next batch while this one is parsed).
Batches continue after (before) the last id by incrementing (decrementing) it rather than with
the "(" exclusive-range syntax, which Redis before 6.2 (Ubuntu 22.04 ships 6.0) rejects.
Coverage is read after the window, so entries trimmed while reading count against it, and so is
the read time (`read_at_ms`) that a record's age is measured against.

"Now" is Redis's `TIME`, never this machine's clock (ARCHITECTURE.md "The data": stream ids are
the Redis host's clock in ms, and a clock can step). An entry whose id is more than `max_future_ms`
(`window.max_future_seconds`) ahead of Redis's TIME when the read began is dated in the future:
counted and shown by the window, never one of its records, so it can neither be "the newest
intent" that hides a silent engine nor count in a window's figures. Ids only grow, so once a
forward clock step (or an explicit id) put one in the future, every later entry is there too,
and the engine shows as silent: it cannot be dated, so nothing can be proven.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict

import redis

from shadowgate.intents import Foreign, ParseError, parse_intent
from shadowgate.outcomes import parse_outcome
from shadowgate.readonly import ReadOnlyRedis, connect, previous_id
from shadowgate.redact import redact_url
from shadowgate.window import HOUR_MS, Coverage, R, Window, WindowSummary, covers, id_ms

if TYPE_CHECKING:
    from shadowgate.config import Thresholds

__all__ = [
    "HOUR_MS",
    "Coverage",
    "ReadOnlyRedis",
    "StreamError",
    "StreamMissing",
    "StreamReader",
    "Window",
    "connect",
]

Parsed = Any  # R | ParseError | Foreign: what a parser makes of one entry
READ_BATCH = 250  # entries per XRANGE call unless the reader is given another (window.read_batch)
MAX_FUTURE_MS = 120_000  # ahead of Redis TIME: dated in the future (window.max_future_seconds)
_NOUNS: dict[Callable[..., Any], str] = {parse_intent: "intent", parse_outcome: "outcome"}


class ReaderOptions(TypedDict):
    """A StreamReader's keyword arguments that the thresholds set."""

    batch: int
    max_future_ms: int


def reader_options(th: Thresholds) -> ReaderOptions:
    """A StreamReader's batch and how far ahead of Redis TIME an entry is dated in the future,
    as the thresholds say (`window.read_batch`, `window.max_future_seconds`)."""
    return {
        "batch": int(th["window.read_batch"]),
        "max_future_ms": int(th.number("window.max_future_seconds") * 1000),
    }


class StreamError(Exception):
    """Redis could not be read: the message says what, where (URL, key) and what to check."""

    def __init__(self, message: str, url: str, key: str) -> None:
        super().__init__(message)
        self.url = url
        self.key = key

    def __reduce__(self) -> tuple[type[StreamError], tuple[str, str, str]]:
        """Pickled whole, so a forked scan's failure reaches the parent as itself."""
        return type(self), (str(self), self.url, self.key)


class StreamMissing(StreamError):
    """The key does not exist: the engine never published there, or the name is wrong."""


@dataclass(frozen=True, slots=True)
class _Passed:
    """What a pass over a range saw besides its records: first and last entry, foreign
    entries, entries dated in the future (and the newest of them), and (read after the pass)
    the stream's oldest entry and the read's end time."""

    first_id: str | None
    last_id: str | None
    foreign: int
    oldest_ms: int | None
    read_at_ms: int
    future: int = 0
    future_newest_id: str | None = None

    @staticmethod
    def ms(entry_id: str | None) -> int | None:
        return None if entry_id is None else id_ms(entry_id)


class _Tally(Generic[R]):
    """Counts a pass's records and parse errors, handing each record on and keeping none."""

    def __init__(self, consume: Callable[[R], object]) -> None:
        self.consume = consume
        self.n_records = self.n_errors = 0
        self.newest_ms: int | None = None
        self.first_error: ParseError | None = None

    def record(self, result: R) -> None:
        self.n_records += 1
        self.newest_ms = result.ts_ms
        self.consume(result)

    def error(self, result: ParseError) -> None:
        self.n_errors += 1
        self.first_error = self.first_error or result


class StreamReader(Generic[R]):
    """Reads one stream through a ReadOnlyRedis and parses every entry with `parser`; time
    windows (and read-back snapshots beyond their first batch) are read `batch` entries per
    call unless a call names another batch. `clock` (ms; default Redis's TIME) is "now": it
    stamps each window's read time, and an entry more than `max_future_ms` ahead of it when a
    read begins is dated in the future (module docstring)."""

    def __init__(
        self,
        client: ReadOnlyRedis,
        key: str,
        url: str | None = None,
        # the default reads intents (R is Intent): a default cannot bind a type variable
        parser: Callable[[str, Mapping[bytes, bytes]], R | ParseError | Foreign] = parse_intent,  # type: ignore[assignment]
        batch: int = READ_BATCH,
        clock: Callable[[], int] | None = None,
        max_future_ms: int = MAX_FUTURE_MS,
    ) -> None:
        self.batch = batch
        self.clock = clock or self.redis_now_ms
        self.max_future_ms = max_future_ms
        self.client = client
        self.key = key
        self.url = redact_url(url) if url is not None else client.url
        self.parser = parser
        self.noun = _NOUNS.get(parser, "record")

    # -- Redis calls, each translated into one operator message on failure --

    def _call(self, command: Callable[..., Any], *args: Any) -> Any:
        try:
            return command(self.key, *args)
        except redis.RedisError as exc:
            raise self._error(exc) from exc

    def _error(self, exc: redis.RedisError) -> StreamError:
        where = f"cannot read stream {self.key!r} at {self.url}"
        if isinstance(exc, redis.AuthenticationError):
            if self.client.has_password:
                why = "Redis refused the password in the URL (wrong password or user)"
            else:
                why = "Redis requires a password and the URL has none (redis://:PASSWORD@host)"
        elif isinstance(exc, redis.TimeoutError):
            if "connect" in str(exc).lower():
                why = f"Redis did not accept a connection within {self.client.connect_timeout} s"
                why += " (host down, firewall, or wrong address?)"
            else:
                why = f"Redis did not answer within {self.client.read_timeout} s"
                why += " (server slow, blocked or overloaded)"
        elif isinstance(exc, redis.ConnectionError):
            if "refused" in str(exc).lower():
                why = "connection refused: nothing listens there (is Redis running? right port?)"
            else:
                why = f"cannot connect: {exc}"
        elif isinstance(exc, redis.exceptions.NoPermissionError):
            why = f"the Redis user may not read this key: {exc}"
        else:
            why = f"Redis answered with an error: {type(exc).__name__}: {exc}"
        return StreamError(f"{where}: {why}", self.url, self.key)

    def _check_stream(self) -> None:
        kind = self._call(self.client.type)
        if kind == "none":
            raise StreamMissing(
                f"stream {self.key!r} does not exist at {self.url}: the engine has not "
                "published there, or the key name is wrong",
                self.url,
                self.key,
            )
        if kind != "stream":
            raise StreamError(
                f"key {self.key!r} at {self.url} is a {kind}, not a stream: wrong key name?",
                self.url,
                self.key,
            )

    def redis_now_ms(self) -> int:
        """Redis's TIME in ms: "now" for every window (ARCHITECTURE.md "The data")."""
        try:
            return self.client.time_ms()
        except redis.RedisError as exc:
            raise self._error(exc) from exc

    def _cutoff(self) -> int:
        """The latest entry time a read beginning now counts; later ones are in the future."""
        return self.clock() + self.max_future_ms

    def oldest_ms(self) -> int | None:
        """Millisecond time of the stream's oldest entry; None when it holds none."""
        first = self._call(self.client.xrange, "-", "+", 1)
        return id_ms(first[0][0].decode()) if first else None

    def newest_ms(self) -> int | None:
        """Millisecond time of the stream's newest entry; None when it holds none."""
        last = self._call(self.client.xrevrange, "+", "-", 1)
        return id_ms(last[0][0].decode()) if last else None

    def length(self) -> int:
        """Entries the stream holds (XLEN), all publishers' and any age."""
        self._check_stream()
        return self._call(self.client.xlen)

    # -- windows --

    def _pass(
        self,
        results: Iterable[Parsed],
        record: Callable[[R], object],
        error: Callable[[ParseError], object],
        cutoff_ms: int,
    ) -> _Passed:
        """One pass over parsed entries (in id order): records and parse errors to their
        callbacks, foreign entries and those dated after `cutoff_ms` counted; the cyclic GC is
        off meanwhile (the pass allocates much and frees by reference counting: collections
        would find nothing to free)."""
        first_id = last_id = future_id = None
        foreign = future = 0
        collecting = gc.isenabled()
        gc.disable()
        try:
            for result in results:
                if id_ms(result.entry_id) > cutoff_ms:
                    future += 1
                    future_id = result.entry_id
                    continue
                if first_id is None:
                    first_id = result.entry_id
                last_id = result.entry_id
                if isinstance(result, ParseError):
                    error(result)
                elif isinstance(result, Foreign):
                    foreign += 1
                else:
                    record(result)
        finally:
            if collecting:
                gc.enable()
        oldest = self.oldest_ms()  # after reading: trimming during the read counts against it
        return _Passed(first_id, last_id, foreign, oldest, self.clock(), future, future_id)

    def _window(
        self,
        results: Iterable[Parsed],
        cutoff_ms: int,
        start_ms: int | None = None,
        end_ms: int | None = None,
        count: int | None = None,
        reached_end: bool | None = None,
    ) -> Window[R]:
        records: list[R] = []
        errors: list[ParseError] = []
        passed = self._pass(results, records.append, errors.append, cutoff_ms)
        return Window(
            key=self.key,
            records=tuple(records),
            errors=tuple(errors),
            foreign=passed.foreign,
            first_id=passed.first_id,
            last_id=passed.last_id,
            first_ms=passed.ms(passed.first_id),
            last_ms=passed.ms(passed.last_id),
            start_ms=start_ms,
            end_ms=end_ms,
            requested_count=count,
            covered=None if start_ms is None else covers(passed.oldest_ms, start_ms),
            oldest_ms=passed.oldest_ms,
            noun=self.noun,
            read_at_ms=passed.read_at_ms,
            reached_end=reached_end,
            future=passed.future,
            future_newest_id=passed.future_newest_id,
        )

    def summary(
        self, start_ms: int, record: Callable[[R], object], end_ms: int | None = None
    ) -> WindowSummary:
        """Every entry in [start_ms, end_ms) read once: each record given to `record` and not
        kept, so memory stays flat however long the window (the day's checks, `dayscan`)."""
        tally = _Tally(record)
        cutoff = self._cutoff()
        passed = self._pass(self.iter_range(start_ms, end_ms), tally.record, tally.error, cutoff)
        return WindowSummary(
            key=self.key,
            noun=self.noun,
            n_records=tally.n_records,
            n_errors=tally.n_errors,
            first_error=tally.first_error,
            foreign=passed.foreign,
            first_id=passed.first_id,
            last_id=passed.last_id,
            first_ms=passed.ms(passed.first_id),
            last_ms=passed.ms(passed.last_id),
            newest_ms=tally.newest_ms,
            start_ms=start_ms,
            end_ms=end_ms,
            covered=covers(passed.oldest_ms, start_ms),
            oldest_ms=passed.oldest_ms,
            read_at_ms=passed.read_at_ms,
            future=passed.future,
            future_newest_id=passed.future_newest_id,
        )

    def latest(self, count: int) -> Window[R]:
        """The `count` newest records in chronological order (the runbook's XREVRANGE), read
        back past foreign, unreadable and future-dated entries (counted) until found or the
        stream's start.

        The first call asks for `count` entries (the runbook's own read when the stream is the
        engine's alone); further calls ask for the reader's batch."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        self._check_stream()
        cutoff = self._cutoff()
        passed: list[Parsed] = []  # newest first
        found, hi, size = 0, "+", count
        while True:
            entries = self._call(self.client.xrevrange, hi, "-", size)
            for entry_id, fields in entries:
                passed.append(result := self.parser(entry_id.decode(), fields))
                own = not isinstance(result, ParseError | Foreign)
                found += own and id_ms(result.entry_id) <= cutoff
                if found == count:
                    return self._window(reversed(passed), cutoff, count=count, reached_end=False)
            if len(entries) < size:
                return self._window(reversed(passed), cutoff, count=count, reached_end=True)
            hi, size = previous_id(entries[-1][0].decode()), self.batch

    def iter_range(
        self, start_ms: int, end_ms: int | None = None, batch: int | None = None
    ) -> Iterator[Parsed]:
        """Parse every entry with start_ms <= time < end_ms, `batch` (or the reader's) at a time.

        Arguments and the key are checked now; entries are read as the iterator is consumed.
        """
        batch = self.batch if batch is None else batch
        if start_ms < 0 or batch < 1:
            raise ValueError(f"need start_ms >= 0 and batch >= 1, got {start_ms}, {batch}")
        self._check_stream()
        if end_ms is not None and end_ms <= start_ms:
            return iter(())
        return self._forward(f"{start_ms}-0", "+" if end_ms is None else str(end_ms - 1), batch)

    def _forward(self, lo: str, hi: str, batch: int) -> Iterator[Parsed]:
        batches = self.client.xrange_batches(self.key, lo, hi, batch)
        while True:
            try:
                entries = next(batches, None)
            except redis.RedisError as exc:
                raise self._error(exc) from exc
            if entries is None:
                return
            for entry_id, fields in entries:
                yield self.parser(entry_id.decode(), fields)

    def window(
        self, start_ms: int, end_ms: int | None = None, batch: int | None = None
    ) -> Window[R]:
        """All entries in [start_ms, end_ms), and whether the stream still reaches start_ms."""
        cutoff = self._cutoff()
        return self._window(self.iter_range(start_ms, end_ms, batch), cutoff, start_ms, end_ms)

    def coverage(self, start_ms: int) -> Coverage:
        """Whether the stream's oldest entry is at or before start_ms (window fully held)."""
        self._check_stream()
        oldest = self.oldest_ms()
        return Coverage(self.key, start_ms, oldest, covers(oldest, start_ms))
