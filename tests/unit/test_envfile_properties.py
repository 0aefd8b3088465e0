"""envfile's systemd port against the reference in tests/support/envfile_reference.py (systemd 252's
parser stepped one character at a time), and the promises of flag_state and ends_with_newline,
over generated env files."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from shadowgate.envfile import parse_env
from tests.support.envfile_reference import FLAG, env_texts, reference


def check_against_reference(text: str) -> None:
    env = parse_env(text)
    pushes, expected = reference(text)
    found = [(a.key, a.value, a.lineno, a.last_lineno) for a in env.assignments]
    assert found == pushes
    assert (env.systemd_error is None) == (expected is not None)
    assert env.systemd_env() == (expected or {})


@settings(max_examples=400, deadline=None)
@given(env_texts())
def test_generated_files_parse_like_the_reference(text: str) -> None:
    check_against_reference(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="AK_= \t\n\r#;\\'\"x\ufeff\0", max_size=40))
def test_any_text_over_the_special_characters_parses_like_the_reference(text: str) -> None:
    check_against_reference(text)


@settings(max_examples=300, deadline=None)
@given(env_texts())
# a bare CR on a line joined to a comment or a value: its note was once left out
@example("# note \\\nPATCHTST_MODEL_PATH=true\rPATCHTST_SHADOW_ONLY=true\n")
@example("PATCHTST_MODEL_PATH=true\\\nPATCHTST_MODEL_PATH=true\rPATCHTST_SHADOW_ONLY=true\n")
def test_disagreement_is_always_explained(text: str) -> None:
    """grep and systemd disagree exactly when the last grep line is not what systemd uses, and
    then a summary plus at least one specific note say why, with line numbers."""
    state = parse_env(text).flag_state(FLAG)
    _, expected = reference(text)
    value = (expected or {}).get(FLAG)
    assert state.systemd_value == value
    shown = state.grep_values[-1].rstrip(" \t\r") if state.grep_lines else None
    if state.agree:
        assert shown == value
    else:
        assert len(state.notes) >= 2, state.notes
        assert state.notes[0].startswith(f"grep '^{FLAG}=' shows")
    assert all("line" in note for note in state.notes)
    if state.agree and value == "true":
        assert state.runbook_match


@settings(max_examples=200, deadline=None)
@given(env_texts())
def test_a_file_ending_in_a_newline_takes_the_rollback_line_on_a_line_of_its_own(
    text: str,
) -> None:
    after = parse_env(text).appended(f"{FLAG}=true")
    own_line = after.lines[-1] == f"{FLAG}=true\n"
    assert own_line == parse_env(text).ends_with_newline


def test_a_hundred_thousand_lines_are_read_in_one_pass() -> None:
    """Correctness only (no timing): the 100,000th line is the one systemd and grep use."""
    text = "".join(f"VAR_{i}=value {i}  \n" for i in range(100_000)) + f"{FLAG}=true\n"
    env = parse_env(text)
    state = env.flag_state(FLAG)
    assert (state.systemd_value, state.systemd_lineno, state.agree) == ("true", 100_001, True)
    assert env.systemd_value("VAR_99999") == "value 99999"
    assert len(env.surprises()) == 100_000  # one trailing-whitespace note per VAR line
