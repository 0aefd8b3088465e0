"""The test bed: a real systemd boots, runs units, logs to its journal, and leaves nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from shadowgate.testbed import sdbox


def test_availability_gives_a_reason_when_it_cannot_run() -> None:
    ok, reason = sdbox.availability()
    assert isinstance(ok, bool)
    assert (reason == "") if ok else reason


def test_default_binds_cover_repo_and_extra_dirs_without_nesting(tmp_path: Path) -> None:
    binds = sdbox.default_binds(tmp_path, sdbox.repo_root() / "shadowgate")
    assert str(sdbox.repo_root()) in binds
    assert str(tmp_path) in binds
    assert str(sdbox.repo_root() / "shadowgate") not in binds  # inside the repo bind already


@pytest.mark.systemd
def test_box_boots_runs_commands_and_leaves_nothing(
    tmp_path: Path, systemd_box: sdbox.SystemdBox, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second box beside the session's: its own state dir and cgroup; down removes both."""
    state = tmp_path / "state"
    shared = tmp_path / "shared"
    shared.mkdir()
    box = sdbox.SystemdBox(state, sdbox.default_binds(shared))
    t0 = time.monotonic()
    box.up()
    up_s = time.monotonic() - t0
    try:
        assert box.cgroup is not None and box.cgroup != systemd_box.cgroup
        assert box.exec(["systemctl", "is-system-running"]).stdout.strip() in (
            "running",
            "degraded",
        )
        assert box.exec(["cat", "/proc/1/comm"]).stdout.strip() == "systemd"
        assert box.exec(["pwd"], cwd=str(shared)).stdout.strip() == str(shared)
        assert box.exec(["sh", "-c", "echo $X"], env={"X": "from env"}).stdout == "from env\n"
        # Bound dirs are shared with the host; everything else stays in the box's tmpfs layer.
        box.exec(["sh", "-c", "echo inside > written.txt"], cwd=str(shared), check=True)
        assert (shared / "written.txt").read_text() == "inside\n"
        box.write_file("/etc/shadowgate-sdbox-probe", "box only\n")
        assert box.exec(["cat", "/etc/shadowgate-sdbox-probe"]).stdout == "box only\n"
        assert not Path("/etc/shadowgate-sdbox-probe").exists()
        # The repo and its venv python are visible inside: the stand-in engine runs from there.
        code = "import shadowgate.testbed.sdbox, sys; print(sys.prefix)"
        done = box.exec([sys.executable, "-c", code], check=True)
        assert done.stdout.strip()
        cgroup, pid = box.cgroup, box.pid
    finally:
        t1 = time.monotonic()
        box.down()
        down_s = time.monotonic() - t1
    with capsys.disabled():
        print(f"\n[sdbox] bring-up {up_s:.2f} s, tear-down {down_s:.2f} s")
    assert not state.exists()
    assert not cgroup.exists()
    assert not Path(f"/proc/{pid}").exists()
    box.down()  # idempotent


@pytest.mark.systemd
def test_boxes_in_sequence_get_fresh_cgroups_and_sweep_stale_ones(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = sdbox.cgroup2_mount() / f"shadowgate-sdbox-{gone.pid}-0000dead"
    (stale / "init.scope").mkdir(parents=True)  # left by a test run that was SIGKILLed
    cgroups = []
    for n in range(2):
        with sdbox.SystemdBox(tmp_path / f"state{n}", []) as box:
            assert box.exec(["systemctl", "is-system-running"]).returncode in (0, 1)
            cgroups.append(box.cgroup)
    assert cgroups[0] != cgroups[1]
    assert not any(c.exists() for c in cgroups)
    assert not stale.exists()


@pytest.mark.systemd
def test_failed_bring_up_raises_with_the_console_log(tmp_path: Path) -> None:
    box = sdbox.SystemdBox(tmp_path / "state", [str(tmp_path / "no-such-dir")])
    with pytest.raises(sdbox.SdboxError, match="console") as failure:
        box.up()
    assert "no-such-dir" in str(failure.value)  # the init script's mount error, from the console
    assert not (tmp_path / "state").exists()


@pytest.mark.systemd
def test_exec_reports_failures_and_timeouts(box: sdbox.SystemdBox) -> None:
    assert box.exec(["sh", "-c", "exit 3"]).returncode == 3
    with pytest.raises(sdbox.SdboxError, match="exited 3: boom"):
        box.exec(["sh", "-c", "echo boom >&2; exit 3"], check=True)
    with pytest.raises(sdbox.SdboxError, match="timed out"):
        box.exec(["sleep", "5"], timeout=0.5)
    assert box.exec(["cat"], input=b"\xff\xfe raw").stdout == "\ufffd\ufffd raw"


@pytest.mark.systemd
def test_file_unit_runs_and_its_output_reaches_the_journal(box: sdbox.SystemdBox) -> None:
    box.install_unit(
        "sdbox-hello.service",
        "[Service]\nExecStart=/bin/sh -c 'echo hello from the box; exec sleep infinity'\n",
    )
    box.systemctl("start", "sdbox-hello.service")
    assert box.systemctl("is-active", "sdbox-hello.service").stdout.strip() == "active"
    deadline = time.monotonic() + 10
    journal = ""
    while "hello from the box" not in journal and time.monotonic() < deadline:
        journal = box.exec(["journalctl", "-u", "sdbox-hello.service", "-o", "cat"]).stdout
        time.sleep(0.05)
    assert "hello from the box" in journal
    box.remove_unit("sdbox-hello.service")
    shown = box.systemctl("show", "-p", "LoadState", "sdbox-hello.service").stdout
    assert shown.strip() == "LoadState=not-found"


@pytest.mark.systemd
def test_clear_journal_drops_earlier_lines(box: sdbox.SystemdBox) -> None:
    """What `box` does before each test, so one test never reads another's lines."""

    def probe_lines() -> str:
        return box.exec(["journalctl", "-t", "sdbox-probe", "-o", "cat", "-q"]).stdout

    box.exec(["systemd-cat", "-t", "sdbox-probe", "echo", "earlier line"], check=True)
    deadline = time.monotonic() + 10
    while "earlier line" not in probe_lines() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "earlier line" in probe_lines()
    box.clear_journal()
    assert "earlier line" not in probe_lines()
