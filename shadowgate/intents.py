"""trade.intent entries as typed values: Intent, Foreign, or a ParseError that names the entry.

The engine's stream is shared with other publishers and carries two payload forms, so bad or
foreign entries are data to count and report, never exceptions that end a run: `parse_intent`
(and outcomes.py's `parse_outcome`) return a ParseError (with a reason an operator can act on)
instead of raising, whatever the entry holds.

Whose entry is it (`parse_intent`)? The engine writes a flat `source` field ("ai-engine").
- A `source` decides: the flat field if present, else the JSON object's "source". Equal to
  the expected source: the engine's; anything else: Foreign (counted, never parsed).
- With no source anywhere, the entry is the engine's only if its `event_type` (flat field,
  else the JSON's) equals the expected event type; otherwise it is Foreign.
- When there is no flat source and the body cannot be read, the flat `event_type` alone
  decides; with neither, the entry is a ParseError: an unreadable entry of unknown origin is
  shown to the operator rather than silently skipped.
- A source or event type that is not text (or not UTF-8) never equals the expected one.
The body is the `payload` field, or `data` where `payload` is absent (other publishers' form);
both are JSON objects holding the payload keys directly.

`ts_ms` always comes from the entry id (when Redis accepted it). Closed trades (Outcome) are
outcomes.py's, with the same ParseError and Foreign.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from shadowgate.fields import (
    Bad,
    Body,
    Fields,
    choice_value,
    id_text,
    json_body,
    json_text,
    label_value,
    named_fields,
    number_value,
    required_value,
    shown,
    string_value,
    ts_ms_of,
)

ACTIONS = ("BUY", "SELL", "HOLD")
INTENT_SIDES = ("BUY", "SELL")
ENGINE_SOURCE = "ai-engine"
INTENT_EVENT = "trade.intent"
FALLBACK_KEY = "fallback"
_ENCODED = {ENGINE_SOURCE: ENGINE_SOURCE.encode()}  # the fast path's flat source (others: slow)


# Intent and ModelVote are read-only by convention, not frozen: a frozen dataclass's __init__
# costs about six times a plain one's, and a day holds up to a million intents of five votes.


@dataclass(slots=True, unsafe_hash=True)
class ModelVote:
    """One model's entry in model_breakdown, as written (a confidence outside 0..1 is kept:
    fallback rules write up to 1.05, and an odd value is a finding, not a reason to drop the
    intent)."""

    action: str
    confidence: float
    model: str
    shadow: bool = False  # `"shadow": true` (earlier engine)
    inactive: bool = False  # `"inactive": true` (later engine): excluded from the vote
    inactive_reason: str | None = None  # "shadow_mode", "fallback_rules", ...

    @property
    def odd(self) -> bool:
        """The confidence is outside 0..1: kept and counted, never trusted as a probability."""
        return not 0.0 <= self.confidence <= 1.0


@dataclass(slots=True)
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
    fallback: bool = False  # a "fallback" key was present: not a model, hides no vote beside it
    payload_bytes: int = 0  # size of the payload JSON string as stored (UTF-8 bytes)
    unreadable_votes: Mapping[str, str] = field(default_factory=dict)  # name -> why not read


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


def json_label(body: Body | None, key: str) -> str | None:
    """The body's own source or event_type; a non-string one is shown as its JSON text."""
    value = None if body is None else body[1].get(key)
    return value if value is None or isinstance(value, str) else json_text(value)


def _owned_body(
    flat: Mapping[str, Any], entry_id: str, source: str, event_type: str
) -> Foreign | Body | None:
    """The module's ownership rule: Foreign, or the engine's body (None if it has none)."""
    flat_source = label_value(flat, "source")
    flat_event = label_value(flat, "event_type")
    if flat_source is not None:
        if flat_source != source:
            return Foreign(entry_id, flat_source, flat_event or "")
        return json_body(flat)
    try:
        body = json_body(flat)
    except Bad:
        if flat_event is None or flat_event == event_type:
            raise  # the engine's broken entry, or one nobody can place: show it
        return Foreign(entry_id, "", flat_event)
    json_source = json_label(body, "source")
    kind = flat_event if flat_event is not None else json_label(body, "event_type")
    if json_source is not None and json_source != source:
        return Foreign(entry_id, json_source, kind or "")
    if json_source is None and kind != event_type:
        return Foreign(entry_id, "", kind or "")
    return body


def _integer(obj: Mapping[str, Any], where: str, key: str) -> int:
    value = required_value(obj, where, key)
    if type(value) is not int:
        raise Bad(f"{where}: {key} must be an integer, got {shown(value)}")
    if value < 0:
        raise Bad(f"{where}: {key} must not be negative, got {shown(value)}")
    return value


def _confidence(obj: Mapping[str, Any], where: str, key: str = "confidence") -> float:
    value = number_value(obj, where, key)
    if not 0.0 <= value <= 1.0:
        raise Bad(f"{where}: {key} must be between 0 and 1, got {shown(value)}")
    return value


def _vote_confidence(obj: Mapping[str, Any], where: str) -> float:
    value = number_value(obj, where, "confidence")
    if not math.isfinite(value):
        raise Bad(f"{where}: confidence must be a finite number, got {shown(value)}")
    return value


def _optional(obj: Mapping[str, Any], where: str, key: str, kind: type, wanted: str) -> Any:
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise Bad(f"{where}: {key} must be {wanted}, got {shown(value)}")
    return value


