"""envfile's reading against the real systemd (252, in the test bed): every construct of the
reference files resolves to what systemd hands a started unit."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadowgate.envfile import parse_env
from shadowgate.testbed import sdbox
from tests.support.envfile_reference import FLAG, random_env_texts

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
    'CTRL="\x01\x1b\x7f\ttab"\n'
    'LAST="unterminated\n'
    "NEVER=set\n"
)


# Every continuation rule of env-file.c: comments, unquoted and quoted values, CRLF, the end.
CONTINUATIONS = (
    f"# note \\\n{FLAG}=true\n",
    f"# note \\\r\n{FLAG}=true\r\n",
    f"  ; note \\\n{FLAG}=true\nA=1\n",
    f"# note \\\\\n{FLAG}=true\n",
    f"A=x \\\n{FLAG}=true\n",
    f"{FLAG}=tr\\\nue\n",
    f"{FLAG}=\\\n  true\n",
    f"{FLAG}=true\\\r\nA=1\r\n",
    f"{FLAG}=true\\",
    f'{FLAG}="tr\\\nue"\n',
    f'{FLAG}="tr\\\r\nue"\n',
    f'A="open\n{FLAG}=true\n"\n',
    f"A='open\n{FLAG}=true\n",
    f"{FLAG}=true\n  {FLAG}=false\n",
    f"{FLAG}=true  \t\n",
)


REFUSED = f"{FLAG}=true\nA=\0\n"


Env = dict[str, str]


def _environments(box: sdbox.SystemdBox, work: Path, texts: list[str]) -> list[Env | None]:
    """What a unit with EnvironmentFile=each text receives, from ONE `systemctl start` of a
    template's instances; None where the unit failed to start."""
    (work / "cases").mkdir()
    (work / "out").mkdir()
    for i, text in enumerate(texts):
        (work / "cases" / f"{i}.env").write_bytes(text.encode())
    box.install_unit(
        "env-dump@.service",
        f"[Service]\nType=oneshot\nEnvironmentFile={work}/cases/%i.env\n"
        f"ExecStart=/usr/bin/env -0\nStandardOutput=truncate:{work}/out/%i\n",
    )
    units = [f"env-dump@{i}.service" for i in range(len(texts))]
    box.systemctl("start", *units, check=False)
    box.systemctl("reset-failed", *units, check=False)
    found: list[Env | None] = []
    for i in range(len(texts)):
        out = work / "out" / str(i)
        dump = out.read_bytes().decode() if out.exists() else None
        found.append(None if dump is None else dict(x.split("=", 1) for x in dump.split("\0") if x))
    return found


@pytest.mark.systemd
def test_systemd_reads_the_files_as_we_say(box: sdbox.SystemdBox, tmp_path: Path) -> None:
    files = [SYSTEMD_CASES, *CONTINUATIONS, *random_env_texts(80, seed=252)]
    baseline, *measured, refused = _environments(box, tmp_path, ["", *files, REFUSED])
    assert baseline is not None and refused is None and parse_env(REFUSED).systemd_error
    wrong = []
    for text, env in zip(files, measured, strict=True):
        from_file = {k: v for k, v in (env or {}).items() if k not in baseline}
        if env is None or from_file != parse_env(text).systemd_env():
            wrong.append((text, from_file))
    assert wrong == []
    cases = {k: v for k, v in (measured[0] or {}).items() if k not in baseline}
    assert cases["DQ"] == 'a "quoted" \\ $HOME \\x'
    assert cases["CTRL"] == "\x01\x1b\x7f\ttab"  # control characters are kept, not refused
    assert cases["LAST"] == "unterminated\nNEVER=set\n"
    assert "EXPORTED" not in cases and "BOM_KEY" not in cases
    assert FLAG not in (measured[1] or {})  # v252: the comment swallowed the flag line
