"""The lifecycle state (evidence/lifecycle.py) over hand-made verified chains: one test per
transition of ARCHITECTURE.md's diagram and per defect of issue 20 that the state decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shadowgate import cli, evidence
from shadowgate.checks import catalog
from shadowgate.evidence import cycle, lifecycle
from shadowgate.evidence.lifecycle import State
from shadowgate.verdict import Status
from tests.support.deploy_records import window_record
from tests.support.evidence_data import DIGEST, NOW, TARGET, add_run, entry
from tests.support.monitor_screens import screen as monitor_screen
from tests.support.monitor_screens import shown
from tests.support.suite_runs import run_phase

MIN = timedelta(minutes=1)


def action(reports: Path, kind: str, at: datetime, **fields) -> str:
    """An action record as the actions (or `shadowgate conclude`) append it."""
    run_id = evidence.new_run_id(kind, at)
    stamp = at.isoformat().replace("+00:00", "Z")
    record = {"run_id": run_id, "action": kind, "started_at": stamp, "target": dict(TARGET)}
    if kind != cycle.CONCLUDE:
        record["restarted_at"] = stamp
    evidence.append_record(reports, record | fields)
    return run_id


def window(reports: Path, at: datetime, stop: str | None = None, phase: str = "window_30m"):
    """A window run finished at `at`: OK, or STOP with `stop` failing."""
    if stop is None:
        return add_run(reports, phase, finished=at)
    checks = [entry(i, catalog.get(i).phases) for i in catalog.ids_of_phase(phase) if i != stop]
    checks.append(entry(stop, catalog.get(stop).phases, status=Status.FAIL))
    return add_run(reports, phase, finished=at, passed=False, checks=checks)


def state(reports: Path, now: datetime = NOW, **options) -> lifecycle.Lifecycle:
    return lifecycle.current(reports, now=now, target=TARGET, thresholds_digest=DIGEST, **options)


def test_nothing_recorded_is_shadow(tmp_path):
    life = state(tmp_path)
    assert life.state is State.SHADOW and life.since is None
    assert "pytest -m preactivation" in life.allowed


def test_a_fresh_complete_go_arms(tmp_path):
    go = add_run(tmp_path, finished=NOW - MIN)
    life = state(tmp_path)
    assert life.state is State.ARMED, life
    assert go.run_id in life.why and "actions/activate.py" in life.allowed


def test_a_stale_or_incomplete_go_arms_nothing_and_says_why(tmp_path):
    add_run(tmp_path, finished=NOW - 16 * MIN)
    life = state(tmp_path)
    assert life.state is State.SHADOW and "it is stale" in life.allowed
    add_run(tmp_path, finished=NOW - MIN, complete=False)
    assert state(tmp_path).state is State.SHADOW


def test_activation_makes_it_active_since_t0(tmp_path):
    add_run(tmp_path, finished=NOW - 10 * MIN)
    t0 = NOW - 5 * MIN
    action(tmp_path, "activate", t0, strategy={"observation_hours": 6})
    life = state(tmp_path)
    assert life.state is State.ACTIVE and life.since == t0 and life.t0.at == t0
    assert "the windows (runbook s.5) until T+6 h" in life.allowed


def test_a_window_stop_after_t0_stops_it_and_later_oks_do_not_clear_it(tmp_path):
    action(tmp_path, "activate", NOW - 20 * MIN)
    window(tmp_path, NOW - 15 * MIN)
    stop = window(tmp_path, NOW - 10 * MIN, stop="S3")
    window(tmp_path, NOW - 5 * MIN)
    life = state(tmp_path)
    assert life.state is State.STOPPED and life.since == NOW - 10 * MIN
    assert life.why == f"window run {stop.run_id} said STOP: S3"
    assert "roll back now" in life.allowed


def test_a_rollback_after_the_stop_rolls_it_back_with_its_trigger_then_its_verification(tmp_path):
    action(tmp_path, "activate", NOW - 20 * MIN)
    stop = window(tmp_path, NOW - 10 * MIN, stop="S3")
    action(tmp_path, "rollback", NOW - 8 * MIN, trigger="automatic", window=stop.run_id)
    life = state(tmp_path)
    assert life.state is State.ROLLED_BACK and life.since == NOW - 8 * MIN
    assert life.trigger == "S3" and life.verified is None
    assert "has not recorded yet" in life.why
    add_run(tmp_path, "rollback", finished=NOW - 7 * MIN)
    life = state(tmp_path)
    assert life.verified is True and "verified by run" in life.why
    assert life.rolled_back() == (
        f"rolled back at {cycle.stamp(NOW - 8 * MIN)} (trigger S3); nothing to monitor"
    )


def test_a_rollback_whose_verification_failed_says_so(tmp_path):
    action(tmp_path, "activate", NOW - 20 * MIN)
    action(tmp_path, "rollback", NOW - 8 * MIN, trigger="break-glass", reason="S3 live")
    add_run(tmp_path, "rollback", finished=NOW - 7 * MIN, passed=False)
    life = state(tmp_path)
    assert life.state is State.ROLLED_BACK and life.verified is False
    assert life.trigger == "break-glass: S3 live" and "NOT verified" in life.why
    assert "check the rollback by hand" in life.allowed


def test_defect_a_go_from_before_the_rollback_does_not_re_arm(tmp_path):
    """Issue 20: five minutes after a STOP and a rollback, the old GO still armed activate."""
    add_run(tmp_path, finished=NOW - 14 * MIN)  # fresh (< 15 min) and complete
    action(tmp_path, "activate", NOW - 13 * MIN)
    window(tmp_path, NOW - 11 * MIN, stop="S3")
    action(tmp_path, "rollback", NOW - 10 * MIN, trigger="operator")
    life = state(tmp_path)
    assert life.state is State.ROLLED_BACK, life
    assert "before the ROLLED_BACK" in life.allowed and "arms nothing" in life.allowed


def test_a_fresh_go_after_the_rollback_re_arms(tmp_path):
    action(tmp_path, "activate", NOW - 13 * MIN)
    window(tmp_path, NOW - 11 * MIN, stop="S3")
    rolled = NOW - 10 * MIN
    action(tmp_path, "rollback", rolled, trigger="operator")
    add_run(tmp_path, finished=NOW - MIN)  # started NOW - 3 min: after the rollback
    life = state(tmp_path)
    assert life.state is State.ARMED and life.rollback.at == rolled  # the last cycle still known


def test_defect_a_stop_judged_after_the_rollback_against_the_old_t0_changes_nothing(tmp_path):
    """Issue 20: after a rollback the windows judged shadow intents against the old T+0."""
    action(tmp_path, "activate", NOW - 20 * MIN)
    window(tmp_path, NOW - 15 * MIN, stop="S3")
    action(tmp_path, "rollback", NOW - 12 * MIN, trigger="operator")
    window(tmp_path, NOW - 5 * MIN, stop="S2")
    life = state(tmp_path)
    assert life.state is State.ROLLED_BACK and life.trigger == "S3"


def test_t_plus_observation_hours_without_a_stop_awaits_the_decision(tmp_path):
    t0 = NOW - timedelta(hours=6, minutes=1)
    action(tmp_path, "activate", t0, strategy={"observation_hours": None})  # s.10's 6 h
    life = state(tmp_path)
    assert life.state is State.AWAITING_DECISION and life.since == t0 + timedelta(hours=6)
    assert "shadowgate conclude --decision=continue|adjust|rollback" in life.allowed
    assert state(tmp_path, now=t0 + timedelta(hours=5)).state is State.ACTIVE


def test_the_activation_records_observation_hours_set_the_decision_point(tmp_path):
    t0 = NOW - timedelta(hours=2, minutes=1)
    action(tmp_path, "activate", t0, strategy={"observation_hours": 2})
    assert state(tmp_path).state is State.AWAITING_DECISION


def test_a_recorded_conclusion_concludes_and_a_later_go_re_arms(tmp_path):
    action(tmp_path, "activate", NOW - timedelta(hours=7))
    action(tmp_path, cycle.CONCLUDE, NOW - 10 * MIN, decision="continue", by="alice")
    life = state(tmp_path)
    assert life.state is State.CONCLUDED and "decision continue recorded by alice" in life.why
    add_run(tmp_path, finished=NOW - MIN)
    assert state(tmp_path).state is State.ARMED


def test_a_hand_appended_rollback_line_changes_nothing(tmp_path):
    """Only the verified chain counts: a line appended by hand is a break, never a rollback."""
    action(tmp_path, "activate", NOW - 20 * MIN)
    window(tmp_path, NOW - 10 * MIN, stop="S3")
    with (tmp_path / evidence.LOG_NAME).open("a") as log:
        log.write('{"run_id":"x","action":"rollback","restarted_at":"2026-11-26T06:25:00Z"}\n')
    life = state(tmp_path)
    assert life.state is State.STOPPED and "chain BROKEN" in life.broken


def test_an_activation_by_hand_counts_from_activated_at(tmp_path):
    add_run(tmp_path, finished=NOW - 10 * MIN)
    life = state(tmp_path, activated_at=NOW - 5 * MIN)
    assert life.state is State.ACTIVE and life.t0.source == "--activated-at"


def test_the_story_is_the_decision_log_in_order(tmp_path):
    add_run(tmp_path, finished=NOW - 30 * MIN)
    action(tmp_path, "activate", NOW - 25 * MIN, operator="bob", approved_by="alice")
    stop = window(tmp_path, NOW - 20 * MIN, stop="S3")
    action(tmp_path, "rollback", NOW - 18 * MIN, trigger="automatic", window=stop.run_id)
    sections = [section for section, _ in state(tmp_path).story]
    assert sections == ["Pre-Activation", "Activation", "Post-Activation", "Rollback"]
    assert "approved by alice" in state(tmp_path).story[1][1]


def test_defect_a_window_after_the_rollback_monitors_nothing_and_exits_0(tmp_path):
    """Issue 20: after a verified rollback a window said "STOP: roll back now" (exit 1)."""
    reports = tmp_path / "reports"
    action(reports, "activate", NOW - 20 * MIN)
    stop = window(reports, NOW - 10 * MIN, stop="S3")
    action(reports, "rollback", NOW - 8 * MIN, trigger="automatic", window=stop.run_id)
    lines = len(evidence.records(reports))
    unit = f"--unit={TARGET['unit']}"  # the records' unit
    run = run_phase("redis://127.0.0.1:1/0", reports, unit, markexpr="window_30m")
    assert run.exit_code == 0, run.output
    said = f"shadowgate window_30m: rolled back at {cycle.stamp(NOW - 8 * MIN)} (trigger S3)"
    assert f"{said}; nothing to monitor" in run.output, run.output
    assert "STOP" not in run.output and len(evidence.records(reports)) == lines


def test_defect_the_monitor_after_the_rollback_says_so_and_exits_0(redis_server, tmp_path):
    """Issue 20: after a verified rollback `shadowgate monitor` still said STOP (exit 1)."""
    reports = tmp_path / "reports"
    action(reports, "activate", NOW - 20 * MIN)
    stop = window(reports, NOW - 10 * MIN, stop="S3")
    action(reports, "rollback", NOW - 8 * MIN, trigger="automatic", window=stop.run_id)
    snap, text = monitor_screen(redis_server, tmp_path, None, shown(NOW - 8 * MIN))
    assert snap.exit_code == 0 and snap.decision == "ROLLED BACK", text
    said = f"rolled back at {cycle.stamp(NOW - 8 * MIN)} (trigger S3); nothing to monitor"
    assert said in " ".join(text.split()), text
    assert "STOP" not in text


def test_the_timers_wrapper_stops_at_the_decision_point_after_the_last_checks_grace(
    tmp_path, monkeypatch
):
    """The wrapper reads the same state: AWAITING_DECISION (here at T+2 h, the activation's
    own observation hours; s.10) ends every window once a late timer's minute is over."""
    t0 = NOW - timedelta(hours=7)
    action(tmp_path, "activate", t0, strategy={"observation_hours": 2})
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(tmp_path))
    monkeypatch.delenv("SHADOWGATE_ACTIVATED_AT", raising=False)
    at_2h = (t0 + timedelta(hours=2)).timestamp()
    assert window_record.when("window_6h", at_2h + 30)[0] == "run"
    state, line = window_record.when("window_6h", at_2h + 61)
    assert state == "over" and "AWAITING_DECISION since" in line, line


