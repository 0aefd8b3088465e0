"""The fast path for the engine's common entry (`intents._plain_intent`) reads exactly what the
full parser reads: for entries in every form, with any field made odd, it either steps aside
(None) or returns the very Intent the full path returns."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from shadowgate import intents
from shadowgate.testbed import scenarios
from shadowgate.testbed.engine_entries import EntryMaker

ODD_VALUES = [None, "", "BUY", "HOLD", "x", 0, 1, -1, 2, 0.0, 0.5, 1.0, 1.05, -0.1, True, False,
              [], {}, "shadow_mode", float("nan"), 10**30]  # fmt: skip
VOTE_KEYS = ["action", "confidence", "model", "shadow", "inactive", "inactive_reason"]
TOP_KEYS = ["symbol", "side", "confidence", "consensus_count", "total_models", "model_breakdown"]


SCENARIOS = ("healthy_shadow", "healthy_voting", "later_engine", "shadow_leak_lgbm_fallback",
             "shadow_leak_fallback_null", "dead_zone")  # fmt: skip


def engine_payloads(seed: int, per_scenario: int = 30) -> list[dict]:
    """Payloads the stand-in engine writes, in its scenarios' vote forms (shadow tags and
    inactive/shadow_mode, fallback rules, every failure form, "fallback" keys)."""
    found = []
    for name in SCENARIOS:
        maker = EntryMaker(scenarios.get(name), True, random.Random(seed), 1_700_000_000_000)
        ts, made = 1_700_000_000_000, 0
        while made < per_scenario:
            ts += 10_000
            entry = maker.entry(ts, {})
            if entry is not None and entry.kind == "intent":
                found.append(json.loads(entry.fields["payload"]))
                made += 1
    return found


PAYLOADS = engine_payloads(7)


@st.composite
def entries(draw: st.DrawFn) -> tuple[str, dict]:
    payload = json.loads(json.dumps(draw(st.sampled_from(PAYLOADS))))
    for _ in range(draw(st.integers(0, 2))):
        where = draw(st.sampled_from(["top", "vote", "drop"]))
        if where == "top":
            payload[draw(st.sampled_from(TOP_KEYS))] = draw(st.sampled_from(ODD_VALUES))
        elif where == "drop":
            payload.pop(draw(st.sampled_from(TOP_KEYS)), None)
        elif isinstance(payload.get("model_breakdown"), dict) and payload["model_breakdown"]:
            name = draw(st.sampled_from(sorted(payload["model_breakdown"])))
            vote = payload["model_breakdown"][name]
            if isinstance(vote, dict):
                vote[draw(st.sampled_from(VOTE_KEYS))] = draw(st.sampled_from(ODD_VALUES))
    text = json.dumps(payload, separators=draw(st.sampled_from([None, (",", ":")])))
    fields = {b"event_type": b"trade.intent", b"payload": text.encode(), b"source": b"ai-engine"}
    source = draw(st.sampled_from([b"ai-engine", b"trading-bot", None]))
    if source is None:
        del fields[b"source"]
    else:
        fields[b"source"] = source
    if draw(st.booleans()):
        fields[b"data"] = fields.pop(b"payload")
    entry_id = draw(st.sampled_from(["1700000000000-0", "1700000000000-12", "17x-0", "1-"]))
    return entry_id, fields


@settings(max_examples=400, deadline=None)
@given(entries())
def test_the_fast_path_reads_what_the_full_parser_reads(entry):
    entry_id, fields = entry
    full = intents._read_intent(entry_id, fields, intents.ENGINE_SOURCE, intents.INTENT_EVENT)
    fast = intents._plain_intent(entry_id, fields, intents.ENGINE_SOURCE)
    assert fast is None or fast == full
    assert intents.parse_intent(entry_id, fields) == full


def test_the_fast_path_takes_the_engines_plain_entries():
    for payload in PAYLOADS[:20]:
        fields = {b"payload": json.dumps(payload).encode(), b"source": b"ai-engine"}
        assert intents._plain_intent("1700000000000-0", fields, intents.ENGINE_SOURCE) is not None


def one_change_each() -> list[dict]:
    """Each scenario's first payload with one top-level or vote field set to each odd value."""
    changed = []
    for payload in PAYLOADS[:: len(PAYLOADS) // len(SCENARIOS)]:
        for key in TOP_KEYS:
            for value in ODD_VALUES:
                changed.append({**payload, key: value})
        for name, vote in payload["model_breakdown"].items():
            if not isinstance(vote, dict):
                continue
            for key in VOTE_KEYS:
                for value in ODD_VALUES:
                    votes = {**payload["model_breakdown"], name: {**vote, key: value}}
                    changed.append({**payload, "model_breakdown": votes})
    return changed


def test_every_single_odd_field_reads_as_the_full_parser_reads_it():
    for payload in one_change_each():
        fields = {b"payload": json.dumps(payload).encode(), b"source": b"ai-engine"}
        full = intents._read_intent("1-0", fields, intents.ENGINE_SOURCE, intents.INTENT_EVENT)
        fast = intents._plain_intent("1-0", fields, intents.ENGINE_SOURCE)
        assert fast is None or fast == full, payload


def test_another_expected_source_always_takes_the_full_path():
    payload = json.dumps(PAYLOADS[0]).encode()
    for fields in ({b"payload": payload}, {b"payload": payload, b"source": b"ai-engine"}):
        assert intents._plain_intent("1-0", fields, "risk-engine") is None
