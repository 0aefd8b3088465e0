"""An env file's text for a replay bundle: every letter and digit masked except what the checks
read, the structure kept, so the replay's parse (shadowgate.envfile) judges it as the live run did.

Kept verbatim: the values systemd gives a read key (any case: the case notes quote them), every
line that grep "^KEY=" or a commented-out assignment shows for one (up to where systemd's line
ends), and the key names at line starts (the continuation notes name them). Masked: all other
values, comments and unparsed text, each letter to "x" and digit to "0" (other alphanumerics to
"*", so no invalid name becomes valid); newlines, CR, backslashes, quotes, "=", "#", ";", blanks
and the BOM stay, so systemd and grep split, join and skip the same lines.
"""

from __future__ import annotations

import re

from shadowgate.envparse import systemd_parse

_LINE_START = re.compile(r"[\r\n]")  # grep's lines start after LF, systemd's after CR too
# a line as envfile reads it for grep and its notes (BOM, blanks, comment mark, `export`, name,
# "="), then the rest up to where systemd's line ends
_LINE_KEY = re.compile(
    r"\ufeff?[ \t]*(?P<mark>[#;]\s*)?(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=[^\r\n]*"
)


def masked_char(c: str) -> str:
    """`c` masked: a letter to "x", a digit to "0", any other alphanumeric to "*"."""
    if not c.isalnum():
        return c
    if c.isascii():
        return "0" if c.isdigit() else "x"
    return "*"


def masked_env_text(text: str, read_keys: frozenset[str]) -> str:
    """`text` with everything but the read keys' values and the key names masked."""
    read = {k.upper() for k in read_keys}
    keep = [False] * len(text)

    def keep_span(start: int, end: int) -> None:
        keep[start:end] = [True] * (end - start)

    for start in [0, *(m.end() for m in _LINE_START.finditer(text))]:
        line_end = text.find("\n", start)
        if not (k := _LINE_KEY.match(text, start, len(text) if line_end < 0 else line_end)):
            continue
        if k["key"].upper() in read:
            keep_span(start, k.end())
        elif not k["mark"]:
            keep_span(start, k.end("key"))
    for a in systemd_parse(text)[0]:
        start, end = a.span
        if a.valid and a.key.upper() in read:
            keep_span(start, end)
        elif a.valid:
            keep_span(start, start + len(a.key))
    return "".join(c if kept else masked_char(c) for c, kept in zip(text, keep, strict=True))
