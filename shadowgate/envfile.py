"""The engine's env file read two ways: as the runbook's grep sees it, and as systemd does.

The runbook verifies the shadow flag with `grep "^PATCHTST_SHADOW_ONLY=true" FILE`, but the
engine gets its environment from systemd's EnvironmentFile=, and the two disagree on files an
editor or a hurried operator may produce. Measured with systemd 252 (tests/test_envfile.py
runs the comparison against the real one):

    line                         grep "^KEY=true"   systemd EnvironmentFile=
    KEY=true                     match              KEY=true
    export KEY=true              no match           ignored (invalid name "export KEY")
    KEY = true,   KEY= true      no match           KEY=true (whitespace stripped)
      KEY=true (indented)        no match           KEY=true
    KEY="true",   KEY='true'     no match           KEY=true (quotes removed)
    KEY=true<spaces>             match              KEY=true (trailing whitespace stripped)
    KEY=true<CR><LF>             match              KEY=true (CR ends the line too)
    KEY=true # note              match              KEY="true # note" (no inline comments)
    <BOM>KEY=true (line 1)       no match           ignored (the BOM is part of the name)
    # KEY=true,   ; KEY=true     no match           comment
    KEY=true ... KEY=false       2 lines match      the last one wins: KEY=false
    key=true (other case)        no match           sets "key", a different variable

P1 requires the anchored line exactly once (`occurrences`) and reports every `surprises` note;
`systemd_value` says what the engine actually receives. Parsing only: editing comes later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"(?P<export>export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # systemd refuses values with these
_BOM = "\ufeff"


@dataclass(frozen=True)
class EnvLine:
    """A line that starts with `KEY=` (what `grep "^KEY="` prints)."""

    lineno: int  # 1-based
    raw: str  # the line as stored, without its "\n" (the "\r" of a CRLF ending is kept)
    key: str
    value: str  # everything after the first "=", verbatim, minus a CRLF's "\r"


@dataclass(frozen=True)
class Assignment:
    """One assignment as systemd's env-file parser reads it (quotes, escapes, spaces resolved)."""

    lineno: int  # line where the key starts
    key: str
    value: str
    valid: bool  # False: systemd logs "Ignoring invalid environment assignment" and skips it


def _systemd_assignments(text: str) -> list[Assignment]:
    """systemd's parse_env_file_internal (src/basic/env-file.c, v252), character by character.

    Lines end at "\n" or "\r"; "#" or ";" as the first non-blank starts a comment; whitespace
    around key and unquoted value is stripped; '...' is literal; "..." unescapes \\" \\\\ \\` \\$;
    a backslash-newline continues the line (in v252 also inside a comment).
    """
    found: list[Assignment] = []
    state, key, value, start = "pre_key", "", "", 0
    key_end = value_end = None  # where trailing whitespace began, as in systemd

    def push() -> None:
        k = key[:key_end] if key_end is not None else key
        v = value[:value_end] if state == "value" and value_end is not None else value
        lineno = text.count("\n", 0, start) + 1
        ok = bool(_NAME.fullmatch(k)) and not _CONTROL.search(v)
        found.append(Assignment(lineno, k, v, ok))

    for pos, c in enumerate(text):
        if state == "pre_key":
            if c in "#;":
                state = "comment"
            elif c not in " \t\n\r":
                state, key, value, start, key_end = "key", c, "", pos, None
        elif state == "key":
            if c in "\n\r":
                state = "pre_key"  # a line without "=" is dropped
            elif c == "=":
                state, value_end = "pre_value", None
            else:
                if c not in " \t\n\r":
                    key_end = None
                elif key_end is None:
                    key_end = len(key)
                key += c
        elif state == "pre_value":
            if c in "\n\r":
                push()
                state = "pre_key"
            elif c == "'":
                state = "single"
            elif c == '"':
                state = "double"
            elif c == "\\":
                state = "value_escape"
            elif c not in " \t":
                state, value = "value", value + c
        elif state == "value":
            if c in "\n\r":
                push()
                state = "pre_key"
            elif c == "\\":
                state, value_end = "value_escape", None
            else:
                if c not in " \t":
                    value_end = None
                elif value_end is None:
                    value_end = len(value)
                value += c
        elif state == "value_escape":
            state = "value"
            if c not in "\n\r":
                value += c
        elif state == "single":
            if c == "'":
                state = "pre_value"
            else:
                value += c
        elif state == "double":
            if c == '"':
                state = "pre_value"
            elif c == "\\":
                state = "double_escape"
            else:
                value += c
        elif state == "double_escape":
            state = "double"
            if c in '"\\`$':
                value += c
            elif c != "\n":
                value += "\\" + c
        elif state == "comment":
            if c == "\\":
                state = "comment_escape"
            elif c in "\n\r":
                state = "pre_key"
        elif state == "comment_escape":
            state = "comment"
    if state not in ("pre_key", "key", "comment", "comment_escape"):
        push()
    return found


