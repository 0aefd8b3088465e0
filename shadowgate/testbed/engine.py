"""The stand-in engine's writing: intents to trade.intent, outcomes to trade.closed.

What an entry holds is `engine_entries`; here is when and under which id it is written: a
history with explicit past ids in pipelined batches (backfill), or one decision now (the live
loop of `simulator`, or an in-process fast-forward in tests), capped like the real stream.
"""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass
from typing import Any

import redis

from shadowgate.config import DEFAULT_OUTCOMES_STREAM, DEFAULT_STREAM
from shadowgate.testbed.engine_entries import Decision, EntryMaker
from shadowgate.testbed.production_guard import refuse_production
from shadowgate.testbed.scenarios import Scenario

DEFAULT_MAXLEN = 10_000  # the real engine's cap
DEFAULT_SPACING_S = 10.0  # history: one decision per 10 s, so 26 h (9,360) fits under 10,000
BATCH = 1000  # XADDs per pipeline round trip in a backfill


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _split_id(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class Published:
    """One decision the ensemble acted on, and what (if anything) was written for it."""

    entry_id: str | None  # None when nothing was written (silent scenario)
    kind: str  # "intent", or the garbage kind written instead
    ts_ms: int
    symbol: str
    side: str
    confidence: float
    patchtst: dict[str, Any] | None  # PatchTST's model_breakdown entry; None when missing


class Engine:
    """Writes what the real engine writes, for one scenario in one mode.

    `history` / `backfill` write the past with explicit ids `{ms}-0` in pipelined batches;
    `publish_one` writes one decision now. Outcomes (trade.closed) follow a share of the
    intents after a delay; while a (symbol, side) position is open no new intent is opened on
    it, so the outcome's latest matching intent is the one that opened it (the join rule of
    `trades.join_outcomes`). Intents at or after `start_ms` use the scenario's live behaviour
    (e.g. pnl_degraded's worse outcomes). A silent or stale scenario decides but writes
    nothing live (another publisher's entries still are); a stale one's history ends
    `stale_minutes` before now. A client at the production default address is
    refused unless `force` (see `production_guard`).
    """

    def __init__(
        self,
        client: redis.Redis,
        scenario: Scenario,
        shadow: bool,
        stream: str = DEFAULT_STREAM,
        outcomes_stream: str = DEFAULT_OUTCOMES_STREAM,
        maxlen: int = DEFAULT_MAXLEN,
        rng: random.Random | None = None,
        *,
        start_ms: int | None = None,
        history_spacing_s: float = DEFAULT_SPACING_S,
        force: bool = False,
    ) -> None:
        refuse_production(client, force=force)
        if maxlen < 1 or history_spacing_s <= 0:
            raise ValueError(f"need maxlen >= 1 and spacing > 0, got {maxlen}, {history_spacing_s}")
        self.client = client
        self.scenario = scenario
        self.shadow = shadow
        self.stream = stream
        self.outcomes_stream = outcomes_stream
        self.maxlen = maxlen
        self.rng = rng or random.Random()
        self.start_ms = _now_ms() if start_ms is None else start_ms
        self.spacing_ms = max(1, round(history_spacing_s * 1000))
        self.entries = EntryMaker(scenario, shadow, self.rng, self.start_ms)
        self._last_id: dict[str, tuple[int, int]] = {}
        self._pending: list[tuple[int, int, dict[str, str]]] = []  # (due_ms, n, outcome fields)
        self._open: dict[tuple[str, str], int] = {}  # (symbol, side) -> close time

    def _schedule_outcome(self, decision: Decision, ts_ms: int) -> None:
        closed = self.entries.outcome(decision, ts_ms)
        if closed is None:
            return
        due, fields = closed
        self._open[decision.symbol, decision.side] = due
        heapq.heappush(self._pending, (due, self.entries.decisions, fields))

    def _top_id(self, key: str) -> tuple[int, int] | None:
        """The id of the newest entry of `key`; None when it has none."""
        top = self.client.xrevrange(key, count=1)
        return _split_id(top[0][0]) if top and top[0][0] is not None else None

    def _next_id(self, key: str, ms: int) -> str:
        """An explicit id at ms (or just after the stream's top), always increasing."""
        if key not in self._last_id:
            self._last_id[key] = self._top_id(key) or (0, -1)
        last_ms, last_seq = self._last_id[key]
        new = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        self._last_id[key] = new
        return f"{new[0]}-{new[1]}"

    def _xadd(self, target: Any, key: str, fields: dict[str, Any], ms: int | None) -> Any:
        entry_id = "*" if ms is None else self._next_id(key, ms)
        return target.xadd(key, fields, id=entry_id, maxlen=self.maxlen, approximate=False)

    def _remember(self, key: str, entry_id: Any) -> str:
        text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        self._last_id[key] = _split_id(text)
        return text

    def history(self, start_ms: int, end_ms: int) -> int:
        """Write decisions from start_ms to end_ms, one per spacing (HOLDs leave gaps), with
        explicit past ids `{ms}-0`, in pipelined batches; outcomes due by end_ms are written
        too, later ones stay pending for `publish_one`. Returns the engine's entries written
        (another publisher's not counted)."""
        if (top := self._top_id(self.stream)) is not None:
            start_ms = max(start_ms, top[0] + 1)
        written = 0
        pipe = self.client.pipeline(transaction=False)
        for slot_ms in range(start_ms, end_ms + 1, self.spacing_ms):
            ts = slot_ms + self.rng.randrange(self.spacing_ms // 2 + 1)
            if ts > end_ms:
                break
            made = self.entries.entry(ts, self._open)
            if made is None:
                continue
            self._xadd(pipe, self.stream, made.fields, ts)
            for n, foreign in enumerate(made.foreign, 1):
                self._xadd(pipe, self.stream, foreign, ts + n)
            if made.kind in ("intent", "data_form"):
                self._schedule_outcome(made.decision, ts)
            written += 1
            if len(pipe) >= BATCH:
                pipe.execute()
        pipe.execute()
        self.flush_outcomes(end_ms, explicit=True)
        return written

    def backfill(self, hours: float, now_ms: int | None = None) -> int:
        """History for the last `hours` (ending `stale_minutes` ago), unless the stream already
        holds entries in that window (a restart must not rewrite the past): returns the
        intents written (0 if skipped)."""
        now_ms = _now_ms() if now_ms is None else now_ms
        start_ms = now_ms - round(hours * 3_600_000)
        top = self._top_id(self.stream)
        if top is not None and top[0] >= start_ms:
            return 0
        return self.history(start_ms, now_ms - round(self.scenario.stale_minutes * 60_000))

    def flush_outcomes(self, now_ms: int | None = None, *, explicit: bool = True) -> int:
        """Write the outcomes due by now_ms, in due order (ids at their due time if explicit,
        else Redis's clock). Returns how many were written."""
        now = _now_ms() if now_ms is None else now_ms
        pipe = self.client.pipeline(transaction=False)
        while self._pending and self._pending[0][0] <= now:
            due, _, fields = heapq.heappop(self._pending)
            self._xadd(pipe, self.outcomes_stream, fields, due if explicit else None)
        ids = pipe.execute()
        if ids and not explicit:
            self._remember(self.outcomes_stream, ids[-1])
        return len(ids)

    def publish_one(self, now_ms: int | None = None) -> Published | None:
        """One decision now: None for HOLD (or held back by the publishing filter); silent or
        stale, decided but not written. With now_ms, the entries get explicit ids at that
        time (in-process fast-forward); without, Redis's clock (the live engine)."""
        ts = _now_ms() if now_ms is None else now_ms
        self.flush_outcomes(ts, explicit=now_ms is not None)
        made = self.entries.entry(ts, self._open)
        if made is None:
            return None
        entry_id = None
        if not (self.scenario.silent or self.scenario.stale_minutes):
            entry_id = self._remember(
                self.stream, self._xadd(self.client, self.stream, made.fields, now_ms)
            )
            if made.kind in ("intent", "data_form"):
                self._schedule_outcome(made.decision, ts)
        for n, foreign in enumerate(made.foreign, 1):
            at = None if now_ms is None else now_ms + n
            self._remember(self.stream, self._xadd(self.client, self.stream, foreign, at))
        d = made.decision
        return Published(entry_id, made.kind, ts, d.symbol, d.side, d.confidence, d.patchtst)
