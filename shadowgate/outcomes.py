"""trade.closed entries as typed values: Outcome, Foreign, or a ParseError that names the entry.

Outcomes are accepted from any source (several publishers write them, and no intent id links
them anyway), in three forms: flat LONG/SHORT, the executor's flat BUY/SELL without
entry_price, and the event bus's JSON `payload`. An entry carrying none of the outcome fields
(symbol, side, entry_price, exit_price, pnl_percent) is Foreign; one with some of them but a
missing or bad one is a ParseError. Optional fields written as "", "None" or "null" count as
absent. `ts_ms` always comes from the entry id (when Redis accepted it); the `timestamp`
fields are not read. Like `intents.parse_intent`, `parse_outcome` never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shadowgate.fields import (
    Bad,
    Fields,
    id_text,
    json_text,
    label_value,
    load_object,
    named_fields,
    number_field,
    shown,
    text_field,
    ts_ms_of,
)
from shadowgate.intents import INTENT_SIDES, Foreign, ParseError

OUTCOME_SIDES = ("LONG", "SHORT")
EXECUTOR_SIDE = {"BUY": "LONG", "SELL": "SHORT"}  # the executor writes the opening side
OUTCOME_FIELDS = ("symbol", "side", "entry_price", "exit_price", "pnl_percent")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One closed trade from trade.closed (side LONG or SHORT)."""

    entry_id: str
    ts_ms: int
    symbol: str
    side: str  # LONG or SHORT (the executor's BUY / SELL read as LONG / SHORT)
    entry_price: float | None  # None in the executor's form
    exit_price: float
    pnl_percent: float
    confidence: float | None = None
    pnl_usd: float | None = None


def _bus_fields(flat: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event-bus form carries the outcome keys inside a JSON `payload`: read them as the
    flat form's text fields (numbers as their JSON text), so one rule judges both forms."""
    if any(key in flat for key in OUTCOME_FIELDS) or "payload" not in flat:
        return flat
    obj, _ = load_object("payload", flat["payload"])
    return {
        key: value if isinstance(value, str) or value is None else json_text(value)
        for key, value in obj.items()
    }


def parse_outcome(entry_id: str | bytes, fields: Fields) -> Outcome | ParseError | Foreign:
    """One trade.closed entry as an Outcome, a Foreign entry, or a ParseError; never raises.

    Three real forms: flat fields with side LONG/SHORT; the executor's flat form with side
    BUY/SELL and no entry_price (BUY opened a LONG, SELL a SHORT); and the event-bus form with
    the same keys in a JSON `payload`."""
    entry_id = id_text(entry_id)
    try:
        ts_ms = ts_ms_of(entry_id)
        outer = named_fields(fields)
        flat = _bus_fields(outer)
        if not any(key in flat for key in OUTCOME_FIELDS):
            return Foreign(
                entry_id, label_value(outer, "source") or "", label_value(outer, "event_type") or ""
            )
        confidence = number_field(flat, "confidence", optional=True)
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            raise Bad(f"field confidence must be between 0 and 1, got {shown(confidence)}")
        side = text_field(flat, "side", OUTCOME_SIDES + INTENT_SIDES)
        return Outcome(
            entry_id=entry_id,
            ts_ms=ts_ms,
            symbol=text_field(flat, "symbol"),
            side=EXECUTOR_SIDE.get(side, side),
            entry_price=number_field(flat, "entry_price", optional=True),
            exit_price=number_field(flat, "exit_price"),
            pnl_percent=number_field(flat, "pnl_percent"),
            confidence=confidence,
            pnl_usd=number_field(flat, "pnl_usd", optional=True),
        )
    except Bad as bad:
        return ParseError(entry_id, str(bad))
