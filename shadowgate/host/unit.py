"""The unit as systemd shows it: state, start, invocation, restarts; and whether systemd
restarted it automatically within a window (B4, S1), told only as far as it can be proven."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import testinfra.host

from shadowgate.host._base import HostError, name, run, stderr, utc_text
from shadowgate.host.journal import (
    JournalLine,
    journal_lines,
    journal_reaches_back,
    restarts_scheduled,
)

_SHOW_PROPS = (
    "LoadState",
    "ActiveState",
    "SubState",
    "Result",
    "NRestarts",
    "MainPID",
    "ActiveEnterTimestamp",
    "ExecMainStartTimestamp",
    "InvocationID",
)
_NOT_BOOTED = ("not been booted with systemd", "Failed to connect to bus")
# Microseconds and UTC (systemd >= 247); older systemctl rejects the option and is asked again
# without it, under TZ=UTC, for whole seconds.
SHOW_COMMAND = "LC_ALL=C systemctl show --timestamp=us+utc -p %s -- %s"
SHOW_OLD_COMMAND = "TZ=UTC LC_ALL=C systemctl show -p %s -- %s"


@dataclass(frozen=True)
class AutoRestart:
    """Did systemd restart the unit automatically (Restart=) within a window? `happened` is None
    when what systemd shows cannot prove it either way; `reason` says how it was decided."""

    happened: bool | None
    reason: str


@dataclass(frozen=True)
class UnitState:
    """`systemctl show` of one unit at one moment.

    NRestarts counts the automatic restarts (Restart=) since the unit was last started by hand
    (or at boot): systemd resets it to 0 at any start that is not an automatic restart, and
    keeps it otherwise, so with Restart=always one crash days ago leaves it at 1 for good. Hence
    NRestarts > 0 says the current run began with an automatic restart, at `started`; to see a
    restart loop compare two samples (NRestarts growing, InvocationID changing).
    """

    unit: str
    load_state: str
    active_state: str
    sub_state: str
    result: str
    n_restarts: int
    main_pid: int | None
    active_enter: datetime | None  # last time the unit entered "active" (UTC), None if never
    invocation_id: str | None = None  # new at every start, automatic or by hand
    exec_main_start: datetime | None = None  # when the current (or last) main process started

    @property
    def running(self) -> bool:
        """`systemctl status` would say "active (running)"."""
        return self.active_state == "active" and self.sub_state == "running"

    @property
    def started(self) -> datetime | None:
        """The last start: the later of entering "active" and the main process starting."""
        return max((t for t in (self.active_enter, self.exec_main_start) if t), default=None)

    def uptime_s(self, now: datetime) -> float | None:
        """Seconds since the last start (automatic or not), None unless it is running now.

        Pass the host's clock (`host_now`) when the host is remote: local clocks drift.
        """
        if not self.running or self.started is None:
            return None
        return (now - self.started).total_seconds()

    def auto_restart_since(self, since: datetime) -> AutoRestart:
        """What `systemctl show` alone proves about an automatic restart at or after `since`:

        - sub-state auto-restart: yes, one is pending now;
        - started at or after `since` with NRestarts > 0: yes, that start was automatic (a start
          by hand resets NRestarts);
        - running and started before `since`: no, it has been active without a break (leaving
          "active" and coming back moves ActiveEnterTimestamp);
        - otherwise (started by hand within the window, not running): unknown, because a start
          by hand wipes the trace of an automatic restart just before it.
        """
        started = self.started
        if self.sub_state == "auto-restart":
            return AutoRestart(True, f"{self.unit} is waiting for an automatic restart now")
        if started is not None and started >= since and self.n_restarts > 0:
            return AutoRestart(
                True,
                f"{self.unit} was restarted automatically at {utc_text(started)} "
                f"(NRestarts={self.n_restarts}; a start by hand resets it to 0)",
            )
        if self.running and started is not None and started < since:
            return AutoRestart(
                False,
                f"{self.unit} active (running) without a break since {utc_text(started)}, "
                f"before {utc_text(since)}"
                + (f" (NRestarts={self.n_restarts}: older restarts)" if self.n_restarts else ""),
            )
        how = (
            f"started by hand (or at boot) at {utc_text(started)}"
            if self.running
            else f"{self.active_state} ({self.sub_state}), NRestarts={self.n_restarts}"
        )
        return AutoRestart(None, f"{self.unit} {how}: systemctl cannot tell what came before")

    def describe(self) -> str:
        """As an operator reads it: "active (running), NRestarts=0, since 2026-01-10 08:00:00"."""
        return (
            f"{self.unit}: {self.active_state} ({self.sub_state}), result={self.result}, "
            f"NRestarts={self.n_restarts}, MainPID={self.main_pid or '-'}, "
            f"active since {utc_text(self.active_enter)}"
        )


def _parse_timestamp(value: str, prop: str, unit: str) -> datetime | None:
    """systemctl's "Thu 2026-01-10 08:00:00[.123456] UTC"; "" or "n/a" means never."""
    value = value.strip()
    if value in ("", "n/a"):
        return None
    fields = value.split()
    if len(fields) == 4 and fields[3] == "UTC":
        form = "%Y-%m-%d %H:%M:%S.%f" if "." in fields[2] else "%Y-%m-%d %H:%M:%S"
        try:
            return datetime.strptime(f"{fields[1]} {fields[2]}", form).replace(tzinfo=UTC)
        except ValueError:
            pass
    raise HostError(f"unit {unit}: cannot read {prop}={value!r}")


