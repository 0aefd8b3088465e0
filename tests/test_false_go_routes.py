"""Every route to a false GO (or a false PASS, a false "healthy", an armed action) ever found,
one test each with its one-line story. Each asserts the honest end: NO-GO (or not OK), and
nothing armed. A new route found goes here first, as a test that fails before the fix."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shadowgate import cli, envedit, evidence
from shadowgate.actions import flow, rollback
from shadowgate.actions.flow import REPO
from shadowgate.checks import catalog
from shadowgate.config import Target, Thresholds
from shadowgate.evidence import arming
from shadowgate.evidence.disk import sha256
from shadowgate.evidence.journal_anchor import LineAnchor
from shadowgate.evidence.log import canonical, rendered
from shadowgate.testbed import installer
from shadowgate.testbed.suiterun import DRILL, run_suite
from shadowgate.verdict import Status
from tests.engine_data import backfill
from tests.evidence_data import entry, make_record
from tests.matrix_support import start_engine
from tests.test_actions import MODEL, activating, out
from tests.test_actions import bed as bed
from tests.test_actions_box import action
from tests.test_deploy import window_record
from tests.test_envedit import on_a_full_filesystem
from tests.test_monitor import screen as monitor_screen
from tests.test_monitor import shown
from tests.test_records import run_phase

PRE_IDS = set(catalog.ids_of_phase("preactivation"))


def activate_armed(reports_dir, engine_host) -> bool:
    """Would activate.py run on what this reports dir holds (the arming function it calls)?"""
    last = evidence.last(reports_dir, "preactivation", engine_host=engine_host)
    return last is not None and last.armed


def boxed_suite(box, redis_server, reports_dir, *args: str, env: dict | None = None):
    """`pytest -m preactivation` (drill settings) in the systemd box, with `env` added."""
    runner = lambda argv, cwd: box.exec(argv, cwd=cwd, env=env, timeout=300)  # noqa: E731
    return run_suite(runner, redis_server.url, reports_dir, "preactivation", *DRILL, *args)


# ---- Routes fixed before issue 19 -----------------------------------------------------------


@pytest.mark.systemd
def test_leak_beside_a_fallback_null_key_is_no_go(
    engine_unit, box, box_host, redis_server, tmp_path
):
    """A `"fallback": null` key beside the votes once hid PatchTST's leaking vote from B1/B2/P3."""
    start_engine(engine_unit, "shadow_leak_fallback_null")
    run = boxed_suite(box, redis_server, tmp_path)
    assert run.exit_code == 1 and run.record.decision == "NO-GO", run.output
    assert {"B1", "B2", "P3"} <= run.failing(), run.output
    assert not activate_armed(tmp_path, box_host)


@pytest.mark.systemd
def test_check_file_left_out_by_ignore_is_no_go(engine_unit, box, box_host, redis_server, tmp_path):
    """`--ignore=blockers/test_preconditions.py` once left a GO without P1-P7 ever collected."""
    start_engine(engine_unit)
    run = boxed_suite(box, redis_server, tmp_path, "--ignore=blockers/test_preconditions.py")
    assert run.exit_code == 1 and run.record.decision == "NO-GO", run.output
    assert not run.record.complete
    assert not activate_armed(tmp_path, box_host)


FLAG = "PATCHTST_SHADOW_ONLY"
OVERRIDDEN_FLAG = f"{FLAG}=true\n  {FLAG}=false\nPATCHTST_MODEL_PATH={installer.MODEL_PATH}\n"


@pytest.mark.systemd
def test_indented_false_after_the_flag_is_no_go(engine_unit, box, box_host, redis_server, tmp_path):
    """`FLAG=true` then `  FLAG=false`: grep showed true, systemd delivers the indented false."""
    engine_unit()  # no history (cheap): P1 alone must say why
    box.write_file(installer.ENV_FILE, OVERRIDDEN_FLAG, mode=0o600)
    run = boxed_suite(box, redis_server, tmp_path)
    assert run.exit_code == 1 and run.record.decision == "NO-GO", run.output
    p1 = run.checks["P1"]
    assert p1.status == "FAIL" and f"{FLAG}='false' (line 2)" in p1.message, p1.message
    assert not activate_armed(tmp_path, box_host)


