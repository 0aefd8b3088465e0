"""The unit's journal: lines in a time window or of one invocation, unwrapped from the engine's
JSON form; systemd's own record of automatic restarts; how far back the journal reaches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import testinfra.host
from testinfra.backend.base import CommandResult

from shadowgate.host._base import SUDO_HINT, HostError, name, run, stderr

# systemd's "Scheduled restart job, restart counter is at N." (MESSAGE_ID since v236): one per
# automatic restart (Restart=), logged by PID 1 under UNIT=, which `journalctl -u` includes.
RESTART_SCHEDULED = "5eb03494b6584870a536b337290809b3"

# journalctl's stderr -> what is wrong with the journal, in the operator's words. A partial
# view is refused too: it would look like a silent engine. journalctl exits 0 on some of these,
# so its exit code is never shown for them ("exited 0" reads like success).
_JOURNAL_TROUBLE = {
    "insufficient permissions": f"cannot be read whole by this user ({SUDO_HINT})",
    "not seeing messages from other users": f"cannot be read whole by this user ({SUDO_HINT})",
    "No journal files were found": "has no files: journald is not running there (is it booted "
    "with systemd?)",
}


@dataclass(frozen=True)
class JournalLine:
    """One journal entry of the unit; the engine's JSON lines are unwrapped to msg, level and
    exception (a traceback, where the engine logged one)."""

    ts: datetime  # when journald received it (UTC)
    message: str
    level: str | None = None  # only the engine's JSON lines carry one
    exception: str | None = None

    @property
    def text(self) -> str:
        """What the classifiers of shadowgate.host.forms read: the message and any traceback
        (a load failure may be named only in the exception of a JSON line)."""
        return f"{self.message}\n{self.exception}" if self.exception else self.message


def message_text(value: object) -> str:
    """journald gives MESSAGE as a string, or as a list of byte values when not UTF-8."""
    if isinstance(value, list):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def _unwrap(message: str) -> tuple[str, str | None, str | None]:
    """The engine's JSON lines {ts, level, service, event, correlation_id, msg, exception}: keep
    msg, level and exception; anything else (no object, no string msg) stays as it came."""
    if not message.startswith("{"):
        return message, None, None
    try:
        obj = orjson.loads(message)
    except orjson.JSONDecodeError:
        return message, None, None
    if not isinstance(obj, dict) or not isinstance(obj.get("msg"), str):
        return message, None, None
    level, exception = obj.get("level"), obj.get("exception")
    return (
        obj["msg"],
        None if level is None else str(level),
        str(exception) if exception else None,
    )


def _epoch(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("journal reads need timezone-aware datetimes (UTC)")
    return f"@{moment.timestamp():.6f}"


def _check_journal(host: testinfra.host.Host, unit: str, result: CommandResult) -> None:
    err = stderr(result)
    trouble = next((said for marker, said in _JOURNAL_TROUBLE.items() if marker in err), None)
    where = "this machine" if name(host) == "local" else name(host)
    if trouble:
        said = " ".join(err.split())
        raise HostError(f"the journal of {where} {trouble} (reading {unit}; journalctl: {said})")
    if result.rc != 0:
        raise HostError(
            f"cannot read the journal of {where} (reading {unit}): journalctl exited "
            f"{result.rc}: {err or 'no message'}"
        )


def query_json(host: testinfra.host.Host, unit: str, command: str, *args: str) -> bytes:
    """journalctl's JSON lines, or a HostError when the journal is missing or hidden in part."""
    result = run(host, command, *args)
    _check_journal(host, unit, result)
    if not result.stdout_bytes.strip():
        # In JSON mode journalctl keeps quiet about a missing or partly hidden journal (a host
        # not booted with systemd, a user outside systemd-journal); its default mode says so.
        _check_journal(host, unit, run(host, "journalctl -n 0 --no-pager"))
    return result.stdout_bytes


def _read(
    host: testinfra.host.Host,
    unit: str,
    matches: Sequence[str],
    since: datetime | None,
    until: datetime | None,
) -> list[JournalLine]:
    """`journalctl -u UNIT MATCH...` (the matches ANDed with the unit's), oldest first."""
    command = "journalctl -u %s" + " %s" * len(matches)
    args = [unit, *matches]
    for option, moment in (("--since", since), ("--until", until)):
        if moment is not None:
            command += f" {option} %s"
            args.append(_epoch(moment))
    out = query_json(host, unit, command + " -o json --output-fields=MESSAGE --no-pager", *args)
    lines = []
    for raw in out.splitlines():
        try:
            entry = orjson.loads(raw)
            micros = int(entry["__REALTIME_TIMESTAMP"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise HostError(
                f"journalctl -u {unit} on {name(host)} printed an unreadable entry: {raw[:200]!r}"
            ) from None
        ts = datetime.fromtimestamp(micros // 1_000_000, UTC) + timedelta(
            microseconds=micros % 1_000_000
        )
        if (since is not None and ts < since) or (until is not None and ts > until):
            continue
        lines.append(JournalLine(ts, *_unwrap(message_text(entry.get("MESSAGE")))))
    return lines


def journal_lines(
    host: testinfra.host.Host,
    unit: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    invocation: str | None = None,
) -> list[JournalLine]:
    """The unit's journal lines from `since` to `until` (inclusive; aware datetimes), oldest first.

    `invocation` keeps only the lines the unit's processes wrote during that invocation
    (`_SYSTEMD_INVOCATION_ID`, a new one at every start, automatic or not): "since the restart"
    without trusting clocks. A journal the caller may not read fully raises HostError: a
    partial view (journalctl run by a user outside the systemd-journal group) would otherwise
    look like a silent engine.
    """
    if since is None and invocation is None:
        raise ValueError("journal_lines needs `since` or `invocation`, not the whole journal")
    matches = [f"_SYSTEMD_INVOCATION_ID={invocation}"] if invocation else []
    return _read(host, unit, matches, since, until)


def restarts_scheduled(host: testinfra.host.Host, unit: str, since: datetime) -> list[datetime]:
    """When systemd scheduled an automatic restart of the unit since `since`, oldest first.

    Only as complete as the journal: see journal_reaches_back.
    """
    return [line.ts for line in _read(host, unit, [f"MESSAGE_ID={RESTART_SCHEDULED}"], since, None)]


def journal_reaches_back(host: testinfra.host.Host, moment: datetime) -> bool:
    """Does the host's journal hold an entry at or before `moment`? Journal files are vacuumed
    oldest first, so then it covers everything since: an absent line proves something."""
    out = query_json(
        host,
        "how far back it reaches",
        "journalctl --reverse --until %s -n 1 -o json --output-fields=MESSAGE --no-pager",
        _epoch(moment),
    )
    return bool(out.strip())
