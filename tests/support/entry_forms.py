"""The engine's stream entry forms, built the way the real engine writes them."""

from __future__ import annotations

import json
from typing import Any


def engine_payload(
    side: str = "BUY",
    consensus: int = 3,
    patchtst: tuple[str, float] = ("BUY", 0.62),
    shadow: bool = True,
    **changes: Any,
) -> dict[str, Any]:
    """A trade.intent payload shaped like the engine's (about 1.2 KB once dumped)."""
    patchtst_vote = {"action": patchtst[0], "confidence": patchtst[1], "model": "patchtst"}
    if shadow:
        patchtst_vote.update(model="patchtst_shadow", shadow=True)
    payload: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "side": side,
        "confidence": 0.71,
        "timestamp": "2025-11-26T06:20:00.123456+00:00",
        "model": "ensemble",
        "consensus_count": consensus,
        "total_models": 4,
        "model_breakdown": {
            "xgb": {"action": side, "confidence": 0.74, "model": "xgboost_v20260101"},
            "lgbm": {"action": side, "confidence": 0.69, "model": "lightgbm_v20260101"},
            "nhits": {"action": side, "confidence": 0.66, "model": "nhits_v20251220"},
            "patchtst": patchtst_vote,
        },
        "position_size_usd": 250.0,
        "leverage": 5,
        "entry_price": 91234.5,
        "stop_loss": 89409.81,
        "take_profit": 94884.88,
        "regime": "trending_up",
        "volatility": 0.0213,
        "atr": 812.4,
        "risk_reward": 2.0,
        "indicators": {
            "rsi_14": 61.2,
            "macd": 112.7,
            "macd_signal": 98.3,
            "ema_50": 90110.2,
            "ema_200": 86502.9,
            "bb_width": 0.041,
            "volume_z": 1.37,
            "funding": 0.0001,
        },
        "meta": {
            "features": 48,
            "lookback": 512,
            "exchange": "binance",
            "interval": "5m",
            "engine_version": "2.14.3",
            "host": "vps-fra-1",
            "latency_ms": 38.2,
        },
        "features_sha256": "9b1e0c4f5a7d2e3b8c6a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c",
        "reason": "ensemble BUY 3/4 (xgb, lgbm, nhits); patchtst shadow vote excluded",
    }
    payload.update(changes)
    return payload


def engine_fields(payload: dict[str, Any] | str, **changes: str) -> dict[bytes, bytes]:
    """The flat fields the engine writes, as redis-py returns them (bytes)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    fields = {
        "event_type": "trade.intent",
        "payload": text,
        "trace_id": "4f1c2a9e-7d1b-4d6f-9a43-0c2b1e5d8f10",
        "correlation_id": "c-20251126-062000-btcusdt",
        "timestamp": "2025-11-26T06:20:00.124Z",
        "source": "ai-engine",
        **changes,
    }
    return {name.encode(): value.encode() for name, value in fields.items()}


def outcome_fields(**changes: str) -> dict[bytes, bytes]:
    fields = {
        "timestamp": "2025-11-26T07:05:12Z",
        "symbol": "BTCUSDT",
        "side": "LONG",
        "entry_price": "91234.5",
        "exit_price": "92146.85",
        "pnl_percent": "1.0",
        "confidence": "0.71",
        "model_id": "ensemble",
        "pnl_usd": "12.5",
        "reason": "take_profit",
        "source": "exit-monitor",
        **changes,
    }
    return {name.encode(): value.encode() for name, value in fields.items()}
