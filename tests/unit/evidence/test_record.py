"""The run record: typed in code, the same audit JSON on disk, and every older record readable."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from shadowgate.evidence import SCHEMA, CheckEntry, RunRecord, new_run_id
from shadowgate.timefmt import duration
from shadowgate.verdict import Status
from shadowgate.wording import NOT_EVALUATED
from tests.support.evidence_data import NOW, P6_PHASES, entry, make_record, schema_1

# -- run ids -----------------------------------------------------------------------------------


def test_run_ids_sort_by_time_and_name_the_phase():
    first = new_run_id("preactivation", NOW)
    later = new_run_id("window_30m", NOW + timedelta(seconds=1))
    assert re.fullmatch(r"20261126T063000Z-preactivation-[0-9a-f]{6}", first)
    assert sorted([later, first]) == [first, later]
    assert new_run_id(None, NOW).startswith("20261126T063000Z-run-")
    assert len({new_run_id("preactivation", NOW) for _ in range(20)}) == 20


def test_run_ids_are_in_utc_and_refuse_naive_times():
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert new_run_id("rollback", paris).startswith("20261126T063000Z-rollback-")
    with pytest.raises(ValueError, match="timezone-aware"):
        new_run_id("rollback", datetime(2026, 11, 26, 6, 30))


# -- the JSON ----------------------------------------------------------------------------------


def test_a_record_round_trips_through_its_json():
    record = make_record("r1", checks=[entry("P6", P6_PHASES), entry("B3")])
    data = record.to_dict()
    assert data["schema"] == SCHEMA == 4
    assert data["facts"] == {}
    assert RunRecord.from_dict(data) == record
    assert "files" not in data and "previous_sha256" not in data  # the log adds them


def test_a_check_entry_records_its_phases_and_keeps_the_verdict_fields():
    check = entry("P6", P6_PHASES, status=Status.WARN)
    assert check.to_dict() == {
        "nodeid": "blockers/test_b.py::test_P6",
        "id": "P6",
        "outcome": "passed",
        "title": "payload size p95",
        "status": "WARN",
        "measured": "1210 bytes",
        "value": None,
        "threshold": "< 1500 bytes",
        "sample": 100,
        "window": "",
        "section": "s.2",
        "detail": "",
        "evidence": [],
        "phases": ["preactivation", "rollback_ready"],
    }
    verdict = check.verdict
    assert verdict is not None
    assert (verdict.check_id, verdict.status, verdict.sample) == ("P6", Status.WARN, 100)
    assert verdict.message().startswith("P6 WARN: payload size p95 (runbook s.2)")


def test_a_check_without_a_verdict_says_why():
    check = CheckEntry.not_evaluated("h/test_p.py::test_P1", "P1", "failed", "no env file", ["x"])
    data = check.to_dict()
    assert (data["status"], data["detail"], data["phases"]) == (NOT_EVALUATED, "no env file", ["x"])
    assert all(data[k] is None for k in ("title", "measured", "value", "threshold", "section"))
    assert check.verdict is None
    assert CheckEntry.from_dict(data) == check


def test_a_record_keeps_the_facts_later_phases_compare_against():
    facts = {
        "model": {"path": "/m.pth", "sha256": "cd" * 32, "size": 1024, "changed": None},
        "unit": {"unit": "u.service", "invocation_id": "ab" * 16, "n_restarts": 1,
                 "started": "2026-11-25T06:00:00.000001+00:00"},
    }  # fmt: skip
    record = replace(make_record("r1"), facts=facts)
    assert record.to_dict()["facts"] == facts
    assert RunRecord.from_dict(record.to_dict()) == record
    with pytest.raises(ValueError, match="facts must be a JSON object"):
        RunRecord.from_dict(record.to_dict() | {"facts": ["model"]})


def test_a_schema_2_record_reads_without_facts_and_keeps_its_shape():
    """Added, not re-meant: a record written before `facts` existed reads back as it was."""
    data = make_record("v2").to_dict()
    del data["facts"], data["unevaluated"]
    data["schema"] = 2
    old = RunRecord.from_dict(data)
    assert (old.schema, old.facts) == (2, {})
    assert old.to_dict() == data


def test_a_schema_3_record_reads_without_unevaluated_and_keeps_its_shape():
    data = make_record("v3").to_dict()
    del data["unevaluated"]
    data["schema"] = 3
    old = RunRecord.from_dict(data)
    assert (old.schema, old.unevaluated) == (3, {})
    assert old.to_dict() == data


def test_not_evaluated_names_the_checks_without_a_judged_verdict_whatever_complete_says():
    """A record claiming complete is re-checked from its entries (ARCHITECTURE.md "The
    lifecycle")."""
    unjudged = CheckEntry.not_evaluated("t::test_P1", "P1", "passed", "body never ran", ())
    record = make_record("r", checks=[entry("B3"), unjudged, entry("P1")])
    assert record.complete and not unjudged.evaluated and entry("B3").evaluated
    assert record.not_evaluated(["B3", "P1", "G4"]) == ("P1", "G4")
    assert make_record("r", checks=[entry("B3")]).not_evaluated(["B3"]) == ()


def test_a_record_without_a_schema_is_version_1():
    record = make_record("old", checks=[entry("P6", P6_PHASES)])
    old = RunRecord.from_dict(schema_1(record))
    assert old.schema == 1
    assert old.checks[0].phases == ()  # not recorded then
    assert old.checks[0].check_id == "P6" and old.passed and old.decision == "GO"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("checks"), "not a run record: no checks"),
        (lambda d: d["checks"][0].pop("status"), "not a check entry: no status"),
        (lambda d: d.update(target="redis://x"), "target must be a JSON object"),
        (lambda d: d.update(checks={}), "checks must be a list"),
        (lambda d: d["checks"].append("B3"), "a check entry must be a JSON object"),
    ],
)
def test_what_is_not_a_run_record_is_refused(damage, message):
    data = make_record("x").to_dict()
    damage(data)
    with pytest.raises(ValueError, match=message):
        RunRecord.from_dict(data)


def test_finish_time_carrying_and_incomplete():
    record = make_record("r", finished=NOW, checks=[entry("P6", P6_PHASES), entry("B3")])
    assert record.finished() == NOW
    assert RunRecord.from_dict(record.to_dict() | {"finished_at": "yesterday"}).finished() is None
    assert (
        RunRecord.from_dict(record.to_dict() | {"finished_at": "2026-11-26T06:30"}).finished()
        is None
    )
    assert [c.check_id for c in record.carrying("rollback_ready")] == ["P6"]
    late = record.incomplete("the HTML report r.html is incomplete")
    assert (late.complete, late.decision) == (False, "NO-GO")
    assert late.incomplete_reasons == ("the HTML report r.html is incomplete",)
    window = make_record("w", "window_30m").incomplete("interrupted")
    assert window.decision == "INCONCLUSIVE"  # never STOP without a failed stop condition
    assert make_record("n", None).incomplete("x").decision is None


# -- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (45, "45 s"), (252, "4 min 12 s"), (960, "16 min"), (1800, "30 min"),
     (5400, "1 h 30 min"), (86400, "24 h"), (-120, "2 min"), (59.6, "1 min")],
)  # fmt: skip
def test_durations_read_as_the_runbook_says_them(seconds, text):
    assert duration(seconds) == text
