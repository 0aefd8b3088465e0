"""The actions over hand-made decision logs, a tmp env file and a fake engine: every refusal
(exit 2, one line each, the env file untouched), the steps and the record the windows read
T+0 from, the verification suite's verdict, break-glass and --on-stop."""

from __future__ import annotations

import shlex
from datetime import timedelta
from pathlib import Path

import pytest

from shadowgate import evidence
from shadowgate.actions import activate, flow, rollback
from shadowgate.config import Target, Thresholds
from shadowgate.envchain import EnvChain
from shadowgate.evidence.anchors import ACTIVATE, ROLLBACK, latest_action, parse_moment
from shadowgate.host import HostError
from shadowgate.verdict import Status
from tests.support import envchains
from tests.support.action_bed import (
    FLAG,
    INVOCATION,
    MODEL,
    NOW,
    Bed,
    FakeEngine,
    activating,
    out,
)
from tests.support.envedit_scenes import holding
from tests.support.evidence_data import P6_PHASES, entry

REFUSALS = {
    "stale": (dict(finished=NOW - timedelta(minutes=16)), "it is stale"),
    "failing": (dict(passed=False), "the run did not pass"),
    "incomplete (-k)": (dict(complete=False), "the run was incomplete (-k B3 was given"),
    "another target": (dict(target=Target(unit="other.service").describe()), "another target"),
    "other thresholds": (dict(digest="cd" * 32), "other thresholds"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_activate_refuses_an_unfit_record(bed, capsys, case):
    fields, reason = REFUSALS[case]
    bed.record(**fields)
    before = bed.env.read_bytes()
    assert activating(bed) == 2
    said = out(capsys)
    assert "activate: REFUSED, the env file untouched:" in said and reason in said
    assert bed.env.read_bytes() == before and not bed.engine.restarts
    assert not list(bed.env.parent.glob("*.bak*"))


def test_activate_refuses_a_changed_model_and_no_approver_one_line_each(bed, capsys):
    bed.record()
    bed.model.write_bytes(b"other weights")
    assert activate.main(bed.options(), engine=bed.engine) == 2
    said = out(capsys)
    assert f"  - the model file {bed.model} changed since the preactivation run" in said
    assert "  - no --approved-by NAME: who approved the activation (runbook s.7)" in said


def test_activate_refuses_without_any_record(bed, capsys):
    assert activating(bed) == 2
    assert "run `pytest -m preactivation` first" in out(capsys)


@pytest.mark.parametrize("script", [activate, rollback])
def test_a_symlinked_lock_is_one_refusal_line_and_creates_nothing(bed, capsys, tmp_path, script):
    bed.record()
    bed.env.write_text(f"{MODEL}={bed.model}\n")  # a rollback has a flag to put back
    lock = bed.reports / evidence.LOCK_NAME
    lock.unlink()
    lock.symlink_to(tmp_path / "elsewhere")
    before = bed.env.read_bytes()
    options = ("--approved-by=alice", "--weight=10") if script is activate else ()
    assert script.main(bed.options(*options), engine=bed.engine) == 2
    said = out(capsys)
    assert "decision log: " in said and "is a symlink" in said and "Traceback" not in said
    assert not (tmp_path / "elsewhere").exists() and bed.env.read_bytes() == before
    assert not bed.engine.restarts


def test_dry_run_prints_the_plan_and_changes_nothing(bed, capsys):
    bed.record()
    before = bed.env.read_bytes()
    assert activating(bed, "--dry-run") == 0
    said = out(capsys)
    assert "2. remove the flag (line 2 `PATCHTST_SHADOW_ONLY=...` removed)" in said
    assert bed.env.read_bytes() == before and not bed.engine.restarts and not bed.suites


def test_activate_edits_restarts_records_t0_and_runs_the_activation_suite(bed, capsys):
    bed.record()
    assert activating(bed) == 0
    assert bed.env.read_bytes() == f"# engine\r\n{MODEL}={bed.model}\n".encode()
    (backup,) = bed.env.parent.glob("ai-engine.env.bak.activation.*")
    assert backup.read_bytes() == f"# engine\r\n{FLAG}=true\n{MODEL}={bed.model}\n".encode()
    anchor = latest_action(bed.reports, ACTIVATE, bed.target())
    assert anchor is not None and anchor.at == bed.engine.restarts[0]
    assert anchor.invocation_id == INVOCATION
    (argv,) = bed.suites
    assert argv[3:5] == ["-m", "activation"]
    assert parse_moment(argv[-1].removeprefix("--activated-at=")) == anchor.at
    assert f"--reports-dir={bed.reports.resolve()}" in argv
    record = evidence.records(bed.reports)[-1]
    assert record["approved_by"] == "alice (risk)" and record["strategy"]["weight"] == 10.0
    steps = [s["step"] for s in record["steps"]]
    assert steps == [
        "backup",
        "remove the flag",
        "verify as systemd reads it",
        "restart",
        "wait until active",
    ]
    assert all(s["ok"] and s["seconds"] >= 0 for s in record["steps"])
    assert evidence.verify(bed.reports).ok
    assert "[ok  ] restart" in out(capsys)


def test_failed_activation_suite_says_stop_and_the_rollback_command(bed, capsys, monkeypatch):
    bed.record()
    monkeypatch.setattr(flow, "run_suite", lambda argv, env: 1)
    assert activating(bed) == 1
    said = out(capsys)
    assert "STOP: roll back now (runbook s.6)" in said
    command = next(line for line in said.splitlines() if "actions/rollback.py" in line)
    assert f"actions/rollback.py --env-file={bed.env} --reports-dir=" in command
    assert "--approved-by" not in command and "--weight" not in command  # rollback.py refuses them
    argv = shlex.split(command.partition("actions/rollback.py ")[2])
    assert rollback.build_parser().parse_args(argv).sg_env_file == str(bed.env)


def test_unit_not_active_is_recorded_and_fails(bed, capsys):
    bed.record()
    bed.engine.running = False
    assert activating(bed) == 1
    record = evidence.records(bed.reports)[-1]
    assert record["steps"][-1]["step"] == "wait until active" and not record["steps"][-1]["ok"]
    assert "STOP: roll back now" in out(capsys) and not bed.suites


def rollback_ready(bed: Bed, status: Status = Status.PASS, phase: str = "window_30m", **kw):
    bed.record(phase, checks=(entry("P6", P6_PHASES, status=status),), **kw)


def test_rollback_refuses_unarmed(bed, capsys):
    bed.env.write_text(f"{MODEL}=/m\n")
    assert rollback.main(bed.options(), engine=bed.engine) == 2
    assert "ran the rollback_ready checks" in out(capsys)
    rollback_ready(bed, Status.FAIL)
    assert rollback.main(bed.options(), engine=bed.engine) == 2
    said = out(capsys)
    assert "not every rollback_ready check passed: P6 failed" in said
    assert "--break-glass --reason TEXT" in said
    assert bed.env.read_text() == f"{MODEL}=/m\n"


def test_rollback_when_armed_puts_the_flag_back_saves_the_journal_and_verifies(bed):
    bed.env.write_text(f"{MODEL}=/m")
    rollback_ready(bed)
    assert rollback.main(bed.options(), engine=bed.engine) == 0
    assert bed.env.read_text() == f"{MODEL}=/m\n{FLAG}=true\n"
    record = evidence.records(bed.reports)[-1]
    assert (record["action"], record["trigger"]) == (ROLLBACK, "operator")
    journal = bed.reports / record["journal"]["file"]
    assert journal.read_text().startswith("journal since")
    anchor = latest_action(bed.reports, ROLLBACK)
    assert anchor.started_at is not None and anchor.started_at <= anchor.at
    (argv,) = bed.suites
    assert argv[-1].startswith("--rollback-started-at=")
    assert parse_moment(argv[-1].split("=", 1)[1]) == anchor.started_at


LOOP = "crash-looping: NRestarts 0 -> 2 in 10.0 s after the restart"


@pytest.mark.parametrize(
    ("failed", "said", "not_said"),
    [
        ("R5", f"rollback NOT OK: the engine is not staying up after the rollback (R5: {LOOP}); "
         "look at `journalctl -u quantum-ai-engine.service --since '10 minutes ago'`; the flag is "
         "back in ", "check by hand"),
        ("R4", "rollback NOT verified: check by hand now", "not staying up"),
    ],
)  # fmt: skip
def test_a_rollback_whose_engine_does_not_stay_up_is_not_ok_in_one_line(
    bed, capsys, monkeypatch, failed, said, not_said
):
    """R5 FAIL in the verification's record: exit 1 and the one next step; any other failed
    R-check: the runbook's checks by hand."""
    bed.env.write_text(f"{MODEL}=/m\n")
    rollback_ready(bed)
    bad = entry(failed, ("rollback",), status=Status.FAIL, detail=LOOP)
    checks = (entry("R1", ("rollback",)), bad)

    def verified(argv, env) -> int:  # the rollback suite records its verdicts, then fails
        bed.record("rollback", checks=checks, passed=False)
        return 1

    monkeypatch.setattr(flow, "run_suite", verified)
    assert rollback.main(bed.options(), engine=bed.engine) == 1
    shown = out(capsys)
    assert said in shown and not_said not in shown, shown
    assert bed.env.read_text() == f"{MODEL}=/m\n{FLAG}=true\n"


def test_the_rollback_advice_reads_the_record_its_verification_wrote(bed, capsys, monkeypatch):
    """R5 FAIL in the verification's record stays the advice when a later line follows it (a
    window run's); an R5 FAIL this verification did not write is no evidence: check by hand."""
    bed.env.write_text(f"{MODEL}=/m\n")
    rollback_ready(bed)
    r5 = (entry("R5", ("rollback",), status=Status.FAIL, detail=LOOP),)

    def verified(argv, env) -> int:
        bed.record("rollback", checks=r5, passed=False)
        rollback_ready(bed)  # a later line of another phase
        return 1

    monkeypatch.setattr(flow, "run_suite", verified)
    assert rollback.main(bed.options(), engine=bed.engine) == 1
    assert f"rollback NOT OK: the engine is not staying up after the rollback (R5: {LOOP})" in (
        out(capsys)
    )
    bed.env.write_text(f"{MODEL}=/m\n")
    monkeypatch.setattr(flow, "run_suite", lambda argv, env: 1)  # it writes no record
    assert rollback.main(bed.options(), engine=bed.engine) == 1
    said = out(capsys)
    assert "rollback NOT verified: check by hand now" in said and "R5" not in said, said


def test_break_glass_needs_a_reason_and_is_recorded_as_such(bed, capsys):
    bed.env.write_text(f"{MODEL}=/m\n")
    assert rollback.main(bed.options("--break-glass"), engine=bed.engine) == 4
    assert rollback.main(bed.options("--break-glass", "--reason=S3 live"), engine=bed.engine) == 0
    record = evidence.records(bed.reports)[-1]
    assert (record["trigger"], record["reason"], record["armed_by"]) == (
        "break-glass",
        "S3 live",
        None,
    )


def test_on_stop_rolls_back_only_after_a_window_said_stop(bed, capsys):
    bed.env.write_text(f"{MODEL}=/m\n")
    rollback_ready(bed)  # a window that said OK
    assert rollback.main(bed.options("--on-stop"), engine=bed.engine) == 0
    assert "rollback --on-stop: nothing to do: SHADOW since" in out(capsys)  # no STOP
    assert not bed.engine.restarts
    rollback_ready(bed, passed=False)  # the latest window: STOP
    assert rollback.main(bed.options("--on-stop"), engine=bed.engine) == 0
    record = evidence.records(bed.reports)[-1]
    assert record["trigger"] == "automatic" and "STOP" in record["reason"]
    assert bed.engine.restarts


def test_a_deeply_nested_log_line_refuses_activate_naming_the_line(bed, capsys):
    """'[' * 100000 after a fresh GO: refused (exit 2) with the line named, no traceback."""
    bed.record()
    with (bed.reports / evidence.LOG_NAME).open("ab") as log:
        log.write(b"[" * 100_000 + b"\n")
    assert activating(bed) == 2
    said = out(capsys)
    assert "chain BROKEN at line 2: line 2 of decision-log.jsonl is nested deeper" in said
    assert "Traceback" not in said and "PATCHTST_SHADOW_ONLY=true" in bed.env.read_text()


SECRET_URL = "redis://:s3cr3t-pw@127.0.0.1:1/0"  # issue 19, item 9


def test_the_redis_url_reaches_the_suite_in_its_environment_never_argv_or_screen(
    bed, capsys, monkeypatch
):
    children: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(
        flow, "run_suite", lambda argv, env: children.append((list(argv), dict(env))) or 0
    )
    bed.env.write_text(f"{MODEL}=/m\n")
    options = bed.options(f"--redis-url={SECRET_URL}", "--break-glass", "--reason=S3 live")
    assert rollback.main(options, engine=bed.engine) == 0
    ((argv, env),) = children
    assert not any("s3cr3t" in arg for arg in argv)
    assert env["SHADOWGATE_REDIS_URL"] == SECRET_URL
    said = out(capsys)
    assert "s3cr3t" not in said
    assert "verifying: SHADOWGATE_REDIS_URL='redis://:***@127.0.0.1:1/0' pytest" in said


def test_the_rollback_advice_after_a_failed_activation_names_no_password(bed, capsys, monkeypatch):
    bed.record(target=Target(env_file=str(bed.env), redis_url=SECRET_URL).describe())
    monkeypatch.setattr(flow, "run_suite", lambda argv, env: 1)
    assert activating(bed, f"--redis-url={SECRET_URL}") == 1
    said = out(capsys)
    assert "s3cr3t" not in said
    assert "SHADOWGATE_REDIS_URL='redis://:***@127.0.0.1:1/0' python " in said


def test_break_glass_waits_a_bounded_time_for_the_env_lock_then_rolls_back(bed, capsys):
    """Issue 19, item 7: an activation holding the lock no longer refuses a break-glass."""
    bed.env.write_text(f"{FLAG}=false\n{MODEL}=/m\n")
    holder = holding(bed.env, 1.5)
    try:
        code = rollback.main(bed.options("--break-glass", "--reason=S3"), engine=bed.engine)
    finally:
        holder.kill()
        holder.wait()
    assert code == 0 and bed.env.read_text() == f"{MODEL}=/m\n{FLAG}=true\n"
    said = out(capsys)
    wait = Thresholds.load().number("rollback.break_glass_lock_wait_seconds")
    assert f"waiting up to {wait:g} s for {bed.env}.lock, held by pid {holder.pid}" in said


def test_break_glass_gives_up_after_its_wait_naming_the_holder(bed, capsys):
    bed.env.write_text(f"{FLAG}=false\n{MODEL}=/m\n")
    holder = holding(bed.env, 60)
    options = ("--break-glass", "--reason=S3", "--set=rollback.break_glass_lock_wait_seconds=1")
    try:
        code = rollback.main(bed.options(*options), engine=bed.engine)
    finally:
        holder.kill()
        holder.wait()
    assert code == 2 and bed.env.read_text() == f"{FLAG}=false\n{MODEL}=/m\n"
    assert not bed.engine.restarts
    said = out(capsys)
    assert f"still holds {bed.env}.lock after 1 s (pid {holder.pid}, alive: `" in said
    assert "since 20" in said


class DropInEngine(FakeEngine):
    """A unit whose drop-in adds EnvironmentFile=-/etc/quantum/local.env after the env file."""

    def __init__(self, env: Path, local: str) -> None:
        super().__init__(env)
        self.local = local

    def env_chain(self) -> EnvChain:
        more = ("/etc/quantum/local.env", self.local)
        return envchains.sole(self.env.read_text(), str(self.env), more)


def test_break_glass_rollback_refuses_a_file_a_drop_in_overrides(bed, capsys):
    """Issue 19: the echo would go into a file that no longer decides; say which one does."""
    bed.env.write_text(f"{MODEL}={bed.model}\n")
    bed.engine = DropInEngine(bed.env, f"{FLAG}=false\n")
    before = bed.env.read_bytes()
    options = bed.options("--break-glass", "--reason=S3 live")
    assert rollback.main(options, engine=bed.engine) == 2
    said = out(capsys)
    assert "rollback: REFUSED, the env file untouched:" in said
    assert (
        f"  - {bed.env} does not decide {FLAG}: EnvironmentFile=-/etc/quantum/local.env (line 1) "
        f"in drop-in {envchains.DROP_IN} overrides {bed.env}: systemd delivers {FLAG}='false'"
    ) in said
    assert bed.env.read_bytes() == before and not bed.engine.restarts


def test_activate_refuses_when_a_drop_in_would_keep_the_flag_on(bed, capsys):
    """Removing the flag from the env file changes nothing the engine gets: refused."""
    bed.record()
    bed.engine = DropInEngine(bed.env, f"{FLAG}=true\n")
    before = bed.env.read_bytes()
    assert activating(bed) == 2
    said = out(capsys)
    kept = f"after removing {FLAG} from {bed.env}, systemd would still deliver {FLAG}='true'"
    assert kept in said
    assert bed.env.read_bytes() == before and not bed.engine.restarts


class BlindEngine(FakeEngine):
    def env_chain(self) -> EnvChain:
        raise HostError("systemctl cannot reach systemd on local")


def test_an_action_refuses_when_the_chain_cannot_be_read(bed, capsys):
    bed.engine = BlindEngine(bed.env)
    assert rollback.main(bed.options("--break-glass", "--reason=x"), engine=bed.engine) == 2
    said = out(capsys)
    assert "cannot tell what systemd delivers to quantum-ai-engine.service: systemctl" in said
    assert not bed.engine.restarts


def test_break_glass_is_not_blocked_by_a_chain_that_does_not_verify(bed, capsys):
    """A hand-appended line breaks the chain; break-glass still acts (ARCHITECTURE.md "Trust
    boundaries")."""
    bed.record()
    with (bed.reports / evidence.LOG_NAME).open("ab") as log:
        log.write(b'{"action":"rollback"}\n')
    bed.env.write_text(f"{FLAG}=false\n{MODEL}=/m\n")
    assert rollback.main(bed.options("--break-glass", "--reason=S3"), engine=bed.engine) == 0
    assert bed.env.read_text() == f"{MODEL}=/m\n{FLAG}=true\n" and bed.engine.restarts


@pytest.mark.parametrize("action", [activate, rollback], ids=["activate", "rollback"])
def test_an_option_argparse_refuses_is_a_usage_error_exit_4(action, capsys):
    """argparse alone exits 2, which the actions' table keeps for "refused, nothing changed"."""
    with pytest.raises(SystemExit) as exit_:
        action.main(["--no-such-option"])
    assert exit_.value.code == 4
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err
