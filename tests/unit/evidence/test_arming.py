"""An action runs only on the latest, fresh, complete, passing record for its target and
thresholds, in a log that verifies; rollback asks it of the rollback_ready checks, wherever
they ran."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from shadowgate.checks import catalog
from shadowgate.config import ConfigError, Thresholds
from shadowgate.evidence import (
    LOG_NAME,
    CheckEntry,
    EvidenceError,
    LastRun,
    append_record,
    last,
    rollback_armed,
)
from shadowgate.evidence.trust import writers
from shadowgate.verdict import Status
from tests.support.evidence_data import (
    DIGEST,
    NOW,
    P6_PHASES,
    TARGET,
    add_run,
    entry,
    flip_byte,
    make_record,
)

# -- the latest record of a phase --------------------------------------------------------------


def judge(reports: Path, phase: str = "preactivation", **kwargs) -> LastRun:
    kwargs = {"now": NOW, "target": TARGET, "thresholds_digest": DIGEST} | kwargs
    run = last(reports, phase, **kwargs)
    assert run is not None
    return run


def test_a_record_that_says_complete_but_lacks_verdicts_does_not_arm(tmp_path):
    """A record written before completeness was judged on what ran (or by anything else that
    says `complete: true`) arms nothing while a check of its phase has no evaluated verdict."""
    add_run(tmp_path, finished=NOW - timedelta(minutes=1), checks=[entry()])  # B3 only
    run = judge(tmp_path)
    assert not run.armed and not run.complete and run.passed
    missing = [i for i in catalog.ids_of_phase("preactivation") if i != "B3"]
    assert run.reasons == [
        f"the run was incomplete (checks without an evaluated verdict: {', '.join(missing)})"
    ]


def test_a_fresh_complete_passing_run_arms(tmp_path):
    record = add_run(tmp_path, finished=NOW - timedelta(minutes=4, seconds=12))
    run = judge(tmp_path)
    assert run.armed
    assert (run.fresh, run.complete, run.passed, run.chain_ok) == (True, True, True, True)
    assert (run.same_target, run.same_thresholds, run.reasons) == (True, True, [])
    assert run.age_s == 252
    assert run.path == tmp_path / f"{record.run_id}.json"
    text = run.describe()
    assert record.run_id in text
    assert "4 min 12 s ago" in text
    assert "decision GO" in text
    assert "It arms the action" in text


def test_target_and_thresholds_not_given_are_not_compared(tmp_path):
    add_run(tmp_path, finished=NOW)
    run = last(tmp_path, "preactivation", now=NOW)
    assert run is not None
    assert run.armed
    assert (run.same_target, run.same_thresholds) == (None, None)
    assert "target and thresholds not compared" in run.describe()


def test_a_later_failing_run_supersedes_an_earlier_pass(tmp_path):
    add_run(tmp_path, finished=NOW - timedelta(minutes=6))
    failed = add_run(tmp_path, finished=NOW - timedelta(minutes=3), passed=False)
    run = judge(tmp_path)
    assert run.record.run_id == failed.run_id
    assert not run.armed
    assert not run.passed
    assert run.reasons == [
        "the run did not pass (decision NO-GO): B3 FAIL: payload p95 1620 bytes, threshold < 1500"
    ]
    assert "It does not arm the action: the run did not pass" in run.describe()


def test_other_phases_do_not_supersede(tmp_path):
    passed = add_run(tmp_path, finished=NOW - timedelta(minutes=6))
    add_run(tmp_path, "window_30m", finished=NOW - timedelta(minutes=1), passed=False)
    add_run(tmp_path, None, finished=NOW, passed=False)
    run = judge(tmp_path)
    assert run.record.run_id == passed.run_id
    assert run.armed
    assert last(tmp_path, "rollback", now=NOW) is None
    assert last(tmp_path / "absent", "preactivation", now=NOW) is None


def test_a_stale_run_does_not_arm(tmp_path):
    add_run(tmp_path, finished=NOW - timedelta(minutes=16))
    run = judge(tmp_path)
    assert not run.fresh and not run.armed
    assert run.reasons == [
        "it is stale: finished 16 min ago, the limit is 15 min "
        "(run `pytest -m preactivation` again)"
    ]
    assert judge(tmp_path, fresh_minutes=20).armed


def test_a_run_from_the_future_does_not_arm(tmp_path):
    add_run(tmp_path, finished=NOW + timedelta(minutes=2))
    run = judge(tmp_path)
    assert not run.fresh and not run.armed
    assert "in the future" in run.reasons[0]
    assert "2 min in the future" in run.describe()


def test_an_unreadable_finish_time_does_not_arm(tmp_path):
    append_record(tmp_path, replace(make_record("odd-time"), finished_at="yesterday"))
    run = judge(tmp_path)
    assert not run.fresh and not run.armed
    assert run.reasons == [
        "its finish time 'yesterday' is not an ISO-8601 UTC time",
        "it names no HTML report: every complete run writes one, so shadowgate did not write "
        "this record",
    ]
    assert "unknown time ago" in run.describe()


def test_an_incomplete_run_does_not_arm(tmp_path):
    add_run(tmp_path, complete=False)
    run = judge(tmp_path)
    assert not run.complete and not run.armed
    assert run.reasons == ["the run was incomplete (-k B3 was given: 30 required checks not run)"]


def test_another_target_does_not_arm(tmp_path):
    add_run(tmp_path, target=TARGET | {"unit": "staging-ai-engine.service"})
    run = judge(tmp_path)
    assert run.same_target is False and not run.armed
    assert run.reasons == [
        "it checked another target: unit 'staging-ai-engine.service' in the record, "
        "'quantum-ai-engine.service' now"
    ]


def test_other_thresholds_do_not_arm(tmp_path):
    add_run(tmp_path, digest="cd" * 32)
    run = judge(tmp_path)
    assert run.same_thresholds is False and not run.armed
    assert run.reasons[0].startswith(
        "it ran with other thresholds (digest cdcdcdcdcdcd... in the record, abababababab... now"
    )


def test_a_broken_chain_does_not_arm(tmp_path):
    record = add_run(tmp_path)
    flip_byte(tmp_path / f"{record.run_id}.html", b"report of")
    run = judge(tmp_path)
    assert run.passed and run.fresh and run.complete
    assert not run.chain_ok and not run.armed
    assert run.reasons[0].startswith(
        f"the decision log does not verify: chain BROKEN at {record.run_id} (line 1): "
        f"the HTML report {record.run_id}.html"
    )


def test_every_reason_is_given(tmp_path):
    add_run(tmp_path, finished=NOW - timedelta(hours=3), passed=False, complete=False)
    (tmp_path / LOG_NAME).write_bytes((tmp_path / LOG_NAME).read_bytes() + b"{")
    run = judge(tmp_path, target=TARGET | {"model": "tft"}, thresholds_digest="ef" * 32)
    assert len(run.reasons) == 6
    assert run.describe().count("; ") >= 5


# -- rollback: the latest record that ran the rollback_ready checks ----------------------------

WINDOW_P6 = ("preactivation", "window_30m", "rollback_ready")


def armed(reports: Path, **kwargs) -> LastRun:
    kwargs = {"now": NOW, "target": TARGET, "thresholds_digest": DIGEST} | kwargs
    run = rollback_armed(reports, **kwargs)
    assert run is not None
    return run


def test_rollback_is_armed_by_a_window_that_says_stop(tmp_path):
    """A monitoring window that fails a stop condition is exactly when rollback must work."""
    add_run(tmp_path, finished=NOW - timedelta(minutes=40), checks=[entry("P6", P6_PHASES)])
    window = add_run(
        tmp_path,
        "window_30m",
        finished=NOW - timedelta(minutes=3),
        passed=False,
        checks=[entry("S3", ("window_30m",), status=Status.FAIL), entry("P6", WINDOW_P6)],
    )
    add_run(tmp_path, "activation", finished=NOW - timedelta(minutes=1), passed=False)
    run = armed(tmp_path)
    assert run.record.run_id == window.run_id  # the activation run ran no rollback_ready check
    assert run.armed and run.reasons == []
    assert run.record.decision == "STOP"
    assert "latest record that ran the rollback_ready checks (window_30m)" in run.describe()
    assert "It arms the action" in run.describe()


def test_rollback_is_armed_by_a_rollback_ready_run(tmp_path):
    add_run(tmp_path, "rollback_ready", checks=[entry("P6", P6_PHASES)])
    assert armed(tmp_path).armed


def test_rollback_not_armed_without_any_rollback_ready_check(tmp_path):
    add_run(tmp_path, finished=NOW, checks=[entry()])  # B3 only
    add_run(tmp_path, old=True, checks=[entry("P6", P6_PHASES)])  # schema 1: phases unknown
    assert rollback_armed(tmp_path, target=TARGET, thresholds_digest=DIGEST, now=NOW) is None
    assert rollback_armed(tmp_path / "absent", target=None, thresholds_digest=None) is None


def test_rollback_not_armed_when_a_rollback_ready_check_is_missing(tmp_path):
    add_run(tmp_path, checks=[entry("P6", P6_PHASES)])
    run = armed(tmp_path, required=("P6", "R0"))
    assert not run.armed and not run.complete and run.passed
    assert run.reasons == ["the run was incomplete (rollback_ready checks not evaluated in it: R0)"]


def test_rollback_not_armed_when_a_rollback_ready_check_failed(tmp_path):
    failed = entry("P6", P6_PHASES, status=Status.FAIL)
    skipped = entry("P6", P6_PHASES, status=Status.INCONCLUSIVE, outcome="skipped")
    add_run(tmp_path, passed=False, checks=[failed, replace(skipped, check_id="P8")])
    run = armed(tmp_path, required=("P6", "P8"))
    assert not run.armed and not run.passed
    assert run.reasons == [
        "not every rollback_ready check passed: P6 failed (FAIL), P8 skipped (INCONCLUSIVE)"
    ]


def test_rollback_not_armed_by_a_stale_record(tmp_path):
    add_run(tmp_path, finished=NOW - timedelta(minutes=20), checks=[entry("P6", P6_PHASES)])
    run = armed(tmp_path)
    assert not run.armed and not run.fresh
    assert run.reasons == [
        "it is stale: finished 20 min ago, the limit is 15 min (run `pytest -m rollback_ready` "
        "again)"
    ]
    assert armed(tmp_path, fresh_minutes=30).armed


def test_rollback_not_armed_for_another_target(tmp_path):
    other = TARGET | {"unit": "staging-ai-engine.service"}
    add_run(tmp_path, target=other, checks=[entry("P6", P6_PHASES)])
    run = armed(tmp_path)
    assert run.same_target is False and not run.armed
    assert run.reasons[0].startswith("it checked another target: unit 'staging-ai-engine")


def test_rollback_armed_by_an_incomplete_window_whose_rollback_ready_checks_passed(tmp_path):
    """A window that could not read Redis is incomplete, yet it proved the way back works."""
    add_run(tmp_path, "window_30m", complete=False, passed=False, checks=[entry("P6", P6_PHASES)])
    run = armed(tmp_path)
    assert run.armed and run.complete and run.reasons == []


def test_rollback_not_armed_when_a_rollback_ready_check_was_not_evaluated(tmp_path):
    unjudged = CheckEntry.not_evaluated(
        "blockers/test_b.py::test_P6", "P6", "failed", "env file unreadable", P6_PHASES
    )
    add_run(tmp_path, complete=False, passed=False, checks=[unjudged])
    run = armed(tmp_path)
    assert not run.armed and not run.complete and not run.passed
    assert run.reasons == [
        "not every rollback_ready check passed: P6 failed (NOT EVALUATED)",
        "the run was incomplete (rollback_ready checks not evaluated in it: P6)",
    ]


def test_rollback_not_armed_on_a_broken_chain_or_other_thresholds(tmp_path):
    record = add_run(tmp_path, checks=[entry("P6", P6_PHASES)])
    assert not armed(tmp_path, thresholds_digest="cd" * 32).armed
    flip_byte(tmp_path / f"{record.run_id}.html", b"report of")
    run = armed(tmp_path)
    assert not run.chain_ok and not run.armed
    assert run.reasons[0].startswith("the decision log does not verify: chain BROKEN")


# -- who may have written the evidence (ARCHITECTURE.md "Trust boundaries") ---------------------


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (lambda path: path.chmod(0o664), "is writable by group or others (mode 0664)"),
        (lambda path: os.chown(path, 65534, 65534), "is owned by uid 65534, not by root"),
    ],
    ids=["group-writable", "another-owner"],
)
def test_root_arms_nothing_from_a_file_another_account_could_have_written(tmp_path, spoil, why):
    """As sshd's StrictModes: one line naming the path and why, for `last` and rollback."""
    if os.geteuid() != 0:
        pytest.skip("the check is root's")
    record = add_run(tmp_path, finished=NOW, checks=[entry("P6", P6_PHASES)])
    spoil(tmp_path / f"{record.run_id}.html")
    rollback = lambda: rollback_armed(tmp_path, target=None, thresholds_digest=None)  # noqa: E731
    for judged in (lambda: judge(tmp_path), rollback):
        with pytest.raises(EvidenceError) as refused:
            judged()
        assert str(refused.value).startswith(f"{tmp_path / record.run_id}.html {why}: root ")


def test_only_the_installed_file_says_whose_anchors_count():
    assert writers() == {0}
    with pytest.raises(ConfigError, match=r"read from the installed thresholds\.toml only"):
        Thresholds.load(sets=["evidence.anchor_uid=65534"])
    assert Thresholds.load(sets=["evidence.anchor_uid=0"])["evidence.anchor_uid"] == 0