# ---- Issue 19, route 1: a run whose checks never ran -----------------------------------------


SKIP_BODIES = {
    # a plugin that never runs a check's body: the test "passes" with nothing judged
    "pyfunc_call": "@pytest.hookimpl(tryfirst=True)\ndef pytest_pyfunc_call(pyfuncitem):\n"
    "    return True\n",
    # one that skips every check before its body
    "runtest_setup": "@pytest.hookimpl(tryfirst=True)\ndef pytest_runtest_setup(item):\n"
    "    pytest.skip('not today')\n",
}


def assert_nothing_evaluated_is_no_go(run, reports_dir, box_host) -> None:
    """NO-GO, incomplete naming every unevaluated check, and activation not armed."""
    record = run.record
    assert run.exit_code != 0 and record.decision == "NO-GO", run.output
    assert record.complete is False and record.passed is False
    assert set(record.unevaluated) == PRE_IDS, record.unevaluated
    assert all(record.unevaluated.values()) and record.incomplete_reasons
    assert "shadowgate preactivation: NO-GO (incomplete run)" in run.output
    assert not activate_armed(reports_dir, box_host)


@pytest.mark.systemd
@pytest.mark.parametrize("option", ["--setup-only", "--setup-plan"])
def test_setup_only_or_plan_run_is_no_go(
    engine_unit, box, box_host, redis_server, tmp_path, option
):
    """`--setup-only` / `--setup-plan` ran no check body, yet recorded GO and armed activate."""
    start_engine(engine_unit)
    run = boxed_suite(box, redis_server, tmp_path, option)
    assert_nothing_evaluated_is_no_go(run, tmp_path, box_host)
    assert option in " ".join(run.record.incomplete_reasons)


@pytest.mark.systemd
def test_setup_only_through_pytest_addopts_is_no_go(
    engine_unit, box, box_host, redis_server, tmp_path
):
    """`PYTEST_ADDOPTS=--setup-only` from a timer's env file: the same run, never seen."""
    start_engine(engine_unit)
    run = boxed_suite(box, redis_server, tmp_path, env={"PYTEST_ADDOPTS": "--setup-only"})
    assert_nothing_evaluated_is_no_go(run, tmp_path, box_host)
    assert "--setup-only (set in PYTEST_ADDOPTS='--setup-only')" in run.record.incomplete_reasons[0]


