"""shadowgate.host against a real systemd (the box), through a testinfra Host whose commands run
inside it (`SystemdBox.testinfra_host`): the same code path as `local://` or `ssh://` on the VPS."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import testinfra.host

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
        lambda: (
            (s := host.unit_state(box_host, ENGINE_UNIT)).n_restarts > first.n_restarts
            and s.running  # NRestarts grows while the unit still waits in auto-restart
            and s
        ),
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
    assert message.startswith("the journal of ")
    assert "cannot be read whole by this user" in message and f"reading {STAND_IN}" in message
    assert "insufficient permissions" in message
    assert "systemd-journal group" in message


def _stand_in_with_restart(box: sdbox.SystemdBox, script: str) -> None:
    """The stand-in as production runs the engine: Restart=always (here after 1 s)."""
    script = script.replace('"', '\\"').replace("%", "%%")
    unit = f'[Service]\nExecStart=/bin/sh -c "{script}"\nRestart=always\nRestartSec=1\n'
    box.install_unit(STAND_IN, unit)
    box.systemctl("start", STAND_IN)


@pytest.mark.systemd
def test_journal_since_start_reads_only_the_current_invocation(
    box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    """journalctl -u UNIT _SYSTEMD_INVOCATION_ID=X ANDs the two (systemd 252): after a restart
    the run before's lines are not returned, however close in time."""
    before = host.host_now(box_host)
    # $$ is systemd's escape for the shell's $: each run prints its own InvocationID.
    _install_stand_in(box, "echo run $$INVOCATION_ID; exec sleep infinity")
    first = host.unit_state(box_host, STAND_IN)
    assert first.invocation_id is not None and len(first.invocation_id) == 32
    _wait_for("the first run's line", lambda: host.journal_since_start(box_host, first))
    box.systemctl("restart", STAND_IN)
    second = host.unit_state(box_host, STAND_IN)
    assert second.invocation_id not in (None, first.invocation_id)
    assert second.exec_main_start is not None and first.exec_main_start is not None
    assert second.exec_main_start > first.exec_main_start
    lines = _wait_for("the second run's line", lambda: host.journal_since_start(box_host, second))
    assert [line.message for line in lines] == [f"run {second.invocation_id}"]
    old = host.journal_since_start(box_host, first)
    assert [line.message for line in old] == [f"run {first.invocation_id}"]
    both = host.journal_lines(box_host, STAND_IN, before)
    assert {f"run {first.invocation_id}", f"run {second.invocation_id}"} <= {
        line.message for line in both
    }
    # Another unit with the same invocation: nothing (the matches are ANDed, not ORed).
    assert host.journal_lines(box_host, "other.service", invocation=second.invocation_id) == []


