"""A monitoring window's decision and headline (shadowgate.wording): STOP only for a failed stop
condition, INCONCLUSIVE when nothing failed outright yet nothing is proven, OK with the red
flags named; never OK on an unproven window, never STOP without a stop condition."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shadowgate.wording import cause_of, cause_prefix, decision, headline


def check(check_id: str, status: str, outcome: str) -> SimpleNamespace:
    return SimpleNamespace(check_id=check_id, status=status, outcome=outcome)


PASSED = [check("S1", "PASS", "passed"), check("M1", "WARN", "passed")]


@pytest.mark.parametrize(
    ("checks", "ok", "said"),
    [
        (PASSED, True, "OK"),
        ([*PASSED, check("S2", "FAIL", "failed"), check("S3", "INCONCLUSIVE", "failed")], False,
         "STOP"),
        ([*PASSED, check("B4", "FAIL", "failed")], False, "STOP"),  # s.5 stop 1: restart loop
        ([*PASSED, check("P6", "FAIL", "failed")], False, "NOT OK"),
        ([*PASSED, check("S3", "INCONCLUSIVE", "failed")], False, "INCONCLUSIVE"),
        ([*PASSED, check("S1", "NOT EVALUATED", "failed")], False, "INCONCLUSIVE"),
        (PASSED, False, "INCONCLUSIVE"),  # incomplete: passed, but not every check ran
    ],
)  # fmt: skip
def test_window_decision(checks, ok, said):
    assert decision("window_2h", ok, checks) == said


def test_other_phases_keep_their_words():
    failing = [check("S2", "FAIL", "failed")]
    assert decision("preactivation", False, failing) == "NO-GO"
    assert decision("activation", False, failing) == "STOP"
    assert decision("rollback", True) == "OK"


def record(decision_: str, *checks: tuple[str, str, str], complete: bool = True) -> dict:
    return {
        "phase": "window_30m", "decision": decision_, "complete": complete,
        "checks": [{"id": i, "status": s, "outcome": o} for i, s, o in checks],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("rec", "title"),
    [
        (record("STOP", ("S2", "FAIL", "failed"), ("S3", "FAIL", "failed"),
                ("P6", "FAIL", "failed"), ("S4", "INCONCLUSIVE", "failed")),
         "STOP: roll back now (runbook s.6): S2, S3"),
        (record("NOT OK", ("P6", "FAIL", "failed"), ("S1", "PASS", "passed")),
         "NOT OK: no stop condition met, but a check failed: fix it, run the window again: P6"),
        (record("INCONCLUSIVE", ("S1", "NOT EVALUATED", "failed"),
                ("S3", "INCONCLUSIVE", "failed")),
         "INCONCLUSIVE: cannot prove healthy: S1, S3"),
        (record("INCONCLUSIVE", ("S1", "PASS", "passed"), complete=False),
         "INCONCLUSIVE: cannot prove healthy (incomplete run)"),
        (record("OK", ("S1", "PASS", "passed"), ("M1", "WARN", "passed"),
                ("S2", "WARN", "passed"), ("S5", "INCONCLUSIVE", "skipped")),
         "OK (red flags: M1, S2; not proven, not failing: S5)"),
        (record("OK", ("S1", "PASS", "passed")), "OK"),
    ],
)  # fmt: skip
def test_window_headline_names_the_ids(rec, title):
    assert headline(rec) == f"shadowgate window_30m: {title}"


def test_preactivation_headline_is_unchanged():
    rec = record("NO-GO", ("B1", "FAIL", "failed")) | {"phase": "preactivation"}
    assert headline(rec) == "shadowgate preactivation: NO-GO"


def test_weight_increase_never_says_roll_back():
    """window_24h (runbook s.8) decides whether the weight may be raised: criteria not met
    means hold the weight, not roll back."""
    failing = [check("W2", "FAIL", "failed"), check("W1", "PASS", "passed")]
    assert decision("window_24h", False, failing) == "HOLD WEIGHT"
    assert decision("window_24h", True, []) == "OK"
    rec = record("HOLD WEIGHT", ("W1", "PASS", "passed"), ("W2", "FAIL", "failed"),
                 ("W4", "INCONCLUSIVE", "failed")) | {"phase": "window_24h"}  # fmt: skip
    title = headline(rec)
    assert title == "shadowgate window_24h: HOLD WEIGHT: criteria not met: W2, W4"
    assert "STOP" not in title and "roll back" not in title


@pytest.mark.parametrize(
    ("phase", "prefix"),
    [("preactivation", "NO-GO cause: "), (None, "NO-GO cause: "),
     ("window_30m", "cannot judge: "), ("activation", "cannot judge: "),
     ("rollback", "cannot judge: "), ("window_24h", "cannot judge: ")],
)  # fmt: skip
def test_a_source_failure_says_no_go_only_before_activation(phase, prefix):
    assert cause_prefix(phase) == prefix
    assert cause_of(f"Failed: {prefix}Redis down") == "Redis down"


def test_a_window_run_with_redis_down_says_cannot_judge(tmp_path):
    """End to end: the suite's own words for a source failure after activation."""
    from shadowgate.testbed import throwaway_redis
    from tests.support.suite_runs import run_phase

    with throwaway_redis.start() as server:
        url = server.url  # stopped on leaving: nothing listens there any more
    run = run_phase(
        url, tmp_path / "reports", "--activated-at=2026-01-01T00:00:00Z", markexpr="window_30m"
    )
    assert "cannot judge: cannot read stream" in run.output, run.output
    assert "NO-GO" not in run.output and "Traceback" not in run.output
    assert all(not c.startswith("cannot judge:") for c in run.record["causes"])
