"""Routes to a false GO (or a false PASS, a false "healthy", an armed action) that need the real
systemd: one test each with its one-line story, each asserting the honest end: NO-GO (or not OK)
and nothing armed. The routes that need no systemd are in tests/integration/test_false_go_routes.py;
a new route found goes to one of them first, as a test that fails before the fix."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import time
from datetime import UTC, datetime

import pytest

from shadowgate import evidence
from shadowgate.actions import flow
from shadowgate.actions.flow import REPO
from shadowgate.checks import catalog
from shadowgate.config import Thresholds
from shadowgate.evidence import arming
from shadowgate.evidence.disk import sha256
from shadowgate.evidence.journal_anchor import LineAnchor
from shadowgate.evidence.log import canonical, rendered
from shadowgate.testbed import installer
from shadowgate.testbed.suiterun import DRILL, run_suite
from tests.support.action_bed import activating, out
from tests.support.box_actions import action
from tests.support.envedit_scenes import on_a_full_filesystem
from tests.support.evidence_data import make_record
from tests.support.future_entries import SILENT_MIN, add_future_entry
from tests.support.matrix_support import start_engine

PRE_IDS = set(catalog.ids_of_phase("preactivation"))


def activate_armed(reports_dir, engine_host) -> bool:
    """Would activate.py run on what this reports dir holds (the arming function it calls)?"""
    last = evidence.last(reports_dir, "preactivation", engine_host=engine_host)
    return last is not None and last.armed


def boxed_suite(box, redis_server, reports_dir, *args: str, env: dict | None = None):
    """`pytest -m preactivation` (drill settings) in the systemd box, with `env` added."""
    runner = lambda argv, cwd: box.exec(argv, cwd=cwd, env=env, timeout=300)  # noqa: E731
    return run_suite(runner, redis_server.url, reports_dir, "preactivation", *DRILL, *args)


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


MAX_ID = "99999999999999-0"


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


RECORD_A_RUN = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tests.support.crash_points import kill_at
from tests.support.evidence_data import add_run
kill_at(sys.argv[3])  # "": nowhere
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
        argv = [sys.executable, "-c", RECORD_A_RUN, str(reports), phase, kill_at]
        return box.exec(argv, cwd=str(flow.REPO), check=not kill_at).returncode

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
