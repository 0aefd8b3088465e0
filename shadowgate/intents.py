"""Stream entries as typed values: Intent, Outcome, or a ParseError that names the entry.

The engine's stream is shared with other publishers and carries two payload forms, so bad or
foreign entries are data to count and report, never exceptions that end a run: `parse_intent`
and `parse_outcome` return a ParseError (with a reason an operator can act on) instead of
raising, whatever the entry holds.

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

Outcomes (`parse_outcome`, trade.closed) are accepted from any source: the outcomes stream has
no second publisher we know of, and no intent id links them anyway. An entry carrying none of
the outcome fields (symbol, side, entry_price, exit_price, pnl_percent) is Foreign; one with
some of them but a missing or bad one is a ParseError. Optional fields written as "", "None"
or "null" count as absent. `ts_ms` always comes from the entry id (when Redis accepted it); the
`timestamp` fields are not read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

ACTIONS = ("BUY", "SELL", "HOLD")
INTENT_SIDES = ("BUY", "SELL")
OUTCOME_SIDES = ("LONG", "SHORT")
ENGINE_SOURCE = "ai-engine"
INTENT_EVENT = "trade.intent"
FALLBACK_KEY = "fallback"
OUTCOME_FIELDS = ("symbol", "side", "entry_price", "exit_price", "pnl_percent")
_ABSENT_TEXT = ("", "None", "null")

Fields = Mapping[bytes, bytes] | Mapping[str, str] | Mapping[bytes | str, bytes | str]


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


class _Bad(Exception):
    """Internal: carries a ParseError reason up to the public function that catches it."""


def _shown(value: Any) -> str:
    """A value as the operator would see it in the JSON, quoted and cut short."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _ts_ms(entry_id: str) -> int:
    """The millisecond part of a stream id; a malformed id is bad data."""
    ms, sep, seq = entry_id.partition("-")
    if not (sep and ms.isascii() and ms.isdigit() and seq.isascii() and seq.isdigit()):
        raise _Bad(f"entry id {_shown(entry_id)} is not a stream id <ms>-<seq>")
    return int(ms)


def _flat(fields: Fields) -> dict[str, Any]:
    """Field names as text (names that are not UTF-8 cannot be ours and are dropped)."""
    flat: dict[str, Any] = {}
    for name, value in fields.items():
        if isinstance(name, bytes):
            try:
                name = name.decode()
            except UnicodeDecodeError:
                continue
        flat[name] = value
    return flat


def _utf8_reason(raw: bytes) -> str | None:
    try:
        raw.decode()
    except UnicodeDecodeError as exc:
        return f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
    return None


def _text(flat: Mapping[str, Any], name: str) -> str | None:
    """A flat field as text, None when absent."""
    value = flat.get(name)
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        raise _Bad(f"field {name} must be text, got {type(value).__name__}")
    if reason := _utf8_reason(value):
        raise _Bad(f"field {name} {reason}")
    return value.decode()


def _label(flat: Mapping[str, Any], name: str) -> str | None:
    """A source or event_type as text, leniently: bytes that are not UTF-8 become U+FFFD,
    which can never equal the expected value, so such an entry is simply someone else's."""
    value = flat.get(name)
    if value is None or isinstance(value, str):
        return value
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _load_object(name: str, raw: Any) -> tuple[dict[str, Any], int]:
    """The body as a JSON object and its stored size in UTF-8 bytes.

    orjson first (fast); on failure the standard library, which also reads what the engine's
    `json.dumps` can write but orjson refuses (NaN, Infinity, huge integers), so a NaN in a
    field we never read does not lose the intent.
    """
    if not isinstance(raw, bytes | str):
        raise _Bad(f"field {name} must be text, got {type(raw).__name__}")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if isinstance(raw, bytes) and (reason := _utf8_reason(raw)):
            raise _Bad(f"{name} {reason}") from None
        if isinstance(raw, str) and "surrogates" in exc.msg:
            raise _Bad(f"{name} is not valid UTF-8 text (lone surrogate)") from None
        try:
            obj = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        except (ValueError, RecursionError):
            raise _Bad(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        raise _Bad(f"{name} must be a JSON object, got {kind.get(type(obj), 'a number')}")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode())
    return obj, size


