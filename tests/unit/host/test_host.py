"""shadowgate.host on the answers only odd hosts give (no systemd needed): canned command output
of old systemd versions, unreadable journals, missing files."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
import testinfra.host
from testinfra.backend.base import CommandResult

from shadowgate import host, operatorfiles
from shadowgate.testbed.installer import (
    ENGINE_UNIT,
    ENV_FILE,
)
from tests.support.canned_host import CannedBackend, canned


def test_journal_reads_need_a_start_time_or_an_invocation(
    box_free_host: testinfra.host.Host,
) -> None:
    with pytest.raises(ValueError, match="needs `since` or `invocation`"):
        host.journal_lines(box_free_host, ENGINE_UNIT)
    never = host.UnitState(ENGINE_UNIT, "loaded", "inactive", "dead", "success", 0, None, None)
    with pytest.raises(host.HostError, match="has not been started"):
        host.journal_since_start(box_free_host, never)


def test_journal_needs_aware_datetimes(box_free_host: testinfra.host.Host) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        host.journal_lines(box_free_host, "x.service", datetime(2026, 1, 1))


@pytest.fixture
def box_free_host() -> testinfra.host.Host:
    return canned({})


def test_systemctl_on_a_host_not_booted_with_systemd() -> None:
    err = (
        b"System has not been booted with systemd as init system (PID 1). Can't operate.\n"
        b"Failed to connect to bus: Host is down\n"
    )
    with pytest.raises(host.HostError, match="not booted with systemd") as failure:
        host.unit_state(canned({"systemctl show": (1, b"", err)}), ENGINE_UNIT)
    assert ENGINE_UNIT in str(failure.value)
    with pytest.raises(host.HostError, match="systemctl not found"):
        host.unit_state(canned({"systemctl show": (127, b"", b"sh: systemctl: not found")}), "x")


def test_journal_on_a_host_without_journal_or_with_a_partial_view() -> None:
    since = datetime.now(UTC)
    no_journal = canned(
        {
            "journalctl -u": (0, b"", b""),
            "journalctl -n 0": (0, b"-- No entries --\n", b"No journal files were found.\n"),
        }
    )
    with pytest.raises(host.HostError, match="is it booted with systemd") as failure:
        host.journal_lines(no_journal, ENGINE_UNIT, since)
    said = str(failure.value)  # journalctl exits 0 here: "exited 0" read like success
    assert said.startswith(
        "the journal of canned://canned has no files: journald is not running there"
    )
    assert "exited" not in said and f"reading {ENGINE_UNIT}" in said
    hint = (
        b"Hint: You are currently not seeing messages from other users and the system.\n"
        b"      Users in groups 'adm', 'systemd-journal' can see all messages.\n"
    )
    partial = canned({"journalctl -u": (0, b"", hint)})
    with pytest.raises(host.HostError, match="not seeing messages from other users"):
        host.journal_lines(partial, ENGINE_UNIT, since)


def test_journal_entries_are_parsed_from_json() -> None:
    since = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    micros = int(since.timestamp() * 1_000_000)
    out = (
        b'{"__REALTIME_TIMESTAMP": "%d", "MESSAGE": [99, 97, 102, 233]}\n'
        b'{"__REALTIME_TIMESTAMP": "%d", "MESSAGE": "{\\"ts\\": 1, \\"level\\": \\"ERROR\\", '
        b'\\"msg\\": \\"boom\\"}"}\n'
        b'{"__REALTIME_TIMESTAMP": "%d", "MESSAGE": "{\\"level\\": \\"ERROR\\"}"}\n'
        b'{"__REALTIME_TIMESTAMP": "%d", "MESSAGE": null}\n'
        b'{"__REALTIME_TIMESTAMP": "%d", "MESSAGE": "too early"}\n'
        b'{"__REALTIME_TIMESTAMP": "%d", "MESSAGE": "{\\"ts\\": 2, \\"level\\": \\"ERROR\\", '
        b'\\"service\\": \\"ai-engine\\", \\"event\\": null, \\"correlation_id\\": null, '
        b'\\"msg\\": \\"[PatchTST] load\\", \\"exception\\": \\"Traceback: boom\\"}"}\n'
    ) % (micros + 1, micros + 2, micros + 3, micros + 4, micros - 1, micros + 5)
    lines = host.journal_lines(canned({"journalctl -u": (0, out, b"")}), ENGINE_UNIT, since)
    assert [(line.message, line.level) for line in lines] == [
        ("caf\ufffd", None),
        ("boom", "ERROR"),
        ('{"level": "ERROR"}', None),  # a JSON object without msg stays as it is
        ("", None),
        ("[PatchTST] load", "ERROR"),
    ]
    assert lines[-1].exception == "Traceback: boom"
    assert lines[-1].text == "[PatchTST] load\nTraceback: boom"
    assert lines[0].exception is None and lines[0].text == "caf\ufffd"
    assert lines[0].ts == since + timedelta(microseconds=1)
    broken = canned({"journalctl -u": (0, b"not json\n", b"")})
    with pytest.raises(host.HostError, match="unreadable entry"):
        host.journal_lines(broken, ENGINE_UNIT, since)


SHOWN = (
    b"LoadState=loaded\nActiveState=active\nSubState=running\nResult=success\n"
    b"NRestarts=3\nMainPID=4242\nActiveEnterTimestamp=Sat 2026-01-10 08:00:00.250000 UTC\n"
    b"ExecMainStartTimestamp=Sat 2026-01-10 08:00:00.125000 UTC\n"
    b"InvocationID=0123456789abcdef0123456789abcdef\n"
)


def test_unit_state_parses_systemctl_show() -> None:
    state = host.unit_state(canned({"systemctl show": (0, SHOWN, b"")}), ENGINE_UNIT)
    start = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    assert state.active_enter == start + timedelta(microseconds=250_000) == state.started
    assert state.exec_main_start == start + timedelta(microseconds=125_000)
    assert (state.n_restarts, state.main_pid) == (3, 4242)
    assert state.invocation_id == "0123456789abcdef0123456789abcdef"
    assert state.uptime_s(datetime(2026, 1, 11, 8, 0, 0, 250_000, tzinfo=UTC)) == 86400.0
    garbled = SHOWN.replace(b"Sat 2026-01-10 08:00:00.250000 UTC", b"Sa 10.01.2026 08:00 CET")
    with pytest.raises(host.HostError, match="cannot read ActiveEnterTimestamp"):
        host.unit_state(canned({"systemctl show": (0, garbled, b"")}), ENGINE_UNIT)
    never = SHOWN.replace(b"0123456789abcdef0123456789abcdef", b"").replace(
        b"Sat 2026-01-10 08:00:00.125000 UTC", b""
    )
    state = host.unit_state(canned({"systemctl show": (0, never, b"")}), ENGINE_UNIT)
    assert (state.invocation_id, state.exec_main_start) == (None, None)


def test_unit_state_on_a_systemctl_without_timestamp_option() -> None:
    """systemd < 247 has no --timestamp=: asked again under TZ=UTC, whole seconds."""
    old = SHOWN.replace(b".250000", b"").replace(b".125000", b"")
    old_systemctl = canned(
        {
            "--timestamp": (1, b"", b"systemctl: unrecognized option '--timestamp=us+utc'\n"),
            "TZ=UTC LC_ALL=C systemctl show -p": (0, old, b""),
        }
    )
    state = host.unit_state(old_systemctl, ENGINE_UNIT)
    assert state.started == datetime(2026, 1, 10, 8, 0, tzinfo=UTC)


def _state(sub: str = "running", restarts: int = 0, started: datetime | None = None):
    active = "active" if sub in ("running", "exited") else "activating"
    if sub in ("dead", "failed"):
        active = "inactive" if sub == "dead" else "failed"
    return host.UnitState(
        ENGINE_UNIT, "loaded", active, sub, "success", restarts, 4242 if sub == "running" else None,
        started, "0123456789abcdef0123456789abcdef", started,
    )  # fmt: skip


NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


HOUR_AGO = NOW - timedelta(hours=1)


@pytest.mark.parametrize(
    ("state", "happened", "reason"),
    [
        # Restart=always, one crash days ago: NRestarts stays 1, but nothing in the last hour.
        (_state(restarts=1, started=NOW - timedelta(days=3)), False, "without a break since"),
        (_state(started=NOW - timedelta(hours=2)), False, "without a break since"),
        (_state(restarts=2, started=NOW - timedelta(minutes=5)), True, "restarted automatically"),
        (_state("auto-restart", 3, NOW - timedelta(minutes=1)), True, "waiting for an automatic"),
        # Started by hand within the hour: what came before is not in systemctl show.
        (_state(started=NOW - timedelta(minutes=5)), None, "cannot tell what came before"),
        (_state("dead", 0, NOW - timedelta(hours=2)), None, "inactive (dead)"),
        (_state("dead", 0, None), None, "inactive (dead)"),
    ],
)
def test_what_systemctl_alone_proves_about_automatic_restarts(
    state: host.UnitState, happened: bool | None, reason: str
) -> None:
    found = state.auto_restart_since(HOUR_AGO)
    assert found.happened is happened
    assert reason in found.reason


def test_a_proven_answer_asks_nothing_of_the_journal(box_free_host: testinfra.host.Host) -> None:
    state = _state(restarts=1, started=NOW - timedelta(days=3))
    assert host.auto_restart_since(box_free_host, state, HOUR_AGO).happened is False


def test_a_transport_failure_is_a_host_error() -> None:
    class Unreachable(CannedBackend):
        def run(self, command: str, *args: str, **kwargs: object) -> CommandResult:
            raise ConnectionError("ssh: connect to host vps port 22: Connection refused")

    backend = Unreachable({})
    unreachable = testinfra.host.Host(backend)
    with pytest.raises(host.HostError, match="cannot run a command on canned://canned"):
        host.file_facts(unreachable, ENV_FILE)


def test_read_text_refuses_a_device_a_fifo_and_a_file_too_large_at_once(tmp_path) -> None:
    """--env-file=/dev/zero read for ever (issue 19, item 10): only a regular file of at most
    operatorfiles.MAX_BYTES is read, on a local host as over ssh (the same script)."""
    local = host.connect("local://")
    fifo = tmp_path / "fifo.env"
    os.mkfifo(fifo)
    large = tmp_path / "large.env"
    large.write_bytes(b"#" * (operatorfiles.MAX_BYTES + 1))
    for path, why in [
        ("/dev/zero", "is not a regular file"),
        (str(fifo), "is not a regular file"),
        (str(large), f"is larger than {operatorfiles.MAX_BYTES} bytes"),
    ]:
        began = time.monotonic()
        with pytest.raises(host.HostError, match=why):
            host.read_text(local, path)
        assert time.monotonic() - began < 10
    exact = tmp_path / "exact.env"
    exact.write_bytes(b"#" * operatorfiles.MAX_BYTES)
    assert len(host.read_text(local, str(exact))) == operatorfiles.MAX_BYTES
