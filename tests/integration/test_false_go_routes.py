"""Routes to a false GO (or a false PASS, a false "healthy", an armed action) that need no systemd:
one test each with its one-line story, each asserting the honest end: NO-GO (or not OK) and
nothing armed. The routes that need the real systemd are in tests/box/test_false_go_routes.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from shadowgate import cli, evidence
from shadowgate.actions import flow, rollback
from shadowgate.actions.flow import REPO
from shadowgate.checks import catalog
from shadowgate.config import Target
from shadowgate.verdict import Status
from tests.support.action_bed import MODEL, activating, out
from tests.support.deploy_records import window_record
from tests.support.engine_data import backfill
from tests.support.evidence_data import entry
from tests.support.future_entries import SILENT_MIN, add_future_entry
from tests.support.monitor_screens import screen as monitor_screen
from tests.support.monitor_screens import shown
from tests.support.suite_runs import run_phase


def silent_voting_engine(server) -> datetime:
    """Two hours of the voting engine that fell silent 20 min ago, and one entry dated in the
    future; returns T+0 (65 min ago)."""
    now_ms = int(time.time() * 1000)
    backfill(server, "healthy_voting", 2.0, now_ms - SILENT_MIN * 60_000, shadow=False, seed=7)
    add_future_entry(server)
    return datetime.now(UTC) - timedelta(minutes=65)


def test_window_run_behind_an_entry_dated_in_the_future_is_not_ok(redis_server, tmp_path):
    """A monitoring window judged a silent engine healthy behind one entry dated in the future."""
    t0 = silent_voting_engine(redis_server)
    run = run_phase(
        redis_server.url, tmp_path, f"--activated-at={t0.isoformat()}", markexpr="window_30m"
    )
    assert run.exit_code == 1 and run.record["decision"] != "OK", run.output
    checks = {c["id"]: c for c in run.record["checks"]}
    for check_id in ("M1", "S2", "S3", "S4"):
        assert checks[check_id]["status"] == "INCONCLUSIVE", checks[check_id]
        assert "1 entry dated in the future" in checks[check_id]["window"]


def test_monitor_behind_an_entry_dated_in_the_future_is_not_healthy(redis_server, tmp_path):
    """`shadowgate monitor` showed OK for a silent engine behind one entry dated in the future."""
    t0 = silent_voting_engine(redis_server)
    snap, text = monitor_screen(redis_server, tmp_path, t0, shown(t0 + timedelta(seconds=2)))
    assert snap.decision != "OK" and snap.exit_code != 0, text
    assert snap.verdicts["S1"].status.value == "FAIL", snap.verdicts["S1"].message()
    assert "engine silent" in snap.verdicts["S1"].message()
    assert "1 entry dated in the future" in snap.verdicts["S1"].message()


def _when(tmp_path, monkeypatch, forged: dict) -> tuple[str, str]:
    """An activation recorded 10 min ago, then `forged` appended by hand; what the window
    timers' wrapper decides (`when`), and what it says."""
    reports = tmp_path / "reports"
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    evidence.append_record(reports, {
        "run_id": "20261127T140500Z-activate-abc123", "action": "activate",
        "started_at": t0.isoformat(), "restarted_at": t0.isoformat(),
        "target": {"unit": "quantum-ai-engine.service"},
    })  # fmt: skip
    with (reports / evidence.LOG_NAME).open("a") as log:
        log.write(json.dumps({"run_id": "forged", "target": {"unit": "quantum-ai-engine.service"}}
                             | forged) + "\n")  # fmt: skip
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(reports))
    monkeypatch.delenv("SHADOWGATE_ACTIVATED_AT", raising=False)
    assert window_record.main(["when", "window_30m"]) == 0
    return window_record.when("window_30m")


def test_route_5_a_hand_appended_rollback_line_does_not_stop_monitoring(
    tmp_path, monkeypatch, capsys
):
    """{"action":"rollback",...} appended by hand: the window still runs, and the wrapper says
    the chain is broken at line 2."""
    now = datetime.now(UTC).isoformat()
    state, line = _when(tmp_path, monkeypatch, {"action": "rollback", "started_at": now,
                                                "restarted_at": now})  # fmt: skip
    assert state == "run", line
    said = capsys.readouterr().out.splitlines()
    assert said[1].startswith("broken\tthe decision log does not verify: chain BROKEN at forged "
                              "(line 2)")  # fmt: skip


