"""A stand-in AI engine: publishes trade.intent / trade.closed like the real one and logs like it.

The suite's own tests and the demo need an engine whose behaviour is known (a scenario from
`shadowgate.testbed.scenarios`), that runs as `quantum-ai-engine.service` in a systemd test bed and
reads its mode once at start exactly as the real engine does, so that the runbook's env edit
plus `systemctl restart` switches it between shadow and voting. It is only ever pointed at a
throwaway Redis: it writes.

    python -m shadowgate.testbed.simulator --redis-url URL --scenario NAME [--backfill-hours H] ...

`Engine` is the data side (what gets written, usable in-process); `main` adds the journal
lines, the live loop at --rate, SIGTERM handling and the scenario's way of dying.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import random
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import redis

from shadowgate.config import DEFAULT_OUTCOMES_STREAM, DEFAULT_STREAM, redact_url
from shadowgate.envfile import parse_env
from shadowgate.testbed import scenarios
from shadowgate.testbed.scenarios import GARBAGE_KINDS, Scenario

SHADOW_FLAG = "PATCHTST_SHADOW_ONLY"
MODEL_PATH_KEY = "PATCHTST_MODEL_PATH"
DEFAULT_MAXLEN = 10_000  # the real engine's cap
DEFAULT_SPACING_S = 10.0  # history: one decision per 10 s, so 26 h (9,360) fits under 10,000
ENGINE_SOURCE = "ai-engine"
OTHERS = {"xgb": "xgboost", "lgbm": "lightgbm", "nhits": "nhits"}  # key -> model field
WEIGHTS = {"xgb": 0.3, "lgbm": 0.3, "nhits": 0.2, "patchtst": 0.2}
SYMBOLS = {  # symbol -> starting price; 20 keys so an open position rarely blocks a symbol
    "BTCUSDT": 97250.0, "ETHUSDT": 3420.0, "SOLUSDT": 198.5, "BNBUSDT": 705.0,
    "XRPUSDT": 2.31, "ADAUSDT": 0.98, "DOGEUSDT": 0.36, "AVAXUSDT": 41.2,
    "LINKUSDT": 23.4, "DOTUSDT": 7.6, "LTCUSDT": 112.0, "TRXUSDT": 0.26,
    "MATICUSDT": 0.52, "ATOMUSDT": 9.8, "NEARUSDT": 5.4, "APTUSDT": 10.9,
    "ARBUSDT": 0.84, "OPUSDT": 2.05, "INJUSDT": 27.3, "SUIUSDT": 4.6,
}  # fmt: skip
REGIMES = ("trending_up", "trending_down", "ranging", "volatile")
OPPOSITE = {"BUY": "SELL", "SELL": "BUY"}
BATCH = 1000  # XADDs per pipeline round trip in a backfill


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


# --- mode ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """How the engine runs this time: shadow or voting, why, and the model it loaded."""

    shadow: bool
    source: str  # "environment", "env file <path>", or "scenario default"
    model_path: str | None


def read_env_file(path: Path) -> dict[str, str]:
    """The variables systemd's EnvironmentFile= would give the engine from this file."""
    return parse_env(path.read_text(errors="replace")).systemd_env()


def resolve_mode(env: Mapping[str, str], env_file: Path | str | None, scenario: Scenario) -> Mode:
    """Shadow or voting, read once at start like the real engine.

    The process environment wins, then the env file if it exists: there the flag decides
    ("true", any case, is shadow; absent or anything else is voting, as after the runbook's
    `sed -i '/^PATCHTST_SHADOW_ONLY=/d'`). Only with neither does the scenario's default apply.
    """
    file_path = Path(env_file) if env_file is not None else None
    file_values = (
        read_env_file(file_path) if file_path is not None and file_path.is_file() else None
    )
    model_path = env.get(MODEL_PATH_KEY) or (file_values or {}).get(MODEL_PATH_KEY) or None
    if SHADOW_FLAG in env:
        return Mode(env[SHADOW_FLAG].strip().lower() == "true", "environment", model_path)
    if file_values is not None:
        flag = file_values.get(SHADOW_FLAG, "")
        return Mode(flag.strip().lower() == "true", f"env file {file_path}", model_path)
    return Mode(scenario.default_shadow, "scenario default", model_path)


