"""shadowgate.host against a real systemd (the box), plus the answers only odd hosts give.

Box tests run the host functions through a testinfra Host whose commands execute inside the box
(`SystemdBox.testinfra_host`): the same code path as `local://` or `ssh://` on the VPS.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import testinfra.host
from testinfra.backend.base import BaseBackend, CommandResult

from shadowgate import host
from shadowgate.testbed import sdbox
from shadowgate.testbed.installer import (
    DEFAULT_ENV_TEXT,
    ENGINE_UNIT,
    ENV_FILE,
    MODEL_BYTES,
    MODEL_PATH,
)

STAND_IN = "stand-in.service"


def _wait_for(what: str, probe: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return value


def _install_stand_in(box: sdbox.SystemdBox, script: str) -> None:
    """A unit running `script` under sh, like the engine: journal lines from its stdout."""
    script = script.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    box.install_unit(STAND_IN, f'[Service]\nExecStart=/bin/sh -c "{script}"\n')
    box.systemctl("start", STAND_IN)


# -- unit state ------------------------------------------------------------------------------


@pytest.mark.systemd
def test_running_unit_has_state_pid_and_uptime(
    box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    _install_stand_in(box, "exec sleep infinity")
    state = host.unit_state(box_host, STAND_IN)
    assert (state.load_state, state.active_state, state.sub_state) == (
        "loaded",
        "active",
        "running",
    )
    assert state.running and state.result == "success" and state.n_restarts == 0
    assert state.main_pid is not None and state.active_enter is not None
    first = state.uptime_s(host.host_now(box_host))
    assert first is not None and 0 <= first < 5
    time.sleep(1.1)
    later = state.uptime_s(host.host_now(box_host))
    assert later is not None and later > first
    assert "active (running), result=success, NRestarts=0" in state.describe()


@pytest.mark.systemd
def test_stopped_unit_has_no_uptime(box: sdbox.SystemdBox, box_host: testinfra.host.Host) -> None:
    _install_stand_in(box, "exec sleep infinity")
    box.systemctl("stop", STAND_IN)
    state = host.unit_state(box_host, STAND_IN)
    assert (state.active_state, state.sub_state, state.main_pid) == ("inactive", "dead", None)
    assert not state.running and state.uptime_s(datetime.now(UTC)) is None


@pytest.mark.systemd
def test_crash_loop_grows_nrestarts_and_a_manual_restart_resets_it(
    engine_unit: Callable[..., object], box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    """The simulator's crash_loop dies after 2.5 s; Restart=on-failure brings it back."""
    engine_unit("crash_loop")
    first = _wait_for(
        "a first automatic restart",
        lambda: (s := host.unit_state(box_host, ENGINE_UNIT)).n_restarts >= 1 and s,
    )
    second = _wait_for(
        "NRestarts to grow",
        lambda: (s := host.unit_state(box_host, ENGINE_UNIT)).n_restarts > first.n_restarts and s,
    )
    assert second.active_enter is not None and first.active_enter is not None
    assert second.active_enter > first.active_enter
    # What UnitState documents: an operator's restart resets the counter, the timestamp moves.
    box.systemctl("restart", ENGINE_UNIT)
    after = host.unit_state(box_host, ENGINE_UNIT)
    assert after.n_restarts == 0
    assert after.active_enter is not None and after.active_enter >= second.active_enter


@pytest.mark.systemd
def test_unknown_unit_is_a_clear_error(box_host: testinfra.host.Host) -> None:
    with pytest.raises(host.HostError) as failure:
        host.unit_state(box_host, "no-such-engine.service")
    assert str(failure.value).startswith(
        "unit no-such-engine.service not found (LoadState=not-found)"
    )


# -- journal ---------------------------------------------------------------------------------


