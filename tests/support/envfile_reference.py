"""A reference for envfile's systemd port: a literal transcription of systemd 252's
parse_env_file_internal (src/basic/env-file.c) and of what EnvironmentFile= does with its
result; and a generator of env files that mixes every construct grep and systemd read
differently, shared by the property tests and the real-systemd comparison.

The port runs a regex per state for speed; the reference steps one character at a time exactly
as the C does, so the two are written differently and must still agree on every file.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from hypothesis import strategies as st

FLAG = "PATCHTST_SHADOW_ONLY"
WHITESPACE, NEWLINE, COMMENTS, SHELL_NEED_ESCAPE = " \t\n\r", "\n\r", "#;", '"\\`$'
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Parsed = tuple[list[tuple[str, str, int, int]], dict[str, str] | None]


def reference(text: str) -> Parsed:
    """(key, value, first line, last line) per push, and the unit's environment (None: refused).

    Line numbers are grep's (counted in "\\n"), from the offsets where a key starts and where
    its push happens; systemd's own counter is not used.
    """
    if "\0" in text:  # read_full_stream without a size refuses embedded NULs: -EBADMSG
        return [], None
    pushes: list[tuple[str, str, int, int]] = []
    state = "PRE_KEY"
    key: list[str] = []
    value: list[str] = []
    last_key_ws = last_value_ws = None
    start = 0

    def line(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    def push(at: int, chomp: bool) -> None:
        k = "".join(key[:last_key_ws] if last_key_ws is not None else key)
        v = value[:last_value_ws] if chomp and last_value_ws is not None else value
        pushes.append((k, "".join(v), line(start), line(max(start, at - 1))))

    for i, c in enumerate(text):
        if state == "PRE_KEY":
            if c in COMMENTS:
                state = "COMMENT"
            elif c not in WHITESPACE:
                state, last_key_ws, key, start = "KEY", None, [c], i
        elif state == "KEY":
            if c in NEWLINE:
                state = "PRE_KEY"
            elif c == "=":
                state, last_value_ws, value = "PRE_VALUE", None, []
            else:
                if c not in WHITESPACE:
                    last_key_ws = None
                elif last_key_ws is None:
                    last_key_ws = len(key)
                key.append(c)
        elif state == "PRE_VALUE":
            if c in NEWLINE:
                state = "PRE_KEY"
                push(i, chomp=False)
            elif c == "'":
                state = "SINGLE_QUOTE_VALUE"
            elif c == '"':
                state = "DOUBLE_QUOTE_VALUE"
            elif c == "\\":
                state = "VALUE_ESCAPE"
            elif c not in WHITESPACE:
                state = "VALUE"
                value.append(c)
        elif state == "VALUE":
            if c in NEWLINE:
                state = "PRE_KEY"
                push(i, chomp=True)
            elif c == "\\":
                state, last_value_ws = "VALUE_ESCAPE", None
            else:
                if c not in WHITESPACE:
                    last_value_ws = None
                elif last_value_ws is None:
                    last_value_ws = len(value)
                value.append(c)
        elif state == "VALUE_ESCAPE":
            state = "VALUE"
            if c not in NEWLINE:
                value.append(c)
        elif state == "SINGLE_QUOTE_VALUE":
            if c == "'":
                state = "PRE_VALUE"
            else:
                value.append(c)
        elif state == "DOUBLE_QUOTE_VALUE":
            if c == '"':
                state = "PRE_VALUE"
            elif c == "\\":
                state = "DOUBLE_QUOTE_VALUE_ESCAPE"
            else:
                value.append(c)
        elif state == "DOUBLE_QUOTE_VALUE_ESCAPE":
            state = "DOUBLE_QUOTE_VALUE"
            if c in SHELL_NEED_ESCAPE:
                value.append(c)
            elif c != "\n":
                value += ["\\", c]
        elif state == "COMMENT":
            if c == "\\":
                state = "COMMENT_ESCAPE"
            elif c in NEWLINE:
                state = "PRE_KEY"
        elif state == "COMMENT_ESCAPE":  # v252; v254 ends the comment at an escaped newline
            state = "COMMENT"
    if state not in ("PRE_KEY", "KEY", "COMMENT", "COMMENT_ESCAPE"):
        push(len(text), chomp=state == "VALUE")
    # load_env_file: strv_env_replace_consume (the last one wins), then execute.c drops
    # assignments with invalid names; values are never refused once the file is UTF-8.
    env: dict[str, str] = {}
    for k, v, _, _ in pushes:
        env[k] = v
    return pushes, {k: v for k, v in env.items() if NAME.fullmatch(k)}


# One generator, two drivers: hypothesis (`draw` from sampled_from) and random.Random.choice.
KEYS = (FLAG, FLAG, "PATCHTST_MODEL_PATH", "A", "B_2", FLAG.lower(), "9BAD", f"export {FLAG}")
INDENTS = ("", "", "", " ", "\t", "  ")
EQUALS = ("=", "=", "=", " =", "= ", " = ", "\t=")
VALUES = (
    *("true", "true", "false", "", "x y", "/opt/m.pth", "é", "$HOME", "`x`", "=", "#"),
    *("'true'", '"true"', '"a\\"b\\\\c\\$d\\x"', "'a'b\"c\"", "'open", '"open', "'", '"'),
    *("tr\\ue", "\\", "\\\\", "a # c", "\\ ", "a\\\tb", '"a\\', '"multi\\'),
)
TAILS = ("", "", "", " ", "\t ", "\\", " \\", "\\\\")
OTHERS = ("# note", "# note \\", "; x \\", "  # indented \\", "#", "", "  ", "NOEQUALS", "=v", "\\")
ENDS = ("\n", "\n", "\n", "\n", "\r\n", "\r")


def env_text(pick: Callable[[Sequence[str]], str], lines: int) -> str:
    """An env file of `lines` lines mixing every construct systemd and grep read differently."""
    out = ["\ufeff" if pick(("", "", "", "bom")) else ""]
    for n in range(lines):
        if pick(("assignment", "assignment", "other")) == "assignment":
            body = pick(INDENTS) + pick(KEYS) + pick(EQUALS) + pick(VALUES) + pick(TAILS)
        else:
            body = pick(OTHERS)
        out.append(body + (pick((*ENDS, "")) if n == lines - 1 else pick(ENDS)))
    return "".join(out)


def env_texts() -> st.SearchStrategy[str]:
    @st.composite
    def build(draw: st.DrawFn) -> str:
        return env_text(lambda options: draw(st.sampled_from(options)), draw(st.integers(0, 8)))

    return build()


def random_env_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [env_text(rng.choice, rng.randint(1, 8)) for _ in range(count)]
