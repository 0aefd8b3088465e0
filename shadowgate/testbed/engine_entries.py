"""What one stand-in engine entry looks like: an intent's payload and flat fields, the odd
entries of the garbage scenario, another publisher's entries, the publishing filter, and the
trade.closed outcome that may follow an intent, in each of its real forms.

Kept apart from the writing (`engine.Engine`: ids, batches, timing) so the shape of the data
ARCHITECTURE.md describes ("The data") can be read in one place; the votes are `engine_votes`.
Everything random comes from one `random.Random`, shared with the writer, so a seed
reproduces a whole history.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shadowgate.testbed.engine_votes import OPPOSITE, Voter, clip
from shadowgate.testbed.scenarios import GARBAGE_KINDS, Scenario

ENGINE_SOURCE = "ai-engine"
FOREIGN_SOURCE = "trading-bot"  # another publisher of trade.intent events on the same stream
MIN_PUBLISH_CONF = 0.75  # the real publishing filter: ensemble confidence at least this,
COOLDOWN_MS = 120_000  # no second intent for a symbol within 120 s,
MAX_PER_MINUTE = 6  # and at most 6 intents a minute
WEIGHTS = {"xgb": 0.3, "lgbm": 0.3, "nhits": 0.2, "patchtst": 0.2}
SYMBOLS = {  # symbol -> starting price; 20 keys so an open position rarely blocks a symbol
    "BTCUSDT": 97250.0, "ETHUSDT": 3420.0, "SOLUSDT": 198.5, "BNBUSDT": 705.0,
    "XRPUSDT": 2.31, "ADAUSDT": 0.98, "DOGEUSDT": 0.36, "AVAXUSDT": 41.2,
    "LINKUSDT": 23.4, "DOTUSDT": 7.6, "LTCUSDT": 112.0, "TRXUSDT": 0.26,
    "MATICUSDT": 0.52, "ATOMUSDT": 9.8, "NEARUSDT": 5.4, "APTUSDT": 10.9,
    "ARBUSDT": 0.84, "OPUSDT": 2.05, "INJUSDT": 27.3, "SUIUSDT": 4.6,
}  # fmt: skip
REGIMES = ("trending_up", "trending_down", "ranging", "volatile")
OUTCOME_FORMS = ("flat", "executor", "bus")


def iso(ms: int) -> str:
    """The engine's timestamp form for epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Decision:
    """One decision the ensemble acted on, before it is written."""

    symbol: str
    side: str
    confidence: float
    payload: dict[str, Any]
    p_win: float  # P(the trade closes in profit), from PatchTST's view and its calibration
    patchtst: dict[str, Any] | None  # PatchTST's breakdown entry; None when missing


@dataclass(frozen=True)
class Made:
    """What one decision writes: its kind ("intent" or a garbage kind), the engine's entry,
    and the entries another publisher writes beside it."""

    decision: Decision
    kind: str
    fields: dict[str, Any]
    foreign: list[dict[str, Any]] = field(default_factory=list)


