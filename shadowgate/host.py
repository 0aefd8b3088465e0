"""The engine's host as the checks see it: unit state, journal lines, env and model files.

Every command runs through a pytest-testinfra Host: `connect("local://")` on the VPS itself,
`connect("ssh://user@vps?sudo=true")` from elsewhere (the journal needs root or the
systemd-journal group). Whatever goes wrong on the host is a HostError whose message tells the
operator what to fix; output is parsed from bytes, so odd encodings never crash a run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import testinfra
import testinfra.host
from testinfra.backend.base import CommandResult

_SHOW_PROPS = (
    "LoadState",
    "ActiveState",
    "SubState",
    "Result",
    "NRestarts",
    "MainPID",
    "ActiveEnterTimestamp",
)
_NOT_BOOTED = ("not been booted with systemd", "Failed to connect to bus")
_SUDO_HINT = (
    "run the checks as root, with ?sudo=true over SSH, or as a member of the systemd-journal group"
)
# journalctl's stderr -> what the operator should do. A partial view is refused too: it would
# look like a silent engine.
_JOURNAL_TROUBLE = {
    "insufficient permissions": _SUDO_HINT,
    "not seeing messages from other users": _SUDO_HINT,
    "No journal files were found": "no journal on this host: is it booted with systemd?",
}


class HostError(Exception):
    """The host could not answer a check's question; the message says what to fix."""


def connect(hostspec: str = "local://") -> testinfra.host.Host:
    """A testinfra Host: "local://" (default) or e.g. "ssh://user@vps?sudo=true"."""
    return testinfra.get_host(hostspec)


def _name(host: testinfra.host.Host) -> str:
    return host.backend.get_pytest_id()


def _run(host: testinfra.host.Host, command: str, *args: str) -> CommandResult:
    """host.run, with a connection failure (ssh, sudo) turned into a HostError."""
    try:
        return host.run(command, *args)
    except Exception as exc:  # testinfra backends raise their transport's own errors
        raise HostError(f"cannot run a command on {_name(host)}: {exc}") from exc


def _stderr(result: CommandResult) -> str:
    return result.stderr_bytes.decode("utf-8", "replace").strip()


# -- unit state -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitState:
    """`systemctl show` of one unit at one moment.

    NRestarts counts only the automatic restarts (Restart=) since the unit was last started by
    hand: a manual `systemctl restart` resets it to 0. To detect a restart loop, compare two
    samples: NRestarts growing, or ActiveEnterTimestamp moving without an operator restart,
    both mean the unit restarted between them.
    """

    unit: str
    load_state: str
    active_state: str
    sub_state: str
    result: str
    n_restarts: int
    main_pid: int | None
    active_enter: datetime | None  # last time the unit entered "active" (UTC), None if never

    @property
    def running(self) -> bool:
        """`systemctl status` would say "active (running)"."""
        return self.active_state == "active" and self.sub_state == "running"

    def uptime_s(self, now: datetime) -> float | None:
        """Seconds since the unit became active, None unless it is running now.

        Pass the host's clock (`host_now`) when the host is remote: local clocks drift.
        """
        if not self.running or self.active_enter is None:
            return None
        return (now - self.active_enter).total_seconds()

    def describe(self) -> str:
        """As an operator reads it: "active (running), NRestarts=0, since 2026-01-10 08:00:00"."""
        since = self.active_enter.strftime("%Y-%m-%d %H:%M:%S UTC") if self.active_enter else "-"
        return (
            f"{self.unit}: {self.active_state} ({self.sub_state}), result={self.result}, "
            f"NRestarts={self.n_restarts}, MainPID={self.main_pid or '-'}, active since {since}"
        )


def _parse_timestamp(value: str, unit: str) -> datetime | None:
    """systemctl's "Thu 2026-01-10 08:00:00 UTC" (we run it with TZ=UTC); "" means never."""
    value = value.strip()
    if value in ("", "n/a"):
        return None
    fields = value.split()
    if len(fields) == 4 and fields[3] == "UTC":
        try:
            return datetime.strptime(f"{fields[1]} {fields[2]}", "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=UTC
            )
        except ValueError:
            pass
    raise HostError(f"unit {unit}: cannot read ActiveEnterTimestamp={value!r}")