def show_lines(
    host: testinfra.host.Host, unit: str, props: tuple[str, ...], optional: tuple[str, ...] = ()
) -> list[tuple[str, str]]:
    """`systemctl show -p PROPS UNIT` as (property, value) pairs in systemctl's order (a
    property may repeat: EnvironmentFiles; `optional` ones are not shown when empty), or a
    HostError saying why systemd cannot answer."""
    result = run(host, SHOW_COMMAND, ",".join(props), unit)
    if result.rc != 0 and "--timestamp" in stderr(result):
        result = run(host, SHOW_OLD_COMMAND, ",".join(props), unit)
    where = name(host)
    if result.rc != 0:
        err = stderr(result)
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
    lines = result.stdout_bytes.decode("utf-8", "replace").splitlines()
    shown = [(prop, value) for prop, eq, value in (x.partition("=") for x in lines) if eq]
    missing = [p for p in props if p not in dict(shown) and p not in optional]
    if missing:
        raise HostError(f"systemctl show {unit} on {where} did not report {', '.join(missing)}")
    if ("LoadState", "not-found") in shown:
        raise HostError(f"unit {unit} not found (LoadState=not-found) on {where}")
    return shown


def _show(host: testinfra.host.Host, unit: str) -> dict[str, str]:
    return dict(show_lines(host, unit, _SHOW_PROPS))


def unit_state(host: testinfra.host.Host, unit: str) -> UnitState:
    """The unit's states, result, NRestarts, MainPID, start times and InvocationID."""
    shown = _show(host, unit)
    try:
        n_restarts, main_pid = int(shown["NRestarts"]), int(shown["MainPID"])
    except ValueError:
        raise HostError(
            f"unit {unit} on {name(host)}: unreadable NRestarts={shown['NRestarts']!r} "
            f"or MainPID={shown['MainPID']!r}"
        ) from None
    return UnitState(
        unit=unit,
        load_state=shown["LoadState"],
        active_state=shown["ActiveState"],
        sub_state=shown["SubState"],
        result=shown["Result"],
        n_restarts=n_restarts,
        main_pid=main_pid or None,
        active_enter=_parse_timestamp(shown["ActiveEnterTimestamp"], "ActiveEnterTimestamp", unit),
        invocation_id=shown["InvocationID"].strip() or None,
        exec_main_start=_parse_timestamp(
            shown["ExecMainStartTimestamp"], "ExecMainStartTimestamp", unit
        ),
    )


def auto_restart_since(host: testinfra.host.Host, state: UnitState, since: datetime) -> AutoRestart:
    """Whether systemd restarted the unit automatically at or after `since` (B4: the last hour).

    First what `systemctl show` proves (UnitState.auto_restart_since). When that cannot tell
    (the unit was started by hand within the window), systemd's own "Scheduled restart job"
    journal entries for the unit decide: one since `since` means yes; none means no only if
    the journal reaches back to `since` (volatile or vacuumed journals may not), else unknown.
    """
    shown = state.auto_restart_since(since)
    if shown.happened is not None:
        return shown
    scheduled = restarts_scheduled(host, state.unit, since)
    if scheduled:
        return AutoRestart(
            True,
            f"systemd scheduled {len(scheduled)} automatic restart(s) of {state.unit} since "
            f"{utc_text(since)}, the last at {utc_text(scheduled[-1])}",
        )
    if journal_reaches_back(host, since):
        return AutoRestart(
            False,
            f"{shown.reason}; the journal, which reaches back to {utc_text(since)}, shows no "
            "scheduled restart",
        )
    return AutoRestart(
        None, f"{shown.reason}; the journal does not reach back to {utc_text(since)}"
    )


def journal_since_start(
    host: testinfra.host.Host, state: UnitState, until: datetime | None = None
) -> list[JournalLine]:
    """What the unit's processes wrote since its last start (A1, P7, R2: "since the restart"),
    by its InvocationID, so lines of the run before never count, whatever the clocks say."""
    if state.invocation_id is None:
        raise HostError(f"unit {state.unit} has not been started: it has no lines since a start")
    return journal_lines(host, state.unit, until=until, invocation=state.invocation_id)


@dataclass(frozen=True)
class ProcessEnv:
    """The environment the unit's main process really started with (`/proc/PID/environ`): what
    the engine reads its flag from, whatever the files say now. `env` is None when it cannot
    be read, and `error` says why."""

    pid: int | None
    env: Mapping[str, str] | None
    error: str = ""


# %% is a literal % for testinfra's quoting; exit 3: no such process, 5: not readable.
ENVIRON_SCRIPT = """P=/proc/%s/environ
[ -e "$P" ] || exit 3
[ -r "$P" ] || exit 5
exec cat -- "$P"
"""


def process_environment(host: testinfra.host.Host, state: UnitState) -> ProcessEnv:
    """The environment of `state`'s MainPID as the kernel keeps it (root, or the unit's user,
    can read it); an unreadable one is said, never guessed."""
    pid = state.main_pid
    if pid is None:
        return ProcessEnv(None, None, f"{state.unit} has no main process (MainPID=0)")
    result = run(host, ENVIRON_SCRIPT, str(pid))
    where = f"/proc/{pid}/environ of {state.unit} on {name(host)}"
    if result.rc == 3:
        return ProcessEnv(pid, None, f"{where}: the process is gone")
    if result.rc == 5:
        why = "is not readable by the user running the checks (run as root, or ?sudo=true over SSH)"
        return ProcessEnv(pid, None, f"{where} {why}")
    if result.rc != 0:
        return ProcessEnv(pid, None, f"{where} cannot be read: {stderr(result)}")
    pairs = (item.partition(b"=") for item in result.stdout_bytes.split(b"\0") if item)
    env = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, _, v in pairs}
    return ProcessEnv(pid, env)