def _vote(where: str, raw: Any) -> ModelVote:
    fast = _plain_vote(raw)
    if fast is not None:
        return fast
    if not isinstance(raw, dict):
        raise Bad(f"{where} must be an object, got {shown(raw)}")
    return ModelVote(
        action=choice_value(raw, where, "action", ACTIONS),
        confidence=_vote_confidence(raw, where),
        model=string_value(raw, where, "model"),
        shadow=bool(_optional(raw, where, "shadow", bool, "true or false")),
        inactive=bool(_optional(raw, where, "inactive", bool, "true or false")),
        inactive_reason=_optional(raw, where, "inactive_reason", str, "a string"),
    )


def _plain_vote(raw: Any) -> ModelVote | None:
    """The common well-formed vote, read with the same rules as `_vote` in one pass (four votes
    per intent make this the parser's hot spot); None sends anything else down `_vote`'s
    checks, which name what is wrong."""
    if type(raw) is not dict:
        return None
    action, confidence, model = raw.get("action"), raw.get("confidence"), raw.get("model")
    shadow, inactive = raw.get("shadow", False), raw.get("inactive", False)
    reason = raw.get("inactive_reason")
    if (
        action in ACTIONS
        and type(confidence) is float
        and math.isfinite(confidence)
        and type(model) is str
        and model
        and type(shadow) is bool
        and type(inactive) is bool
        and (reason is None or type(reason) is str)
    ):
        return ModelVote(action, confidence, model, shadow, inactive, reason)
    return None


Breakdown = tuple[dict[str, ModelVote], bool, dict[str, str]]  # votes, fallback, unreadable


def _breakdown(obj: Mapping[str, Any], where: str) -> Breakdown:
    """The votes; one vote that cannot be read is set aside with its reason, never the intent
    (a consensus-4 intent must not vanish because an excluded model wrote something odd)."""
    raw = required_value(obj, where, "model_breakdown")
    if not isinstance(raw, dict):
        raise Bad(f"{where}: model_breakdown must be an object, got {shown(raw)}")
    votes: dict[str, ModelVote] = {}
    unreadable: dict[str, str] = {}
    for name, vote in raw.items():
        if name == FALLBACK_KEY:
            continue
        try:
            votes[name] = _vote(f"{where}: model_breakdown.{name}", vote)
        except Bad as bad:
            unreadable[name] = str(bad)
    return votes, FALLBACK_KEY in raw, unreadable


def _plain_intent(entry_id: str, fields: Fields, source: str) -> Intent | None:
    """The engine's common entry (flat `source`, a `payload` of well-formed votes) read with the
    same rules as `parse_intent` in one pass: a day holds up to a million of them. None sends
    anything else (other forms and publishers, anything odd) down the full path, which names
    what is wrong."""
    if type(fields) is not dict:  # redis-py's own dict only
        return None
    raw = fields.get(b"payload")
    expected = _ENCODED.get(source)
    if type(raw) is not bytes or expected is None or fields.get(b"source") != expected:
        return None
    ms, sep, seq = entry_id.partition("-")
    if not (sep and ms.isascii() and ms.isdigit() and seq.isascii() and seq.isdigit()):
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(obj) is not dict:
        return None
    symbol, side, confidence = obj.get("symbol"), obj.get("side"), obj.get("confidence")
    consensus, total, raw_votes = (
        obj.get("consensus_count"),
        obj.get("total_models"),
        obj.get("model_breakdown"),
    )
    if not (
        type(symbol) is str
        and symbol
        and side in INTENT_SIDES
        and type(confidence) is float
        and 0.0 <= confidence <= 1.0
        and type(consensus) is int
        and consensus >= 0
        and type(total) is int
        and total >= 0
        and type(raw_votes) is dict
    ):
        return None
    breakdown: dict[str, ModelVote] = {}
    for name, raw_vote in raw_votes.items():
        if name != FALLBACK_KEY:
            if (vote := _plain_vote(raw_vote)) is None:
                return None
            breakdown[name] = vote
    fallback = FALLBACK_KEY in raw_votes
    return Intent(
        entry_id, int(ms), symbol, side, confidence, consensus, total, breakdown, fallback, len(raw)
    )


def parse_intent(
    entry_id: str | bytes,
    fields: Fields,
    source: str = ENGINE_SOURCE,
    event_type: str = INTENT_EVENT,
) -> Intent | ParseError | Foreign:
    """One trade.intent entry as an Intent, a Foreign entry, or a ParseError; never raises."""
    entry_id = id_text(entry_id)
    plain = _plain_intent(entry_id, fields, source)
    return plain if plain is not None else _read_intent(entry_id, fields, source, event_type)


def _read_intent(
    entry_id: str, fields: Fields, source: str, event_type: str
) -> Intent | ParseError | Foreign:
    """`parse_intent` for any entry, naming what is wrong with a bad one."""
    try:
        ts_ms = ts_ms_of(entry_id)
        owned = _owned_body(named_fields(fields), entry_id, source, event_type)
        if isinstance(owned, Foreign):
            return owned
        if owned is None:
            raise Bad("no payload or data field")
        where, obj, size = owned
        symbol = string_value(obj, where, "symbol")
        side = choice_value(obj, where, "side", INTENT_SIDES)
        confidence = _confidence(obj, where)
        consensus_count = _integer(obj, where, "consensus_count")
        total_models = _integer(obj, where, "total_models")
        breakdown, fallback, unreadable = _breakdown(obj, where)
        return Intent(
            entry_id=entry_id,
            ts_ms=ts_ms,
            symbol=symbol,
            side=side,
            confidence=confidence,
            consensus_count=consensus_count,
            total_models=total_models,
            breakdown=breakdown,
            fallback=fallback,
            payload_bytes=size,
            unreadable_votes=unreadable,
        )
    except Bad as bad:
        return ParseError(entry_id, str(bad))
