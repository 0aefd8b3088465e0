"""`shadowgate monitor`: the runbook's monitoring snapshot (s.5) as one screen, judged by the
suite's own rules, against a throwaway Redis filled by the stand-in engine. A screen per state
(healthy, a stop, no T+0, sources down), the exit codes, and --watch."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from shadowgate import cli, monitor, settings
from shadowgate.testbed import throwaway_redis
from tests.support.engine_data import backfill
from tests.support.monitor_screens import impossible_reports_dirs, screen, shown

SECTIONS = (
    "1. Service Status",
    "2. Consensus Distribution",
    "3. Agreement Rate",
    "4. Hard Disagreement / Confidence",
    "5. Stop Conditions",
    "6. Latest Event",
)


@pytest.fixture
def t0() -> datetime:
    """T+0 65 minutes ago: the monitor's windows have something since it."""
    return datetime.now(UTC) - timedelta(minutes=65)


def engine(server, scenario: str) -> None:
    """Two hours of `scenario`, voting (activated), up to now."""
    backfill(server, scenario, hours=2.0, now_ms=int(time.time() * 1000), shadow=False, seed=7)


def test_healthy_screen_has_the_five_sections_and_exits_0(redis_server, tmp_path, t0):
    engine(redis_server, "healthy_voting")
    snap, text = screen(redis_server, tmp_path, t0, shown(t0 + timedelta(seconds=2)))
    for section in SECTIONS:
        assert section in text
    assert "PATCHTST ACTIVATION MONITOR  T+1 h 5 min" in text
    assert "active (running)" in text and "consensus_count" in text
    for check_id in ("M1", "M2", "M3", "M4", "S1", "S2", "S3", "S4"):
        assert snap.verdicts[check_id].ok, snap.verdicts[check_id].message()
    assert snap.decision == "OK" and snap.exit_code == 0
    assert snap.headline() in text and "exit 0" in text
    assert "Traceback" not in text and "NOT JUDGED" not in text


def test_stop_screen_names_the_stop_condition_and_exits_1(redis_server, tmp_path, t0):
    engine(redis_server, "collapse")  # the model's confidence collapses: S4
    snap, text = screen(redis_server, tmp_path, t0, shown(t0 + timedelta(seconds=2)))
    assert snap.verdicts["S4"].status.value == "FAIL"
    assert snap.decision == "STOP" and snap.exit_code == 1
    assert "STOP: roll back now (runbook s.6): S4" in text
    assert " S4    FAIL " in text


def test_restart_since_t0_is_a_stop_from_the_unit(redis_server, tmp_path, t0):
    engine(redis_server, "healthy_voting")
    later = t0 + timedelta(minutes=20)
    snap, text = screen(redis_server, tmp_path, t0, shown(later, restarts=1))
    assert snap.verdicts["S1"].status.value == "FAIL"
    assert "STOP: roll back now (runbook s.6): S1" in text


def test_without_t0_one_line_and_what_can_be_shown(redis_server, tmp_path):
    engine(redis_server, "healthy_voting")
    snap, text = screen(redis_server, tmp_path, None, shown(datetime.now(UTC)))
    lines = [x for x in text.splitlines() if x.startswith("no T+0:")]
    assert len(lines) == 1
    assert "(not judged: no T+0)" in text and "consensus_count" in text
    assert "6. Latest Event" in text and "patchtst:" in text
    assert snap.verdicts == {} and snap.exit_code == 1
    assert "INCONCLUSIVE: cannot prove healthy: no T+0, S1, S2, S3, S4" in text


def test_sources_down_are_one_line_each_no_traceback(tmp_path, capsys):
    with throwaway_redis.start() as server:
        url = server.url
    code = cli.main(
        ["monitor", f"--redis-url={url}", "--unit=shadowgate-no-such.service",
         "--activated-at=2026-01-01T00:00:00Z", f"--reports-dir={tmp_path}"]
    )  # fmt: skip
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 1 and "Traceback" not in text
    redis_lines = [x for x in text.splitlines() if x.startswith("Redis: ")]
    assert len(redis_lines) == 1 and "connection refused" in redis_lines[0]
    unit_lines = [x for x in text.splitlines() if x.startswith("unit: ")]
    assert len(unit_lines) <= 1  # none where this machine runs the unit (it does not here)
    assert "INCONCLUSIVE: cannot prove healthy" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["monitor", "--watch=0"],
        ["monitor", "--watch=soon"],
        ["monitor", "--no-such-option"],
        ["monitor", "--set=no.such_key=1"],
        ["monitor", "--activated-at=yesterday"],
    ],
)
def test_usage_errors_exit_4(argv, capsys):
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 4
    assert "Traceback" not in capsys.readouterr().err


def test_watch_redraws_and_returns_the_last_code(redis_server, tmp_path, t0):
    engine(redis_server, "healthy_voting")
    snaps = iter(
        [
            screen(redis_server, tmp_path, t0, shown(t0 + timedelta(seconds=2)))[0],
            screen(redis_server, tmp_path, t0, shown(t0 + timedelta(minutes=9), restarts=2))[0],
        ]
    )
    console = Console(record=True, width=120, highlight=False)
    slept: list[float] = []
    code = monitor.watch(lambda: next(snaps), 5.0, console, rounds=2, sleep=slept.append)
    text = console.export_text()
    assert code == 1 and slept == [5.0]
    assert text.count("PATCHTST ACTIVATION MONITOR") == 2
    assert text.index("  OK  ") < text.index("STOP: roll back now")


def test_an_impossible_reports_dir_is_one_line_and_exit_4_before_redis_is_asked(tmp_path, capsys):
    """Probed as the suite probes it, but read-only: the monitor only reads T+0's record."""
    dead = "redis://127.0.0.1:1/0"  # reached only if the probe let the run go on
    for reports_dir, said in impossible_reports_dirs(tmp_path).items():
        code = cli.main(["monitor", f"--redis-url={dead}", f"--reports-dir={reports_dir}"])
        lines = capsys.readouterr().err.splitlines()
        assert code == 4, lines
        assert len(lines) == 1 and lines[0].startswith(f"ERROR: {said}"), lines


def test_the_monitor_creates_no_reports_dir_and_needs_no_write(tmp_path):
    missing = tmp_path / "not-yet"
    assert settings.readable_reports_dir(missing) == missing and not missing.exists()
    read_only = tmp_path / "archive"
    read_only.mkdir(mode=0o555)
    assert settings.readable_reports_dir(read_only) == read_only
