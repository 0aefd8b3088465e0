"""hypothesis strategies for the fuzz tests: every real form of the data ARCHITECTURE.md "The data"
describes (intents in both payload forms and every vote form, outcomes in their three forms),
mixed with what a broken or hostile publisher can write (arbitrary bytes, wrong types, NaN and
infinities, huge and nested payloads, odd votes), and the operator's option values.

Integers reach far beyond float's range (float() overflowed on them) and values nest deeper
than json.dumps can write (it ran out of recursion): the two bugs the fuzzing found.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from shadowgate.config import RANGES
from tests.support.entry_forms import engine_payload
from tests.support.envfile_reference import env_texts

INT_BITS = 1400  # JSON integers far beyond float's range (json.loads reads them whole)
MAX_DEPTH = 900  # near what json.dumps can write (the strategies write with it), orjson reads 1,024
Entry = dict[Any, Any]  # stream fields as redis-py returns them, or as hostile as it gets

# -- values ------------------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-(2**INT_BITS), 2**INT_BITS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.0, 1.0, 1.05, -0.0, 1e308, 5e-324, 2**53 + 1, 2**INT_BITS]),
)
odd_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "BUY", "buy", "SELL", "HOLD", "LONG", "NaN", "Infinity", "\x00", "\ud800"]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | odd_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=10,
)


def nested(depth: int, leaf: Any = 1) -> Any:
    """A value `depth` levels deep, lists and objects alternating."""
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"x": leaf}
    return leaf


deep_values = st.builds(nested, st.integers(2, MAX_DEPTH), json_values)


def dumps(value: Any, compact: bool) -> str:
    """json.dumps as the engine writes it (spaces, or compact), NaN and Infinity included."""
    return json.dumps(value, separators=(",", ":") if compact else None)


# -- every real vote and payload form ------------------------------------------------------

PATCHTST_FORMS = {
    "shadow-tagged": {"action": "BUY", "confidence": 0.62, "model": "patchtst_shadow",
                      "shadow": True},
    "inactive-shadow": {"action": "SELL", "confidence": 0.58, "model": "patchtst",
                        "inactive": True, "inactive_reason": "shadow_mode"},
    "voting": {"action": "BUY", "confidence": 0.66, "model": "patchtst"},
    "error": {"action": "HOLD", "confidence": 0.0, "model": "patchtst_error"},
    "hold-placeholder": {"action": "HOLD", "confidence": 0.0, "model": "patchtst_model"},
    "hold-earlier": {"action": "HOLD", "confidence": 0.5, "model": "patchtst_shadow",
                     "shadow": True},
}  # fmt: skip
FALLBACK_RULES = {"action": "BUY", "confidence": 1.05, "model": "fallback_rules",
                  "inactive": True, "inactive_reason": "fallback_rules"}  # fmt: skip


@st.composite
def real_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """An engine payload in one of its real forms: every PatchTST vote form (or none), TFT
    voting or not, a model on fallback rules, the `fallback` key alone, 4 or 5 total_models."""
    side = draw(st.sampled_from(["BUY", "SELL"]))
    payload = engine_payload(side=side, consensus=draw(st.integers(0, 5)))
    votes = payload["model_breakdown"]
    form = draw(st.sampled_from([*PATCHTST_FORMS, "missing"]))
    if form == "missing":
        del votes["patchtst"]
    else:
        votes["patchtst"] = dict(PATCHTST_FORMS[form])
    if draw(st.booleans()):
        votes["tft"] = {"action": side, "confidence": 0.7, "model": "tft"}
        payload["total_models"] = 5
    if draw(st.booleans()):
        votes["nhits"] = dict(FALLBACK_RULES)
    if draw(st.integers(0, 9)) == 0:
        payload["model_breakdown"] = {"fallback": {"action": side, "confidence": 0.55}}
    payload["confidence"] = draw(st.floats(0.75, 1.0))
    return payload


@st.composite
def real_intents(draw: st.DrawFn) -> Entry:
    """The engine's entry as redis-py returns it: `payload` (or `data`), spaces or compact,
    trace_id often empty, source flat or only inside the JSON."""
    payload = draw(real_payloads())
    flat_source = draw(st.booleans())
    if not flat_source:
        payload["source"] = "ai-engine"
    fields = {
        "event_type": "trade.intent",
        draw(st.sampled_from(["payload", "data"])): dumps(payload, draw(st.booleans())),
        "trace_id": draw(st.sampled_from(["", "4f1c2a9e-7d1b-4d6f-9a43-0c2b1e5d8f10"])),
        "correlation_id": "c-20251126-062000-btcusdt",
        "timestamp": "2025-11-26T06:20:00.124",
    }
    if flat_source:
        fields["source"] = "ai-engine"
    return {k.encode(): v.encode() for k, v in fields.items()}


foreign_intents = st.builds(
    lambda source, event, body: {b"source": source, b"event_type": event, b"payload": body},
    st.sampled_from([b"trading-bot", b"risk", b"\xff\xfe", b""]),
    st.sampled_from([b"trade.intent", b"heartbeat", b"\x80"]),
    st.one_of(st.binary(max_size=30), json_values.map(lambda v: dumps(v, True).encode())),
)

# -- what a broken publisher writes --------------------------------------------------------

PAYLOAD_KEYS = ("symbol", "side", "confidence", "consensus_count", "total_models",
                "model_breakdown", "source", "event_type")  # fmt: skip
odd_votes = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "action": st.sampled_from(["BUY", "SELL", "HOLD", "buy", "", None, 1]),
            "confidence": numbers | odd_text,
            "model": odd_text | st.sampled_from(["patchtst", "patchtst_shadow", "patchtst_error"]),
            "shadow": json_values,
            "inactive": json_values,
            "inactive_reason": json_values,
        },
    ),
)
odd_breakdowns = st.one_of(
    json_values,
    deep_values,
    st.dictionaries(
        st.sampled_from(["patchtst", "xgb", "tft", "fallback", ""]), odd_votes, max_size=5
    ),
)


@st.composite
def odd_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A real payload with some of its keys removed or given a wrong type, NaN, infinity, a
    deep value, odd votes, or a huge padding."""
    payload = draw(real_payloads())
    for key in draw(st.lists(st.sampled_from(PAYLOAD_KEYS), max_size=4, unique=True)):
        change = draw(st.sampled_from(["drop", "value", "deep", "votes"]))
        if change == "drop":
            payload.pop(key, None)
        elif change == "votes":
            payload["model_breakdown"] = draw(odd_breakdowns)
        else:
            payload[key] = draw(deep_values if change == "deep" else json_values)
    if draw(st.integers(0, 19)) == 0:
        payload["debug"] = "x" * draw(st.integers(10_000, 300_000))  # a huge payload
    return payload


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes | str:
    """A payload body that is broken: cut short, not UTF-8, not an object, a deep array."""
    text = dumps(draw(odd_payloads()), draw(st.booleans()))
    return draw(
        st.sampled_from(["as-is", "cut", "latin1", "value", "deep"]).flatmap(
            lambda how: {
                "as-is": st.just(text),
                "cut": st.integers(0, max(len(text) - 1, 0)).map(lambda n: text[:n]),
                "latin1": st.just(text.encode("utf-8") + b"\xff"),
                "value": json_values.map(lambda v: dumps(v, True)),
                "deep": st.integers(900, 3000).map(lambda n: "[" * n + "]" * n),
            }[how]
        )
    )