def test_route_5_a_fake_activation_dated_2031_does_not_silence_monitoring(
    tmp_path, monkeypatch, capsys
):
    """An activation record dated 2031 appended by hand: the window runs against the last
    verified activation (T+10 min), and says the chain is broken at line 2."""
    future = "2031-01-01T00:00:00Z"
    state, line = _when(
        tmp_path, monkeypatch, {"action": "activate", "started_at": future, "restarted_at": future}
    )
    assert state == "run" and "T+10 min" in line, line
    said = capsys.readouterr().out.splitlines()
    assert said[1].startswith("broken\tthe decision log does not verify: chain BROKEN at forged "
                              "(line 2)")  # fmt: skip


def _nothing_armed_or_changed(bed, env_before: bytes) -> None:
    """The env file as it was, the engine never restarted, no action record."""
    assert bed.env.read_bytes() == env_before and not bed.engine.restarts
    assert not any(r.get("action") for r in evidence.records(bed.reports))


def test_route_8_a_symlinked_env_lock_is_refused_and_its_target_untouched(bed, capsys):
    """`ai-engine.env.lock -> victim` once had the victim truncated and overwritten with a pid."""
    bed.record()
    victim = bed.env.parent / "victim.conf"
    victim.write_text("precious\n")
    lock = bed.env.parent / f"{bed.env.name}.lock"
    lock.symlink_to(victim)
    before = bed.env.read_bytes()
    assert activating(bed) == 2
    said = out(capsys)
    assert f"cannot open the lock {lock}: a symlink (to {victim}), never followed" in said
    assert victim.read_text() == "precious\n"
    _nothing_armed_or_changed(bed, before)


_RUN_SUITE = flow.run_suite  # the real one: `bed` replaces it


# The child's own view of its command line and environment, written where the test reads it.
_PROBE = (
    "import json, os, sys\n"
    "argv = open('/proc/self/cmdline', 'rb').read().decode()\n"
    "url = os.environ.get('SHADOWGATE_REDIS_URL')\n"
    "open(sys.argv[1], 'w').write(json.dumps({'argv': argv, 'url': url}))\n"
)


@pytest.mark.parametrize(
    "url",
    [
        "redis://:s3cr3t@127.0.0.1:1/0",
        "redis://default:s3cr3t@127.0.0.1:1/0",
        "redis://127.0.0.1:1/0?password=s3cr3t",
        "redis://127.0.0.1:1/0?db=0#password=s3cr3t",
        "redis://u%3As3cr3t@127.0.0.1:1/0",
    ],
    ids=["userinfo", "user-and-password", "query", "fragment", "percent-encoded"],
)
def test_route_9_the_redis_password_is_in_no_child_argv_and_no_output(
    bed, capsys, monkeypatch, tmp_path, url
):
    """rollback.py once printed `verifying: pytest ... --redis-url=redis://:PW@...` and put it
    on its child's command line, where `ps` shows it to every user."""
    seen = tmp_path / "child.json"
    child = [sys.executable, "-c", _PROBE, str(seen)]
    monkeypatch.setattr(flow, "run_suite", lambda argv, env: _RUN_SUITE([*child, *argv[1:]], env))
    bed.env.write_text(f"{Target().shadow_flag}=false\n{MODEL}=/m\n")
    options = bed.options(f"--redis-url={url}", "--break-glass", "--reason=S3 live")
    assert rollback.main(options, engine=bed.engine) == 0
    child = json.loads(seen.read_text())
    assert "s3cr3t" not in child["argv"] and child["url"] == url
    assert "s3cr3t" not in out(capsys)
    assert not [p for p in bed.reports.iterdir() if p.is_file() and b"s3cr3t" in p.read_bytes()]


def _big_integer_config(tmp_path) -> str:
    path = tmp_path / "thresholds.toml"
    path.write_text("[gates]\nmin_events = " + "9" * 5000 + "\n")
    return f"--config={path}"


ITEM_10 = {
    "5000-digit integer in --config": (_big_integer_config, "is not valid TOML"),
    "--config=/dev/zero": (lambda _: "--config=/dev/zero", "/dev/zero: not a regular file"),
    "ssl_cert_reqs=bogus": (
        lambda _: "--redis-url=redis://127.0.0.1:1/0?ssl_cert_reqs=bogus",
        "has an option redis-py cannot use",
    ),
    "--hosts=bogus://x": (lambda _: "--hosts=bogus://x", "is not a host testinfra can use"),
    "--activated-at in year 0 UTC": (
        lambda _: "--activated-at=0001-01-01T00:00:00+14:00",
        "is out of range in UTC",
    ),
}