def unit_state(host: testinfra.host.Host, unit: str) -> UnitState:
    """The unit's load/active/sub state, result, NRestarts, MainPID and when it became active."""
    result = _run(host, "TZ=UTC LC_ALL=C systemctl show -p %s -- %s", ",".join(_SHOW_PROPS), unit)
    where = _name(host)
    if result.rc != 0:
        err = _stderr(result)
        if result.rc == 127:
            raise HostError(f"systemctl not found on {where}: is this a systemd host?")
        if any(marker in err for marker in _NOT_BOOTED):
            why = (
                ": the host was not booted with systemd (PID 1 is not systemd)"
                if _NOT_BOOTED[0] in err
                else ""
            )
            raise HostError(
                f"systemctl cannot reach systemd on {where}{why}, so unit {unit} cannot be "
                f"checked ({err})"
            )
        raise HostError(f"systemctl show {unit} failed on {where} (exit {result.rc}): {err}")
    props = dict(
        line.partition("=")[::2]
        for line in result.stdout_bytes.decode("utf-8", "replace").splitlines()
        if "=" in line
    )
    missing = [p for p in _SHOW_PROPS if p not in props]
    if missing:
        raise HostError(f"systemctl show {unit} on {where} did not report {', '.join(missing)}")
    if props["LoadState"] == "not-found":
        raise HostError(f"unit {unit} not found (LoadState=not-found) on {where}")
    try:
        n_restarts, main_pid = int(props["NRestarts"]), int(props["MainPID"])
    except ValueError:
        raise HostError(
            f"unit {unit} on {where}: unreadable NRestarts={props['NRestarts']!r} "
            f"or MainPID={props['MainPID']!r}"
        ) from None
    return UnitState(
        unit=unit,
        load_state=props["LoadState"],
        active_state=props["ActiveState"],
        sub_state=props["SubState"],
        result=props["Result"],
        n_restarts=n_restarts,
        main_pid=main_pid or None,
        active_enter=_parse_timestamp(props["ActiveEnterTimestamp"], unit),
    )


def host_now(host: testinfra.host.Host) -> datetime:
    """The host's clock (UTC), to measure uptimes and windows against the host's own time."""
    result = _run(host, "date +%s.%N")  # no args: testinfra does no %-formatting
    try:
        return datetime.fromtimestamp(float(result.stdout_bytes.strip()), UTC)
    except ValueError:
        raise HostError(f"cannot read the clock of {_name(host)}: {_stderr(result)}") from None


# -- journal ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalLine:
    """One journal entry of the unit; the engine's JSON lines are unwrapped to msg and level."""

    ts: datetime  # when journald received it (UTC)
    message: str
    level: str | None = None  # only the engine's JSON lines carry one


def _message(value: object) -> str:
    """journald gives MESSAGE as a string, or as a list of byte values when not UTF-8."""
    if isinstance(value, list):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def _unwrap(message: str) -> tuple[str, str | None]:
    """The engine's own lines may be JSON objects {"ts", "level", "msg"}: keep msg and level."""
    if not message.startswith("{"):
        return message, None
    try:
        obj = orjson.loads(message)
    except orjson.JSONDecodeError:
        return message, None
    if not isinstance(obj, dict) or not isinstance(obj.get("msg"), str):
        return message, None
    level = obj.get("level")
    return obj["msg"], None if level is None else str(level)


