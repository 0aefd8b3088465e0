"""`shadowgate monitor`: the runbook's monitoring snapshot (s.5) as one screen, judged by the
suite's own rules, against a throwaway Redis filled by the stand-in engine. A screen per state
(healthy, a stop, no T+0, sources down), the exit codes, and --watch."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from shadowgate import cli, monitor, settings, stream
from shadowgate.testbed import throwaway_redis
from tests.canned_host import canned
from tests.engine_data import backfill

SECTIONS = (
    "1. Service Status",
    "2. Consensus Distribution",
    "3. Agreement Rate",
    "4. Hard Disagreement / Confidence",
    "5. Stop Conditions",
    "6. Latest Event",
)


def shown(started: datetime, restarts: int = 0, state: str = "active\nSubState=running") -> bytes:
    """`systemctl show` of the engine's unit, started at `started`."""
    stamp = started.strftime("%a %Y-%m-%d %H:%M:%S.%f UTC")
    return (
        f"LoadState=loaded\nActiveState={state}\nResult=success\nNRestarts={restarts}\n"
        f"MainPID=4242\nActiveEnterTimestamp={stamp}\nExecMainStartTimestamp={stamp}\n"
        "InvocationID=0123456789abcdef0123456789abcdef\n"
    ).encode()


def engine(server, scenario: str) -> None:
    """Two hours of `scenario`, voting (activated), up to now."""
    backfill(server, scenario, hours=2.0, now_ms=int(time.time() * 1000), shadow=False, seed=7)


def screen(server, tmp_path, t0: datetime | None, unit: bytes) -> tuple[monitor.Snapshot, str]:
    """One snapshot through the monitor's own reads, and the screen as printed (120 columns)."""
    args = [f"--redis-url={server.url}", f"--reports-dir={tmp_path / 'reports'}"]
    if t0 is not None:
        args.append(f"--activated-at={t0.isoformat()}")
    options = settings.resolve(cli.build_parser().parse_args(["monitor", *args]), env={})
    engine_host = canned({"systemctl show": (0, unit, b"")})
    with stream.connect(server.url) as client:
        snap = monitor.take(options, engine_host, client)
    console = Console(record=True, width=120, color_system="truecolor", highlight=False)
    console.print(monitor.render(snap), crop=False)
    return snap, console.export_text()


@pytest.fixture
def t0() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=65)


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


def impossible_reports_dirs(tmp_path) -> dict:
    """Reports dirs no command can use, and the one line each must give."""
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    return {
        a_file: f"--reports-dir {a_file} is a file, not a directory",
        a_file / "sub": f"--reports-dir {a_file / 'sub'} cannot be created: {a_file} is a file",
        loop: f"--reports-dir {loop} is a symlink that cannot be followed: Too many levels",
    }


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
