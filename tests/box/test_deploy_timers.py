"""deploy/ in the systemd box: the real timer and service units installed with a stub in place of
the suite (so no real suite runs): the timer starts its service, a STOP reaches the journal at
priority err, a window that is over stops its own timer, and `systemd-analyze verify` accepts
the unit files (runbook s.5's schedule)."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shadowgate.testbed import sdbox
from tests.support.deploy_records import (
    DEPLOY,
    REPO,
    recent,
    stop_record,
)
from tests.support.textfile_samples import samples, states

UNITS = (
    "shadowgate-window@.service",
    "shadowgate-window_30m.timer",
    "shadowgate-window_2h.timer",
    "shadowgate-window_6h.timer",
)


STUB = """#!/bin/sh
# Stands in for `pytest -m PHASE`: records a run of PHASE as the suite would, exits like it.
phase=$2
printf '%s\\n' '{RECORD}' | sed "s/window_30m/$phase/g" | "$SHADOWGATE_PYTHON" -c '
import json, os, sys
from shadowgate.evidence import append_record
append_record(os.environ["SHADOWGATE_REPORTS_DIR"], json.load(sys.stdin))'
echo "stub suite ran -m $phase" > "$SHADOWGATE_REPORTS_DIR/ran-$phase"
exit 1
"""


def install(box: sdbox.SystemdBox, tmp_path: Path, activated: datetime) -> Path:
    """The deploy units as an operator installs them (paths pointed at this checkout, the
    intervals cut to a second), the env file, and the stub suite. Returns the reports dir."""
    reports = tmp_path / "reports"
    reports.mkdir()
    stub = tmp_path / "stub-suite"
    stub.write_text(STUB.replace("{RECORD}", json.dumps(recent(stop_record(), activated, 8))))
    stub.chmod(0o755)
    box.write_file(
        "/etc/shadowgate/windows.env",
        f"SHADOWGATE_ACTIVATED_AT={activated.isoformat()}\nSHADOWGATE_REPORTS_DIR={reports}\n"
        f"SHADOWGATE_PYTHON={sys.executable}\nSHADOWGATE_SUITE={stub}\n"
        f"SHADOWGATE_TEXTFILE_DIR={tmp_path / 'textfile'}\n",
    )
    for name in UNITS:
        text = (DEPLOY / name).read_text().replace("/opt/shadowgate", str(REPO))
        for every in ("5min", "15min", "30min"):
            text = text.replace(f"OnActiveSec={every}", "OnActiveSec=1s")
            text = text.replace(f"OnUnitActiveSec={every}", "OnUnitActiveSec=1h")
        box.install_unit(name, text.replace("AccuracySec=10s", "AccuracySec=100ms"))
    return reports


def journal(box: sdbox.SystemdBox, *args: str) -> str:
    return box.exec(["journalctl", "--no-pager", "-o", "cat", *args]).stdout


def wait_for(what: str, probe, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)
    return value


@pytest.mark.systemd
def test_timer_starts_its_window_and_a_stop_reaches_the_journal_at_err(box, tmp_path):
    reports = install(box, tmp_path, datetime.now(UTC) - timedelta(minutes=10))
    service = "shadowgate-window@window_30m.service"
    box.systemctl("start", "shadowgate-window_30m.timer")
    headline = "shadowgate window_30m: STOP: roll back now (runbook s.6): S3"
    wait_for(
        "the STOP at priority err", lambda: headline in journal(box, "-p", "err", "-u", service)
    )
    assert (reports / "ran-window_30m").read_text() == "stub suite ran -m window_30m\n"
    wait_for(
        "the service to finish",
        lambda: "failed" in box.systemctl("is-active", service, check=False).stdout,
    )
    assert box.systemctl("show", "-p", "Result", "--value", service).stdout.strip() == "exit-code"
    info = journal(box, "-u", service)
    assert "window_30m: T+10 min" in info and "-m window_30m" in info
    assert "textfile: " in info
    assert (tmp_path / "textfile" / "shadowgate_window_30m.prom").exists()
    # the timer stays armed for the next run
    assert (
        box.systemctl("is-active", "shadowgate-window_30m.timer", check=False).stdout.strip()
        == "active"
    )


APPEND = """import json, os, sys
from shadowgate.evidence import append_record
append_record(os.environ["SHADOWGATE_REPORTS_DIR"], json.loads(sys.argv[1]))"""


@pytest.mark.systemd
def test_the_next_firing_after_a_rollback_clears_the_textfiles_stop(box, tmp_path):
    """The real wrapper in systemd: a STOP run leaves stop 1 and STOPPED; after a rollback
    (recorded, and anchored, in the box's journal) the next firing says the window is over
    and, before stopping its timer, rewrites the textfiles: stop 0, ROLLED_BACK."""
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    reports = install(box, tmp_path, t0)
    service = "shadowgate-window@window_30m.service"
    prom = tmp_path / "textfile"
    stop = "shadowgate_window_stop", (("phase", "window_30m"),)
    box.systemctl("reset-failed", service, check=False)  # an earlier test's run
    box.systemctl("start", "shadowgate-window_30m.timer")
    wait_for(
        "the service to finish",
        lambda: "failed" in box.systemctl("is-active", service, check=False).stdout,
    )
    assert samples(prom / "shadowgate_window_30m.prom")[stop] == 1
    assert states(prom / "shadowgate_lifecycle.prom")["STOPPED"] == 1
    at = t0 + timedelta(minutes=9)
    rollback = {"action": "rollback", "run_id": "rb-box", "started_at": at.isoformat(),
                "restarted_at": (at + timedelta(seconds=3)).isoformat()}  # fmt: skip
    box.exec([sys.executable, "-c", APPEND, json.dumps(rollback)], check=True,
             env={"SHADOWGATE_REPORTS_DIR": str(reports)})  # fmt: skip
    box.systemctl("reset-failed", service)
    box.systemctl("start", service)  # as the timer's next firing does
    assert samples(prom / "shadowgate_window_30m.prom")[stop] == 0
    assert states(prom / "shadowgate_lifecycle.prom")["ROLLED_BACK"] == 1
    assert "rolled back at" in journal(box, "-u", service)
    wait_for(
        "window_30m's timer to stop itself",
        lambda: (
            box.systemctl("is-active", "shadowgate-window_30m.timer", check=False).stdout.strip()
            == "inactive"
        ),
    )


@pytest.mark.systemd
def test_windows_before_and_after_their_span_run_nothing_and_stop_when_over(box, tmp_path):
    reports = install(box, tmp_path, datetime.now(UTC) - timedelta(minutes=40))
    box.systemctl("start", "shadowgate-window_30m.timer", "shadowgate-window_6h.timer")
    wait_for(
        "window_30m's timer to stop itself",
        lambda: (
            box.systemctl("is-active", "shadowgate-window_30m.timer", check=False).stdout.strip()
            == "inactive"
        ),
    )
    over = journal(box, "-u", "shadowgate-window@window_30m.service")
    assert "window_30m is over (it ends at T+30 min)" in over
    assert "stopping shadowgate-window_30m.timer" in over
    early = wait_for(
        "window_6h to say it is early",
        lambda: (
            "nothing to run yet"
            in (text := journal(box, "-u", "shadowgate-window@window_6h.service"))
            and text
        ),
    )
    assert "window_6h starts at T+2 h" in early
    assert not list(reports.glob("ran-*"))  # no suite ran
    assert (
        box.systemctl("is-active", "shadowgate-window_6h.timer", check=False).stdout.strip()
        == "active"
    )
    assert not journal(box, "-p", "err", "-u", "shadowgate-window@*")


@pytest.mark.systemd
def test_a_broken_chain_is_said_at_err_and_never_silences_the_window(box, tmp_path):
    """A rollback line appended by hand: the window still runs its suite, says at err that
    the decision log does not verify from line 1, and fails; its timer stays armed."""
    reports = install(box, tmp_path, datetime.now(UTC) - timedelta(minutes=10))
    forged = {"action": "rollback", "run_id": "forged",
              "restarted_at": datetime.now(UTC).isoformat()}  # fmt: skip
    (reports / "decision-log.jsonl").write_text(json.dumps(forged) + "\n")
    service = "shadowgate-window@window_30m.service"
    box.systemctl("start", "shadowgate-window_30m.timer")
    wait_for(
        "the service to finish",
        lambda: "failed" in box.systemctl("is-active", service, check=False).stdout,
    )
    assert (reports / "ran-window_30m").exists()  # the suite ran: monitoring goes on
    errors = journal(box, "-p", "err", "-u", service)
    assert "the decision log does not verify: chain BROKEN at forged (line 1)" in errors
    assert "shadowgate window_30m: STOP: roll back now" in errors  # its decision still said
    assert (
        box.systemctl("is-active", "shadowgate-window_30m.timer", check=False).stdout.strip()
        == "active"
    )


@pytest.mark.systemd
def test_systemd_analyze_verifies_the_units(box, tmp_path):
    if box.exec(["sh", "-c", "command -v systemd-analyze"]).returncode != 0:
        pytest.skip("no systemd-analyze in the box")
    install(box, tmp_path, datetime.now(UTC))
    names = [n for n in UNITS if "@." not in n] + ["shadowgate-window@window_30m.service"]
    done = box.exec(["systemd-analyze", "verify", *names])
    problems = [
        line for line in (done.stdout + done.stderr).splitlines()
        if "shadowgate" in line  # other units of the box are not ours to judge
    ]  # fmt: skip
    assert done.returncode == 0 and not problems, done.stdout + done.stderr