def _epoch(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("journal_lines needs timezone-aware datetimes (UTC)")
    return f"@{moment.timestamp():.6f}"


def _check_journal(host: testinfra.host.Host, unit: str, result: CommandResult) -> None:
    err = _stderr(result)
    fix = next((fix for marker, fix in _JOURNAL_TROUBLE.items() if marker in err), None)
    if result.rc != 0 or fix:
        raise HostError(
            f"cannot read the journal of {unit} on {_name(host)}: journalctl exited "
            f"{result.rc}: {err or 'no message'}" + (f" ({fix})" if fix else "")
        )


def journal_lines(
    host: testinfra.host.Host,
    unit: str,
    since: datetime,
    until: datetime | None = None,
) -> list[JournalLine]:
    """The unit's journal lines from `since` to `until` (inclusive; aware datetimes), oldest first.

    A journal the caller may not read fully raises HostError: a partial view (journalctl run
    by a user outside the systemd-journal group) would otherwise look like a silent engine.
    """
    command = "journalctl -u %s --since %s -o json --output-fields=MESSAGE --no-pager"
    args = [unit, _epoch(since)]
    if until is not None:
        command += " --until %s"
        args.append(_epoch(until))
    result = _run(host, command, *args)
    _check_journal(host, unit, result)
    if not result.stdout_bytes.strip():
        # In JSON mode journalctl keeps quiet about a missing or partly hidden journal (a host
        # not booted with systemd, a user outside systemd-journal); its default mode says so.
        _check_journal(host, unit, _run(host, "journalctl -n 0 --no-pager"))
    lines = []
    for raw in result.stdout_bytes.splitlines():
        try:
            entry = orjson.loads(raw)
            micros = int(entry["__REALTIME_TIMESTAMP"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise HostError(
                f"journalctl -u {unit} on {_name(host)} printed an unreadable entry: {raw[:200]!r}"
            ) from None
        ts = datetime.fromtimestamp(micros // 1_000_000, UTC) + timedelta(
            microseconds=micros % 1_000_000
        )
        if ts < since or (until is not None and ts > until):
            continue
        message, level = _unwrap(_message(entry.get("MESSAGE")))
        lines.append(JournalLine(ts, message, level))
    return lines


# -- files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileFacts:
    """What the checks need to know about the env file or the model file."""

    path: str
    exists: bool
    is_file: bool
    readable: bool  # by the user the checks run as
    size: int | None  # None when the path does not exist
    sha256: str | None  # None unless a readable regular file


# One round trip (matters over SSH); %% is a literal % for testinfra's quoting.
_FACTS_SCRIPT = """P=%s
e=0; f=0; r=0
[ -e "$P" ] && e=1
[ -f "$P" ] && f=1
[ -r "$P" ] && r=1
echo "exists=$e file=$f readable=$r"
[ "$e" = 1 ] && echo "size=$(stat -L -c %%s -- "$P")"
[ "$f$r" = 11 ] && echo "sha256=$(sha256sum < "$P" | cut -d' ' -f1)"
true"""


def file_facts(host: testinfra.host.Host, path: str) -> FileFacts:
    """Existence, type, readability, size and sha256 of `path` on the host."""
    result = _run(host, _FACTS_SCRIPT, path)
    if result.rc != 0:
        raise HostError(f"cannot inspect {path} on {_name(host)}: {_stderr(result)}")
    facts: dict[str, str] = {}
    for token in result.stdout_bytes.decode("utf-8", "replace").split():
        key, _, value = token.partition("=")
        facts[key] = value
    try:
        size = int(facts["size"]) if "size" in facts else None
        return FileFacts(
            path=path,
            exists=facts["exists"] == "1",
            is_file=facts["file"] == "1",
            readable=facts["readable"] == "1",
            size=size,
            sha256=facts.get("sha256") or None,
        )
    except (KeyError, ValueError):
        raise HostError(
            f"cannot inspect {path} on {_name(host)}: unexpected answer {result.stdout!r}"
        ) from None


_READ_SCRIPT = """P=%s
[ -e "$P" ] || exit 3
[ -d "$P" ] && exit 4
[ -r "$P" ] || exit 5
exec cat -- "$P"
"""
_READ_ERRORS = {
    3: "does not exist",
    4: "is a directory, not a file",
    5: "is not readable by the user running the checks (run as root, or ?sudo=true over SSH)",
}


def read_text(host: testinfra.host.Host, path: str) -> str:
    """The file's text exactly as stored (BOM and CR kept), or a HostError saying why not."""
    result = _run(host, _READ_SCRIPT, path)
    where = _name(host)
    if result.rc in _READ_ERRORS:
        raise HostError(f"{path} on {where} {_READ_ERRORS[result.rc]}")
    if result.rc != 0:
        raise HostError(f"cannot read {path} on {where} (exit {result.rc}): {_stderr(result)}")
    data = result.stdout_bytes
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HostError(
            f"{path} on {where} is not UTF-8 text (byte {data[exc.start]:#04x} at offset "
            f"{exc.start}); sha256 {hashlib.sha256(data).hexdigest()}"
        ) from None


_BACKUPS_SCRIPT = """P=%s
D=$(dirname -- "$P")
[ -x "$D" ] && [ -r "$D" ] || exit 5
for f in "$P".bak*; do
    [ -f "$f" ] && printf '%%s\\t%%s\\n' "$(stat -c %%Y -- "$f")" "$f"
done
true
"""


def backups(host: testinfra.host.Host, path: str) -> list[str]:
    """Backups of `path` beside it (the runbook's `PATH.bak.activation.YYYYMMDD_HHMMSS`, any
    `PATH.bak*`), oldest first by modification time."""
    result = _run(host, _BACKUPS_SCRIPT, path)
    if result.rc == 5:
        raise HostError(
            f"cannot list the directory of {path} on {_name(host)}: not readable by the user "
            "running the checks (run as root, or ?sudo=true over SSH)"
        )
    if result.rc != 0:
        raise HostError(f"cannot list backups of {path} on {_name(host)}: {_stderr(result)}")
    found = []
    for line in result.stdout_bytes.decode("utf-8", "replace").splitlines():
        mtime, _, name = line.partition("\t")
        if mtime.isdigit() and name:
            found.append((int(mtime), name))
    return [name for _, name in sorted(found)]
