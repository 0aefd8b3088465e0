"""Properties: parsing never raises whatever an entry holds, and window/latest return the same
entries however they are batched (fakeredis, so hypothesis can try many streams quickly)."""

from __future__ import annotations

import json

import fakeredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shadowgate.intents import Foreign, Intent, ParseError, parse_intent
from shadowgate.outcomes import Outcome, parse_outcome
from shadowgate.stream import ReadOnlyRedis, StreamReader
from tests.support.entry_forms import engine_fields, engine_payload, outcome_fields

KEY = "quantum:stream:trade.intent"
BASE = 1764138000000
FAST = settings(max_examples=150, deadline=None)
STREAMS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip

NAMES = ["event_type", "payload", "data", "source", "trace_id", "timestamp", "symbol", "side",
         "entry_price", "exit_price", "pnl_percent", "confidence", "pnl_usd"]  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
payload_like = st.fixed_dictionaries(
    {},
    optional={
        key: json_values | st.sampled_from(["BUY", "SELL", "buy", 0.5, 3, "ai-engine"])
        for key in ("symbol", "side", "confidence", "consensus_count", "total_models", "source",
                    "event_type", "model_breakdown")
    },
)  # fmt: skip
body_text = st.one_of(
    st.text(max_size=40),
    st.binary(max_size=40),
    payload_like.map(json.dumps),
    json_values.map(json.dumps),
    st.builds(lambda p, cut: json.dumps(p)[:cut], payload_like, st.integers(0, 80)),
)
field_value = st.one_of(
    body_text, st.sampled_from(["ai-engine", "trade.intent", "LONG", "1.5", "nan", ""])
)
field_names = st.sampled_from(NAMES)
field_maps = st.dictionaries(
    field_names | field_names.map(str.encode) | st.binary(max_size=6), field_value, max_size=8
)
entry_ids = st.one_of(
    st.builds(lambda ms, seq: f"{ms}-{seq}", st.integers(0, 2**63), st.integers(0, 2**64 - 1)),
    st.text(max_size=12),
)


@FAST
@given(entry_ids, field_maps)
def test_parse_intent_never_raises_and_gives_one_kind(entry_id, fields):
    result = parse_intent(entry_id, fields)
    assert type(result) in (Intent, ParseError, Foreign)
    assert result.entry_id == entry_id


@FAST
@given(body_text, st.sampled_from(["payload", "data"]))
def test_any_body_of_an_engine_entry_is_an_intent_or_a_reason(text, name):
    result = parse_intent(f"{BASE}-0", {name: text, "source": "ai-engine"})
    assert type(result) in (Intent, ParseError)
    if isinstance(result, ParseError):
        assert result.reason


@FAST
@given(entry_ids, field_maps)
def test_parse_outcome_never_raises_and_gives_one_kind(entry_id, fields):
    assert type(parse_outcome(entry_id, fields)) in (Outcome, ParseError, Foreign)


# -- streams --

KINDS = {
    "intent": lambda i: engine_fields(engine_payload(consensus=i % 4)),
    "shadow-free": lambda i: engine_fields(engine_payload(consensus=4, shadow=False)),
    "data": lambda i: {"data": json.dumps(engine_payload()), "source": "ai-engine"},
    "foreign": lambda i: {"data": json.dumps({"event_type": "heartbeat"}), "source": "risk"},
    "bad": lambda i: engine_fields(engine_payload(side="sell")),
    "outcome": lambda i: outcome_fields(),
}
entries = st.lists(
    st.tuples(st.integers(0, 3), st.integers(1, 3), st.sampled_from(sorted(KINDS))),
    max_size=40,
)  # (ms gap to the previous entry, entries sharing that ms, kind)


def stream_of(spec: list[tuple[int, int, str]]) -> tuple[fakeredis.FakeRedis, list[str]]:
    client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    added, ms, seq = [], BASE, -1
    for i, (gap, same_ms, kind) in enumerate(spec):
        if gap:
            ms, seq = ms + gap, -1
        for _ in range(same_ms):
            seq += 1
            added.append(client.xadd(KEY, KINDS[kind](i), id=f"{ms}-{seq}").decode())
    return client, added


def readers(client: fakeredis.FakeRedis) -> tuple[StreamReader, StreamReader]:
    """The real intent reader, and one whose parser keeps every entry id as an 'error', in the
    order read, so the exact sequence of entries can be compared."""
    read_only = ReadOnlyRedis(client, "redis://fake/0")
    every_id = StreamReader(read_only, KEY, parser=lambda entry_id, _: ParseError(entry_id, ""))
    return StreamReader(read_only, KEY), every_id


def _ms(entry_id: str) -> int:
    return int(entry_id.split("-")[0])


@STREAMS
@given(entries.filter(bool), st.integers(1, 12), st.integers(-2, 50), st.integers(0, 60))
def test_window_is_the_same_whatever_the_batch(spec, batch, start_offset, length):
    client, added = stream_of(spec)
    read, every_id = readers(client)
    start = BASE + start_offset
    for end in (None, start + length):
        wanted = [i for i in added if _ms(i) >= start and (end is None or _ms(i) < end)]
        assert [e.entry_id for e in every_id.window(start, end, batch=batch).errors] == wanted
        big = read.window(start, end, batch=10_000)
        assert read.window(start, end, batch=batch) == big
        assert big.entries == len(wanted)
        assert (big.first_id, big.last_id) == ((wanted[0], wanted[-1]) if wanted else (None, None))
        assert big.covered == (_ms(added[0]) <= start)
        assert big.describe()


@STREAMS
@given(entries.filter(bool), st.integers(1, 60), st.integers(1, 12))
def test_latest_is_the_newest_n_records_whatever_the_batch(spec, n, batch):
    """The snapshot holds the n newest intents, read back past every other entry (counted)
    until found or the stream's start, and the same entries however the read is batched."""
    client, added = stream_of(spec)
    read_only = ReadOnlyRedis(client, "redis://fake/0")
    window = StreamReader(read_only, KEY, batch=batch).latest(n)
    whole = StreamReader(read_only, KEY).window(0)
    records = [r.entry_id for r in whole.records]
    assert [r.entry_id for r in window.records] == records[-n:]
    assert window.reached_end == (len(records) < n)
    passed = added if window.reached_end else added[added.index(records[-n]) :]
    assert (window.entries, window.first_id, window.last_id) == (
        len(passed), passed[0], passed[-1]
    )  # fmt: skip
    assert [e.entry_id for e in window.errors] == [
        e.entry_id for e in whole.errors if e.entry_id in set(passed)
    ]
    assert window == StreamReader(read_only, KEY, batch=1000).latest(n)
