"""Serve a bundle in place of the live host: the checks read Redis and the engine's host
through the same objects as in a live run, answered from what the live run read.

A call the live run made gets the reply it got, in the same order (a repeated call, such as a
poll, gets the next reply, then the last again), so a replay of the same phase with the same
thresholds reads exactly what the live run read. A Redis call it never made is answered by a
fakeredis server holding every captured entry at its original id (a replay with other
thresholds reads the entries that were captured, no others); TIME is then the last captured
reply. A host command the live run never ran is a HostError: "the bundle holds no ...", so
the check that asks it cannot judge (INCONCLUSIVE, never PASS).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import fakeredis

from shadowgate.host import HostError
from shadowgate.readonly import Entry, ReadOnlyRedis, next_id
from shadowgate.replay.bundle import Bundle, Call, raw_of
from shadowgate.replay.capture import result_of


class _Replies:
    """Replies by call, served in their recorded order; the last one repeats."""

    def __init__(self, pairs: list[tuple[Call, Any]]) -> None:
        self._queues: dict[Call, deque[Any]] = {}
        for call, reply in pairs:
            self._queues.setdefault(_plain_call(call), deque()).append(reply)

    def __contains__(self, call: Call) -> bool:
        return _plain_call(call) in self._queues

    def next(self, call: Call) -> Any:
        queue = self._queues[_plain_call(call)]
        return queue.popleft() if len(queue) > 1 else queue[0]


def _plain_call(call: Call) -> Call:
    """A call as JSON gives it back (a count is an int either way, all else text)."""
    return tuple(str(part) for part in call)


def fake_server(streams: Mapping[str, Mapping[str, Entry]]) -> fakeredis.FakeRedis:
    """A fakeredis client over a server holding every captured entry at its own id."""
    client = fakeredis.FakeRedis(decode_responses=False)
    for key, entries in streams.items():
        for raw_id, fields in entries.values():
            as_given: dict[Any, Any] = dict(fields)  # redis-py's types take no dict[bytes, bytes]
            client.xadd(key, as_given, id=raw_id)
    return client


class ReplayRedis(ReadOnlyRedis):
    """The read-only client of a replay: the live run's replies, else the fake server (filled
    at its first use: most replays never need it, and thousands of XADDs take seconds)."""

    __slots__ = ("_entries", "_filled", "_last_time", "_replies")
    forkable = False  # read as the capture read: in one process, the same calls in order

    def __init__(self, bundle: Bundle) -> None:
        url = str(bundle.target.get("redis_url", "replay://"))
        super().__init__(fakeredis.FakeRedis(decode_responses=False), url)
        self.has_password = False  # nothing can be refused: no server asks for one
        self._replies = _Replies(bundle.redis)
        self._entries = {
            key: {i: (i.encode(), {raw_of(k): raw_of(v) for k, v in f.items()}) for i, f in es}
            for key, es in bundle.streams.items()
        }
        self._filled = False
        times = [reply for call, reply in bundle.redis if tuple(call) == ("TIME",)]
        self._last_time = times[-1] if times else bundle.now_ms

    def _answer(self, call: Call) -> Any:
        """The live run's reply to `call`; None when it never made it (the fake server, now
        filled, answers then)."""
        if call in self._replies:
            return self._replies.next(call)
        if not self._filled:
            self._client = fake_server(self._entries)
            self._filled = True
        return None

    def time_ms(self) -> int:
        if ("TIME",) in self._replies:
            return int(self._replies.next(("TIME",)))
        if self._last_time is None:
            raise HostError("the bundle holds no Redis TIME: the live run never read one")
        return int(self._last_time)

    def type(self, key: str) -> str:
        said = self._answer(("TYPE", key))
        return str(said) if said is not None else super().type(key)

    def xlen(self, key: str) -> int:
        said = self._answer(("XLEN", key))
        return int(said) if said is not None else super().xlen(key)

    def _entries_of(self, key: str, ids: list[str]) -> list[Entry]:
        held = self._entries.get(key, {})
        return [held[i] for i in ids]

    def xrange(self, key: str, start: str, end: str, count: int) -> list[Entry]:
        ids = self._answer(("XRANGE", key, start, end, count))
        if ids is None:
            return super().xrange(key, start, end, count)
        return self._entries_of(key, ids)

    def xrevrange(self, key: str, end: str, start: str, count: int) -> list[Entry]:
        ids = self._answer(("XREVRANGE", key, end, start, count))
        if ids is None:
            return super().xrevrange(key, end, start, count)
        return self._entries_of(key, ids)

    def xrange_batches(self, key: str, start: str, end: str, count: int) -> Iterator[list[Entry]]:
        """The batches a live pipelined read made: XRANGE after XRANGE until one falls short."""
        lo = start
        while True:
            batch = self.xrange(key, lo, end, count)
            yield batch
            if len(batch) < count:
                return
            lo = next_id(batch[-1][0].decode())


class _ReplayBackend:
    """What the host layer asks of a testinfra backend besides commands: its name."""

    def __init__(self, label: str) -> None:
        self.label = label

    def get_pytest_id(self) -> str:
        return self.label


class ReplayHost:
    """The engine's host of a replay, named as the live run named it (its messages read the
    same): each command answered with the output it had in the live run; a command never run
    there is a HostError that says so."""

    def __init__(self, bundle: Bundle, label: str) -> None:
        self.backend = _ReplayBackend(str(bundle.host.get("name") or label))
        runs = [*bundle.host.get("runs", []), *bundle.journal]
        self._results = _Replies([(tuple(call), result) for call, result in runs])

    def run(self, command: str, *args: str) -> Any:
        call = (command, *args)
        if call not in self._results:
            given = f" with {', '.join(args)}" if args else ""
            raise HostError(
                f"the bundle holds no answer to {command.splitlines()[0]!r}{given}: the live "
                "run never asked the host this, so a replay cannot judge it"
            )
        saved: Mapping[str, Any] = self._results.next(call)
        return result_of(self.backend, call, saved)
