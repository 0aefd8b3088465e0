"""envfile: `occurrences` answers like the runbook's grep, `systemd_value` like systemd itself,
and `surprises` names every construct on which the two disagree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shadowgate.envfile import EnvLine, parse_env
from shadowgate.testbed import sdbox

FLAG = "PATCHTST_SHADOW_ONLY"
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


# systemd's own reading, compared with ours: the engine's environment is what matters.
SYSTEMD_CASES = (
    "\ufeffBOM_KEY=1\r\n"
    "PLAIN=plain\r\n"
    "export EXPORTED=1\n"
    "SPACED = spaced value \n"
    "\t INDENTED=yes\n"
    'DQ="a \\"quoted\\" \\\\ \\$HOME \\x"\n'
    "SQ='single \\n kept'\n"
    "TRAIL=trail   \n"
    "# COMMENTED=1\n"
    "; SEMI=1\n"
    "DUP=first\n"
    "DUP=second\n"
    "dup=lower\n"
    "HASH=a # not a comment\n"
    "EMPTY=\n"
    "NOEQUALS\n"
    "CONT=line\\\n"
    "continued\n"
    "9BAD=digit\n"
    "MIXED=\"a\"'b'c\n"
    'LAST="unterminated\n'
    "NEVER=set\n"
)


@pytest.mark.systemd
def test_systemd_reads_the_file_as_we_say(box: sdbox.SystemdBox) -> None:
    def environment_with(text: str) -> dict[str, str]:
        box.write_file("/etc/quantum/cases.env", text)
        box.install_unit(
            "env-dump.service",
            "[Service]\nType=oneshot\nEnvironmentFile=/etc/quantum/cases.env\n"
            "ExecStart=/bin/sh -c 'env -0 > /run/env-dump'\n",
        )
        box.systemctl("start", "env-dump.service")
        dump = box.exec(["cat", "/run/env-dump"], check=True).stdout
        box.remove_unit("env-dump.service")
        return dict(item.split("=", 1) for item in dump.split("\0") if item)

    baseline = environment_with("")
    measured = environment_with(SYSTEMD_CASES)
    from_file = {k: v for k, v in measured.items() if k not in baseline}
    assert from_file == parse_env(SYSTEMD_CASES).systemd_env()
    assert from_file["DQ"] == 'a "quoted" \\ $HOME \\x'
    assert from_file["LAST"] == "unterminated\nNEVER=set\n"
    assert "EXPORTED" not in from_file and "BOM_KEY" not in from_file
    box.remove_file("/etc/quantum/cases.env")