class EntryMaker:
    """Decides like the real ensemble for one scenario in one mode and shapes what it writes.

    Intents at or after `start_ms` use the scenario's live behaviour (e.g. pnl_degraded's
    worse outcomes).
    """

    def __init__(self, scenario: Scenario, shadow: bool, rng: random.Random, start_ms: int) -> None:
        self.scenario = scenario
        self.shadow = shadow
        self.rng = rng
        self.start_ms = start_ms
        self.decisions = 0  # decisions made: tie-breaker and garbage round-robin
        self.voter = Voter(scenario, shadow, rng)
        self._prices = dict(SYMBOLS)
        self._garbage_n = 0
        self._outcomes_n = 0
        self._symbol_last: dict[str, int] = {}  # publishing filter: symbol -> last intent (ms)
        self._last_minute: deque[int] = deque()  # publishing filter: intents in the last 60 s

    # -- decisions -------------------------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _symbol(self, side: str, ts_ms: int, open_until: Mapping[tuple[str, str], int]) -> str:
        free = [s for s in SYMBOLS if open_until.get((s, side), 0) <= ts_ms]
        return self.rng.choice(free or list(SYMBOLS))

    def _price(self, symbol: str) -> float:
        price = self._prices[symbol] * math.exp(self.rng.gauss(0.0, 0.002))
        self._prices[symbol] = price
        return round(price, 2 if price >= 100 else 5)

    def _p_win(self, side: str, vote: dict[str, Any] | None, ts_ms: int) -> float:
        """P(profit): PatchTST's direction is right with a probability rising with its
        confidence (the calibration slope), so its votes are calibrated against outcomes."""
        s = self.scenario
        if vote is not None and vote["action"] in OPPOSITE:
            right = clip(0.5 + s.calibration * (vote["confidence"] - 0.5), 0.05, 0.95)
            p = right if vote["action"] == side else 1.0 - right
        else:
            p = 0.55
        if ts_ms >= self.start_ms:
            p += s.live_win_shift
        return clip(p, 0.02, 0.98)

    def _decide(self, ts_ms: int, open_until: Mapping[tuple[str, str], int]) -> Decision | None:
        """The ensemble's decision at ts_ms, or None for HOLD (never published)."""
        s, r = self.scenario, self.rng
        self.decisions += 1
        if r.random() < s.hold_rate:
            return None
        side = "BUY" if r.random() < s.buy_share else "SELL"
        copying = s.copy_after_s is not None and ts_ms >= self.start_ms + s.copy_after_s * 1000
        ballot = self.voter.ballot(side, copying)
        symbol = self._symbol(side, ts_ms, open_until)
        payload = self._payload(
            ts_ms, symbol, side, ballot.confidence, ballot.consensus, ballot.total_models,
            ballot.breakdown,
        )  # fmt: skip
        p_win = self._p_win(side, ballot.patchtst, ts_ms)
        return Decision(symbol, side, ballot.confidence, payload, p_win, ballot.patchtst)

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
            "timestamp": iso(ts_ms),
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
            "timestamp": iso(ts_ms),
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
                "timestamp": iso(ts_ms),
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

    def _may_publish(self, ts_ms: int, decision: Decision) -> bool:
        """The real engine's publishing filter: confident enough, the symbol out of its
        cooldown, and under the per-minute cap; a published intent starts both clocks."""
        while self._last_minute and self._last_minute[0] <= ts_ms - 60_000:
            self._last_minute.popleft()
        last = self._symbol_last.get(decision.symbol)
        if (
            decision.confidence < MIN_PUBLISH_CONF
            or (last is not None and ts_ms - last < COOLDOWN_MS)
            or len(self._last_minute) >= MAX_PER_MINUTE
        ):
            return False
        self._symbol_last[decision.symbol] = ts_ms
        self._last_minute.append(ts_ms)
        return True

    def _foreign(self, ts_ms: int, payload: dict[str, Any]) -> dict[str, Any]:
        """Another publisher's trade.intent in the engine's payload shape. Its consensus is 4
        of 4 with an untagged PatchTST vote: a reader that does not filter on `source` would
        judge it and see the B1 blocker in shadow."""
        r = self.rng
        side = r.choice(("BUY", "SELL"))
        conf = round(r.uniform(0.6, 0.95), 4)
        body = {
            **payload,
            "symbol": r.choice(list(SYMBOLS)),
            "side": side,
            "confidence": conf,
            "timestamp": iso(ts_ms),
            "consensus_count": len(WEIGHTS),
            "total_models": len(WEIGHTS),
            "model_breakdown": {
                k: {"action": side, "confidence": conf, "model": k} for k in WEIGHTS
            },
        }
        return {**self._fields(ts_ms, json.dumps(body)), "source": FOREIGN_SOURCE}

    def entry(self, ts_ms: int, open_until: Mapping[tuple[str, str], int]) -> Made | None:
        """The decision at ts_ms and what it writes; None for HOLD or when the publishing
        filter holds it back. A (symbol, side) in `open_until` past ts_ms is not chosen while
        another symbol is free. Another publisher's entries (`foreign_ratio` per decision) are
        stamped at ts_ms + 1, + 2, ... ms."""
        s = self.scenario
        decision = self._decide(ts_ms, open_until)
        if decision is None or (s.publish_filter and not self._may_publish(ts_ms, decision)):
            return None
        if s.garbage_rate and self.rng.random() < s.garbage_rate:
            kind, fields = self._garbage(ts_ms, decision.payload)
        else:
            kind, fields = "intent", self._fields(ts_ms, json.dumps(decision.payload))
        foreign = [
            self._foreign(ts_ms + n, decision.payload) for n in range(1, s.foreign_ratio + 1)
        ]
        return Made(decision, kind, fields, foreign)

    def outcome(self, decision: Decision, ts_ms: int) -> tuple[int, dict[str, str]] | None:
        """Whether the intent written at ts_ms closes, and if so when (epoch ms) and the
        trade.closed fields written then, in the scenario's outcome form."""
        s, r = self.scenario, self.rng
        if r.random() >= s.outcome_rate:
            return None
        due = ts_ms + round(r.uniform(*s.outcome_delay_s) * 1000)
        win = r.random() < decision.p_win
        loss_scale = s.live_loss_scale if ts_ms >= self.start_ms else 1.0
        pnl = r.uniform(0.3, 2.5) if win else -r.uniform(0.3, 1.5) * loss_scale
        entry = decision.payload["entry_price"]
        long = decision.side == "BUY"
        exit_price = entry * (1 + pnl / 100) if long else entry * (1 - pnl / 100)
        size = decision.payload["position_size_usd"] * decision.payload["leverage"]
        flat = {
            "timestamp": iso(due),
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
        return due, self._outcome_form(flat, decision.side)

    def _outcome_form(self, flat: dict[str, str], side: str) -> dict[str, str]:
        """The flat LONG/SHORT fields as the scenario's publisher writes them: unchanged, the
        executor's (side BUY/SELL, no entry_price), or the event bus's (JSON `payload`);
        "mixed" cycles through the three."""
        form = self.scenario.outcome_form
        if form == "mixed":
            form = OUTCOME_FORMS[self._outcomes_n % len(OUTCOME_FORMS)]
            self._outcomes_n += 1
        if form == "executor":
            executor = {k: v for k, v in flat.items() if k not in ("entry_price", "model_id")}
            return {**executor, "side": side, "source": "executor"}
        if form == "bus":
            numbers = ("entry_price", "exit_price", "pnl_percent", "confidence", "pnl_usd")
            body = {k: float(v) if k in numbers else v for k, v in flat.items()}
            return {
                "event_type": "trade.closed",
                "payload": json.dumps(body),
                "timestamp": flat["timestamp"],
                "source": "event-bus",
            }
        return flat