@pytest.mark.systemd
def test_automatic_restart_within_the_hour_is_seen_even_after_a_manual_restart(
    box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    _stand_in_with_restart(box, "echo up; sleep 1; exit 3")
    crashed = _wait_for(
        "an automatic restart",
        lambda: (s := host.unit_state(box_host, STAND_IN)).n_restarts >= 1 and s.running and s,
    )
    hour_ago = host.host_now(box_host) - timedelta(hours=1)
    found = host.auto_restart_since(box_host, crashed, hour_ago)
    assert found.happened is True and "restarted automatically" in found.reason
    # A restart by hand resets NRestarts: systemctl alone cannot tell, the journal can.
    box.install_unit(STAND_IN, "[Service]\nExecStart=/bin/sleep infinity\nRestart=always\n")
    box.systemctl("restart", STAND_IN)
    manual = host.unit_state(box_host, STAND_IN)
    assert manual.running and manual.n_restarts == 0
    assert manual.auto_restart_since(hour_ago).happened is None
    found = host.auto_restart_since(box_host, manual, hour_ago)
    assert found.happened is True, found.reason
    assert "systemd scheduled" in found.reason and "automatic restart(s)" in found.reason
    assert host.restarts_scheduled(box_host, STAND_IN, hour_ago)


@pytest.mark.systemd
def test_no_automatic_restart_is_proven_only_as_far_back_as_the_journal_reaches(
    box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    box.exec(["logger", "shadowgate: before the window"], check=True)
    time.sleep(1.1)
    window_start = host.host_now(box_host)
    _stand_in_with_restart(box, "exec sleep infinity")
    state = host.unit_state(box_host, STAND_IN)
    assert state.running and state.started is not None and state.started >= window_start
    assert host.journal_reaches_back(box_host, window_start)
    found = host.auto_restart_since(box_host, state, window_start)
    assert found.happened is False and "shows no scheduled restart" in found.reason
    # The box's journal was emptied when this test began: an hour back is not covered.
    hour_ago = window_start - timedelta(hours=1)
    assert not host.journal_reaches_back(box_host, hour_ago)
    found = host.auto_restart_since(box_host, state, hour_ago)
    assert found.happened is None and "does not reach back" in found.reason
    # Running since before the window: proven by systemctl alone.
    time.sleep(1.1)
    later = host.auto_restart_since(box_host, state, host.host_now(box_host))
    assert later.happened is False and "without a break" in later.reason


@pytest.mark.systemd
def test_file_facts_of_env_and_model_files(
    engine_unit: Callable[..., object], box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    engine_unit("healthy_shadow")
    env = host.file_facts(box_host, ENV_FILE)
    assert (env.exists, env.is_file, env.readable, env.writable) == (True, True, True, True)
    assert env.size == len(DEFAULT_ENV_TEXT.encode())
    assert env.sha256 == hashlib.sha256(DEFAULT_ENV_TEXT.encode()).hexdigest()
    model = host.file_facts(box_host, MODEL_PATH)
    assert model.size == len(MODEL_BYTES) > 0
    assert model.sha256 == hashlib.sha256(MODEL_BYTES).hexdigest()
    # The env file is 0600 root: another user sees it exists, but cannot read or hash it.
    as_nobody = host.file_facts(box.testinfra_host(user="nobody"), ENV_FILE)
    assert (as_nobody.exists, as_nobody.readable, as_nobody.sha256) == (True, False, None)
    assert not as_nobody.writable  # the rollback's echo >> would fail as this user (P6)
    assert as_nobody.size == env.size
    missing = host.file_facts(box_host, "/opt/quantum/ai_engine/models/missing.pth")
    assert missing == host.FileFacts(
        "/opt/quantum/ai_engine/models/missing.pth", False, False, False, None, None
    )
    folder = host.file_facts(box_host, "/opt/quantum/ai_engine/models")
    assert (folder.exists, folder.is_file, folder.sha256) == (True, False, None)


@pytest.mark.systemd
def test_file_facts_mtime_and_last_change(
    box: sdbox.SystemdBox, box_host: testinfra.host.Host
) -> None:
    """P7: `cp -p`/`touch -d` set mtime back, ctime they cannot; a repointed symlink counts."""
    models = "/opt/quantum/ai_engine/models"
    box.write_file(f"{models}/old.pth", MODEL_BYTES)
    box.exec(["touch", "-d", "@1767945600.5", f"{models}/old.pth"], check=True)
    box.exec(["ln", "-sfn", "old.pth", f"{models}/current.pth"], check=True)
    before = host.host_now(box_host)
    facts = host.file_facts(box_host, f"{models}/old.pth")
    assert facts.mtime == datetime(2026, 1, 9, 8, 0, 0, 500_000, tzinfo=UTC)
    assert facts.changed is not None and before - timedelta(seconds=30) < facts.changed <= before
    link = host.file_facts(box_host, f"{models}/current.pth")
    assert (link.mtime, link.sha256) == (facts.mtime, facts.sha256)
    time.sleep(1.1)
    box.write_file(f"{models}/new.pth", MODEL_BYTES)
    box.exec(["touch", "-r", f"{models}/old.pth", f"{models}/new.pth"], check=True)
    box.exec(["ln", "-sfn", "new.pth", f"{models}/current.pth"], check=True)
    repointed = host.file_facts(box_host, f"{models}/current.pth")
    assert repointed.mtime == facts.mtime  # same content, back-dated: mtime cannot tell
    assert repointed.changed is not None and link.changed is not None
    assert repointed.changed > link.changed
    box.exec(["rm", "-f", "--", *(f"{models}/{f}" for f in ("old.pth", "new.pth", "current.pth"))])
    missing = host.file_facts(box_host, f"{models}/old.pth")
    assert (missing.mtime, missing.changed) == (None, None)


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
