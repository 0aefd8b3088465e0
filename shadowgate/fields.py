"""Reading one stream entry's fields without ever raising past the parser: each helper
either returns a typed value or raises `Bad` with a reason an operator can act on, which
`intents.parse_intent` / `outcomes.parse_outcome` turn into a ParseError."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Literal, overload

import orjson

ABSENT_TEXT = ("", "None", "null")


Fields = Mapping[bytes, bytes] | Mapping[str, str] | Mapping[bytes | str, bytes | str]


class Bad(Exception):
    """Internal: carries a ParseError reason up to the public function that catches it."""


def json_text(value: Any) -> str:
    """A value as its JSON text, never raising: one nested deeper than json.dumps can go (orjson
    reads 1,024 levels) is named as such, since it is bad data, never a crash."""
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (RecursionError, ValueError):
        return f"<a JSON {type(value).__name__} nested too deep to show>"


def shown(value: Any) -> str:
    """A value as the operator would see it in the JSON, quoted and cut short."""
    text = value if isinstance(value, str) else json_text(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def ts_ms_of(entry_id: str) -> int:
    """The millisecond part of a stream id; a malformed id is bad data."""
    ms, sep, seq = entry_id.partition("-")
    if not (sep and ms.isascii() and ms.isdigit() and seq.isascii() and seq.isdigit()):
        raise Bad(f"entry id {shown(entry_id)} is not a stream id <ms>-<seq>")
    return int(ms)


def named_fields(fields: Fields) -> dict[str, Any]:
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


def utf8_reason(raw: bytes) -> str | None:
    try:
        raw.decode()
    except UnicodeDecodeError as exc:
        return f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
    return None


def text_value(flat: Mapping[str, Any], name: str) -> str | None:
    """A flat field as text, None when absent."""
    value = flat.get(name)
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, bytes):
        raise Bad(f"field {name} must be text, got {type(value).__name__}")
    if reason := utf8_reason(value):
        raise Bad(f"field {name} {reason}")
    return value.decode()


def label_value(flat: Mapping[str, Any], name: str) -> str | None:
    """A source or event_type as text, leniently: bytes that are not UTF-8 become U+FFFD,
    which can never equal the expected value, so such an entry is simply someone else's."""
    value = flat.get(name)
    if value is None or isinstance(value, str):
        return value
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def load_object(name: str, raw: Any) -> tuple[dict[str, Any], int]:
    """The body as a JSON object and its stored size in UTF-8 bytes.

    orjson first (fast); on failure the standard library, which also reads what the engine's
    `json.dumps` can write but orjson refuses (NaN, Infinity, huge integers), so a NaN in a
    field we never read does not lose the intent.
    """
    if not isinstance(raw, bytes | str):
        raise Bad(f"field {name} must be text, got {type(raw).__name__}")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if isinstance(raw, bytes) and (reason := utf8_reason(raw)):
            raise Bad(f"{name} {reason}") from None
        if isinstance(raw, str) and "surrogates" in exc.msg:
            raise Bad(f"{name} is not valid UTF-8 text (lone surrogate)") from None
        try:
            obj = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        except (ValueError, RecursionError):
            raise Bad(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        raise Bad(f"{name} must be a JSON object, got {kind.get(type(obj), 'a number')}")
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode())
    return obj, size


Body = tuple[str, dict[str, Any], int]  # field name (payload or data), JSON object, stored size


def json_body(flat: Mapping[str, Any]) -> Body | None:
    """The JSON body: the `payload` field, else `data`, else None."""
    for name in ("payload", "data"):
        if name in flat:
            return name, *load_object(name, flat[name])
    return None


def required_value(obj: Mapping[str, Any], where: str, key: str) -> Any:
    if key not in obj:
        raise Bad(f"{where}: {key} is missing")
    return obj[key]


def string_value(obj: Mapping[str, Any], where: str, key: str) -> str:
    value = required_value(obj, where, key)
    if not isinstance(value, str) or not value:
        raise Bad(f"{where}: {key} must be a non-empty string, got {shown(value)}")
    return value


def one_of(allowed: tuple[str, ...]) -> str:
    return f"{', '.join(allowed[:-1])} or {allowed[-1]}"


def choice_value(obj: Mapping[str, Any], where: str, key: str, allowed: tuple[str, ...]) -> str:
    value = required_value(obj, where, key)
    if value not in allowed:
        raise Bad(f"{where}: {key} must be {one_of(allowed)}, got {shown(value)}")
    return value


def number_value(obj: Mapping[str, Any], where: str, key: str) -> float:
    value = required_value(obj, where, key)
    if type(value) not in (int, float):
        raise Bad(f"{where}: {key} must be a number, got {shown(value)}")
    try:
        return float(value)
    except OverflowError:  # an integer json.loads reads whole, of 309 digits or more
        raise Bad(f"{where}: {key} is beyond any float, got {shown(value)}") from None


def id_text(entry_id: str | bytes) -> str:
    return entry_id.decode("ascii", "replace") if isinstance(entry_id, bytes) else entry_id


def text_field(flat: Mapping[str, Any], key: str, allowed: tuple[str, ...] = ()) -> str:
    text = text_value(flat, key)
    if text is None:
        raise Bad(f"field {key} is missing")
    if allowed and text not in allowed:
        raise Bad(f"field {key} must be {one_of(allowed)}, got {shown(text)}")
    if not text:
        raise Bad(f"field {key} must not be empty")
    return text


@overload
def number_field(
    flat: Mapping[str, Any], key: str, *, optional: Literal[False] = False
) -> float: ...
@overload
def number_field(flat: Mapping[str, Any], key: str, *, optional: bool) -> float | None: ...
def number_field(flat: Mapping[str, Any], key: str, *, optional: bool = False) -> float | None:
    """The field as a finite number; None only for an `optional` one that is absent."""
    text = text_value(flat, key)
    if optional and (text is None or text.strip() in ABSENT_TEXT):
        return None
    if text is None:
        raise Bad(f"field {key} is missing")
    try:
        value = float(text)
    except ValueError:
        raise Bad(f"field {key} must be a number, got {shown(text)}") from None
    if not math.isfinite(value):
        raise Bad(f"field {key} must be a finite number, got {shown(text)}")
    return value