def shadowgate(reports: Path, *argv: str) -> int:
    return cli.main([*argv, f"--reports-dir={reports}"])


def test_status_prints_the_state_what_is_next_and_the_decision_log_as_one_story(tmp_path, capsys):
    now = datetime.now(UTC)
    add_run(tmp_path, finished=now - 30 * MIN)
    action(tmp_path, "activate", now - 25 * MIN, operator="bob", approved_by="alice")
    stop = window(tmp_path, now - 20 * MIN, stop="S3")
    action(tmp_path, "rollback", now - 18 * MIN, trigger="automatic", window=stop.run_id)
    assert shadowgate(tmp_path, "status") == 0
    said = capsys.readouterr().out
    assert f"state:   ROLLED_BACK since {cycle.stamp(now - 18 * MIN)}" in said
    assert "next:    re-arm with `pytest -m preactivation`" in said
    story = said[said.index("decision log (runbook s.7)") :]
    assert [line.strip() for line in story.splitlines() if not line.startswith("    ")][1:] == [
        "Pre-Activation", "Activation", "Post-Activation", "Rollback",
    ]  # fmt: skip
    assert "STOP: roll back now (runbook s.6): S3" in story and "(trigger S3;" in story


def test_status_of_a_broken_chain_exits_1_and_says_from_where(tmp_path, capsys):
    action(tmp_path, "activate", datetime.now(UTC) - 5 * MIN)
    with (tmp_path / evidence.LOG_NAME).open("a") as log:
        log.write('{"run_id":"x","action":"rollback"}\n')
    assert shadowgate(tmp_path, "status") == 1
    said = capsys.readouterr().out
    assert "state:   ACTIVE since" in said and "chain:   BROKEN:" in said
    assert "chain BROKEN at x (line 2)" in said


