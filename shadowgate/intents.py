"""Stream entries as typed values: Intent, Outcome, or a ParseError that names the entry.

The engine's stream is shared with other publishers and carries two payload forms, so bad or
foreign entries are data to count and report, never exceptions that end a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

ACTIONS = ("BUY", "SELL", "HOLD")


@dataclass(frozen=True, slots=True)
class ModelVote:
    """One model's entry in model_breakdown."""

    action: str
    confidence: float
    model: str
    shadow: bool = False


@dataclass(frozen=True, slots=True)
class Intent:
    """One trade.intent published by the AI engine (the ensemble acted on it)."""

    entry_id: str
    ts_ms: int  # from the stream entry id: when Redis accepted it
    symbol: str
    side: str  # BUY or SELL (upper case)
    confidence: float
    consensus_count: int
    total_models: int
    breakdown: Mapping[str, ModelVote] = field(default_factory=dict)  # without "fallback"
    fallback: bool = False  # a "fallback" entry was present (consensus forced to 1)
    payload_bytes: int = 0  # size of the payload JSON string as stored (UTF-8 bytes)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One closed trade from trade.closed (side LONG or SHORT)."""

    entry_id: str
    ts_ms: int
    symbol: str
    side: str
    entry_price: float
    exit_price: float
    pnl_percent: float
    confidence: float | None = None
    pnl_usd: float | None = None


@dataclass(frozen=True, slots=True)
class ParseError:
    """An entry that should have been an intent or outcome but could not be read."""

    entry_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Foreign:
    """An entry of another publisher or event type: counted, never parsed."""

    entry_id: str
    source: str
    event_type: str
