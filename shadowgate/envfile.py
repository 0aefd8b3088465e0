r"""The engine's env file read two ways: as the runbook's grep sees it, and as systemd does.

The runbook verifies the shadow flag with `grep "^PATCHTST_SHADOW_ONLY=true" FILE`, but the
engine gets its environment from systemd's EnvironmentFile=, and the two disagree on files an
editor or a hurried operator may produce. Measured with systemd 252
(tests/box/test_envfile_systemd.py runs the comparison against the real one):

    line                         grep "^KEY=true"   systemd EnvironmentFile=
    KEY=true                     match              KEY=true
    export KEY=true              no match           ignored (invalid name "export KEY")
    KEY = true,   <blank>KEY=true no match          KEY=true (whitespace stripped)
    KEY="true",   KEY='true'     no match           KEY=true (quotes removed)
    KEY=true<spaces>             match              KEY=true (trailing whitespace stripped)
    KEY=true<CR><LF>             match              KEY=true (CR ends the line too)
    KEY=true # note              match              KEY="true # note" (no inline comments)
    <BOM>KEY=true (line 1)       no match           ignored (the BOM is part of the name)
    # KEY=true,   ; KEY=true     no match           comment
    # note \ <LF> KEY=true       match              comment: the backslash joins the lines
    A=x \ <LF> KEY=true          match              A="x KEY=true", no KEY
    KEY=true ... KEY=false       2 lines match      the last one wins: KEY=false
    key=true (other case)        no match           sets "key", a different variable
    a NUL byte anywhere          "binary file"      the whole file is refused: no start

P1 and P6 judge `flag_state`: systemd's value, the anchored lines, whether they agree, and
notes in operator words for every surprise. Parsing only: the actions edit through `envedit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from shadowgate.envparse import Assignment, systemd_parse

_ASSIGNMENT = re.compile(r"(?P<export>export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=")
_BOM = "\ufeff"


@dataclass(frozen=True)
class EnvLine:
    """A line that starts with `KEY=` (what `grep "^KEY="` prints)."""

    lineno: int  # 1-based
    raw: str  # the line as stored, without its "\n" (the "\r" of a CRLF ending is kept)
    key: str
    value: str  # everything after the first "=", verbatim, minus a CRLF's "\r"


@dataclass(frozen=True)
class FlagState:
    """One key as the engine receives it beside the runbook's grep, for P1 and P6."""

    key: str
    systemd_value: str | None  # what the unit receives; None: unset, or the file is refused
    systemd_lineno: int | None  # the line of the assignment systemd uses
    grep_lines: tuple[EnvLine, ...]  # `grep "^KEY="`, in file order
    runbook_match: bool  # `grep "^KEY=<expected>"` prints a line (a prefix match: "true  " too)
    agree: bool  # both unset, or the last grep line is systemd's assignment with its value
    notes: tuple[str, ...]  # why they disagree (first), then every surprise about `key`

    @property
    def grep_values(self) -> tuple[str, ...]:
        return tuple(line.value for line in self.grep_lines)


def _span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


@dataclass(frozen=True)
class _Note:
    lineno: int
    keys: frozenset[str] | None  # None: about the whole file (BOM, line endings, NUL)
    text: str