@pytest.mark.systemd
@pytest.mark.parametrize("hook", sorted(SKIP_BODIES))
def test_plugin_that_skips_check_bodies_is_no_go(
    engine_unit, box, box_host, redis_server, tmp_path, hook
):
    """A `-p` plugin that never runs a check's body makes no check evaluated: never GO."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "skip_bodies.py").write_text("import pytest\n\n\n" + SKIP_BODIES[hook])
    start_engine(engine_unit)
    reports = tmp_path / "reports"
    run = boxed_suite(
        box, redis_server, reports, "-p", "skip_bodies", env={"PYTHONPATH": str(plugins)}
    )
    assert_nothing_evaluated_is_no_go(run, reports, box_host)


@pytest.mark.systemd
def test_collect_only_records_nothing_and_arms_nothing(
    engine_unit, box, box_host, redis_server, tmp_path
):
    """`--collect-only` (or `--co` through PYTEST_ADDOPTS) runs no check: it must record no GO."""
    start_engine(engine_unit)
    runner = lambda argv, cwd: box.exec(argv, cwd=cwd, env={"PYTEST_ADDOPTS": "--co"}, timeout=300)  # noqa: E731
    with pytest.raises(RuntimeError, match="recorded no run"):
        run_suite(runner, redis_server.url, tmp_path, "preactivation", *DRILL)
    assert not activate_armed(tmp_path, box_host)


# ---- Issue 19, route 2: a stream entry dated in the future -----------------------------------


MAX_ID = "99999999999999-0"
SILENT_MIN = 20


def add_future_entry(server, entry_id: str | None = None) -> str:
    """The engine's newest entry written again under an id dated in the future: 10 min ahead
    of Redis TIME unless `entry_id` is given (a forward clock step on the Redis host makes
    such ids by itself)."""
    client = server.client()
    ((_, fields),) = client.xrevrange(Target().stream, count=1)
    if entry_id is None:
        seconds, micros = client.time()
        entry_id = f"{seconds * 1000 + micros // 1000 + 10 * 60_000}-0"
    client.xadd(Target().stream, fields, id=entry_id)
    return entry_id


def silent_voting_engine(server) -> datetime:
    """Two hours of the voting engine that fell silent 20 min ago, and one entry dated in the
    future; returns T+0 (65 min ago)."""
    now_ms = int(time.time() * 1000)
    backfill(server, "healthy_voting", 2.0, now_ms - SILENT_MIN * 60_000, shadow=False, seed=7)
    add_future_entry(server)
    return datetime.now(UTC) - timedelta(minutes=65)


@pytest.mark.systemd
@pytest.mark.parametrize("future_id", [None, MAX_ID], ids=["10 min ahead", MAX_ID])
def test_silent_engine_behind_an_entry_dated_in_the_future_is_no_go(
    engine_unit, box, box_host, redis_server, tmp_path, future_id
):
    """An engine silent for 20 min looked fresh behind one entry dated in the future: GO."""
    start_engine(engine_unit, options=(f"stale_minutes={SILENT_MIN}",))
    add_future_entry(redis_server, future_id)
    run = boxed_suite(box, redis_server, tmp_path)
    assert run.exit_code == 1 and run.record.decision == "NO-GO", run.output
    for check_id in ("B1", "B3", "B6", "P3", "G1", "G2", "G3"):
        message = run.checks[check_id].message
        assert run.checks[check_id].status == "INCONCLUSIVE", message
        assert "engine silent since" in message and "1 entry dated in the future" in message
    assert not activate_armed(tmp_path, box_host)


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


# ---- Issue 19, route 3: a systemd drop-in that sets the flag ----------------------------------

ZZ = f"drop-in {installer.DROP_IN_DIR}/zz.conf"
DROP_IN_FORMS = {
    # form -> (drop-ins, text of /etc/quantum/local.env, failing IDs: the reset takes the
    # model path away too, P7)
    "EnvironmentFile=-local.env": (installer.DROP_IN_LOCAL_ENV, f"{FLAG}=false\n", {"P1", "P6"}),
    "EnvironmentFile= reset, Environment=false": (
        installer.DROP_IN_RESET, None, {"P1", "P6", "P7"}),
}  # fmt: skip


@pytest.mark.systemd
@pytest.mark.parametrize("form", sorted(DROP_IN_FORMS))
def test_drop_in_that_overrides_the_env_file_is_no_go(
    engine_unit, box, box_host, redis_server, tmp_path, form
):
    """A drop-in delivers FLAG=false over the env file: P1/P6 said "systemd delivers true", GO."""
    start_engine(engine_unit)  # in shadow; the drop-in takes effect at the next restart
    drop_ins, local_env, failing = DROP_IN_FORMS[form]
    installer.add_drop_ins(box, drop_ins, local_env)
    run = boxed_suite(box, redis_server, tmp_path)
    assert run.exit_code == 1 and run.record.decision == "NO-GO", run.output
    assert run.failing() == failing, run.output
    for check_id in ("P1", "P6"):
        message = run.checks[check_id].message
        assert ZZ in message and f"{FLAG}='false'" in message, message
    assert not activate_armed(tmp_path, box_host)


@pytest.mark.systemd
def test_break_glass_rollback_refuses_a_file_that_does_not_decide(
    engine_unit, box, redis_server, tmp_path
):
    """A reset drop-in sets false: rollback.py echoed the flag into an unread file; it voted on."""
    engine_unit(
        "healthy_voting",
        env_text=f"PATCHTST_MODEL_PATH={installer.MODEL_PATH}\n",  # as activate.py left it
        drop_ins=installer.DROP_IN_RESET,
    )
    before = box.exec(["cat", installer.ENV_FILE], check=True).stdout
    show = ["show", "-p", "InvocationID", "--value", installer.ENGINE_UNIT]
    invocation = box.systemctl(*show).stdout
    done, _ = action(
        box, "rollback.py", redis_server.url, tmp_path / "reports", "--break-glass", "--reason=S3"
    )
    said = done.stdout + done.stderr
    assert done.returncode == 2, said
    assert "rollback: REFUSED, the env file untouched:" in said
    assert f"{FLAG}='false' from Environment={FLAG}=false in {ZZ}" in said
    assert box.exec(["cat", installer.ENV_FILE], check=True).stdout == before
    assert box.systemctl(*show).stdout == invocation  # not restarted


# ---- Issue 19, routes 4-6: evidence that trusts too much --------------------------------------


def _forged_go_anchored_by_nobody(box, bed) -> str:
    """What uid 65534 can do in a reports dir it owns: its NO-GO record flipped to GO (and
    its record file to match), anchored with `systemd-cat -t shadowgate` as itself."""
    box.exec(["systemd-cat", "-t", "forger", "echo", "the journal reaches back"], check=True)
    time.sleep(1.1)  # records say their time to the second
    run_id = evidence.new_run_id("preactivation", datetime.now(UTC))
    no_go = make_record(run_id, passed=False, finished=datetime.now(UTC),
                        target=bed.target(), digest=Thresholds.load().digest())  # fmt: skip
    bed.reports.mkdir()
    html = bed.reports / f"{run_id}.html"
    html.write_text("<html></html>\n")
    sha = hashlib.sha256(bed.model.read_bytes()).hexdigest()
    flipped = no_go.to_dict() | {
        "passed": True, "decision": "GO", "causes": [],
        "facts": {"model": {"path": str(bed.model), "sha256": sha}},
        "files": {"html": html.name, "html_sha256": sha256(html.read_bytes()),
                  "junit": None, "junit_sha256": None},
        "anchor": {"journal": "sdbox"}, "previous_sha256": evidence.GENESIS,
    }  # fmt: skip
    line = canonical(flipped)
    (bed.reports / evidence.LOG_NAME).write_bytes(line + b"\n")
    (bed.reports / f"{run_id}.json").write_bytes(rendered(flipped))
    for path in (bed.reports, *bed.reports.iterdir()):
        os.chown(path, 65534, 65534)
    anchor = LineAnchor(run_id, sha256(line + b"\n"), evidence.GENESIS,
                        str(bed.reports.resolve()))  # fmt: skip
    box.exec(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
              "systemd-cat", "-t", "shadowgate", "echo", anchor.message()], check=True)  # fmt: skip
    return run_id


@pytest.mark.systemd
def test_route_4_a_record_anchored_by_the_reports_dirs_owner_neither_verifies_nor_arms(
    bed, box, box_host, monkeypatch, capsys
):
    """uid 65534 flips its NO-GO to GO in a dir it owns and anchors it: verify fails, root's
    activate refuses (exit 2) naming the reports dir, the env file untouched."""
    run_id = _forged_go_anchored_by_nobody(box, bed)
    checked = evidence.verify(bed.reports, box_host)
    assert not checked.ok and checked.first_bad == f"{run_id} (line 1)", checked.describe()
    assert any("from uid 65534" in note for note in checked.notes), checked.notes
    monkeypatch.setattr(arming.host, "connect", lambda spec: box_host)
    assert activating(bed) == 2
    said = out(capsys)
    assert f"{bed.reports} is owned by uid 65534, not by root" in said
    assert "PATCHTST_SHADOW_ONLY=true" in bed.env.read_text()


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


RECORD_A_RUN = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tests.evidence_data import add_run
add_run(Path(sys.argv[1]), sys.argv[2], finished=datetime.now(UTC) - timedelta(seconds=5))
"""