@dataclass(frozen=True)
class _Note:
    lineno: int
    key: str | None  # None: about the whole file (BOM, line endings)
    text: str


class EnvFile:
    """A parsed env file that keeps every line: `"".join(lines) == text`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: tuple[str, ...] = tuple(re.findall(r"[^\n]*\n|[^\n]+$", text))

    def occurrences(self, key: str) -> list[EnvLine]:
        """Lines starting with `KEY=`, as `grep "^KEY="` finds them (a BOM on line 1 hides it)."""
        prefix = f"{key}="
        found = []
        for lineno, line in enumerate(self.lines, 1):
            raw = line.removesuffix("\n")
            if raw.startswith(prefix):
                value = raw[len(prefix) :]
                if line.endswith("\r\n"):
                    value = value.removesuffix("\r")
                found.append(EnvLine(lineno, raw, key, value))
        return found

    @cached_property
    def assignments(self) -> list[Assignment]:
        """Every assignment as systemd reads it, valid or not, in file order."""
        return _systemd_assignments(self.text)

    def systemd_env(self) -> dict[str, str]:
        """The variables a unit with EnvironmentFile=this file receives (the last one wins)."""
        return {a.key: a.value for a in self.assignments if a.valid}

    def systemd_value(self, key: str) -> str | None:
        """What the engine sees for `key`, or None when systemd sets nothing."""
        return self.systemd_env().get(key)

    def surprises(self, key: str | None = None) -> list[str]:
        """Notes on what makes grep and systemd (or the operator's eye) disagree, in line order.

        With `key`, only the notes about that key, its case variants and the whole file.
        """
        notes = self._line_notes() + self._duplicate_notes() + self._case_notes(key)
        if key is not None:
            notes = [n for n in notes if n.key is None or n.key.upper() == key.upper()]
        return [n.text for n in sorted(notes, key=lambda n: n.lineno)]

    def _systemd_at(self, lineno: int) -> Assignment | None:
        return next((a for a in self.assignments if a.lineno == lineno), None)

    def _line_notes(self) -> list[_Note]:
        notes: list[_Note] = []
        crlf = [n for n, line in enumerate(self.lines, 1) if line.endswith("\r\n")]
        if crlf:
            shown = ", ".join(map(str, crlf[:10])) + (", ..." if len(crlf) > 10 else "")
            text = (
                f"line(s) {shown} end with CRLF (Windows line endings): grep '^KEY=value' still "
                "matches and systemd strips the CR; the file was edited elsewhere (Windows?)"
            )
            notes.append(_Note(crlf[0], None, text))
        for lineno, line in enumerate(self.lines, 1):
            body = line.removesuffix("\n").removesuffix("\r")
            if lineno == 1 and body.startswith(_BOM):
                text = (
                    "line 1 starts with a UTF-8 byte-order mark: grep '^KEY=' does not match "
                    "line 1, and systemd ignores its assignment (the BOM becomes part of the name)"
                )
                notes.append(_Note(1, None, text))
                body = body.removeprefix(_BOM)
            notes += self._notes_for(lineno, body)
        return notes

    def _notes_for(self, lineno: int, body: str) -> list[_Note]:
        """Notes on one line (without BOM and line ending): shell syntax, spaces, quotes."""
        stripped = body.lstrip(" \t")
        shown = f"line {lineno}: `{body.rstrip()}`"
        if stripped[:1] in ("#", ";"):
            m = _ASSIGNMENT.match(stripped[1:].lstrip())
            if not m:
                return []
            text = f"{shown} is a commented-out assignment: neither grep nor systemd counts it"
            return [_Note(lineno, m["key"], text)]
        m = _ASSIGNMENT.match(stripped)
        if not m:
            return []
        k = m["key"]
        if m["export"]:
            text = (
                f"{shown} uses shell syntax: grep '^{k}=' does not match it and systemd ignores "
                f"it (invalid name 'export {k}'), so it sets nothing"
            )
            return [_Note(lineno, k, text)]
        raw_value = stripped[m.end() :]
        sd = self._systemd_at(lineno)
        sets = f"sets {k}={sd.value!r}" if sd and sd.valid else "sets nothing"
        grep = f"grep '^{k}={sd.value}'" if sd and sd.valid and "'" not in sd.value else "grep"
        texts = []
        if stripped != body or m.group(0) != f"{k}=" or raw_value[:1] in (" ", "\t"):
            texts.append(
                f"{shown} has whitespace before the key or around '=': grep '^{k}=' misses it, "
                f"systemd strips the whitespace and {sets}"
            )
        if raw_value.strip()[:1] in ("'", '"'):
            texts.append(
                f"{shown} has a quoted value: {grep} misses it, systemd removes the "
                f"quotes and {sets}"
            )
        elif " #" in raw_value or "\t#" in raw_value:
            texts.append(
                f"{shown} has a '#' after the value: grep '^{k}={raw_value.split('#')[0].strip()}' "
                f"matches it, but systemd "
                f"keeps it as part of the value and {sets}"
            )
        if raw_value != raw_value.rstrip(" \t"):
            texts.append(
                f"line {lineno}: the value of {k} has trailing whitespace ({raw_value!r}): "
                f"{grep} still matches, systemd strips it and {sets}"
            )
        return [_Note(lineno, k, text) for text in texts]

    def _duplicate_notes(self) -> list[_Note]:
        by_key: dict[str, list[Assignment]] = {}
        for a in self.assignments:
            if a.valid:
                by_key.setdefault(a.key, []).append(a)
        notes = []
        for k, found in by_key.items():
            if len(found) > 1:
                where = ", ".join(str(a.lineno) for a in found)
                last = found[-1]
                text = (
                    f"{k} is set {len(found)} times (lines {where}): systemd and the engine use "
                    f"the last one, line {last.lineno} ({k}={last.value!r})"
                )
                notes.append(_Note(found[0].lineno, k, text))
        return notes

    def _case_notes(self, key: str | None) -> list[_Note]:
        """Names that differ only in case from `key` or from each other: different variables."""
        spellings: dict[str, dict[str, int]] = {}
        for a in self.assignments:
            if a.valid:
                spellings.setdefault(a.key.upper(), {}).setdefault(a.key, a.lineno)
        notes = []
        for upper, names in spellings.items():
            wanted = key if key is not None and key.upper() == upper else None
            for name, lineno in names.items():
                others = [n for n in (*names, wanted) if n is not None and n != name]
                if others and name != wanted:
                    text = (
                        f"line {lineno}: `{name}` differs from {others[0]} only in case: "
                        "environment names are case-sensitive, so it is a different variable"
                    )
                    notes.append(_Note(lineno, name, text))
        return notes


def parse_env(text: str) -> EnvFile:
    """Parse env-file text (as read by host.read_text: BOM and CR kept)."""
    return EnvFile(text)