ACTION_TAKES = {"5000-digit integer in --config", "--config=/dev/zero", "ssl_cert_reqs=bogus"}


def _front_ends(case: str) -> list[str]:
    return ["suite", "monitor", *(["rollback"] if case in ACTION_TAKES else [])]


def _run_front_end(front_end: str, option: str, reports) -> tuple[int, str]:
    """The option given to `pytest -m activation`, `shadowgate monitor` or rollback.py."""
    if front_end == "suite":
        run = run_phase("redis://127.0.0.1:1/0", reports, option, markexpr="activation")
        return run.exit_code, run.output
    argv = {
        "monitor": [sys.executable, "-m", "shadowgate.cli", "monitor"],
        "rollback": [sys.executable, "actions/rollback.py", "--break-glass", "--reason=x"],
    }[front_end]
    done = subprocess.run(
        [*argv, f"--reports-dir={reports}", option],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize(("case", "front_end"), [(c, f) for c in ITEM_10 for f in _front_ends(c)])
def test_route_10_an_option_that_was_a_traceback_or_a_hang_is_one_usage_line(
    tmp_path, case, front_end
):
    """Each of these was an INTERNALERROR, a traceback in every check, or a run that never ended."""
    make, message = ITEM_10[case]
    code, output = _run_front_end(front_end, make(tmp_path), tmp_path / "reports")
    assert code == 4, output
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0], output
    assert not any(mark in output for mark in ("Traceback", "INTERNALERROR", "\nE   ")), output
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_route_10_env_file_dev_zero_is_a_clean_no_go_not_a_hang(tmp_path):
    """`--env-file=/dev/zero` once read for ever; now P1 says what it is and the run is NO-GO."""
    run = run_phase("redis://127.0.0.1:1/0", tmp_path / "r", "--env-file=/dev/zero")
    assert run.exit_code == 1 and run.record["decision"] == "NO-GO", run.output
    assert "/dev/zero on local is not a regular file" in run.output
    assert not any(mark in run.output for mark in ("Traceback", "INTERNALERROR"))


def _go_activate_stop(bed) -> None:
    """A fresh GO, activate.py, then a window that says STOP (S3) and keeps rollback armed."""
    bed.record()
    assert activating(bed) == 0
    stop = (entry("P6", ("preactivation", "rollback_ready", *catalog.MONITORING)),
            entry("S3", catalog.get("S3").phases, status=Status.FAIL))  # fmt: skip
    bed.record("window_30m", checks=stop, passed=False, finished=datetime.now(UTC))


def test_issue_20_a_rollback_disarms_the_old_go(bed, capsys):
    """Five minutes after a STOP and a rollback the old, still fresh GO armed activate.py again
    (exit 0, the engine voting) and `evidence last preactivation` said ARMED."""
    _go_activate_stop(bed)
    assert rollback.main(bed.options("--on-stop"), engine=bed.engine) == 0
    out(capsys)
    before, restarts = bed.env.read_bytes(), len(bed.engine.restarts)
    assert activating(bed) == 2
    said = out(capsys)
    assert "not ARMED: the state is ROLLED_BACK since" in said and "(trigger S3)" in said
    assert "before the ROLLED_BACK at" in said
    assert bed.env.read_bytes() == before and len(bed.engine.restarts) == restarts
    assert cli.main(["evidence", "last", "preactivation", f"--reports-dir={bed.reports}"]) == 1
    assert "NOT ARMED: the state is ROLLED_BACK since" in out(capsys)


def test_issue_20_on_stop_acts_once_per_stop(bed, capsys):
    """`monitor || rollback --on-stop` restarted production every time it ran."""
    _go_activate_stop(bed)
    assert rollback.main(bed.options("--on-stop"), engine=bed.engine) == 0
    restarts = len(bed.engine.restarts)
    out(capsys)
    assert rollback.main(bed.options("--on-stop"), engine=bed.engine) == 0
    said = out(capsys)
    assert "rollback --on-stop: already rolled back at " in said and "(trigger S3)" in said
    assert len(bed.engine.restarts) == restarts
