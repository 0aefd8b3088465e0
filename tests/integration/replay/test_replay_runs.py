"""A preactivation run against the stand-in engine's Redis captures a bundle beside its record;
`--replay` of that bundle, with Redis out of reach, judges every check the same way (verdicts,
values, decision) and records a replay that arms nothing. (No engine host here: the host
checks fail to read their sources in both runs, the same way.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shadowgate import evidence
from shadowgate.replay import bundle
from shadowgate.testbed import throwaway_redis
from tests.support.suite_runs import DRILL, STRATEGY, PhaseRun, fill_engine, run_phase

UNREACHABLE = "redis://127.0.0.1:1/0"
JUDGED = ("id", "outcome", "status", "measured", "value", "threshold", "sample", "window")


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[PhaseRun]:
    server = throwaway_redis.start()
    try:
        fill_engine(server)
        yield run_phase(server.url, tmp_path_factory.mktemp("live"), DRILL, *STRATEGY)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def replayed(live, tmp_path_factory) -> PhaseRun:
    path = live.file(bundle.SUFFIX)
    reports = tmp_path_factory.mktemp("replay")
    return run_phase(UNREACHABLE, reports, DRILL, *STRATEGY, f"--replay={path}")


def _judged(run: PhaseRun) -> list[tuple]:
    return [tuple(check[k] for k in JUDGED) for check in run.record["checks"]]


def test_the_live_run_records_its_bundle_and_the_chain_covers_it(live):
    path = live.file(bundle.SUFFIX)
    assert live.record["bundle"] == {"file": path.name, "sha256": evidence.disk.sha256_file(path)}
    assert evidence.verify(live.reports_dir).ok
    captured = bundle.read(path)
    assert captured.phase == "preactivation" and captured.now_ms
    assert len(captured.entries("quantum:stream:trade.intent")) > 1000


def test_the_replay_judges_as_the_live_run_did(live, replayed):
    assert replayed.exit_code == live.exit_code, replayed.output
    assert _judged(replayed) == _judged(live)
    for key in ("decision", "passed", "causes", "facts"):
        assert replayed.record[key] == live.record[key], key


def test_the_replay_says_so_and_arms_nothing(live, replayed):
    said = replayed.record["replay"]
    assert said["phase"] == "preactivation" and said["sha256"] == live.record["bundle"]["sha256"]
    assert replayed.record["anchor"]["journal"] is None
    assert "bundle" not in replayed.record  # a replay captures nothing of its own
    assert evidence.run_records(replayed.reports_dir) == []
    assert evidence.last(replayed.reports_dir, "preactivation") is None


def test_a_bundle_of_another_phase_is_a_usage_error(live, tmp_path):
    path = live.file(bundle.SUFFIX)
    run = run_phase(UNREACHABLE, tmp_path, f"--replay={path}", markexpr="window_30m")
    assert run.exit_code == 4
    assert "holds a preactivation run: replay it with -m preactivation" in run.output