@pytest.mark.systemd
def test_route_6_a_kill_between_a_line_and_its_anchor_is_rolled_forward_and_arms_nothing(
    box, box_host, tmp_path
):
    """kill -9 at "recorded" (the line written, its anchor not): verify names that line; the
    next run marks it never anchored, the chain verifies again, and that record arms nothing."""
    reports = tmp_path / "reports"

    def record(phase: str, kill_at: str = "") -> int:
        argv = [sys.executable, "-c", RECORD_A_RUN, str(reports), phase]
        env = {envedit.KILL_ENV: kill_at} if kill_at else None
        return box.exec(argv, cwd=str(flow.REPO), env=env, check=not kill_at).returncode

    record("window_30m")  # anchored: every later line must be too
    assert record("preactivation", kill_at="recorded") == -signal.SIGKILL
    broken = evidence.verify(reports, box_host)
    assert not broken.ok and broken.first_bad.endswith("(line 2)"), broken.describe()
    assert "its run was killed between the line and its anchor" in broken.problem
    record("window_30m")  # the next run rolls forward
    checked = evidence.verify(reports, box_host)
    assert checked.ok, checked.describe()
    assert checked.notes[1].startswith("1 record never anchored: its run was killed")
    pre = evidence.last(reports, "preactivation", engine_host=box_host)
    assert pre is not None and not pre.armed and pre.anchored is False
    assert "its run was killed between its line and its anchor" in pre.reasons[0]


