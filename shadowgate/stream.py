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
  `window.read_batch` entries so memory stays flat whatever the window holds.
Batches continue after (before) the last id by incrementing (decrementing) it rather than with
the "(" exclusive-range syntax, which Redis before 6.2 (Ubuntu 22.04 ships 6.0) rejects.
Coverage is read after the window, so entries trimmed while reading count against it, and so is
the read time (`read_at_ms`, this machine's clock) that a record's age is measured against.
"""

from __future__ import annotations

import gc
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shadowgate.intents import Foreign, ParseError, parse_intent, parse_outcome
from shadowgate.redact import password_of, redact_url
from shadowgate.window import HOUR_MS, Coverage, R, Window, WindowSummary, covers

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

Entry = tuple[bytes, dict[bytes, bytes]]
Parsed = Any  # R | ParseError | Foreign: what a parser makes of one entry
READ_BATCH = 1000  # entries per XRANGE call unless the reader is given another batch
_MAX_SEQ = 2**64 - 1
_NOUNS: dict[Callable[..., Any], str] = {parse_intent: "intent", parse_outcome: "outcome"}


class StreamError(Exception):
    """Redis could not be read: the message says what, where (URL, key) and what to check."""

    def __init__(self, message: str, url: str, key: str) -> None:
        super().__init__(message)
        self.url = url
        self.key = key


class StreamMissing(StreamError):
    """The key does not exist: the engine never published there, or the name is wrong."""


class ReadOnlyRedis:
    """A Redis client that can only read: ping, type, xlen, xrange, xrevrange.

    Wraps a `redis.Redis` and delegates nothing else, so no write can be sent through it.
    """

    __slots__ = ("_client", "connect_timeout", "has_password", "read_timeout", "url")

    def __init__(
        self,
        client: redis.Redis,
        url: str,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self._client = client
        self.url = redact_url(url)
        self.has_password = password_of(url) is not None
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    def ping(self) -> bool:
        return bool(self._client.ping())

    def type(self, key: str) -> str:
        kind = self._client.type(key)
        return kind.decode() if isinstance(kind, bytes) else kind

    def xlen(self, key: str) -> int:
        return self._client.xlen(key)

    def xrange(self, key: str, start: str, end: str, count: int) -> list[Entry]:
        return self._client.xrange(key, min=start, max=end, count=count)

    def xrevrange(self, key: str, end: str, start: str, count: int) -> list[Entry]:
        return self._client.xrevrange(key, max=end, min=start, count=count)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ReadOnlyRedis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _ReplyClock:
    """A connection's socket whose reads share one deadline per reply. redis-py's socket
    timeout bounds each recv alone, so a Redis sending a byte every few seconds would hold a
    check until pytest-timeout killed it, with a stack dump that never names Redis."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.deadline: float | None = None  # time.monotonic() by which the reply must be in

    def recv(self, *args: Any) -> bytes:
        return self._bounded(self._sock.recv, *args)

    def recv_into(self, *args: Any) -> int:
        return self._bounded(self._sock.recv_into, *args)

    def _bounded(self, read: Callable[..., Any], *args: Any) -> Any:
        if self.deadline is None:
            return read(*args)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("reply deadline passed")  # socket.timeout: redis-py's TimeoutError
        before = self._sock.gettimeout()
        if before is not None and before <= left:
            return read(*args)
        self._sock.settimeout(left)
        try:
            return read(*args)
        finally:
            self._sock.settimeout(before)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _WholeReplyTimeout:
    """Mixin for redis-py's connection classes: `socket_timeout` bounds a whole reply."""

    socket_timeout: float | None
    _sock: Any

    def _connect(self) -> _ReplyClock:
        return _ReplyClock(super()._connect())  # type: ignore[misc]

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        clock = self._sock if isinstance(self._sock, _ReplyClock) else None
        if clock is not None and self.socket_timeout:
            clock.deadline = time.monotonic() + self.socket_timeout
        try:
            return super().read_response(*args, **kwargs)  # type: ignore[misc]
        finally:
            if clock is not None:
                clock.deadline = None


class _TcpConnection(_WholeReplyTimeout, redis.Connection):
    pass


class _SslConnection(_WholeReplyTimeout, redis.SSLConnection):
    pass


class _UnixConnection(_WholeReplyTimeout, redis.UnixDomainSocketConnection):
    pass


_CONNECTIONS = {"redis": _TcpConnection, "rediss": _SslConnection, "unix": _UnixConnection}


def connect(url: str, connect_timeout: float = 3.0, read_timeout: float = 5.0) -> ReadOnlyRedis:
    """A read-only client for `url`; nothing is sent until the first read.

    Retries are off: a slow or absent Redis must fail once, within the stated timeout, which
    bounds each whole reply, not only each read of the socket.
    """
    client = redis.Redis.from_url(
        url,
        connection_class=_CONNECTIONS[url.partition("://")[0]],
        decode_responses=False,  # payload sizes are measured as stored; UTF-8 is checked by us
        socket_connect_timeout=connect_timeout,
        socket_timeout=read_timeout,
        retry=Retry(NoBackoff(), 0),
        protocol=2,  # RESP2: what every Redis speaks (HELLO 3 needs Redis 6+)
    )
    return ReadOnlyRedis(client, url, connect_timeout, read_timeout)


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _id_ms(entry_id: str) -> int:
    return int(entry_id.partition("-")[0])


def _next_id(entry_id: str) -> str:
    """The smallest id after `entry_id`: where the next forward batch starts."""
    ms, _, seq = entry_id.partition("-")
    if int(seq) == _MAX_SEQ:
        return f"{int(ms) + 1}-0"
    return f"{ms}-{int(seq) + 1}"


def _previous_id(entry_id: str) -> str:
    """The largest id before `entry_id`: where the next backward batch ends (0-0 is no valid
    entry id, so `entry_id` is above it)."""
    ms, _, seq = entry_id.partition("-")
    return f"{ms}-{int(seq) - 1}" if int(seq) else f"{int(ms) - 1}-{_MAX_SEQ}"


@dataclass(frozen=True, slots=True)
class _Passed:
    """What a pass over a range saw besides its records: first and last entry, foreign
    entries, and (read after the pass) the stream's oldest entry and the read's end time."""

    first_id: str | None
    last_id: str | None
    foreign: int
    oldest_ms: int | None
    read_at_ms: int

    @staticmethod
    def ms(entry_id: str | None) -> int | None:
        return None if entry_id is None else _id_ms(entry_id)


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
    call unless a call names another batch. `clock` (ms) stamps each window's read time."""

    def __init__(
        self,
        client: ReadOnlyRedis,
        key: str,
        url: str | None = None,
        parser: Callable[[str, Mapping[bytes, bytes]], R | ParseError | Foreign] = parse_intent,
        batch: int = READ_BATCH,
        clock: Callable[[], int] = _wall_ms,
    ) -> None:
        self.batch = batch
        self.clock = clock
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

    def oldest_ms(self) -> int | None:
        """Millisecond time of the stream's oldest entry; None when it holds none."""
        first = self._call(self.client.xrange, "-", "+", 1)
        return _id_ms(first[0][0].decode()) if first else None

    # -- windows --

    def _pass(
        self,
        results: Iterable[Parsed],
        record: Callable[[R], object],
        error: Callable[[ParseError], object],
    ) -> _Passed:
        """One pass over parsed entries: records and parse errors to their callbacks, foreign
        entries counted; the cyclic GC is off meanwhile (the pass allocates much and frees by
        reference counting: collections would find nothing to free)."""
        first_id = last_id = None
        foreign = 0
        collecting = gc.isenabled()
        gc.disable()
        try:
            for result in results:
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
        return _Passed(first_id, last_id, foreign, oldest, self.clock())

    def _window(
        self,
        results: Iterable[Parsed],
        start_ms: int | None = None,
        end_ms: int | None = None,
        count: int | None = None,
        reached_end: bool | None = None,
    ) -> Window[R]:
        records: list[R] = []
        errors: list[ParseError] = []
        passed = self._pass(results, records.append, errors.append)
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
        )

    def summary(
        self, start_ms: int, record: Callable[[R], object], end_ms: int | None = None
    ) -> WindowSummary:
        """Every entry in [start_ms, end_ms) read once: each record given to `record` and not
        kept, so memory stays flat however long the window (the day's checks, `dayscan`)."""
        tally = _Tally(record)
        passed = self._pass(self.iter_range(start_ms, end_ms), tally.record, tally.error)
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
        )

    def latest(self, count: int) -> Window[R]:
        """The `count` newest records in chronological order (the runbook's XREVRANGE), read
        back past foreign and unreadable entries (counted) until found or the stream's start.

        The first call asks for `count` entries (the runbook's own read when the stream is the
        engine's alone); further calls ask for the reader's batch."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        self._check_stream()
        passed: list[Parsed] = []  # newest first
        found, hi, size = 0, "+", count
        while True:
            entries = self._call(self.client.xrevrange, hi, "-", size)
            for entry_id, fields in entries:
                passed.append(result := self.parser(entry_id.decode(), fields))
                found += not isinstance(result, ParseError | Foreign)
                if found == count:
                    return self._window(reversed(passed), count=count, reached_end=False)
            if len(entries) < size:
                return self._window(reversed(passed), count=count, reached_end=True)
            hi, size = _previous_id(entries[-1][0].decode()), self.batch

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
        while True:
            entries = self._call(self.client.xrange, lo, hi, batch)
            for entry_id, fields in entries:
                yield self.parser(entry_id.decode(), fields)
            if len(entries) < batch:
                return
            lo = _next_id(entries[-1][0].decode())

    def window(
        self, start_ms: int, end_ms: int | None = None, batch: int | None = None
    ) -> Window[R]:
        """All entries in [start_ms, end_ms), and whether the stream still reaches start_ms."""
        return self._window(self.iter_range(start_ms, end_ms, batch), start_ms, end_ms)

    def coverage(self, start_ms: int) -> Coverage:
        """Whether the stream's oldest entry is at or before start_ms (window fully held)."""
        self._check_stream()
        oldest = self.oldest_ms()
        return Coverage(self.key, start_ms, oldest, covers(oldest, start_ms))