@pytest.mark.systemd
def test_journal_lines_since_a_time_plain_json_and_non_utf8(
    box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    before = host.host_now(box_host)
    _install_stand_in(
        box,
        "echo first plain line; "
        'echo \'{"ts": "2026-01-10T08:00:00Z", "level": "WARNING", "msg": "[SHADOW] PatchTST | '
        "BTCUSDT | action=BUY conf=0.62 | mode=SHADOW_ONLY\"}'; "
        "printf 'caf\\351 latin-1\\n'; "
        "echo '{not json'; "
        "sleep 1.5; echo second plain line; exec sleep infinity",
    )
    lines = _wait_for(
        "the second line",
        lambda: (
            (got := host.journal_lines(box_host, STAND_IN, before))
            and "second plain line" in got[-1].message
            and got
        ),
    )
    messages = [line.message for line in lines]
    assert "first plain line" in messages
    shadow = next(line for line in lines if line.message.startswith("[SHADOW] PatchTST"))
    assert shadow.level == "WARNING"
    assert "caf\ufffd latin-1" in messages  # MESSAGE came as byte values: decoded, replaced
    assert "{not json" in messages
    assert all(line.level is None for line in lines if line is not shadow)
    assert all(before <= line.ts for line in lines)
    assert [line.ts for line in lines] == sorted(line.ts for line in lines)
    # A window: `since` after the first lines keeps only the later one; `until` cuts it off.
    second = next(line for line in lines if line.message == "second plain line")
    late = host.journal_lines(box_host, STAND_IN, second.ts - timedelta(milliseconds=1))
    assert [line.message for line in late] == ["second plain line"]
    early = host.journal_lines(box_host, STAND_IN, before, until=second.ts - timedelta(seconds=1))
    assert "first plain line" in [line.message for line in early]
    assert "second plain line" not in [line.message for line in early]


@pytest.mark.systemd
def test_engine_journal_shows_shadow_lines_unwrapped(
    engine_unit: Callable[..., object], box_host: testinfra.host.Host
) -> None:
    """The fixture's real stand-in engine: the lines P2/A1/R2 look for reach the journal."""
    since = host.host_now(box_host)
    engine_unit("healthy_shadow", rate=5.0, seed=7)
    lines = _wait_for(
        "a [SHADOW] PatchTST line",
        lambda: (
            (got := host.journal_lines(box_host, ENGINE_UNIT, since))
            and any(line.message.startswith("[SHADOW] PatchTST") for line in got)
            and got
        ),
    )
    assert any(line.message.startswith("[OK] PatchTST agent loaded") for line in lines)
    assert any(line.level == "INFO" and "AI engine starting" in line.message for line in lines)
    assert host.unit_state(box_host, ENGINE_UNIT).running


@pytest.mark.systemd
def test_journal_the_user_may_not_read_is_a_clear_error(
    box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    _install_stand_in(box, "echo hello; exec sleep infinity")
    since = datetime.now(UTC) - timedelta(minutes=5)
    assert host.journal_lines(box_host, STAND_IN, since)  # root reads it
    with pytest.raises(host.HostError) as failure:
        host.journal_lines(box.testinfra_host(user="nobody"), STAND_IN, since)
    message = str(failure.value)
    assert f"cannot read the journal of {STAND_IN}" in message
    assert "insufficient permissions" in message
    assert "systemd-journal group" in message


def test_journal_needs_aware_datetimes(box_free_host: testinfra.host.Host) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        host.journal_lines(box_free_host, "x.service", datetime(2026, 1, 1))


# -- files -----------------------------------------------------------------------------------


@pytest.mark.systemd
def test_file_facts_of_env_and_model_files(
    engine_unit: Callable[..., object], box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    engine_unit("healthy_shadow")
    env = host.file_facts(box_host, ENV_FILE)
    assert (env.exists, env.is_file, env.readable) == (True, True, True)
    assert env.size == len(DEFAULT_ENV_TEXT.encode())
    assert env.sha256 == hashlib.sha256(DEFAULT_ENV_TEXT.encode()).hexdigest()
    model = host.file_facts(box_host, MODEL_PATH)
    assert model.size == len(MODEL_BYTES) > 0
    assert model.sha256 == hashlib.sha256(MODEL_BYTES).hexdigest()
    # The env file is 0600 root: another user sees it exists, but cannot read or hash it.
    as_nobody = host.file_facts(box.testinfra_host(user="nobody"), ENV_FILE)
    assert (as_nobody.exists, as_nobody.readable, as_nobody.sha256) == (True, False, None)
    assert as_nobody.size == env.size
    missing = host.file_facts(box_host, "/opt/quantum/ai_engine/models/missing.pth")
    assert missing == host.FileFacts(
        "/opt/quantum/ai_engine/models/missing.pth", False, False, False, None, None
    )
    folder = host.file_facts(box_host, "/opt/quantum/ai_engine/models")
    assert (folder.exists, folder.is_file, folder.sha256) == (True, False, None)


@pytest.mark.systemd
def test_read_text_keeps_the_file_verbatim_or_says_why_not(
    engine_unit: Callable[..., object], box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    odd = "\ufeffPATCHTST_SHADOW_ONLY=true\r\nPATCHTST_MODEL_PATH=/x y/é.pth\r\n"
    engine_unit("healthy_shadow", env_text=odd)
    assert host.read_text(box_host, ENV_FILE) == odd
    with pytest.raises(host.HostError, match="does not exist"):
        host.read_text(box_host, "/etc/quantum/missing.env")
    with pytest.raises(host.HostError, match="is a directory"):
        host.read_text(box_host, "/etc/quantum")
    with pytest.raises(host.HostError, match="not readable by the user running the checks"):
        host.read_text(box.testinfra_host(user="nobody"), ENV_FILE)
    box.write_file("/etc/quantum/latin1.env", b"PATCHTST_SHADOW_ONLY=tr\xfce\n")
    with pytest.raises(host.HostError, match=r"not UTF-8 text \(byte 0xfc at offset 23\)"):
        host.read_text(box_host, "/etc/quantum/latin1.env")
    box.remove_file("/etc/quantum/latin1.env")


@pytest.mark.systemd
def test_backups_of_the_env_file_oldest_first(
    engine_unit: Callable[..., object], box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    engine_unit("healthy_shadow", backup_text=None)
    assert host.backups(box_host, ENV_FILE) == []
    newer = f"{ENV_FILE}.bak.activation.20260110_080000"
    older = f"{ENV_FILE}.bak"
    box.write_file(newer, DEFAULT_ENV_TEXT)
    box.write_file(older, DEFAULT_ENV_TEXT)
    box.exec(["touch", "-d", "2026-01-09 08:00:00", older], check=True)
    box.exec(["mkdir", "-p", f"{ENV_FILE}.bak.d"], check=True)  # not a file: not a backup
    assert host.backups(box_host, ENV_FILE) == [older, newer]
    box.exec(["rm", "-rf", "--", older, newer, f"{ENV_FILE}.bak.d"], check=True)


# -- hosts that are not systemd hosts (canned answers) -------------------------------------


class CannedBackend(BaseBackend):
    """A testinfra backend answering from a table: {command substring: (rc, stdout, stderr)}."""

    NAME = "canned"

    def __init__(self, answers: dict[str, tuple[int, bytes, bytes]]) -> None:
        super().__init__("canned")
        self.answers = answers

    def run(self, command: str, *args: str, **kwargs: object) -> CommandResult:
        cmd = self.get_command(command, *args)
        for needle, (rc, out, err) in self.answers.items():
            if needle in cmd:
                return self.result(rc, self.encode(cmd), out, err)
        raise AssertionError(f"unexpected command {cmd!r}")


def _canned(answers: dict[str, tuple[int, bytes, bytes]]) -> testinfra.host.Host:
    backend = CannedBackend(answers)
    canned = testinfra.host.Host(backend)
    backend.set_host(canned)
    return canned


@pytest.fixture
def box_free_host() -> testinfra.host.Host:
    return _canned({})


def test_systemctl_on_a_host_not_booted_with_systemd() -> None:
    err = (
        b"System has not been booted with systemd as init system (PID 1). Can't operate.\n"
        b"Failed to connect to bus: Host is down\n"
    )
    with pytest.raises(host.HostError, match="not booted with systemd") as failure:
        host.unit_state(_canned({"systemctl show": (1, b"", err)}), ENGINE_UNIT)
    assert ENGINE_UNIT in str(failure.value)
    with pytest.raises(host.HostError, match="systemctl not found"):
        host.unit_state(_canned({"systemctl show": (127, b"", b"sh: systemctl: not found")}), "x")


def test_journal_on_a_host_without_journal_or_with_a_partial_view() -> None:
    since = datetime.now(UTC)
    no_journal = _canned(
        {
            "journalctl -u": (0, b"", b""),
            "journalctl -n 0": (0, b"-- No entries --\n", b"No journal files were found.\n"),
        }
    )
    with pytest.raises(host.HostError, match="is it booted with systemd"):
        host.journal_lines(no_journal, ENGINE_UNIT, since)
    hint = (
        b"Hint: You are currently not seeing messages from other users and the system.\n"
        b"      Users in groups 'adm', 'systemd-journal' can see all messages.\n"
    )
    partial = _canned({"journalctl -u": (0, b"", hint)})
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
    ) % (micros + 1, micros + 2, micros + 3, micros + 4, micros - 1)
    lines = host.journal_lines(_canned({"journalctl -u": (0, out, b"")}), ENGINE_UNIT, since)
    assert [(line.message, line.level) for line in lines] == [
        ("caf\ufffd", None),
        ("boom", "ERROR"),
        ('{"level": "ERROR"}', None),  # a JSON object without msg stays as it is
        ("", None),
    ]
    assert lines[0].ts == since + timedelta(microseconds=1)
    broken = _canned({"journalctl -u": (0, b"not json\n", b"")})
    with pytest.raises(host.HostError, match="unreadable entry"):
        host.journal_lines(broken, ENGINE_UNIT, since)


def test_unit_state_parses_systemctl_show() -> None:
    shown = (
        b"LoadState=loaded\nActiveState=active\nSubState=running\nResult=success\n"
        b"NRestarts=3\nMainPID=4242\nActiveEnterTimestamp=Sat 2026-01-10 08:00:00 UTC\n"
    )
    state = host.unit_state(_canned({"systemctl show": (0, shown, b"")}), ENGINE_UNIT)
    assert state.active_enter == datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    assert (state.n_restarts, state.main_pid) == (3, 4242)
    assert state.uptime_s(datetime(2026, 1, 11, 8, 0, tzinfo=UTC)) == 86400.0
    garbled = shown.replace(b"Sat 2026-01-10 08:00:00 UTC", b"Sa 10.01.2026 08:00 CET")
    with pytest.raises(host.HostError, match="cannot read ActiveEnterTimestamp"):
        host.unit_state(_canned({"systemctl show": (0, garbled, b"")}), ENGINE_UNIT)


def test_a_transport_failure_is_a_host_error() -> None:
    class Unreachable(CannedBackend):
        def run(self, command: str, *args: str, **kwargs: object) -> CommandResult:
            raise ConnectionError("ssh: connect to host vps port 22: Connection refused")

    backend = Unreachable({})
    unreachable = testinfra.host.Host(backend)
    with pytest.raises(host.HostError, match="cannot run a command on canned://canned"):
        host.file_facts(unreachable, ENV_FILE)
