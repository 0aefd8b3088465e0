"""Capture: a live run's reads recorded at the two boundaries every check reads through, the
Redis client and the engine's host, so the bundle holds exactly what was judged.

`RecordingRedis` is the run's ReadOnlyRedis that also notes every reply (TIME, TYPE, XLEN, each
XRANGE/XREVRANGE batch as the ids it returned, their fields once per entry); `RecordingHost`
is the testinfra Host that notes every command's exit status and output. `Tape.bundle` turns
what was noted into a Bundle, scrubbed: the Redis password in every form is replaced
wherever it appears, the env files and the unit's `systemctl cat` are masked but for what the
checks read (envmask, unitmask), and systemctl show's Environment= lines, manager and process
environments keep values only for the keys the checks read (the shadow flag, the model path).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from testinfra.backend.base import CommandResult

from shadowgate import redact
from shadowgate.host import chain, files, unit
from shadowgate.readonly import Entry, ReadOnlyRedis, next_id
from shadowgate.replay.bundle import Bundle, Call, Fields, id_key, raw_of, text_of
from shadowgate.replay.envmask import masked_env_text
from shadowgate.replay.unitmask import masked_unit_text

# host commands whose output is an environment, with where its entries end (the manager's one a
# line, as its parser's splitlines ends them; the process's at NUL), and those with Environment=
# lines among others: values are kept for the read keys only; an env file's text (comments,
# continuations and all) is masked by envmask, systemctl cat's by unitmask
_ENV_COMMANDS = {
    chain.MANAGER_COMMAND: re.compile("(\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])"),
    unit.ENVIRON_SCRIPT: re.compile("(\x00)"),
}
_ENV_LINE_COMMANDS = frozenset({unit.SHOW_COMMAND, unit.SHOW_OLD_COMMAND})
_ENV_LINE = re.compile(r"^(\s*Environment\s*=)(.*)$", re.M)
_JOURNAL = "journalctl"
# KEY=value, the value bare or quoted; in a quoted word ("KEY=a b", systemd's form) up to its end
_ASSIGNMENT = re.compile(
    r"""(?<![\w.-])(["'])?([A-Za-z_]\w*)(\s*=\s*)"""
    r"""((?(1)[^"'\x00]*|(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"'\x00]*)))"""
)


@dataclass
class Tape:
    """What one run read, in call order: Redis replies and host command results."""

    redis: list[tuple[Call, Any]] = field(default_factory=list)
    entries: dict[str, dict[str, Fields]] = field(default_factory=dict)
    host: list[tuple[Call, dict[str, Any]]] = field(default_factory=list)
    host_name: str = ""  # as the host layer names it in messages (`host._base.name`)

    def reply(self, call: Call, reply: Any) -> Any:
        self.redis.append((call, reply))
        return reply

    def entries_read(self, call: Call, key: str, entries: list[Entry]) -> list[Entry]:
        kept = self.entries.setdefault(key, {})
        ids = []
        for raw_id, raw_fields in entries:
            entry_id = raw_id.decode()
            ids.append(entry_id)
            if entry_id not in kept:
                kept[entry_id] = {text_of(k): text_of(v) for k, v in raw_fields.items()}
        self.reply(call, ids)
        return entries

    def redis_time(self) -> tuple[int, int] | None:
        """The first TIME reply (the run's "now") as (seconds, microseconds)."""
        ms = next((reply for call, reply in self.redis if call == ("TIME",)), None)
        return None if ms is None else (ms // 1000, ms % 1000 * 1000)

    def bundle(self, secrets: tuple[str, ...], read_keys: frozenset[str], **about: Any) -> Bundle:
        """The Bundle of this tape, scrubbed of `secrets`, env values kept for `read_keys` only;
        `about` gives phase, env_chain, thresholds, strategy, target."""
        runs = [(call, _scrubbed_env(call, result, read_keys)) for call, result in self.host]
        streams = {k: sorted(v.items(), key=_by_id) for k, v in self.entries.items()}
        bundle = Bundle(
            redis_time=self.redis_time(),
            streams=streams,
            redis=list(self.redis),
            host={"name": self.host_name, "runs": [r for r in runs if not _is_journal(r[0])]},
            journal=[r for r in runs if _is_journal(r[0])],
            **about,
        )
        return Bundle.from_json(redact.scrubbed(bundle.to_json(), secrets))


def _by_id(entry: tuple[str, Fields]) -> tuple[int, int]:
    return id_key(entry[0])


def _is_journal(call: Call) -> bool:
    return str(call[0]).lstrip().startswith(_JOURNAL)


def _kept_values(text: str, read_keys: frozenset[str]) -> str:
    """Every `KEY=value` of `text` with the value replaced unless the checks read KEY."""

    def keep_or_hide(m: re.Match[str]) -> str:
        shown = m[4] if m[2] in read_keys or not m[4] else redact.REDACTED
        return f"{m[1] or ''}{m[2]}{m[3]}{shown}"

    return _ASSIGNMENT.sub(keep_or_hide, text)


def _kept_entries(text: str, read_keys: frozenset[str], ends: re.Pattern[str]) -> str:
    """Each entry of an environment (split at `ends`) whole if it sets a key the checks read,
    else as `KEY=***`: its value may hold blanks and newlines, which `_ASSIGNMENT` stops at."""

    def keep_or_hide(entry: str) -> str:
        key, eq, value = entry.partition("=")
        if not eq:  # no assignment (the parsers skip it): nothing of it is read
            return entry and redact.REDACTED
        return entry if key in read_keys or not value else f"{key}={redact.REDACTED}"

    pieces = ends.split(text)  # entries at even places, their ends at odd ones
    return "".join(p if i % 2 else keep_or_hide(p) for i, p in enumerate(pieces))


def _scrubbed_env(call: Call, result: dict[str, Any], read_keys: frozenset[str]) -> dict[str, Any]:
    out = result["stdout"]
    if call[0] == files.READ_SCRIPT and result["rc"] == 0:  # else the stdout is no file's text
        out = masked_env_text(out, read_keys)
    elif call[0] == chain.CAT_COMMAND:
        out = masked_unit_text(out, read_keys)
    elif (ends := _ENV_COMMANDS.get(call[0])) is not None:
        out = _kept_entries(out, read_keys, ends)
    elif call[0] in _ENV_LINE_COMMANDS:
        out = _ENV_LINE.sub(lambda m: m[1] + _kept_values(m[2], read_keys), out)
    return {**result, "stdout": out}


class RecordingRedis(ReadOnlyRedis):
    """The live read-only client, each reply also put on the tape (so no forked process may
    read through it: its replies would never reach the tape)."""

    __slots__ = ("tape",)
    forkable = False

    def __init__(self, live: ReadOnlyRedis, tape: Tape) -> None:
        for name in ReadOnlyRedis.__slots__:
            setattr(self, name, getattr(live, name))
        self.tape = tape

    def time_ms(self) -> int:
        return self.tape.reply(("TIME",), super().time_ms())

    def type(self, key: str) -> str:
        return self.tape.reply(("TYPE", key), super().type(key))

    def xlen(self, key: str) -> int:
        return self.tape.reply(("XLEN", key), super().xlen(key))

    def xrange(self, key: str, start: str, end: str, count: int) -> list[Entry]:
        call = ("XRANGE", key, start, end, count)
        return self.tape.entries_read(call, key, super().xrange(key, start, end, count))

    def xrevrange(self, key: str, end: str, start: str, count: int) -> list[Entry]:
        call = ("XREVRANGE", key, end, start, count)
        return self.tape.entries_read(call, key, super().xrevrange(key, end, start, count))

    def xrange_batches(self, key: str, start: str, end: str, count: int) -> Iterator[list[Entry]]:
        """The live pipelined read; each batch noted as the XRANGE that returned it."""
        lo = start
        for batch in super().xrange_batches(key, start, end, count):
            yield self.tape.entries_read(("XRANGE", key, lo, end, count), key, batch)
            if batch:
                lo = next_id(batch[-1][0].decode())


class RecordingHost:
    """A testinfra Host whose `run` results are also put on the tape; all else is the live
    host's."""

    def __init__(self, live: Any, tape: Tape) -> None:
        self._live = live
        self._tape = tape
        tape.host_name = redact.redact_url(live.backend.get_pytest_id())

    def run(self, command: str, *args: str) -> CommandResult:
        result = self._live.run(command, *args)
        self._tape.host.append(((command, *args), _result_json(result)))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._live, name)


def _result_json(result: CommandResult) -> dict[str, Any]:
    return {
        "rc": result.rc,
        "stdout": text_of(result.stdout_bytes),
        "stderr": text_of(result.stderr_bytes),
    }


def result_of(backend: Any, call: Call, saved: Mapping[str, Any]) -> CommandResult:
    """A CommandResult as the live host returned it (the replay's answer to `call`)."""
    command = " ".join(map(str, call)).encode()
    stdout, stderr = raw_of(saved["stdout"]), raw_of(saved["stderr"])
    return CommandResult(backend, int(saved["rc"]), command, stdout, stderr)