Body = tuple[str, dict[str, Any], int]  # field name (payload or data), JSON object, stored size


def _body(flat: Mapping[str, Any]) -> Body | None:
    """The JSON body: the `payload` field, else `data`, else None."""
    for name in ("payload", "data"):
        if name in flat:
            return name, *_load_object(name, flat[name])
    return None


def _json_label(body: Body | None, key: str) -> str | None:
    """The body's own source or event_type; a non-string one is shown as its JSON text."""
    value = None if body is None else body[1].get(key)
    return value if value is None or isinstance(value, str) else json.dumps(value)


def _owned_body(
    flat: Mapping[str, Any], entry_id: str, source: str, event_type: str
) -> Foreign | Body | None:
    """The module's ownership rule: Foreign, or the engine's body (None if it has none)."""
    flat_source = _label(flat, "source")
    flat_event = _label(flat, "event_type")
    if flat_source is not None:
        if flat_source != source:
            return Foreign(entry_id, flat_source, flat_event or "")
        return _body(flat)
    try:
        body = _body(flat)
    except _Bad:
        if flat_event is None or flat_event == event_type:
            raise  # the engine's broken entry, or one nobody can place: show it
        return Foreign(entry_id, "", flat_event)
    json_source = _json_label(body, "source")
    kind = flat_event if flat_event is not None else _json_label(body, "event_type")
    if json_source is not None and json_source != source:
        return Foreign(entry_id, json_source, kind or "")
    if json_source is None and kind != event_type:
        return Foreign(entry_id, "", kind or "")
    return body


def _required(obj: Mapping[str, Any], where: str, key: str) -> Any:
    if key not in obj:
        raise _Bad(f"{where}: {key} is missing")
    return obj[key]


def _string(obj: Mapping[str, Any], where: str, key: str) -> str:
    value = _required(obj, where, key)
    if not isinstance(value, str) or not value:
        raise _Bad(f"{where}: {key} must be a non-empty string, got {_shown(value)}")
    return value


def _one_of(allowed: tuple[str, ...]) -> str:
    return f"{', '.join(allowed[:-1])} or {allowed[-1]}"


def _choice(obj: Mapping[str, Any], where: str, key: str, allowed: tuple[str, ...]) -> str:
    value = _required(obj, where, key)
    if value not in allowed:
        raise _Bad(f"{where}: {key} must be {_one_of(allowed)}, got {_shown(value)}")
    return value


def _integer(obj: Mapping[str, Any], where: str, key: str) -> int:
    value = _required(obj, where, key)
    if type(value) is not int:
        raise _Bad(f"{where}: {key} must be an integer, got {_shown(value)}")
    if value < 0:
        raise _Bad(f"{where}: {key} must not be negative, got {_shown(value)}")
    return value


def _confidence(obj: Mapping[str, Any], where: str, key: str = "confidence") -> float:
    value = _required(obj, where, key)
    if type(value) not in (int, float):
        raise _Bad(f"{where}: {key} must be a number, got {_shown(value)}")
    if not 0.0 <= value <= 1.0:
        raise _Bad(f"{where}: {key} must be between 0 and 1, got {_shown(value)}")
    return float(value)


def _vote(where: str, raw: Any) -> ModelVote:
    if not isinstance(raw, dict):
        raise _Bad(f"{where} must be an object, got {_shown(raw)}")
    shadow = raw.get("shadow", False)
    if not isinstance(shadow, bool):
        raise _Bad(f"{where}: shadow must be true or false, got {_shown(shadow)}")
    return ModelVote(
        action=_choice(raw, where, "action", ACTIONS),
        confidence=_confidence(raw, where),
        model=_string(raw, where, "model"),
        shadow=shadow,
    )


