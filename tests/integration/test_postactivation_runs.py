"""The monitoring windows as an operator runs them, against a throwaway Redis filled by the
stand-in engine: without T+0 every check that needs it ends with one line saying so and the
window is INCONCLUSIVE, never a traceback; the preactivation record keeps S5's baseline."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shadowgate.checks.stops import PNL_FACT, PnlBaseline
from shadowgate.testbed import throwaway_redis
from shadowgate.wording import headline
from tests.support.suite_runs import DRILL, fill_engine, run_phase

NO_T0 = (
    "no T+0: no activation record in {} and no --activated-at=ISO8601 (an activation done by hand)"
)
NEEDS_T0 = {"S1", "S2", "S3", "S4", "M1"}  # window_30m checks that read since T+0


@pytest.fixture(scope="module")
def engine_redis() -> Iterator[throwaway_redis.ThrowawayRedis]:
    server = throwaway_redis.start()
    try:
        fill_engine(server, hours=2.0)
        yield server
    finally:
        server.stop()


def test_window_without_t0_is_one_line_each_and_inconclusive(engine_redis, tmp_path):
    reports = tmp_path / "reports"
    run = run_phase(engine_redis.url, reports, markexpr="window_30m")
    line = NO_T0.format(reports)
    assert "Traceback" not in run.output and run.exit_code == 1
    record = run.record
    checks = {c["id"]: c for c in record["checks"]}
    for check_id in NEEDS_T0 & set(checks):
        assert (checks[check_id]["status"], checks[check_id]["detail"]) == ("NOT EVALUATED", line)
    assert line in record["causes"]
    assert record["decision"] == "INCONCLUSIVE"
    assert record["facts"]["t0"] == {"at": None, "source": None, "invocation_id": None}
    assert headline(record).startswith("shadowgate window_30m: INCONCLUSIVE: cannot prove healthy")
    assert "STOP" not in headline(record)
    assert headline(record) in run.output
    lines = run.output.splitlines()
    headers = [
        k for k, x in enumerate(lines) if x.startswith("_") and "ERROR at setup of test_S" in x
    ]
    assert len(headers) == 4  # S1-S4 (S5 is not in window_30m)
    for k in headers:  # each check's error is the one line, then the next section
        assert lines[k + 1] == line and lines[k + 2].startswith(("_", "- generated")), lines[k]


def test_window_with_activated_at_records_its_t0(engine_redis, tmp_path):
    reports = tmp_path / "reports"
    run = run_phase(
        engine_redis.url, reports, "--activated-at=2026-01-01T00:00:00Z", markexpr="window_30m"
    )
    assert "Traceback" not in run.output
    t0 = run.record["facts"]["t0"]
    assert t0 == {
        "at": "2026-01-01T00:00:00+00:00",
        "source": "--activated-at",
        "invocation_id": None,
    }


def test_preactivation_record_keeps_the_s5_baseline(engine_redis, tmp_path):
    run = run_phase(engine_redis.url, tmp_path / "reports", DRILL)
    fact = run.record["facts"][PNL_FACT]
    baseline = PnlBaseline.from_fact(fact, run.record["run_id"])
    assert baseline is not None, json.dumps(fact)
    assert baseline.end_ms - baseline.start_ms == 24 * 3_600_000
    assert baseline.outcomes > 0 and 0 <= baseline.wins <= baseline.outcomes
    assert baseline.covered is False  # 2 h of history cannot hold the 24 h before: S5 says so