@st.composite
def hostile_intents(draw: st.DrawFn) -> Entry:
    """An entry that claims to be the engine's (or cannot be placed) but is broken, or whose
    flat fields are of any type at all."""
    kind = draw(st.sampled_from(["body", "flat", "bytes"]))
    if kind == "bytes":
        return draw(st.dictionaries(st.binary(max_size=8), st.binary(max_size=40), max_size=6))
    fields: Entry = {b"event_type": b"trade.intent", b"source": b"ai-engine"}
    fields[draw(st.sampled_from([b"payload", b"data"]))] = draw(hostile_bodies())
    if kind == "flat":  # a flat field dropped, or of any type at all
        names = [b"source", b"event_type", b"payload"]
        for name in draw(st.lists(st.sampled_from(names), max_size=2, unique=True)):
            if draw(st.booleans()):
                fields.pop(name, None)
            else:
                fields[name] = draw(json_values | st.binary(max_size=8))
    return fields


intent_entries = st.one_of(real_intents(), foreign_intents, hostile_intents())

# -- outcomes (trade.closed) ---------------------------------------------------------------

OUTCOME_TEXT = {"symbol": "BTCUSDT", "entry_price": "91234.5", "exit_price": "92146.85",
                "pnl_percent": "1.0", "confidence": "0.71", "pnl_usd": "12.5"}  # fmt: skip


