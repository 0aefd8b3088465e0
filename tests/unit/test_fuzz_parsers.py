"""Never a crash on any data: the stream parsers return an Intent / Outcome, a Foreign entry or a
ParseError with a reason, whatever an entry holds; every real form is read as what it is; the
env file is read from any bytes (systemd's parse never raises; the editor refuses with
EnvEditError, never anything else). The two bugs the fuzzing found keep their minimal
examples as regression tests."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from shadowgate import envedit
from shadowgate.envfile import parse_env
from shadowgate.intents import Foreign, Intent, ParseError, parse_intent
from shadowgate.outcomes import Outcome, parse_outcome
from tests.support import strategies as sg
from tests.support.entry_forms import engine_payload
from tests.support.fuzz_profiles import budget

ENTRY_ID = "1767225600000-0"
FLAG, MODEL = "PATCHTST_SHADOW_ONLY", "PATCHTST_MODEL_PATH"
entry_ids = st.one_of(
    st.just(ENTRY_ID), st.text(max_size=12), st.binary(max_size=12), st.sampled_from(["1-", "-1"])
)


def assert_a_kind_with_a_reason(result: object, kinds: tuple[type, ...]) -> None:
    assert type(result) in kinds, result
    if isinstance(result, ParseError):
        assert result.reason and "\n" not in result.reason, result


@budget(default=100, fuzz=3000)
@given(entry_ids, sg.intent_entries)
def test_any_intent_entry_is_read_or_named_never_raised(entry_id, fields):
    assert_a_kind_with_a_reason(parse_intent(entry_id, fields), (Intent, ParseError, Foreign))


@budget(default=50, fuzz=1000)
@given(sg.real_intents())
def test_every_real_intent_form_is_an_intent(fields):
    assert type(parse_intent(ENTRY_ID, fields)) is Intent


@budget(default=100, fuzz=2000)
@given(entry_ids, sg.outcome_entries)
def test_any_outcome_entry_is_read_or_named_never_raised(entry_id, fields):
    assert_a_kind_with_a_reason(parse_outcome(entry_id, fields), (Outcome, ParseError, Foreign))


@budget(default=50, fuzz=500)
@given(sg.real_outcomes())
def test_every_real_outcome_form_is_an_outcome(fields):
    assert type(parse_outcome(ENTRY_ID, fields)) is Outcome


@budget(default=100, fuzz=1500)
@given(sg.env_bytes())
def test_the_env_file_is_read_from_any_bytes(data):
    """systemd's reading never raises (the text as host.read_text would pass it, any bytes
    decoded leniently); grep's view and the rollback line come with it."""
    env = parse_env(data.decode("utf-8", "replace"))
    state = env.flag_state(FLAG)
    assert state.agree in (True, False) and isinstance(env.surprises(), list)
    assert env.systemd_error is None or "\n" not in env.systemd_error
    assert env.appended(f"{FLAG}=true").text.endswith(f"{FLAG}=true\n")


@budget(default=50, fuzz=1000)
@given(data=sg.env_bytes())
def test_the_editor_takes_any_file_or_refuses_it_with_a_reason(tmp_path_factory, data):
    """envedit reads, plans both edits and refuses with EnvEditError only: never a traceback
    in the middle of an activation or a rollback."""
    path = tmp_path_factory.mktemp("env") / "ai-engine.env"
    path.write_bytes(data)
    try:
        snapshot = envedit.read(path)
    except envedit.EnvEditError as exc:
        assert str(exc)
        return
    for plan in (envedit.without_flag, envedit.with_flag):
        try:
            edit = plan(snapshot, FLAG, MODEL)
        except envedit.EnvEditError as exc:
            assert str(exc)
            continue
        after = parse_env(edit.text)
        assert after.systemd_value(MODEL) == snapshot.env.systemd_value(MODEL)


# -- open bugs found by fuzzing: fix shadowgate/fields.py, shadowgate/intents.py ------------


def _engine_entry(payload_text: str) -> dict[bytes, bytes]:
    return {b"source": b"ai-engine", b"payload": payload_text.encode()}


def test_an_integer_beyond_float_range_is_a_parse_error_not_a_crash():
    """A confidence written as a 400-digit integer: orjson refuses it, json.loads reads it as
    an int, `float()` overflows. Found with the whole payload; minimal form here."""
    text = json.dumps(engine_payload()).replace('"confidence": 0.71', '"confidence": ' + "9" * 400)
    assert isinstance(parse_intent(ENTRY_ID, _engine_entry(text)), ParseError)


def test_a_deeply_nested_source_is_foreign_not_a_crash():
    """An entry without a flat source whose JSON `source` is 1,000 lists deep (within orjson's
    1,024 limit): json_label shows it with json.dumps, which runs out of recursion."""
    text = '{"source": ' + "[" * 1000 + "]" * 1000 + "}"
    assert isinstance(parse_intent(ENTRY_ID, {b"payload": text.encode()}), Foreign)
