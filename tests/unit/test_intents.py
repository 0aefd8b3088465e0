"""parse_intent / parse_outcome: the engine's real entry shapes, foreign entries, and every kind
of bad entry turned into a ParseError whose reason names what is wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shadowgate.intents import Foreign, Intent, ModelVote, ParseError, parse_intent
from shadowgate.outcomes import Outcome, parse_outcome
from tests.support.entry_forms import engine_fields, engine_payload, outcome_fields

ENTRY_ID = "1764138000000-3"


# -- the engine's entries --


def test_shadow_entry_parses_with_patchtst_tagged_shadow():
    payload = engine_payload()
    fields = engine_fields(payload)
    intent = parse_intent(ENTRY_ID, fields)
    assert isinstance(intent, Intent)
    assert (intent.entry_id, intent.ts_ms) == (ENTRY_ID, 1764138000000)
    assert (intent.symbol, intent.side, intent.confidence) == ("BTCUSDT", "BUY", 0.71)
    assert (intent.consensus_count, intent.total_models, intent.fallback) == (3, 4, False)
    assert intent.breakdown["patchtst"] == ModelVote("BUY", 0.62, "patchtst_shadow", shadow=True)
    assert intent.breakdown["xgb"] == ModelVote("BUY", 0.74, "xgboost_v20260101", shadow=False)
    assert intent.payload_bytes == len(fields[b"payload"]) > 1100


def test_text_fields_and_bytes_fields_parse_alike():
    fields = engine_fields(engine_payload(shadow=False, consensus=4))
    as_text = {name.decode(): value.decode() for name, value in fields.items()}
    assert parse_intent(ENTRY_ID, as_text) == parse_intent(ENTRY_ID.encode(), fields)
    assert parse_intent(ENTRY_ID, as_text).breakdown["patchtst"].shadow is False


def test_payload_bytes_counts_utf8_bytes_as_stored():
    text = json.dumps(engine_payload(regime="tendance haussière"), ensure_ascii=False)
    intent = parse_intent(ENTRY_ID, engine_fields(text))
    assert intent.payload_bytes == len(text.encode()) == len(text) + 1


def test_fallback_is_not_a_model_and_is_flagged():
    payload = engine_payload(consensus=1)
    payload["model_breakdown"]["fallback"] = {"action": "BUY", "reason": "models disagree"}
    intent = parse_intent(ENTRY_ID, engine_fields(payload))
    assert intent.fallback is True
    assert set(intent.breakdown) == {"xgb", "lgbm", "nhits", "patchtst"}


def test_failed_patchtst_prediction_is_a_hold_vote():
    intent = parse_intent(ENTRY_ID, engine_fields(engine_payload(patchtst=("HOLD", 0.5))))
    assert intent.breakdown["patchtst"].action == "HOLD"


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"data": json.dumps(engine_payload()), "source": "ai-engine"}, id="flat"),
        pytest.param({"data": json.dumps(engine_payload(source="ai-engine"))}, id="json-source"),
        pytest.param({"data": json.dumps(engine_payload(event_type="trade.intent"))}, id="json-ev"),
        pytest.param({"data": json.dumps(engine_payload()), "event_type": "trade.intent"}, id="ev"),
    ],
)
def test_data_form_is_accepted(fields):
    intent = parse_intent(ENTRY_ID, fields)
    assert isinstance(intent, Intent)
    assert intent.payload_bytes == len(fields["data"])


def test_expected_source_and_event_type_are_parameters():
    fields = engine_fields(engine_payload(), source="ai-engine-v2")
    assert isinstance(parse_intent(ENTRY_ID, fields), Foreign)
    assert isinstance(parse_intent(ENTRY_ID, fields, source="ai-engine-v2"), Intent)
    data = {"data": json.dumps(engine_payload()), "event_type": "intent.v2"}
    assert isinstance(parse_intent(ENTRY_ID, data, event_type="intent.v2"), Intent)


# -- other publishers' entries: counted, never parsed --


@pytest.mark.parametrize(
    ("fields", "source", "event_type"),
    [
        ({"event_type": "trade.intent", "payload": "{}", "source": "risk-guard"},
         "risk-guard", "trade.intent"),
        ({"payload": "not even json", "source": "manual"}, "manual", ""),
        ({"data": json.dumps({"source": "exit-monitor", "symbol": "ETHUSDT"})},
         "exit-monitor", ""),
        ({"data": json.dumps({"event_type": "heartbeat"})}, "", "heartbeat"),
        ({"data": json.dumps({"symbol": "ETHUSDT"})}, "", ""),
        ({"data": "{broken", "event_type": "position.update"}, "", "position.update"),
        ({"note": "hello"}, "", ""),
        ({b"source": b"ai-\xe9ngine", b"payload": b"{}"}, "ai-\ufffdngine", ""),  # not UTF-8
        ({"data": json.dumps({"source": 5, "event_type": ["trade.intent"]})},
         "5", '["trade.intent"]'),
    ],
)  # fmt: skip
def test_foreign_entries_are_skipped_with_their_origin(fields, source, event_type):
    assert parse_intent(ENTRY_ID, fields) == Foreign(ENTRY_ID, source, event_type)


def test_flat_source_wins_over_the_json_source():
    fields = engine_fields(engine_payload(source="someone-else"))
    assert isinstance(parse_intent(ENTRY_ID, fields), Intent)


# -- bad entries: a ParseError with a precise reason --


def _with(**changes: Any) -> dict[bytes, bytes]:
    return engine_fields(engine_payload(**changes))


def _vote(name: str, **vote: Any) -> dict[bytes, bytes]:
    payload = engine_payload()
    payload["model_breakdown"][name] = vote
    return engine_fields(payload)


def _without(key: str) -> dict[bytes, bytes]:
    payload = engine_payload()
    del payload[key]
    return engine_fields(payload)


VOTE = {"action": "BUY", "confidence": 0.7, "model": "xgb"}

BAD_INTENTS = [
    (_with(consensus_count=3.5), "payload: consensus_count must be an integer, got '3.5'"),
    (_with(consensus_count=True), "payload: consensus_count must be an integer, got 'true'"),
    (_with(consensus_count=-1), "payload: consensus_count must not be negative, got '-1'"),
    (_with(total_models="4"), "payload: total_models must be an integer, got '4'"),
    (_with(confidence="high"), "payload: confidence must be a number, got 'high'"),
    (_with(confidence=None), "payload: confidence must be a number, got 'null'"),
    (_with(confidence=1.5), "payload: confidence must be between 0 and 1, got '1.5'"),
    (_with(side="buy"), "payload: side must be BUY or SELL, got 'buy'"),
    (_with(side="HOLD"), "payload: side must be BUY or SELL, got 'HOLD'"),
    (_with(symbol=""), "payload: symbol must be a non-empty string, got ''"),
    (_without("symbol"), "payload: symbol is missing"),
    (_without("side"), "payload: side is missing"),
    (_without("confidence"), "payload: confidence is missing"),
    (_without("consensus_count"), "payload: consensus_count is missing"),
    (_without("total_models"), "payload: total_models is missing"),
    (_without("model_breakdown"), "payload: model_breakdown is missing"),
    (_with(model_breakdown=[]), "payload: model_breakdown must be an object, got '[]'"),
    (engine_fields("[1, 2]"), "payload must be a JSON object, got an array"),
    (engine_fields('"BUY"'), "payload must be a JSON object, got a string"),
    (engine_fields("null"), "payload must be a JSON object, got null"),
    ({**_with(), b"payload": b"\xff\xfe{}"}, "payload is not valid UTF-8 (byte 0xff at offset 0)"),
    ({b"source": b"ai-engine", b"event_type": b"trade.intent"}, "no payload or data field"),
    ({b"data": b"[]", b"source": b"ai-engine"}, "data must be a JSON object, got an array"),
    ({b"data": json.dumps(engine_payload(side="sell")).encode(), b"source": b"ai-engine"},
     "data: side must be BUY or SELL, got 'sell'"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "reason"), BAD_INTENTS)
def test_bad_intent_is_a_parse_error_naming_the_problem(fields, reason):
    assert parse_intent(ENTRY_ID, fields) == ParseError(ENTRY_ID, reason)


@pytest.mark.parametrize(
    ("fields", "reason_start"),
    [
        (engine_fields("{not json"), "payload is not valid JSON: "),
        ({b"payload": b"{broken"}, "payload is not valid JSON: "),  # no source, no event type
        (engine_fields(""), "payload is not valid JSON: "),
    ],
)  # fmt: skip
def test_unreadable_json_is_a_parse_error(fields, reason_start):
    result = parse_intent(ENTRY_ID, fields)
    assert isinstance(result, ParseError)
    assert result.reason.startswith(reason_start)


UNREADABLE_VOTES = [
    ({**VOTE, "action": "buy"}, "action must be BUY, SELL or HOLD, got 'buy'"),
    ({**VOTE, "confidence": "0.7"}, "confidence must be a number, got '0.7'"),
    ({**VOTE, "confidence": float("nan")}, "confidence must be a finite number, got 'NaN'"),
    ({"action": "BUY", "confidence": 0.7}, "model is missing"),
    ({**VOTE, "shadow": "yes"}, "shadow must be true or false, got 'yes'"),
    ({**VOTE, "inactive": 1}, "inactive must be true or false, got '1'"),
    ({**VOTE, "inactive_reason": 3}, "inactive_reason must be a string, got '3'"),
]


@pytest.mark.parametrize(("vote", "reason"), UNREADABLE_VOTES)
def test_an_unreadable_vote_is_set_aside_and_the_intent_kept(vote, reason):
    intent = parse_intent(ENTRY_ID, _vote("xgb", **vote))
    assert isinstance(intent, Intent)
    assert "xgb" not in intent.breakdown and "patchtst" in intent.breakdown
    assert intent.unreadable_votes == {"xgb": f"payload: model_breakdown.xgb: {reason}"}


def test_a_vote_that_is_not_an_object_is_set_aside():
    intent = parse_intent(ENTRY_ID, engine_fields(engine_payload(model_breakdown={"xgb": 0.7})))
    assert intent.breakdown == {}
    assert intent.unreadable_votes == {
        "xgb": "payload: model_breakdown.xgb must be an object, got '0.7'"
    }


def test_fallback_rules_confidence_above_one_keeps_the_intent_and_is_odd():
    payload = engine_payload(consensus=4, shadow=False)
    payload["model_breakdown"]["lgbm"] = {
        "action": "SELL", "confidence": 1.05, "model": "lgbm_fallback_rules",
        "inactive": True, "inactive_reason": "fallback_rules",
    }  # fmt: skip
    intent = parse_intent(ENTRY_ID, engine_fields(payload))
    lgbm = intent.breakdown["lgbm"]
    assert (lgbm.confidence, lgbm.odd, lgbm.inactive, lgbm.inactive_reason) == (
        1.05,
        True,
        True,
        "fallback_rules",
    )
    assert not intent.breakdown["xgb"].odd and intent.consensus_count == 4


def test_later_engine_marks_patchtst_inactive_shadow_mode_without_shadow_key():
    payload = engine_payload(shadow=False)
    payload["model_breakdown"]["patchtst"].update(inactive=True, inactive_reason="shadow_mode")
    vote = parse_intent(ENTRY_ID, engine_fields(payload)).breakdown["patchtst"]
    assert (vote.shadow, vote.inactive, vote.inactive_reason) == (False, True, "shadow_mode")


def test_nan_written_by_json_dumps_is_read_and_judged_where_it_matters():
    fine = parse_intent(ENTRY_ID, _with(volatility=float("nan"), atr=float("inf")))
    assert isinstance(fine, Intent)
    bad = parse_intent(ENTRY_ID, _with(confidence=float("nan")))
    assert bad.reason == "payload: confidence must be between 0 and 1, got 'NaN'"


@pytest.mark.parametrize(
    "entry_id", ["abc", "1764138000000", "1764138000000-x", "-1-0", "\uff11-0"]
)
def test_malformed_entry_id_is_a_parse_error(entry_id):
    result = parse_intent(entry_id, engine_fields(engine_payload()))
    assert result == ParseError(entry_id, f"entry id {entry_id!r} is not a stream id <ms>-<seq>")


def test_long_values_are_cut_short_in_reasons():
    result = parse_intent(ENTRY_ID, _with(side="B" * 500))
    assert result.reason == f"payload: side must be BUY or SELL, got '{'B' * 57}...'"


# -- outcomes (trade.closed) --


def test_outcome_parses_from_any_source():
    outcome = parse_outcome(ENTRY_ID, outcome_fields())
    assert outcome == Outcome(
        ENTRY_ID, 1764138000000, "BTCUSDT", "LONG", 91234.5, 92146.85, 1.0, 0.71, 12.5
    )
    assert parse_outcome(ENTRY_ID, outcome_fields(source="anything")) == outcome


@pytest.mark.parametrize("absent", ["", "None", "null"])
def test_outcome_optional_fields_may_be_absent(absent):
    fields = outcome_fields(confidence=absent, pnl_usd=absent)
    outcome = parse_outcome(ENTRY_ID, fields)
    assert (outcome.confidence, outcome.pnl_usd) == (None, None)
    del fields[b"confidence"], fields[b"pnl_usd"]
    assert parse_outcome(ENTRY_ID, fields) == outcome


def test_entry_without_outcome_fields_is_foreign():
    fields = {b"event_type": b"heartbeat", b"source": b"exit-monitor"}
    assert parse_outcome(ENTRY_ID, fields) == Foreign(ENTRY_ID, "exit-monitor", "heartbeat")


def _outcome_without(key: str) -> dict[bytes, bytes]:
    fields = outcome_fields()
    del fields[key.encode()]
    return fields


BAD_OUTCOMES = [
    (_outcome_without("exit_price"), "field exit_price is missing"),
    (_outcome_without("symbol"), "field symbol is missing"),
    (_outcome_without("side"), "field side is missing"),
    (outcome_fields(side="buy"), "field side must be LONG, SHORT, BUY or SELL, got 'buy'"),
    (outcome_fields(symbol=""), "field symbol must not be empty"),
    (outcome_fields(entry_price="abc"), "field entry_price must be a number, got 'abc'"),
    (outcome_fields(pnl_percent="nan"), "field pnl_percent must be a finite number, got 'nan'"),
    (outcome_fields(confidence="1.7"), "field confidence must be between 0 and 1, got '1.7'"),
    (outcome_fields(pnl_usd="lots"), "field pnl_usd must be a number, got 'lots'"),
    ({**outcome_fields(), b"symbol": b"\xffBTC"},
     "field symbol is not valid UTF-8 (byte 0xff at offset 0)"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "reason"), BAD_OUTCOMES)
def test_bad_outcome_is_a_parse_error_naming_the_problem(fields, reason):
    assert parse_outcome(ENTRY_ID, fields) == ParseError(ENTRY_ID, reason)


def test_outcome_with_malformed_id_is_a_parse_error():
    assert isinstance(parse_outcome("nope", outcome_fields()), ParseError)


def test_executor_form_reads_buy_as_long_without_entry_price():
    fields = outcome_fields(side="BUY", source="execution-service")
    del fields[b"entry_price"]
    outcome = parse_outcome(ENTRY_ID, fields)
    assert (outcome.side, outcome.entry_price, outcome.pnl_percent) == ("LONG", None, 1.0)
    assert parse_outcome(ENTRY_ID, outcome_fields(side="SELL")).side == "SHORT"


def test_event_bus_form_reads_the_json_payload():
    body = {"symbol": "ETHUSDT", "side": "SHORT", "entry_price": 3000, "exit_price": 2970.5,
            "pnl_percent": 0.98, "confidence": None, "pnl_usd": 4.2}  # fmt: skip
    fields = {b"event_type": b"trade.closed", b"payload": json.dumps(body).encode()}
    outcome = parse_outcome(ENTRY_ID, fields)
    assert outcome == Outcome(ENTRY_ID, 1764138000000, "ETHUSDT", "SHORT", 3000.0, 2970.5, 0.98,
                              None, 4.2)  # fmt: skip


def test_event_bus_form_with_a_bad_value_names_it():
    body = {"symbol": "ETHUSDT", "side": "SHORT", "exit_price": "x", "pnl_percent": 1}
    result = parse_outcome(ENTRY_ID, {b"payload": json.dumps(body).encode()})
    assert result == ParseError(ENTRY_ID, "field exit_price must be a number, got 'x'")


def test_event_bus_entry_without_outcome_keys_is_foreign():
    fields = {b"source": b"bus", b"event_type": b"ping", b"payload": b'{"ok": true}'}
    assert parse_outcome(ENTRY_ID, fields) == Foreign(ENTRY_ID, "bus", "ping")