@st.composite
def real_outcomes(draw: st.DrawFn, symbol: str = "BTCUSDT") -> Entry:
    """A closed trade in one of its real forms: flat LONG/SHORT, the executor's BUY/SELL
    without entry_price, or the event bus's JSON payload."""
    form = draw(st.sampled_from(["flat", "executor", "bus"]))
    values = {**OUTCOME_TEXT, "symbol": symbol, "pnl_percent": f"{draw(st.floats(-5, 5)):.3f}"}
    if form == "executor":
        del values["entry_price"]
        values["side"] = draw(st.sampled_from(["BUY", "SELL"]))
    else:
        values["side"] = draw(st.sampled_from(["LONG", "SHORT"]))
    if form == "bus":
        body = {k: draw(st.sampled_from([v, float(v)])) if k != "symbol" and k != "side" else v
                for k, v in values.items()}  # fmt: skip
        return {b"payload": dumps(body, draw(st.booleans())).encode(), b"source": b"event-bus"}
    return {k.encode(): v.encode() for k, v in values.items()}


@st.composite
def hostile_outcomes(draw: st.DrawFn) -> Entry:
    """A real outcome with fields dropped or replaced by anything at all."""
    fields = draw(real_outcomes())
    for name in draw(st.lists(st.sampled_from(list(fields)), max_size=3, unique=True)):
        if draw(st.booleans()):
            del fields[name]
        else:
            fields[name] = draw(
                st.binary(max_size=12)
                | odd_text.map(lambda t: t.encode("utf-8", "surrogatepass"))
                | numbers.map(lambda n: repr(n).encode())
            )
    return fields


outcome_entries = st.one_of(
    real_outcomes(),
    hostile_outcomes(),
    st.dictionaries(st.binary(max_size=8), st.binary(max_size=30), max_size=6),
)

# -- env files -----------------------------------------------------------------------------


@st.composite
def env_bytes(draw: st.DrawFn) -> bytes:
    """An env file's bytes: generated env text (every construct grep and systemd read
    differently), with bytes flipped, cut or inserted; or any bytes at all."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.binary(max_size=200))
    data = bytearray(draw(env_texts()).encode())
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=3))
    return bytes(data)


# -- option values -------------------------------------------------------------------------

THRESHOLD_KEYS = sorted(RANGES)
url_values = st.one_of(
    st.text(max_size=30),
    st.builds(
        "{}{}{}{}".format,
        st.sampled_from(["redis://", "rediss://", "unix://", "http://", "redis:/", ""]),
        st.sampled_from(["", "u:p@", ":pw@", "%zz@", "user@"]),
        st.sampled_from(["127.0.0.1", "h", "[::1]", "[::1", "", "\x00h", "é"]),
        st.sampled_from(
            ["", ":0", ":1", ":6379/0", ":99999", ":-1", ":x", "/2?db=x", "/0?password=p"]
        ),
    ),
)
set_items = st.one_of(
    st.text(max_size=30),
    st.builds(
        "{}{}{}".format,
        st.sampled_from(THRESHOLD_KEYS) | st.text(max_size=10),
        st.sampled_from(["=", " = ", "", "=="]),
        st.one_of(
            numbers.map(repr), odd_text, st.sampled_from(["1_000", "0x1", "\uff11\uff12", "true"])
        ),
    ),
)
toml_texts = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda key, value: "[{}]\n{} = {}\n".format(*key.split(".", 1), value),
        st.sampled_from(THRESHOLD_KEYS),
        st.sampled_from(["nan", "inf", "-1", "0", "1e400", '"x"', "true", "[1]", "{a=1}", "0.5"]),
    ),
)
