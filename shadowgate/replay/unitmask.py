"""The `systemctl cat` text of a unit for a replay bundle: every letter and digit masked as in
an env file (envmask) except what host.chain reads from it, the lines kept, so the replay tells
which unit file or drop-in sets each Environment= name and names each EnvironmentFile= as the
live run did.

Kept verbatim: the `# /path` lines naming each unit file and drop-in, the [Unit], [Service]
and [Install] headers, directive names (before a "="), EnvironmentFile= values (paths), the
names each Environment= sets and the whole assignment of a read key. Masked: comments, every
other value (ExecStart=, other Environment= values) and text that is none of these;
backslashes, blanks, quotes, "=", "#" and line ends stay, so the lines join (a trailing
backslash) and split the same.
"""

from __future__ import annotations

import re

from shadowgate.host.chain import NAME_SET
from shadowgate.replay.envmask import masked_char

_HEADER = re.compile(r"# /\S+\.(?:service|conf)")  # systemctl cat's line naming each file
_SECTIONS = frozenset({"[Unit]", "[Service]", "[Install]"})  # others may be anything: masked
_DIRECTIVE = re.compile(r"\s*[A-Za-z]+\s*")


def _word_end(line: str, start: int, quote: str) -> int:
    """Where the word of an Environment= assignment starting at `start` ends."""
    ends = re.compile(re.escape(quote) if quote else r"\s").search(line, start)
    return len(line) if ends is None else ends.end()


def _kept_spans(line: str, read_keys: frozenset[str]) -> list[tuple[int, int]]:
    """The spans of one logical line (continuations joined) that host.chain reads."""
    if not line or line[0] in "#;":
        return []
    if line.startswith("["):
        return [(0, len(line))] if line in _SECTIONS else []
    key, eq, value = line.partition("=")
    if not eq or not _DIRECTIVE.fullmatch(key):
        return []
    at = len(key) + 1
    spans = [(0, len(key))]
    if key.strip() == "EnvironmentFile":
        spans.append((at, len(line)))
    elif key.strip() == "Environment":
        for m in NAME_SET.finditer(value):
            end = m.end(1)
            if m[1] in read_keys:
                opened = m[0].lstrip()[0]
                end = _word_end(value, end, opened if opened in "\"'" else "")
            spans.append((at + m.start(1), at + end))
    return spans


def masked_unit_text(text: str, read_keys: frozenset[str]) -> str:
    """`text` (systemctl cat's output) with all but what host.chain reads masked."""
    keep = [False] * len(text)
    # the logical line as host.chain joins it, and where each of its characters is in `text`
    # (-1: the blank put for a trailing backslash)
    line, pos = "", 0
    where: list[int] = []
    for piece in text.splitlines(keepends=True):
        raw = piece.splitlines()[0]
        start, pos = pos, pos + len(piece)
        if not line and _HEADER.fullmatch(raw):
            keep[start : start + len(raw)] = [True] * len(raw)
            continue
        lead = len(raw) - len(raw.lstrip())
        stripped = raw.strip()
        line += stripped
        where += range(start + lead, start + lead + len(stripped))
        if line.endswith("\\"):
            line, where = line[:-1] + " ", [*where[:-1], -1]
            continue
        for a, b in _kept_spans(line, read_keys):
            for i in where[a:b]:
                if i >= 0:
                    keep[i] = True
        line, where = "", []
    return "".join(c if kept else masked_char(c) for c, kept in zip(text, keep, strict=True))
