"""deploy/window_record.py, the Python half of the timers' wrapper, tested directly: where a moment
stands in the runbook's s.5 schedule, which record a window run left, the Prometheus textfile."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from shadowgate.evidence import append_record
from tests.support.deploy_records import (
    DEPLOY,
    activated,
    recent,
    rolled_back,
    stop_record,
    window_record,
)
from tests.support.textfile_samples import samples, states


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


def test_a_rollback_after_t0_ends_every_window(tmp_path, monkeypatch):
    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(tmp_path))
    monkeypatch.setenv("SHADOWGATE_ACTIVATED_AT", t0.isoformat())
    rollback = {"action": "rollback", "run_id": "rb-1", "started_at": "2026-11-27T12:20:00Z",
                "restarted_at": "2026-11-27T12:20:03Z"}  # fmt: skip
    append_record(tmp_path, rollback)
    state, line = window_record.when("window_30m", (t0 + timedelta(minutes=25)).timestamp())
    assert state == "over" and "rolled back at 2026-11-27T12:20:03Z (rollback record rb-1)" in line
