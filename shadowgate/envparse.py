"""systemd 252's reading of an env file (parse_env_file_internal, src/basic/env-file.c): what
a unit with EnvironmentFile= receives. A port, not an approximation: the box test
tests/box/test_envfile_systemd.py compares it with the real systemd. `envfile` sets it beside
the runbook's grep.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# systemd's parse_env_file_internal, one regex per run of a state (one char each is too slow):
_BLANKS = re.compile(r"[ \t\n\r]*")  # PRE_KEY
_COMMENT = re.compile(r"[#;](?:[^\\\n\r]+|\\.?)*", re.S)  # COMMENT, COMMENT_ESCAPE eats any
_KEY = re.compile(r"[^=\n\r]*")  # KEY, after its first character (which may be "=")
_VALUE_BLANKS = re.compile(r"[ \t]*")  # PRE_VALUE
_SINGLE = re.compile(r"'([^']*)'?")  # SINGLE_QUOTE_VALUE, unterminated runs to the end
_DOUBLE = re.compile(r'"((?:[^"\\]+|\\.?)*)"?', re.S)  # DOUBLE_QUOTE_VALUE(_ESCAPE)
_UNQUOTED = re.compile(r"(?:[^\\\n\r]+|\\.?)*", re.S)  # VALUE, VALUE_ESCAPE
_ESCAPE = re.compile(r"(\\.?)", re.S)


@dataclass(frozen=True)
class Assignment:
    """One assignment as systemd's env-file parser reads it (quotes, escapes, spaces resolved)."""

    lineno: int  # line where the key starts
    key: str
    value: str
    valid: bool  # False: systemd logs "Ignoring invalid environment assignment" and skips it
    last_lineno: int  # line where systemd's reading of it ends (continuations, quotes)
    span: tuple[int, int]  # offsets of the key's first character and the value's end


def _unescape_double(m: re.Match[str]) -> str:
    c = m[1][1:]
    if c in ("", "\n"):  # a continuation line, or a backslash at the end of the file
        return ""
    return c if c in '"\\`$' else "\\" + c  # like the shell: other backslashes stay


def _unquoted(run: str) -> str:
    """A VALUE run: trailing blanks after the last escape dropped, then escapes resolved."""
    if "\\" not in run:
        return run.rstrip(" \t")
    pieces = _ESCAPE.split(run)
    pieces[-1] = pieces[-1].rstrip(" \t")
    return "".join(p if i % 2 == 0 else p[1:].strip("\n\r") for i, p in enumerate(pieces))


def _matched(pattern: re.Pattern[str], text: str, pos: int) -> re.Match[str]:
    """The parser's patterns cannot fail where it calls them (each may match the empty string, or
    starts with the character already seen), so a miss is a bug in this module, not in the file."""
    m = pattern.match(text, pos)
    assert m is not None, (pattern.pattern, pos)
    return m


def _value(text: str, pos: int) -> tuple[str, int]:
    """The value starting at `pos` (after "=") and where it ends (its newline or the end)."""
    parts: list[str] = []
    while True:
        pos = _matched(_VALUE_BLANKS, text, pos).end()
        c = text[pos : pos + 1]
        if c in ("", "\n", "\r"):
            return "".join(parts), pos
        if c == "'":
            m = _matched(_SINGLE, text, pos)
            parts.append(m[1])
        elif c == '"':
            m = _matched(_DOUBLE, text, pos)
            parts.append(_ESCAPE.sub(_unescape_double, m[1]))
        else:  # anything else starts an unquoted run that takes the rest of the line
            m = _matched(_UNQUOTED, text, pos)
            parts.append(_unquoted(m[0]))
            return "".join(parts), m.end()
        pos = m.end()


def systemd_parse(text: str) -> tuple[list[Assignment], list[tuple[int, int]]]:
    """systemd's parse_env_file_internal (src/basic/env-file.c, v252): the assignments, and the
    line spans of comments continued by a backslash. Lines end at LF or CR; a backslash-LF joins
    lines in unquoted and double-quoted values and (v252, not v254) in comments; backslash-CR
    drops both, and the LF after them still ends the line."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(pos: int) -> int:
        return bisect_left(newlines, pos) + 1

    found: list[Assignment] = []
    comments: list[tuple[int, int]] = []
    pos, end = 0, len(text)
    while (pos := _matched(_BLANKS, text, pos).end()) < end:
        start = pos
        if text[pos] in "#;":
            pos = _matched(_COMMENT, text, pos).end()
            if (last := line_of(pos - 1)) > line_of(start):
                comments.append((line_of(start), last))
            continue
        pos = _matched(_KEY, text, pos + 1).end()
        if text[pos : pos + 1] != "=":
            continue  # a line without "=" is dropped
        key = text[start:pos].rstrip(" \t")
        value, pos = _value(text, pos + 1)
        valid = bool(_NAME.fullmatch(key))
        found.append(Assignment(line_of(start), key, value, valid, line_of(pos - 1), (start, pos)))
    return found, comments
