"""The s.7 "Activation" and "Rollback" blocks (issue 23): filled in from the action record the
run measured from, never from another one; said plainly when the log holds none."""

from __future__ import annotations

from datetime import UTC, datetime

from shadowgate.evidence.anchors import source_of
from shadowgate.report import actions
from shadowgate.verdict import Status
from tests.support.evidence_data import entry, make_record
from tests.support.report_pages import action

RESTART = datetime(2026, 12, 7, 4, 45, 0, 908538, tzinfo=UTC)
ROLLED = action("rollback", RESTART, trigger="automatic", reason="window_30m: STOP: S4")
OTHER = action("rollback", RESTART, trigger="operator")


def run(phase: str, fact: str, kind: str, checks=()) -> dict:
    record = make_record(f"run-{phase}", phase, checks=checks).to_dict()
    record["facts"][fact] = {"at": RESTART.isoformat(), "source": source_of(kind, ROLLED["run_id"])}
    return record


def test_the_action_is_the_one_the_run_measured_from():
    record = run("rollback", "rollback", "rollback")
    assert actions.action_of(record, [OTHER, ROLLED]) is ROLLED
    assert actions.action_of(record, [OTHER]) is None


def test_rollback_block_says_trigger_steps_and_r4_against_the_limit():
    r4 = entry("R4", ("rollback",), status=Status.PASS)
    record = run("rollback", "rollback", "rollback", [r4])
    html = actions.rollback_html(record, ROLLED, 60.0)
    assert "automatic: window_30m: STOP: S4" in html
    assert "R4 PASS: 1210 bytes (limit 60 s)" in html  # the entry's measured text
    assert "04:45:00.608 UTC" in html and "0.289 s" in html and "0.022 s" in html
    assert "0.322 s after the start" in html  # the last step ends 0.3 + 0.022 s in


def test_without_the_action_record_the_block_says_so():
    record = run("activation", "t0", "activate")
    html = actions.activation_html(record, None)
    assert "none in the log: the run measured from activate record" in html
    assert "UNKNOWN" in html