def _breakdown(obj: Mapping[str, Any], where: str) -> tuple[dict[str, ModelVote], bool]:
    raw = _required(obj, where, "model_breakdown")
    if not isinstance(raw, dict):
        raise _Bad(f"{where}: model_breakdown must be an object, got {_shown(raw)}")
    votes = {
        name: _vote(f"{where}: model_breakdown.{name}", vote)
        for name, vote in raw.items()
        if name != FALLBACK_KEY
    }
    return votes, FALLBACK_KEY in raw


def _id_text(entry_id: str | bytes) -> str:
    return entry_id.decode("ascii", "replace") if isinstance(entry_id, bytes) else entry_id


def parse_intent(
    entry_id: str | bytes,
    fields: Fields,
    source: str = ENGINE_SOURCE,
    event_type: str = INTENT_EVENT,
) -> Intent | ParseError | Foreign:
    """One trade.intent entry as an Intent, a Foreign entry, or a ParseError; never raises."""
    entry_id = _id_text(entry_id)
    try:
        ts_ms = _ts_ms(entry_id)
        owned = _owned_body(_flat(fields), entry_id, source, event_type)
        if isinstance(owned, Foreign):
            return owned
        if owned is None:
            raise _Bad("no payload or data field")
        where, obj, size = owned
        symbol = _string(obj, where, "symbol")
        side = _choice(obj, where, "side", INTENT_SIDES)
        confidence = _confidence(obj, where)
        consensus_count = _integer(obj, where, "consensus_count")
        total_models = _integer(obj, where, "total_models")
        breakdown, fallback = _breakdown(obj, where)
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
        )
    except _Bad as bad:
        return ParseError(entry_id, str(bad))


def _text_field(flat: Mapping[str, Any], key: str, allowed: tuple[str, ...] = ()) -> str:
    text = _text(flat, key)
    if text is None:
        raise _Bad(f"field {key} is missing")
    if allowed and text not in allowed:
        raise _Bad(f"field {key} must be {_one_of(allowed)}, got {_shown(text)}")
    if not text:
        raise _Bad(f"field {key} must not be empty")
    return text


def _number_field(flat: Mapping[str, Any], key: str, *, optional: bool = False) -> float | None:
    text = _text(flat, key)
    if optional and (text is None or text.strip() in _ABSENT_TEXT):
        return None
    if text is None:
        raise _Bad(f"field {key} is missing")
    try:
        value = float(text)
    except ValueError:
        raise _Bad(f"field {key} must be a number, got {_shown(text)}") from None
    if not math.isfinite(value):
        raise _Bad(f"field {key} must be a finite number, got {_shown(text)}")
    return value


def parse_outcome(entry_id: str | bytes, fields: Fields) -> Outcome | ParseError | Foreign:
    """One trade.closed entry as an Outcome, a Foreign entry, or a ParseError; never raises."""
    entry_id = _id_text(entry_id)
    try:
        ts_ms = _ts_ms(entry_id)
        flat = _flat(fields)
        if not any(key in flat for key in OUTCOME_FIELDS):
            return Foreign(entry_id, _label(flat, "source") or "", _label(flat, "event_type") or "")
        confidence = _number_field(flat, "confidence", optional=True)
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            raise _Bad(f"field confidence must be between 0 and 1, got {_shown(confidence)}")
        return Outcome(
            entry_id=entry_id,
            ts_ms=ts_ms,
            symbol=_text_field(flat, "symbol"),
            side=_text_field(flat, "side", OUTCOME_SIDES),
            entry_price=_number_field(flat, "entry_price"),
            exit_price=_number_field(flat, "exit_price"),
            pnl_percent=_number_field(flat, "pnl_percent"),
            confidence=confidence,
            pnl_usd=_number_field(flat, "pnl_usd", optional=True),
        )
    except _Bad as bad:
        return ParseError(entry_id, str(bad))