class EnvFile:
    """A parsed env file that keeps every line: `"".join(lines) == text`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: tuple[str, ...] = tuple(re.findall(r"[^\n]*\n|[^\n]+$", text))

    @property
    def ends_with_newline(self) -> bool:
        """True if `echo LINE >> FILE` (runbook s.6) starts a new line: the text is empty or
        ends in a newline; otherwise the echoed flag is glued onto the last line."""
        return not self.text or self.text.endswith("\n")

    def appended(self, line: str) -> EnvFile:
        """The file after the runbook's rollback `echo LINE >> FILE` (s.6)."""
        return EnvFile(self.text + line + "\n")

    @cached_property
    def systemd_error(self) -> str | None:
        """Why systemd refuses the whole file (the unit then fails to start), or None."""
        if (nul := self.text.find("\0")) < 0:
            return None
        lineno = self.text.count("\n", 0, nul) + 1
        return (
            f"line {lineno} contains a NUL byte: systemd refuses the whole file and the unit "
            "fails to start (grep calls it a binary file)"
        )

    def occurrences(self, key: str) -> list[EnvLine]:
        """Lines starting with `KEY=`, as `grep "^KEY="` finds them (a BOM on line 1 hides it)."""
        prefix, found = f"{key}=", []
        for lineno, line in enumerate(self.lines, 1):
            raw = line.removesuffix("\n")
            if raw.startswith(prefix):
                value = raw[len(prefix) :]
                value = value.removesuffix("\r") if line.endswith("\r\n") else value
                found.append(EnvLine(lineno, raw, key, value))
        return found

    @cached_property
    def _parsed(self) -> tuple[list[Assignment], list[tuple[int, int]]]:
        return ([], []) if self.systemd_error else systemd_parse(self.text)

    @property
    def assignments(self) -> list[Assignment]:
        """Every assignment as systemd reads it, valid or not, in file order."""
        return self._parsed[0]

    @cached_property
    def _winners(self) -> dict[str, Assignment]:
        return {a.key: a for a in self.assignments if a.valid}

    def systemd_env(self) -> dict[str, str]:
        """The variables a unit with EnvironmentFile=this file receives (the last one wins)."""
        return {k: a.value for k, a in self._winners.items()}

    def systemd_value(self, key: str) -> str | None:
        """What the engine sees for `key`, or None when systemd sets nothing."""
        winner = self._winners.get(key)
        return winner.value if winner else None

    def flag_state(self, key: str, expected: str = "true") -> FlagState:
        """`key` as systemd delivers it and as `grep "^KEY="` shows it; whether they agree."""
        grep = tuple(self.occurrences(key))
        shown, winner = (grep[-1] if grep else None), self._winners.get(key)
        if shown is None or winner is None:
            agree = shown is winner
        else:
            visible = shown.value.rstrip(" \t\r")  # trailing blanks and CR do not show
            agree = winner.lineno == shown.lineno and winner.value == visible
        notes = self.surprises(key)
        if not agree:
            got = f"{key}={winner.value!r} from line {winner.lineno}" if winner else f"no {key}"
            seen = f"`{shown.raw.rstrip(chr(13))}` on line {shown.lineno}" if shown else "no line"
            more = f" (the last of {len(grep)} lines)" if len(grep) > 1 else ""
            notes.insert(0, f"grep '^{key}=' shows {seen}{more}, but systemd delivers {got}")
        return FlagState(
            key,
            winner.value if winner else None,
            winner.lineno if winner else None,
            grep,
            any(line.value.startswith(expected) for line in grep),
            agree,
            tuple(notes),
        )

    def surprises(self, key: str | None = None) -> list[str]:
        """Notes on what makes grep and systemd (or the operator's eye) disagree, in line order.

        With `key`, only the notes about that key, its case variants and the whole file.
        """
        notes = self._notes + self._case_notes(key)
        if key is not None:
            wanted = key.upper()
            notes = [n for n in notes if n.keys is None or any(k.upper() == wanted for k in n.keys)]
        return [n.text for n in sorted(notes, key=lambda n: n.lineno)]

    @cached_property
    def _notes(self) -> list[_Note]:
        notes = self._continuation_notes() + self._line_notes() + self._duplicate_notes()
        return notes + ([_Note(0, None, self.systemd_error)] if self.systemd_error else [])

    def _hidden(self, first: int, last: int) -> tuple[frozenset[str], str]:
        """The keys that lines first..last seem to set, and a note that they set nothing."""
        found = []
        for lineno in range(first, last + 1):
            body = self.lines[lineno - 1].rstrip("\r\n")
            if m := _ASSIGNMENT.match(body.lstrip(" \t")):
                found.append((lineno, m["key"], body.strip()))
        text = "".join(f"; `{t}` on line {n} sets nothing" for n, _, t in found[:3])
        return frozenset(k for _, k, _ in found), text

    def _continuation_notes(self) -> list[_Note]:
        notes = []
        for first, last in self._parsed[1]:
            keys, hidden = self._hidden(first + 1, last)
            if keys:
                text = f"line {first}: the comment ends with a backslash, so systemd 252 reads "
                text += f"{_span(first + 1, last)} as part of it{hidden}"
                notes.append(_Note(first, keys, text))
        for a in self.assignments:
            if a.last_lineno > a.lineno:
                keys, hidden = self._hidden(a.lineno + 1, a.last_lineno)
                body = self.lines[a.lineno - 1].removesuffix("\n")
                why = "ends with a backslash" if body.endswith("\\") else "opens an unclosed quote"
                text = (
                    f"line {a.lineno}: the value of {a.key} {why}, so systemd joins "
                    f"{_span(a.lineno + 1, a.last_lineno)} to it and sets {a.key}={a.value!r}"
                )
                notes.append(_Note(a.lineno, keys | {a.key}, text + hidden))
        return notes

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
        joined = {n for a, b in self._parsed[1] for n in range(a + 1, b + 1)}
        starting: dict[int, Assignment] = {}
        for a in self.assignments:
            starting.setdefault(a.lineno, a)
            joined.update(range(a.lineno + 1, a.last_lineno + 1))
        for lineno, line in enumerate(self.lines, 1):
            body = line.removesuffix("\n").removesuffix("\r")
            if lineno in joined:  # read as the rest of an earlier line: see the continuation
                notes += self._bare_cr_notes(lineno, body)  # notes; a bare CR still ends it
                continue
            if lineno == 1 and body.startswith(_BOM):
                text = (
                    "line 1 starts with a UTF-8 byte-order mark: grep '^KEY=' does not match "
                    "line 1, and systemd ignores its assignment (the BOM becomes part of the name)"
                )
                notes.append(_Note(1, None, text))
                body = body.removeprefix(_BOM)
            notes += self._bare_cr_notes(lineno, body)
            ending = "before the CR of a CRLF ending" if line.endswith("\r\n") else ""
            ending = ending if line.endswith("\n") else "at the end of the file"
            notes += self._notes_for(lineno, body, ending, starting.get(lineno))
        return notes

    @staticmethod
    def _bare_cr_notes(lineno: int, body: str) -> list[_Note]:
        if "\r" not in body:
            return []
        text = f"line {lineno} contains a bare CR (an old Mac line ending): systemd ends a line "
        return [_Note(lineno, None, text + "there (outside quotes), grep does not")]

    def _notes_for(self, lineno: int, body: str, ending: str, sd: Assignment | None) -> list[_Note]:
        """Notes on one line (without BOM and line ending) whose reading `sd` starts there."""
        stripped = body.lstrip(" \t")
        shown = f"line {lineno}: `{body.rstrip()}`"
        if stripped[:1] in ("#", ";"):
            if not (m := _ASSIGNMENT.match(stripped[1:].lstrip())):
                return []
            text = f"{shown} is a commented-out assignment: neither grep nor systemd counts it"
            return [_Note(lineno, frozenset({m["key"]}), text)]
        if not (m := _ASSIGNMENT.match(stripped)):
            return []
        k = m["key"]
        if m["export"]:
            text = (
                f"{shown} uses shell syntax: grep '^{k}=' does not match it and systemd ignores "
                f"it (invalid name 'export {k}'), so it sets nothing"
            )
            return [_Note(lineno, frozenset({k}), text)]
        raw_value = stripped[m.end() :]
        sets = f"sets {k}={sd.value!r}" if sd and sd.valid else "sets nothing"
        grep = f"grep '^{k}={sd.value}'" if sd and sd.valid and "'" not in sd.value else "grep"
        quoted = raw_value.strip()[:1] in ("'", '"')
        texts = []
        if stripped != body or m.group(0) != f"{k}=" or raw_value[:1] in (" ", "\t"):
            texts.append(
                f"{shown} has whitespace before the key or around '=': grep '^{k}=' misses it, "
                f"systemd strips the whitespace and {sets}"
            )
        if quoted:
            texts.append(
                f"{shown} has a quoted value: {grep} misses it, systemd removes the quotes"
            )
            texts[-1] += f" and {sets}"
        elif " #" in raw_value or "\t#" in raw_value:
            texts.append(
                f"{shown} has a '#' after the value: grep '^{k}={raw_value.split('#')[0].strip()}' "
                f"matches it, but systemd keeps it as part of the value and {sets}"
            )
        if raw_value != raw_value.rstrip(" \t"):
            texts.append(
                f"line {lineno}: the value of {k} has trailing whitespace ({raw_value!r}): "
                f"{grep} still matches, systemd strips it and {sets}"
            )
        if not quoted and ending and (len(raw_value) - len(raw_value.rstrip("\\"))) % 2:
            texts.append(
                f"line {lineno}: the value of {k} ends with a backslash {ending}: systemd drops "
                f"it without joining a line and {sets}"
            )
        elif not quoted and "\\" in raw_value and not (sd and sd.last_lineno > lineno):
            texts.append(
                f"line {lineno}: the value of {k} contains a backslash, which systemd reads as "
                f"an escape: it {sets}"
            )
        return [_Note(lineno, frozenset({k}), text) for text in texts]

    def _duplicate_notes(self) -> list[_Note]:
        by_key: dict[str, list[Assignment]] = {}
        for a in self.assignments:
            if a.valid:
                by_key.setdefault(a.key, []).append(a)
        notes = []
        for k, found in ((k, found) for k, found in by_key.items() if len(found) > 1):
            where, last = ", ".join(str(a.lineno) for a in found), found[-1]
            text = (
                f"{k} is set {len(found)} times (lines {where}): systemd and the engine use "
                f"the last one, line {last.lineno} ({k}={last.value!r})"
            )
            notes.append(_Note(found[0].lineno, frozenset({k}), text))
        return notes

    @cached_property
    def _spellings(self) -> dict[str, dict[str, int]]:
        """Upper-cased name -> each spelling of it -> the line it is first set on."""
        spellings: dict[str, dict[str, int]] = {}
        for a in self.assignments:
            if a.valid:
                spellings.setdefault(a.key.upper(), {}).setdefault(a.key, a.lineno)
        return spellings

    def _case_notes(self, key: str | None) -> list[_Note]:
        """Names that differ only in case from `key` or from each other: different variables."""
        notes = []
        for upper, names in self._spellings.items():
            wanted = key if key is not None and key.upper() == upper else None
            for name, lineno in names.items():
                others = [n for n in (*names, wanted) if n is not None and n != name]
                if others and name != wanted:
                    text = (
                        f"line {lineno}: `{name}` differs from {others[0]} only in case: "
                        "environment names are case-sensitive, so it is a different variable"
                    )
                    notes.append(_Note(lineno, frozenset({name}), text))
        return notes


def parse_env(text: str) -> EnvFile:
    """Parse env-file text (as read by host.read_text: BOM and CR kept)."""
    return EnvFile(text)
