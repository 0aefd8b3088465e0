"""The only Redis client the suite holds: read-only by construction, with a deadline per reply.

The suite runs against production Redis, so `ReadOnlyRedis` can only send read commands (ping,
TIME, TYPE, XLEN, XRANGE, XREVRANGE): it wraps a `redis.Redis` and delegates nothing else.
TIME is "now" for every stream window: entry ids are the Redis host's clock, not ours. Its
connections bound each whole reply, not each socket read (`_ReplyClock`). Long ranges are read
pipelined (`xrange_batches`): the next batch is asked for before this one is handed on, so
Redis builds the next reply while this one is parsed.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from shadowgate.redact import password_of, redact_url

Entry = tuple[bytes, dict[bytes, bytes]]
_MAX_SEQ = 2**64 - 1


def _entries(reply: object) -> list[Entry]:
    """redis-py types a range reply for every client setting; ours keeps bytes (no
    decode_responses), and XRANGE / XREVRANGE answer a list, empty for a missing key."""
    return cast(list[Entry], reply)


class ReadOnlyRedis:
    """A Redis client that can only read: ping, time, type, xlen, xrange (also in batches),
    xrevrange.

    Wraps a `redis.Redis` and delegates nothing else, so no write can be sent through it.
    """

    __slots__ = ("_client", "connect_timeout", "has_password", "read_timeout", "url")
    forkable = True  # a forked process may read through it (a capture's must stay in this one)

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

    def time_ms(self) -> int:
        """Redis's TIME in milliseconds: the clock its stream entry ids are made from."""
        seconds, micros = self._client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    def type(self, key: str) -> str:
        kind = self._client.type(key)
        return kind.decode() if isinstance(kind, bytes) else kind

    def xlen(self, key: str) -> int:
        return self._client.xlen(key)

    def xrange(self, key: str, start: str, end: str, count: int) -> list[Entry]:
        return _entries(self._client.xrange(key, min=start, max=end, count=count))

    def xrange_batches(self, key: str, start: str, end: str, count: int) -> Iterator[list[Entry]]:
        """XRANGE start..end, `count` entries per reply, every reply until one falls short.

        Each batch's successor is sent before the batch is handed on, on a connection of its
        own; a read abandoned with a reply still due closes that connection rather than leave
        the reply to be taken as another command's."""
        pool = self._client.connection_pool
        conn = pool.get_connection()
        due = False
        try:
            conn.send_command("XRANGE", key, start, end, "COUNT", count)
            due = True
            while due:
                batch = self._client.parse_response(conn, "XRANGE")
                due = False
                if len(batch) == count:
                    after = next_id(batch[-1][0].decode())
                    conn.send_command("XRANGE", key, after, end, "COUNT", count)
                    due = True
                yield batch
        finally:
            if due:
                conn.disconnect()
            pool.release(conn)

    def xrevrange(self, key: str, end: str, start: str, count: int) -> list[Entry]:
        return _entries(self._client.xrevrange(key, max=end, min=start, count=count))

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


def next_id(entry_id: str) -> str:
    """The smallest id after `entry_id`: where the next forward batch starts."""
    ms, _, seq = entry_id.partition("-")
    if int(seq) == _MAX_SEQ:
        return f"{int(ms) + 1}-0"
    return f"{ms}-{int(seq) + 1}"


def previous_id(entry_id: str) -> str:
    """The largest id before `entry_id`: where the next backward batch ends (0-0 is no valid
    entry id, so `entry_id` is above it)."""
    ms, _, seq = entry_id.partition("-")
    return f"{ms}-{int(seq) - 1}" if int(seq) else f"{int(ms) - 1}-{_MAX_SEQ}"
