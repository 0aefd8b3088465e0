"""envfile: `occurrences` answers like the runbook's grep, `systemd_value` like systemd itself,
and `surprises` names every construct on which the two disagree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shadowgate.envfile import EnvLine, parse_env
from tests.support.envfile_reference import FLAG

MODEL = "PATCHTST_MODEL_PATH=/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth\n"


CLEAN = f"# AI engine\n{FLAG}=true\n{MODEL}"


def test_clean_file_has_the_flag_once_and_no_surprises() -> None:
    env = parse_env(CLEAN)
    assert env.occurrences(FLAG) == [EnvLine(2, f"{FLAG}=true", FLAG, "true")]
    assert env.surprises(FLAG) == []
    assert env.surprises() == []
    assert env.systemd_value(FLAG) == "true"


@pytest.mark.parametrize("text", [CLEAN, "", "A=1", "A=1\n\n\nB=2\r\n", "\ufeffX=1\r\nY=2"])
def test_every_line_is_kept(text: str) -> None:
    assert "".join(parse_env(text).lines) == text


TRICKY = (
    f"\ufeff{FLAG}=true\r\n"
    f"{FLAG}=true\r\n"
    f"export {FLAG}=true\n"
    f"{FLAG} = true\n"
    f"  {FLAG}=true\n"
    f'{FLAG}="true"\n'
    f"{FLAG}=true   \n"
    f"# {FLAG}=true\n"
    f"{FLAG.lower()}=true\n"
    f"{FLAG}=trueish\n"
    f"{FLAG}=\n"
    f"X{FLAG}=true\n"
    f"{FLAG}=true # on"
)


def test_occurrences_match_grep_exactly(tmp_path: Path) -> None:
    """Same lines as `grep -n "^KEY="` on the same bytes (the runbook's own check)."""
    path = tmp_path / "ai-engine.env"
    path.write_bytes(TRICKY.encode())
    grep = subprocess.run(
        ["grep", "-n", f"^{FLAG}=", str(path)], capture_output=True, check=True
    ).stdout.decode()
    expected = [int(line.split(":", 1)[0]) for line in grep.splitlines()]
    found = parse_env(TRICKY).occurrences(FLAG)
    assert [line.lineno for line in found] == expected == [2, 6, 7, 10, 11, 13]
    assert [line.value for line in found] == [
        "true",
        '"true"',
        "true   ",
        "trueish",
        "",
        "true # on",
    ]
    assert found[0].raw == f"{FLAG}=true\r"  # grep's line: the CR of a CRLF ending is part of it


def _surprises(text: str) -> list[str]:
    return parse_env(text).surprises(FLAG)


def test_duplicate_keys_name_every_line_and_the_winner() -> None:
    (note,) = _surprises(f"{FLAG}=true\n{MODEL}{FLAG}=false\n")
    assert f"{FLAG} is set 2 times (lines 1, 3)" in note
    assert f"line 3 ({FLAG}='false')" in note
    assert parse_env(f"{FLAG}=true\n{FLAG}=false\n").systemd_value(FLAG) == "false"


def test_export_is_shell_syntax_that_systemd_ignores() -> None:
    text = f"export {FLAG}=true\n"
    (note,) = _surprises(text)
    assert note.startswith(f"line 1: `export {FLAG}=true` uses shell syntax")
    assert "sets nothing" in note
    assert parse_env(text).occurrences(FLAG) == []
    assert parse_env(text).systemd_value(FLAG) is None


@pytest.mark.parametrize(
    "line", [f"{FLAG} = true", f"{FLAG}= true", f"{FLAG} =true", f" {FLAG}=true"]
)
def test_spaces_around_the_key_hide_it_from_grep_not_from_systemd(line: str) -> None:
    (note,) = _surprises(line + "\n")
    assert "whitespace before the key or around '='" in note
    assert f"sets {FLAG}='true'" in note
    assert parse_env(line).systemd_value(FLAG) == "true"


@pytest.mark.parametrize("quoted", ['"true"', "'true'"])
def test_quoted_values(quoted: str) -> None:
    (note,) = _surprises(f"{FLAG}={quoted}\n")
    assert f"quoted value: grep '^{FLAG}=true' misses it" in note
    assert parse_env(f"{FLAG}={quoted}\n").systemd_value(FLAG) == "true"


def test_crlf_line_endings() -> None:
    env = parse_env(f"{FLAG}=true\r\n{MODEL.rstrip()}\r\n")
    (note,) = env.surprises(FLAG)
    assert note.startswith("line(s) 1, 2 end with CRLF")
    assert env.occurrences(FLAG)[0].value == "true"
    assert env.systemd_value(FLAG) == "true"


def test_a_byte_order_mark_hides_line_one_from_grep_and_systemd() -> None:
    env = parse_env(f"\ufeff{FLAG}=true\n{MODEL}")
    (note,) = env.surprises(FLAG)
    assert note.startswith("line 1 starts with a UTF-8 byte-order mark")
    assert env.occurrences(FLAG) == []
    assert env.systemd_value(FLAG) is None


@pytest.mark.parametrize("comment", [f"# {FLAG}=true", f"#{FLAG}=true", f"; {FLAG}=true"])
def test_commented_out_flag(comment: str) -> None:
    (note,) = _surprises(f"{comment}\n{MODEL}")
    assert (
        note
        == f"line 1: `{comment}` is a commented-out assignment: neither grep nor systemd counts it"
    )


def test_trailing_spaces_in_the_value() -> None:
    (note,) = _surprises(f"{FLAG}=true  \t\n")
    assert "trailing whitespace ('true  \\t')" in note
    assert f"grep '^{FLAG}=true' still matches" in note
    assert parse_env(f"{FLAG}=true  \t\n").systemd_value(FLAG) == "true"


@pytest.mark.parametrize("variant", [FLAG.lower(), "Patchtst_Shadow_Only"])
def test_case_variants_are_different_variables(variant: str) -> None:
    env = parse_env(f"{variant}=true\n{MODEL}")
    (note,) = env.surprises(FLAG)
    assert note.startswith(f"line 1: `{variant}` differs from {FLAG} only in case")
    assert env.systemd_value(FLAG) is None
    # Without a key to compare with, a lone lower-case name is nobody's business...
    assert env.surprises() == []
    # ...but two spellings of one name in a file are.
    assert len(parse_env(f"{variant}=true\n{FLAG}=true\n").surprises()) == 2


def test_a_hash_after_the_value_is_part_of_it_for_systemd() -> None:
    (note,) = _surprises(f"{FLAG}=true # shadow until 2026-01-12\n")
    assert f"grep '^{FLAG}=true' matches it" in note
    assert parse_env(f"{FLAG}=true # x\n").systemd_value(FLAG) == "true # x"


def test_surprises_about_other_keys_stay_out_of_the_flags_list() -> None:
    env = parse_env(f'{FLAG}=true\nREDIS_PASSWORD="x"\nexport PATH=/bin\n')
    assert env.surprises(FLAG) == []
    assert len(env.surprises()) == 2


def test_every_surprise_at_once_in_line_order() -> None:
    notes = _surprises(TRICKY)
    assert len(notes) == 11
    assert notes[0].startswith("line(s) 1, 2 end with CRLF")
    assert notes[1].startswith("line 1 starts with a UTF-8 byte-order mark")
    assert parse_env(TRICKY).systemd_value(FLAG) == "true # on"


def test_flag_state_of_a_clean_file() -> None:
    state = parse_env(CLEAN).flag_state(FLAG)
    assert (state.systemd_value, state.systemd_lineno, state.grep_values) == ("true", 2, ("true",))
    assert state.runbook_match and state.agree and state.notes == ()


def test_an_indented_override_is_what_the_engine_gets() -> None:
    """grep shows line 1 `true`; systemd takes the indented line 2: the engine votes."""
    state = parse_env(f"{FLAG}=true\n  {FLAG}=false\n").flag_state(FLAG)
    assert state.runbook_match and not state.agree
    assert (state.systemd_value, state.systemd_lineno) == ("false", 2)
    assert state.notes[0] == (
        f"grep '^{FLAG}=' shows `{FLAG}=true` on line 1, but systemd delivers "
        f"{FLAG}='false' from line 2"
    )
    assert any("line 2: `  PATCHTST_SHADOW_ONLY=false` has whitespace" in n for n in state.notes)


def test_trailing_blanks_after_true_agree() -> None:
    state = parse_env(f"{FLAG}=true  \t\n").flag_state(FLAG)
    assert state.grep_values == ("true  \t",)
    assert (state.systemd_value, state.agree, state.runbook_match) == ("true", True, True)


def test_a_comment_ending_in_a_backslash_swallows_the_flag() -> None:
    """systemd 252 joins the next line to the comment: the engine gets no flag at all."""
    state = parse_env(f"# shadow until the gate passes \\\n{FLAG}=true\n{MODEL}").flag_state(FLAG)
    assert state.runbook_match and not state.agree and state.systemd_value is None
    assert state.notes[1] == (
        "line 1: the comment ends with a backslash, so systemd 252 reads line 2 as part of it; "
        f"`{FLAG}=true` on line 2 sets nothing"
    )


@pytest.mark.parametrize(
    ("text", "value", "why"),
    [
        (f"A=x \\\n{FLAG}=true\n", None, "the value of A ends with a backslash"),
        (f"A='open\n{FLAG}=true\n'\n", None, "the value of A opens an unclosed quote"),
        (f"{FLAG}=tr\\\nue\n", "true", f"the value of {FLAG} ends with a backslash"),
        (f"{FLAG}=true\\\r\nA=1\r\n", "true", "backslash before the CR of a CRLF ending"),
        (f"{FLAG}=true\\", "true", "ends with a backslash at the end of the file"),
        (f"{FLAG}=tr\\ue\n", "true", "contains a backslash, which systemd reads as an escape"),
        (f"A=1\r{FLAG}=true\n", "true", "contains a bare CR"),
    ],
)
def test_backslashes_and_line_ends_grep_does_not_see(
    text: str, value: str | None, why: str
) -> None:
    state = parse_env(text).flag_state(FLAG)
    assert state.systemd_value == value
    assert not state.agree and any(why in note for note in state.notes), state.notes


def test_a_nul_byte_makes_systemd_refuse_the_file() -> None:
    env = parse_env(f"{FLAG}=true\nA=\0\n")
    assert env.systemd_env() == {} and env.flag_state(FLAG).systemd_value is None
    assert env.systemd_error == (
        "line 2 contains a NUL byte: systemd refuses the whole file and the unit fails to "
        "start (grep calls it a binary file)"
    )
    assert env.systemd_error in env.surprises(FLAG)


@pytest.mark.parametrize(
    ("text", "ends"), [("", True), (MODEL, True), (MODEL.rstrip(), False), ("A=1\r", False)]
)
def test_ends_with_newline(text: str, ends: bool) -> None:
    """The rollback's `echo FLAG=true >>` needs it, or the flag is glued onto the last line."""
    env = parse_env(text)
    assert env.ends_with_newline is ends
    state = env.appended(f"{FLAG}=true").flag_state(FLAG)
    assert (state.agree and state.systemd_value == "true") is ends
