"""deploy/: the timers that run each monitoring window on the runbook's schedule (s.5).

The wrapper's Python half (deploy/window_record.py) is tested directly: where a moment stands in
the schedule, which record a run left, the Prometheus textfile. In the systemd box the real
units are installed with a stub in place of the suite (so no real suite runs): the timer starts
its service, a STOP reaches the journal at priority err, a window that is over stops its own
timer, and `systemd-analyze verify` accepts the unit files.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shadowgate.evidence import append_record
from shadowgate.testbed import sdbox

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
UNITS = (
    "shadowgate-window@.service",
    "shadowgate-window_30m.timer",
    "shadowgate-window_2h.timer",
    "shadowgate-window_6h.timer",
)

_spec = importlib.util.spec_from_file_location("window_record", DEPLOY / "window_record.py")
window_record = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(window_record)


def samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A textfile's samples: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }


def stop_record(phase: str = "window_30m", decision: str = "STOP") -> dict:
    return {
        "run_id": f"20261127T120000Z-{phase}-stub", "phase": phase, "decision": decision,
        "complete": True, "finished_at": "2026-11-27T12:00:05Z",
        "checks": [
            {"id": "S1", "status": "PASS", "outcome": "passed", "value": 0.2},
            {"id": "S3", "status": "FAIL", "outcome": "failed", "value": 0.41},
            {"id": "M1", "status": "WARN", "outcome": "passed", "value": 0.83},
            {"id": "S4", "status": "NOT EVALUATED", "outcome": "failed", "value": None},
        ],
    }  # fmt: skip


# -- the schedule and the record, without systemd ------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "minutes", "state"),
    [
        ("window_30m", 5, "run"), ("window_30m", 30, "run"), ("window_30m", 32, "over"),
        ("window_2h", 10, "early"), ("window_2h", 45, "run"), ("window_2h", 122, "over"),
        ("window_6h", 90, "early"), ("window_6h", 360, "run"), ("window_6h", 362, "over"),
    ],
)  # fmt: skip
def test_each_window_runs_only_in_its_span_of_the_schedule(
    phase, minutes, state, tmp_path, monkeypatch
):
    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(tmp_path))
    monkeypatch.setenv("SHADOWGATE_ACTIVATED_AT", t0.isoformat())
    now = (t0 + timedelta(minutes=minutes)).timestamp()
    got, line = window_record.when(phase, now)
    assert got == state, line
    assert "T+0 2026-11-27T12:00:00Z (--activated-at)" in line


def test_no_t0_is_one_line_and_exit_3(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(tmp_path))
    monkeypatch.delenv("SHADOWGATE_ACTIVATED_AT", raising=False)
    assert window_record.main(["when", "window_30m"]) == 3
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("no T+0: no verified activation record in")


def test_report_reads_the_runs_record_and_writes_the_textfile(tmp_path, monkeypatch, capsys):
    reports = tmp_path / "reports"
    reports.mkdir()
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(reports))
    old = stop_record("window_30m", "OK") | {"checks": [], "run_id": "ok-run"}
    append_record(reports, old)
    append_record(reports, stop_record())
    prom = tmp_path / "textfile"
    assert window_record.main(["report", "window_30m", "1", "--textfile", str(prom)]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert first == "STOP\tshadowgate window_30m: STOP: roll back now (runbook s.6): S3"
    assert second == (
        f"textfile: {prom / 'shadowgate_window_30m.prom'} {prom / 'shadowgate_lifecycle.prom'}"
    )
    found = samples(prom / "shadowgate_window_30m.prom")
    phase = ("phase", "window_30m")
    assert found["shadowgate_window_stop", (phase,)] == 1
    assert found["shadowgate_window_chain_verified", (phase,)] == 1
    assert found["shadowgate_window_decision", (phase, ("shadowgate_window_decision", "STOP"))] == 1
    assert found["shadowgate_window_decision", (phase, ("shadowgate_window_decision", "OK"))] == 0
    assert found["shadowgate_window_check_value", (("check", "S3"), phase)] == 0.41
    key = ("check", "S3"), phase, ("shadowgate_window_check_status", "FAIL")
    assert found["shadowgate_window_check_status", key] == 1
    assert ("shadowgate_window_check_value", (("check", "S4"), phase)) not in found
    assert found["shadowgate_window_last_run_timestamp_seconds", (phase,)] == pytest.approx(
        datetime(2026, 11, 27, 12, 0, 5, tzinfo=UTC).timestamp()
    )
    assert window_record.main(["report", "window_30m", "2"]) == 3  # nothing after line 2


def activated(tmp_path: Path, monkeypatch, minutes_ago: float = 10) -> tuple[Path, datetime]:
    """A reports dir and a T+0 `minutes_ago` (--activated-at), as the timers find them."""
    reports = tmp_path / "reports"
    reports.mkdir()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(reports))
    monkeypatch.setenv("SHADOWGATE_ACTIVATED_AT", t0.isoformat())
    return reports, t0


def recent(record: dict, t0: datetime, minutes: float) -> dict:
    """`record` as a run that finished `minutes` after T+0 (it started 5 s before)."""
    finished = t0 + timedelta(minutes=minutes)
    started = finished - timedelta(seconds=5)
    return record | {"started_at": started.isoformat(), "finished_at": finished.isoformat()}


def rolled_back(reports: Path, t0: datetime, minutes: float) -> None:
    at = t0 + timedelta(minutes=minutes)
    append_record(reports, {"action": "rollback", "run_id": "rb-1", "started_at": at.isoformat(),
                            "restarted_at": (at + timedelta(seconds=3)).isoformat()})  # fmt: skip


def states(path: Path) -> dict[str, float]:
    return {
        dict(labels)["state"]: value
        for (name, labels), value in samples(path).items()
        if name == "shadowgate_lifecycle_state"
    }


def test_the_textfile_exports_the_lifecycle_state_one_series_per_state(tmp_path, monkeypatch):
    reports, t0 = activated(tmp_path, monkeypatch)
    append_record(reports, recent(stop_record(), t0, 8))
    prom = tmp_path / "textfile"
    assert window_record.main(["report", "window_30m", "0", "--textfile", str(prom)]) == 0
    life = prom / "shadowgate_lifecycle.prom"
    assert states(life) == {s: float(s == "STOPPED") for s in window_record.State}
    found = samples(life)
    assert found["shadowgate_lifecycle_evaluated_timestamp_seconds", ()] == pytest.approx(
        time.time(), abs=30
    )
    assert found["shadowgate_lifecycle_chain_verified", ()] == 1
    # the next run is due 5 min (window_30m's timer) after the latest run, T+8 min
    assert found["shadowgate_window_next_run_due_timestamp_seconds", ()] == pytest.approx(
        (t0 + timedelta(minutes=13)).timestamp()
    )


def test_a_rollback_clears_the_stop_gauge_at_the_next_timer_firing(tmp_path, monkeypatch, capsys):
    """Before: the STOP's gauge stayed 1 for ever after the rollback, so its alert never
    cleared. `when`, run at every firing of any window's timer, rewrites every window's file."""
    reports, t0 = activated(tmp_path, monkeypatch)
    append_record(reports, recent(stop_record(), t0, 8))
    prom = tmp_path / "textfile"
    assert window_record.main(["report", "window_30m", "0", "--textfile", str(prom)]) == 0
    phase = ("phase", "window_30m")
    assert samples(prom / "shadowgate_window_30m.prom")["shadowgate_window_stop", (phase,)] == 1
    rolled_back(reports, t0, 9)
    capsys.readouterr()
    assert window_record.main(["when", "window_6h", "--textfile", str(prom)]) == 0
    assert capsys.readouterr().out.startswith("over\twindow_6h is over: rolled back at")
    found = samples(prom / "shadowgate_window_30m.prom")
    assert found["shadowgate_window_stop", (phase,)] == 0
    assert found["shadowgate_window_decision", (phase, ("shadowgate_window_decision", "STOP"))] == 1
    assert states(prom / "shadowgate_lifecycle.prom")["ROLLED_BACK"] == 1


def test_a_stop_stands_while_the_chain_is_broken_and_before_its_rollback(tmp_path, monkeypatch):
    reports, t0 = activated(tmp_path, monkeypatch)
    stop = recent(stop_record(), t0, 8)
    chain = window_record.chain_of(reports)
    life = window_record.life_at(chain, time.time())
    assert life.state == "ACTIVE" and window_record.stop_stands(stop, life)  # the raw line's
    older = recent(stop_record(), t0, -5)  # a STOP of the cycle before this T+0
    assert not window_record.stop_stands(older, life)


def test_checks_without_a_number_export_no_value(tmp_path, monkeypatch):
    """B4's value is NRestarts and P6's counts findings: neither is what the check measures."""
    reports, t0 = activated(tmp_path, monkeypatch)
    record = recent(stop_record(), t0, 8)
    record["checks"] += [
        {"id": "B4", "status": "PASS", "outcome": "passed", "value": 0},
        {"id": "P6", "status": "PASS", "outcome": "passed", "value": 0},
    ]
    append_record(reports, record)
    prom = tmp_path / "textfile"
    assert window_record.main(["report", "window_30m", "0", "--textfile", str(prom)]) == 0
    found = samples(prom / "shadowgate_window_30m.prom")
    values = {dict(k)["check"] for n, k in found if n == "shadowgate_window_check_value"}
    assert values == {"S1", "S3", "M1"}
    assert {dict(k)["check"] for n, k in found if n == "shadowgate_window_check_status"} >= {
        "B4", "P6"
    }  # fmt: skip


@pytest.mark.parametrize("phase", sorted(window_record.INTERVALS))
def test_the_due_intervals_are_the_timers(phase):
    timer = (DEPLOY / f"shadowgate-{phase}.timer").read_text()
    minutes = window_record.INTERVALS[phase] // 60
    assert f"OnUnitActiveSec={minutes}min" in timer


# -- the units in a real systemd ------------------------------------------------------------------


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


def test_a_rollback_after_t0_ends_every_window(tmp_path, monkeypatch):
    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(tmp_path))
    monkeypatch.setenv("SHADOWGATE_ACTIVATED_AT", t0.isoformat())
    rollback = {"action": "rollback", "run_id": "rb-1", "started_at": "2026-11-27T12:20:00Z",
                "restarted_at": "2026-11-27T12:20:03Z"}  # fmt: skip
    append_record(tmp_path, rollback)
    state, line = window_record.when("window_30m", (t0 + timedelta(minutes=25)).timestamp())
    assert state == "over" and "rolled back at 2026-11-27T12:20:03Z (rollback record rb-1)" in line