# ---- Issue 19, routes 7-10: actions, secrets, hangs -------------------------------------------


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
        cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=60, check=False,
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


@pytest.mark.systemd
def test_route_10_a_break_glass_rollback_on_a_full_disk_is_refused_in_one_line(
    box, engine_unit, redis_server, tmp_path
):
    """ENOSPC writing the env lock was a traceback halfway into a rollback; now a refusal."""
    engine_unit("healthy_voting")
    env_dir = os.path.dirname(installer.ENV_FILE)
    before = box.exec(["cat", installer.ENV_FILE], check=True).stdout
    reports = tmp_path / "reports"
    argv = [
        *(sys.executable, str(REPO / "actions" / "rollback.py"), "--break-glass", "--reason=S3"),
        *(f"--redis-url={redis_server.url}", f"--reports-dir={reports}"),
    ]
    done = box.exec(on_a_full_filesystem(env_dir, *argv), cwd=str(REPO), timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert output.splitlines()[-2:] == [
        "rollback: REFUSED, the env file untouched:",
        f"  - cannot write the lock {installer.ENV_FILE}.lock: No space left on device",
    ], output
    assert "Traceback" not in output
    assert box.exec(["cat", installer.ENV_FILE], check=True).stdout == before
    assert not any(r.get("action") for r in evidence.records(reports))


def test_route_10_env_file_dev_zero_is_a_clean_no_go_not_a_hang(tmp_path):
    """`--env-file=/dev/zero` once read for ever; now P1 says what it is and the run is NO-GO."""
    run = run_phase("redis://127.0.0.1:1/0", tmp_path / "r", "--env-file=/dev/zero")
    assert run.exit_code == 1 and run.record["decision"] == "NO-GO", run.output
    assert "/dev/zero on local is not a regular file" in run.output
    assert not any(mark in run.output for mark in ("Traceback", "INTERNALERROR"))


# ---- Issue 20: the lifecycle -------------------------------------------------------------------


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