def test_conclude_is_refused_before_the_decision_point_saying_the_state(tmp_path, capsys):
    action(tmp_path, "activate", datetime.now(UTC) - 5 * MIN)
    lines = len(evidence.records(tmp_path))
    assert shadowgate(tmp_path, "conclude", "--decision=continue", "--by=alice") == 2
    said = capsys.readouterr().out
    assert "conclude: REFUSED, nothing recorded: the state is ACTIVE since" in said
    assert len(evidence.records(tmp_path)) == lines


def test_conclude_at_the_decision_point_records_it_and_a_rollback_decision_says_what_next(
    tmp_path, capsys
):
    action(tmp_path, "activate", datetime.now(UTC) - timedelta(hours=6, minutes=5))
    argv = ("conclude", "--decision=rollback", "--by=alice (risk)", "--note=M2 at 41%")
    assert shadowgate(tmp_path, *argv) == 0
    said = capsys.readouterr().out
    assert "CONCLUDED" in said and "now roll back: python actions/rollback.py" in said
    record = evidence.records(tmp_path)[-1]
    assert (record["action"], record["decision"], record["by"]) == ("conclude", "rollback",
                                                                    "alice (risk)")  # fmt: skip
    assert evidence.verify(tmp_path).ok or not evidence.verify(tmp_path).journal_read
    assert shadowgate(tmp_path, "status") == 0
    assert "state:   CONCLUDED since" in capsys.readouterr().out
    assert shadowgate(tmp_path, "conclude", "--decision=continue", "--by=bob") == 2