# --- the engine ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """One decision the ensemble acted on, and what (if anything) was written for it."""

    entry_id: str | None  # None when nothing was written (silent scenario)
    kind: str  # "intent", or the garbage kind written instead
    ts_ms: int
    symbol: str
    side: str
    confidence: float
    patchtst: dict[str, Any]  # PatchTST's model_breakdown entry


@dataclass(frozen=True)
class _Decision:
    symbol: str
    side: str
    confidence: float
    payload: dict[str, Any]
    p_win: float  # P(the trade closes in profit), from PatchTST's view and its calibration


class Engine:
    """Writes what the real engine writes, for one scenario in one mode.

    `history` / `backfill` write the past with explicit ids `{ms}-0` in pipelined batches;
    `publish_one` writes one decision now. Outcomes (trade.closed) follow a share of the
    intents after a delay; while a (symbol, side) position is open no new intent is opened on
    it, so the outcome's latest matching intent is the one that opened it (the join rule of
    `metrics.join_outcomes`). Intents at or after `start_ms` use the scenario's live behaviour
    (e.g. pnl_degraded's worse outcomes).
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
    ) -> None:
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
        self._last_id: dict[str, tuple[int, int]] = {}
        self._pending: list[tuple[int, int, dict[str, str]]] = []  # (due_ms, n, outcome fields)
        self._open: dict[tuple[str, str], int] = {}  # (symbol, side) -> close time
        self._prices = dict(SYMBOLS)
        self._n = 0  # decisions made: tie-breaker and garbage round-robin
        self._garbage_n = 0

    @property
    def counted(self) -> bool:
        """Does PatchTST's vote count? In voting mode, or in shadow with the leak bug."""
        return not self.shadow or self.scenario.counts_in_shadow

    # -- decisions -------------------------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _symbol(self, side: str, ts_ms: int) -> str:
        free = [s for s in SYMBOLS if self._open.get((s, side), 0) <= ts_ms]
        return self.rng.choice(free or list(SYMBOLS))

    def _price(self, symbol: str) -> float:
        price = self._prices[symbol] * math.exp(self.rng.gauss(0.0, 0.002))
        self._prices[symbol] = price
        return round(price, 2 if price >= 100 else 5)

    def _patchtst_vote(self, side: str, agreeing_others: int) -> dict[str, Any]:
        s, r = self.scenario, self.rng
        if r.random() < s.error_rate:
            vote: dict[str, Any] = {"action": "HOLD", "confidence": 0.50, "model": "patchtst_error"}
        else:
            if s.fixed_vote is not None:
                action, conf = s.fixed_vote
            else:
                if r.random() < s.patchtst_agree[3 - agreeing_others]:
                    action = side
                elif r.random() < s.opposite_share:
                    action = OPPOSITE[side]
                else:
                    action = "HOLD"
                conf = round(_clip(r.gauss(s.conf_mean, s.conf_std), 0.34, 0.92), 4)
            vote = {"action": action, "confidence": conf, "model": "patchtst"}
        if self.shadow:
            # The shadow wrapper tags whatever the agent returned, failed predictions included.
            if vote["model"] == "patchtst":
                vote["model"] = "patchtst_shadow"
            vote["shadow"] = True
        return vote

    def _p_win(self, side: str, vote: dict[str, Any], ts_ms: int) -> float:
        """P(profit): PatchTST's direction is right with a probability rising with its
        confidence (the calibration slope), so its votes are calibrated against outcomes."""
        s = self.scenario
        if vote["action"] in OPPOSITE and not vote["model"].endswith("_error"):
            right = _clip(0.5 + s.calibration * (vote["confidence"] - 0.5), 0.05, 0.95)
            p = right if vote["action"] == side else 1.0 - right
        else:
            p = 0.55
        if ts_ms >= self.start_ms:
            p += s.live_win_shift
        return _clip(p, 0.02, 0.98)

    def _decide(self, ts_ms: int) -> _Decision | None:
        """The ensemble's decision at ts_ms, or None for HOLD (never published)."""
        s, r = self.scenario, self.rng
        self._n += 1
        if r.random() < s.hold_rate:
            return None
        side = "BUY" if r.random() < s.buy_share else "SELL"
        agreeing = r.choices((3, 2, 1), weights=s.others_agree)[0]
        with_side = set(r.sample(sorted(OTHERS), agreeing))
        breakdown: dict[str, Any] = {}
        for key, model in OTHERS.items():
            if key in with_side:
                action, conf = side, r.gauss(0.68, 0.07)
            else:
                action = "HOLD" if r.random() < 0.6 else OPPOSITE[side]
                conf = r.gauss(0.55, 0.06)
            breakdown[key] = {
                "action": action,
                "confidence": round(_clip(conf, 0.35, 0.97), 4),
                "model": model,
            }
        vote = self._patchtst_vote(side, agreeing)
        breakdown["patchtst"] = vote
        counted = self.counted
        consensus = agreeing + int(counted and vote["action"] == side)
        total = 4 if counted else 3
        mean_conf = sum(breakdown[k]["confidence"] for k in with_side) / agreeing
        confidence = round(_clip(mean_conf * (0.85 + 0.15 * consensus / total), 0.5, 0.95), 4)
        if r.random() < s.fallback_rate:
            breakdown["fallback"] = {"action": side, "confidence": 0.55, "model": "rule_based"}
            consensus = 1
        symbol = self._symbol(side, ts_ms)
        payload = self._payload(ts_ms, symbol, side, confidence, consensus, total, breakdown)
        return _Decision(symbol, side, confidence, payload, self._p_win(side, vote, ts_ms))

    def _payload(
        self,
        ts_ms: int,
        symbol: str,
        side: str,
        confidence: float,
        consensus: int,
        total: int,
        breakdown: dict[str, Any],
    ) -> dict[str, Any]:
        """The intent as the engine serialises it: ~1.2 KB with features and meta."""
        r = self.rng
        price = self._price(symbol)
        atr_pct = round(r.uniform(0.004, 0.018), 5)
        sign = 1 if side == "BUY" else -1
        digits = 2 if price >= 100 else 5
        payload: dict[str, Any] = {
            "symbol": symbol,
            "side": side,
            "confidence": confidence,
            "timestamp": _iso(ts_ms),
            "model": "ensemble",
            "consensus_count": consensus,
            "total_models": total,
            "model_breakdown": breakdown,
            "position_size_usd": round(r.uniform(50, 400), 2),
            "leverage": r.choice((3, 5, 5, 10)),
            "entry_price": price,
            "stop_loss": round(price * (1 - sign * 1.5 * atr_pct), digits),
            "take_profit": round(price * (1 + sign * 3.0 * atr_pct), digits),
            "regime": r.choice(REGIMES),
            "timeframe": "5m",
            "atr_pct": atr_pct,
            "risk_reward": 2.0,
            "features": {
                "rsi_14": round(r.uniform(20, 80), 2),
                "macd": round(r.gauss(0, 0.4), 5),
                "macd_signal": round(r.gauss(0, 0.35), 5),
                "bb_position": round(r.uniform(0, 1), 4),
                "ema_9_21_spread": round(r.gauss(0, 0.004), 6),
                "volume_ratio": round(r.uniform(0.4, 3.0), 3),
                "funding_rate": round(r.gauss(0.0001, 0.0002), 6),
                "orderbook_imbalance": round(r.uniform(-1, 1), 4),
                "price_change_1h": round(r.gauss(0, 0.01), 5),
                "price_change_4h": round(r.gauss(0, 0.02), 5),
                "price_change_24h": round(r.gauss(0, 0.04), 5),
            },
            "meta": {
                "engine_version": "ai-engine 5.4.2",
                "ensemble_version": "v5",
                "weights": WEIGHTS,
                "latency_ms": round(r.uniform(15, 90), 1),
                "feature_count": 49,
                "decision_id": self._uuid().hex,
            },
        }
        if self.scenario.bloat_rate and r.random() < self.scenario.bloat_rate:
            floats = self.scenario.bloat_floats
            payload["debug"] = {"patchtst_attention": [round(r.random(), 5) for _ in range(floats)]}
        return payload

    # -- entries ---------------------------------------------------------------------------------

    def _fields(self, ts_ms: int, body: str | bytes, key: str = "payload") -> dict[str, Any]:
        return {
            "event_type": "trade.intent",
            key: body,
            "trace_id": str(self._uuid()),
            "correlation_id": self._uuid().hex,
            "timestamp": _iso(ts_ms),
            "source": ENGINE_SOURCE,
        }

    def _garbage(self, ts_ms: int, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """One odd entry, kinds in round-robin: what a parser must count, never crash on."""
        kind = GARBAGE_KINDS[self._garbage_n % len(GARBAGE_KINDS)]
        self._garbage_n += 1
        text = json.dumps(payload)
        if kind == "bad_json":
            return kind, self._fields(ts_ms, text[: len(text) // 2])
        if kind == "missing_field":
            broken = {k: v for k, v in payload.items() if k not in ("side", "consensus_count")}
            return kind, self._fields(ts_ms, json.dumps(broken))
        if kind == "wrong_type":
            return kind, self._fields(
                ts_ms, json.dumps({**payload, "confidence": "high", "consensus_count": "three"})
            )
        if kind == "non_utf8":
            raw = text.encode().replace(b'"symbol": "', b'"symbol": "\xff\xfe', 1)
            return kind, self._fields(ts_ms, raw)
        if kind == "foreign":
            # Half look like another event type, half reuse trade.intent: filter on source.
            event = "trade.intent" if self._garbage_n % 2 else "risk.limit_check"
            body = {
                "symbol": payload["symbol"],
                "exposure_usd": round(self.rng.uniform(1e3, 5e4)),
                "limit_usd": 50000,
                "action": "ALLOW",
                "timestamp": _iso(ts_ms),
            }
            return kind, {
                **self._fields(ts_ms, json.dumps(body)),
                "event_type": event,
                "source": "risk-engine",
            }
        # data_form: a valid intent, carried as {"data": "<JSON>"}; half with flat fields,
        # half with event_type/source inside the JSON.
        if self._garbage_n % 2:
            return kind, self._fields(ts_ms, text, key="data")
        body = {**payload, "event_type": "trade.intent", "source": ENGINE_SOURCE}
        return kind, {"data": json.dumps(body)}

    def _entry(self, ts_ms: int) -> tuple[_Decision, str, dict[str, Any]] | None:
        decision = self._decide(ts_ms)
        if decision is None:
            return None
        if self.scenario.garbage_rate and self.rng.random() < self.scenario.garbage_rate:
            kind, fields = self._garbage(ts_ms, decision.payload)
        else:
            kind, fields = "intent", self._fields(ts_ms, json.dumps(decision.payload))
        return decision, kind, fields

    def _schedule_outcome(self, decision: _Decision, ts_ms: int) -> None:
        s, r = self.scenario, self.rng
        if r.random() >= s.outcome_rate:
            return
        due = ts_ms + round(r.uniform(*s.outcome_delay_s) * 1000)
        self._open[decision.symbol, decision.side] = due
        win = r.random() < decision.p_win
        loss_scale = s.live_loss_scale if ts_ms >= self.start_ms else 1.0
        pnl = r.uniform(0.3, 2.5) if win else -r.uniform(0.3, 1.5) * loss_scale
        entry = decision.payload["entry_price"]
        long = decision.side == "BUY"
        exit_price = entry * (1 + pnl / 100) if long else entry * (1 - pnl / 100)
        size = decision.payload["position_size_usd"] * decision.payload["leverage"]
        fields = {
            "timestamp": _iso(due),
            "symbol": decision.symbol,
            "side": "LONG" if long else "SHORT",
            "entry_price": str(entry),
            "exit_price": str(round(exit_price, 2 if entry >= 100 else 5)),
            "pnl_percent": f"{pnl:.4f}",
            "confidence": f"{decision.confidence:.4f}",
            "model_id": "ensemble",
            "pnl_usd": f"{size * pnl / 100:.2f}",
            "reason": r.choice(("take_profit", "trailing_stop")) if win else "stop_loss",
            "source": "execution-service",
        }
        heapq.heappush(self._pending, (due, self._n, fields))

    def _next_id(self, key: str, ms: int) -> str:
        """An explicit id at ms (or just after the stream's top), always increasing."""
        if key not in self._last_id:
            top = self.client.xrevrange(key, count=1)
            self._last_id[key] = _split_id(top[0][0]) if top else (0, -1)
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

    # -- public ----------------------------------------------------------------------------------

    def history(self, start_ms: int, end_ms: int) -> int:
        """Write decisions from start_ms to end_ms, one per spacing (HOLDs leave gaps), with
        explicit past ids `{ms}-0`, in pipelined batches; outcomes due by end_ms are written
        too, later ones stay pending for `publish_one`. Returns the intents written."""
        top = self.client.xrevrange(self.stream, count=1)
        if top:
            start_ms = max(start_ms, _split_id(top[0][0])[0] + 1)
        written = 0
        pipe = self.client.pipeline(transaction=False)
        for slot_ms in range(start_ms, end_ms + 1, self.spacing_ms):
            ts = slot_ms + self.rng.randrange(self.spacing_ms // 2 + 1)
            if ts > end_ms:
                break
            made = self._entry(ts)
            if made is None:
                continue
            decision, kind, fields = made
            self._xadd(pipe, self.stream, fields, ts)
            if kind in ("intent", "data_form"):
                self._schedule_outcome(decision, ts)
            written += 1
            if len(pipe) >= BATCH:
                pipe.execute()
        pipe.execute()
        self.flush_outcomes(end_ms, explicit=True)
        return written

    def backfill(self, hours: float, now_ms: int | None = None) -> int:
        """History for the last `hours`, unless the stream already holds entries in that window
        (a restart must not rewrite the past): returns the intents written (0 if skipped)."""
        now_ms = _now_ms() if now_ms is None else now_ms
        start_ms = now_ms - round(hours * 3_600_000)
        top = self.client.xrevrange(self.stream, count=1)
        if top and _split_id(top[0][0])[0] >= start_ms:
            return 0
        return self.history(start_ms, now_ms)

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
        """One decision now: None for HOLD; in the silent scenario, decided but not written.
        With now_ms, the entry gets an explicit id at that time (in-process fast-forward);
        without, Redis's clock (the live engine)."""
        ts = _now_ms() if now_ms is None else now_ms
        self.flush_outcomes(ts, explicit=now_ms is not None)
        made = self._entry(ts)
        if made is None:
            return None
        decision, kind, fields = made
        entry_id = None
        if not self.scenario.silent:
            entry_id = self._remember(
                self.stream, self._xadd(self.client, self.stream, fields, now_ms)
            )
            if kind in ("intent", "data_form"):
                self._schedule_outcome(decision, ts)
        breakdown = decision.payload["model_breakdown"]
        return Published(
            entry_id,
            kind,
            ts,
            decision.symbol,
            decision.side,
            decision.confidence,
            breakdown["patchtst"],
        )


def _split_id(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


# --- the process --------------------------------------------------------------------------------


class Journal:
    """Lines as the engine prints them to journald: plain tags, or JSON with ts/level/msg."""

    def __init__(self, out: TextIO, shadow_interval_s: float, clock: Callable[[], float]) -> None:
        self.out = out
        self.shadow_interval_s = shadow_interval_s
        self.clock = clock
        self._last_shadow: float | None = None

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def json(self, level: str, msg: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        self.line(json.dumps({"ts": now, "level": level, "msg": msg}))

    def shadow(self, pub: Published) -> None:
        """At most one `[SHADOW] PatchTST` line per interval (the real engine's rate limit)."""
        now = self.clock()
        if self._last_shadow is not None and now - self._last_shadow < self.shadow_interval_s:
            return
        self._last_shadow = now
        conf = float(pub.patchtst["confidence"])
        p = _clip(conf, 1e-6, 1 - 1e-6)
        self.line(
            f"[SHADOW] PatchTST | {pub.symbol} | action={pub.patchtst['action']} conf={conf:.2f} "
            f"| prob={conf:.2f} logit={math.log(p / (1 - p)):.2f} | mode=SHADOW_ONLY"
        )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m shadowgate.testbed.simulator",
        description="Stand-in AI engine: writes trade.intent/trade.closed to a THROWAWAY Redis.",
    )
    p.add_argument("--redis-url", required=True, help="a throwaway Redis (this process writes)")
    p.add_argument("--scenario", required=True, choices=list(scenarios.SCENARIOS))
    p.add_argument("--backfill-hours", type=float, default=0.0)
    p.add_argument(
        "--history-spacing",
        type=float,
        default=DEFAULT_SPACING_S,
        metavar="S",
        help="seconds between backfilled decisions (default 10)",
    )
    p.add_argument("--rate", type=float, default=2.0, help="live decisions per second")
    p.add_argument("--env-file", type=Path, default=None)
    p.add_argument("--stream", default=DEFAULT_STREAM)
    p.add_argument("--outcomes-stream", default=DEFAULT_OUTCOMES_STREAM)
    p.add_argument("--maxlen", type=int, default=DEFAULT_MAXLEN)
    p.add_argument("--shadow-log-interval", type=float, default=30.0, metavar="S")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="default: forever")
    p.add_argument("--seed", type=int, default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.rate <= 0:
        raise SystemExit("--rate must be > 0")
    scenario = scenarios.get(args.scenario)
    mode = resolve_mode(os.environ, args.env_file, scenario)
    journal = Journal(sys.stdout, args.shadow_log_interval, time.monotonic)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    journal.json(
        "INFO",
        f"AI engine starting: scenario={scenario.name} "
        f"redis={redact_url(args.redis_url)} stream={args.stream}",
    )
    journal.line(f"[OK] PatchTST agent loaded (weight: 20.0%) model={mode.model_path or 'default'}")
    if mode.shadow:
        journal.line("[OK] PatchTST shadow mode: SHADOW_ONLY (excluded from voting)")
    else:
        journal.json("INFO", f"PatchTST voting mode: ACTIVE ({SHADOW_FLAG} not true)")
    journal.json("INFO", f"mode from {mode.source}: {'shadow' if mode.shadow else 'voting'}")

    # Bounded waits: a stalled Redis must not keep the engine from seeing SIGTERM for long.
    client = redis.Redis.from_url(args.redis_url, socket_timeout=10, socket_connect_timeout=5)
    engine = Engine(
        client,
        scenario,
        mode.shadow,
        args.stream,
        args.outcomes_stream,
        args.maxlen,
        random.Random(args.seed),
        history_spacing_s=args.history_spacing,
    )
    try:
        if args.backfill_hours > 0:
            n = engine.backfill(args.backfill_hours)
            what = f"{n} intents" if n else "skipped, the stream already covers the window"
            journal.json("INFO", f"backfill {args.backfill_hours:g} h: {what}")
        return _live(engine, journal, mode, args, stop)
    except redis.RedisError as exc:
        journal.json("ERROR", f"Redis error, exiting: {exc}")
        return 1


def _live(
    engine: Engine, journal: Journal, mode: Mode, args: argparse.Namespace, stop: threading.Event
) -> int:
    started = time.monotonic()
    next_tick = started
    crash_after = engine.scenario.crash_after_s
    while not stop.is_set():
        elapsed = time.monotonic() - started
        if args.duration is not None and elapsed >= args.duration:
            break
        if crash_after is not None and elapsed >= crash_after:
            journal.json(
                "CRITICAL",
                "PatchTST inference failed: RuntimeError: CUDA error: "
                "device-side assert triggered; engine exiting",
            )
            return 1
        pub = engine.publish_one()
        if pub is not None:
            if mode.shadow:
                journal.shadow(pub)
            if pub.entry_id is not None and pub.kind != "foreign":
                journal.json(
                    "INFO",
                    f"[TELEMETRY] Publishing trade.intent: {pub.symbol} "
                    f"{pub.side} conf={pub.confidence:.2f}",
                )
        next_tick += 1.0 / args.rate
        stop.wait(max(0.0, next_tick - time.monotonic()))
    journal.json("INFO", "AI engine stopped" + (" (signal)" if stop.is_set() else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
