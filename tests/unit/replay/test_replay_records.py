"""A replay's record judged a bundle, not the engine: it never arms an action and never counts
toward the lifecycle; a capturing run's bundle is covered by the chain as its reports are."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from shadowgate.evidence import append_record, last, rollback_armed, run_records, verify
from shadowgate.evidence.chain import verified_chain
from shadowgate.evidence.record import RunRecord
from shadowgate.replay import bundle
from tests.support.evidence_data import DIGEST, NOW, P6_PHASES, TARGET, add_run, entry, make_record

REPLAYED = {"bundle": "/archive/x.bundle.json.gz", "sha256": "ab" * 32, "phase": "preactivation"}


def add_replay(reports: Path, phase: str = "preactivation", **fields) -> RunRecord:
    record = make_record(f"20261207T040000Z-{phase}-replay", phase, **fields)
    append_record(reports, record, replay=REPLAYED)
    return record


def test_a_passing_replay_arms_no_activation(tmp_path):
    add_replay(tmp_path, finished=NOW - timedelta(minutes=1))
    assert last(tmp_path, "preactivation", now=NOW, target=TARGET) is None


def test_a_replay_does_not_supersede_the_live_run(tmp_path):
    live = add_run(tmp_path, finished=NOW - timedelta(minutes=2))
    add_replay(tmp_path, finished=NOW - timedelta(minutes=1), passed=False)
    run = last(tmp_path, "preactivation", now=NOW, target=TARGET, thresholds_digest=DIGEST)
    assert run is not None and run.record.run_id == live.run_id and run.armed


def test_a_replay_arms_no_rollback(tmp_path):
    add_replay(tmp_path, "rollback_ready", checks=[entry("P6", P6_PHASES)])
    assert rollback_armed(tmp_path, now=NOW, target=TARGET, thresholds_digest=DIGEST) is None


def test_a_replay_is_in_the_chain_but_never_in_what_consumers_act_on(tmp_path):
    live = add_run(tmp_path, finished=NOW - timedelta(minutes=2))
    replayed = add_replay(tmp_path, finished=NOW - timedelta(minutes=1))
    assert verify(tmp_path).ok and verify(tmp_path).records == 2
    assert [r["run_id"] for r in verified_chain(tmp_path).records] == [live.run_id]
    assert [r.run_id for r in run_records(tmp_path)] == [live.run_id]
    written = RunRecord.from_dict(json.loads((tmp_path / f"{replayed.run_id}.json").read_text()))
    assert written.is_replay and written.replay == REPLAYED
    assert written.anchor == {"journal": None, "why": "a replay is never anchored as a live run"}


def test_a_malformed_replay_field_still_makes_a_replay():
    data = make_record("r1", "preactivation").to_dict() | {"replay": True}
    assert RunRecord.from_dict(data).is_replay


def test_the_bundle_is_recorded_and_covered_by_the_chain(tmp_path):
    run_id = "20261207T040000Z-preactivation-abcdef"
    path = bundle.bundle_path(tmp_path / f"{run_id}.json")
    digest = bundle.write(path, bundle.Bundle(phase="preactivation", redis_time=(1, 0)))
    append_record(tmp_path, make_record(run_id, "preactivation"), bundle_path=path)
    (record,) = run_records(tmp_path)
    assert record.bundle == {"file": path.name, "sha256": digest}
    assert verify(tmp_path).ok
    path.write_bytes(path.read_bytes() + b"x")
    checked = verify(tmp_path)
    assert not checked.ok
    assert f"the replay bundle {path.name} of run {run_id} has changed" in checked.problem
    path.unlink()
    assert "is missing" in verify(tmp_path).problem


def test_a_bundle_no_record_names_is_said(tmp_path):
    add_run(tmp_path)
    stray = tmp_path / "20261207T040000Z-preactivation-ffffff.bundle.json.gz"
    bundle.write(stray, bundle.Bundle())
    notes = " ".join(verify(tmp_path).notes)
    assert stray.name in notes
