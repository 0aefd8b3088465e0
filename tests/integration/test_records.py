"""Every phase run leaves evidence: the real suite, run as an operator runs it, against a
throwaway Redis filled by the stand-in engine. There is no engine host here (the unit and the
env file are absent on purpose, on any machine), so the host checks cannot read their sources
and every run is NO-GO with those causes: what is tested here is the record, not the engine."""

from __future__ import annotations

import ast
import hashlib
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from shadowgate import __version__, evidence
from shadowgate.checks import catalog
from shadowgate.config import Target, Thresholds
from shadowgate.testbed import throwaway_redis
from tests.support.suite_runs import DRILL, NO_HOST, STRATEGY, PhaseRun, fill_engine, run_phase

ALL_IDS = set(catalog.ids_of_phase("preactivation"))
HOST_IDS = {"P1", "P2", "P4", "P6", "P7", "B2", "B4"}  # need the unit, journal or env file
STREAM_IDS = ALL_IDS - HOST_IDS
RECORD_KEYS = {
    "schema", "run_id", "phase", "markexpr", "keyword", "started_at", "finished_at", "operator",
    "target", "thresholds_digest", "overrides", "suite_version", "strategy", "checks",
    "complete", "incomplete_reasons", "passed", "decision", "causes", "files", "previous_sha256",
    "facts", "anchor", "unevaluated", "bundle",
}  # fmt: skip
CHECK_KEYS = {
    "nodeid", "id", "outcome", "title", "status", "measured", "value", "threshold", "sample",
    "window", "section", "detail", "evidence", "phases",
}  # fmt: skip
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture(scope="module")
def engine_redis() -> Iterator[throwaway_redis.ThrowawayRedis]:
    server = throwaway_redis.start()
    try:
        fill_engine(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def full_run(engine_redis, tmp_path_factory) -> PhaseRun:
    reports = tmp_path_factory.mktemp("reports")
    return run_phase(engine_redis.url, reports, DRILL, "--operator=oncall-7", *STRATEGY)


def test_phase_run_writes_html_junit_and_record_beside_each_other(full_run):
    record = full_run.record
    names = {p.name for p in full_run.reports_dir.iterdir()}
    run_id = record["run_id"]
    assert {f"{run_id}.html", f"{run_id}.junit.xml", f"{run_id}.json"} <= names
    assert "decision-log.jsonl" in names
    assert record["files"]["html"] == f"{run_id}.html"
    assert record["files"]["junit"] == f"{run_id}.junit.xml"
    assert evidence.verify(full_run.reports_dir).ok
    assert f"record: {full_run.file('.json')}" in full_run.output


def test_record_hashes_the_final_html(full_run):
    """The sha256 was taken after pytest-html wrote the last byte of its report."""
    html = full_run.file(".html").read_bytes()
    assert html.rstrip().endswith(b"</html>")
    assert b"shadowgate preactivation: NO-GO" in html
    assert hashlib.sha256(html).hexdigest() == full_run.record["files"]["html_sha256"]


def test_record_fields(full_run, engine_redis):
    record = full_run.record
    assert set(record) == RECORD_KEYS
    assert record["schema"] == evidence.SCHEMA
    assert record["anchor"]["journal"] is None  # this machine has no journal: it says why
    assert "journal" in record["anchor"]["why"]
    (typed,) = evidence.run_records(full_run.reports_dir)
    assert typed.to_dict() == record  # the typed record is the JSON, field for field
    assert "-preactivation-" in record["run_id"]
    assert record["phase"] == "preactivation" and record["markexpr"] == "preactivation"
    assert record["keyword"] is None
    assert ISO_Z.fullmatch(record["started_at"]) and ISO_Z.fullmatch(record["finished_at"])
    assert record["started_at"] <= record["finished_at"]
    assert record["operator"] == "oncall-7"
    unit, env_file = (arg.partition("=")[2] for arg in NO_HOST)
    assert record["target"] == Target(engine_redis.url, unit=unit, env_file=env_file).describe()
    assert record["thresholds_digest"] == Thresholds.load(sets=[DRILL[6:]]).digest()
    assert record["overrides"] == {"service.min_uptime_hours": 0.0}
    assert record["suite_version"] == __version__
    assert record["strategy"] == {
        "approved_by": "Jane Doe (desk lead)",
        "weight": 10.0,
        "confidence_cap": 0.75,
        "observation_hours": 6.0,
    }


def test_record_checks_and_no_go_causes(full_run):
    record = full_run.record
    checks = {c["id"]: c for c in record["checks"]}
    assert set(checks) == ALL_IDS
    assert all(set(c) == CHECK_KEYS for c in checks.values())
    for check_id, check in checks.items():  # every phase marker the test carried
        assert set(check["phases"]) == set(catalog.get(check_id).phases), check
    assert checks["P6"]["phases"] == [
        "preactivation", "window_30m", "window_2h", "window_6h", "rollback_ready"
    ]  # fmt: skip
    for check_id in STREAM_IDS:
        check = checks[check_id]
        assert (check["outcome"], check["status"]) == ("passed", "PASS"), check
        assert check["measured"] and check["threshold"] and check["section"]
    assert checks["B3"]["window"].startswith("quantum:stream:trade.intent entries")
    assert len(checks["B3"]["evidence"]) == 3
    for check_id in HOST_IDS:
        check = checks[check_id]
        assert check["outcome"] == "failed", check
        # P2 may read an empty journal (FAIL) where journalctl works at all
        assert check["status"] == "NOT EVALUATED" or check_id == "P2", check
        if check["status"] == "NOT EVALUATED":
            assert check["detail"] in record["causes"]
    assert record["causes"] and len(record["causes"]) == len(set(record["causes"]))
    assert not any(c.startswith(("Failed:", "NO-GO cause:")) for c in record["causes"])
    # a check whose source failed was not evaluated: the run counts toward no state
    unjudged = {c["id"] for c in checks.values() if c["status"] == "NOT EVALUATED"}
    assert record["complete"] is False and record["unevaluated"] == {
        i: checks[i]["detail"] for i in unjudged
    }
    (reason,) = record["incomplete_reasons"]
    assert reason.startswith(f"{len(unjudged)} of {len(checks)} checks not evaluated")
    assert (record["passed"], record["decision"]) == (False, "NO-GO")
    assert full_run.exit_code == 1


def test_junit_carries_each_verdict(full_run):
    cases = {c.get("name"): c for c in ET.parse(full_run.file(".junit.xml")).iter("testcase")}
    assert set(cases) == {c["nodeid"].rpartition("::")[2] for c in full_run.record["checks"]}
    (verdict,) = [p for p in cases["test_B3_payload_p95"].iter("property")]
    assert verdict.get("name") == "verdict"
    assert ast.literal_eval(verdict.get("value"))["status"] == "PASS"


def test_deferred_gate_is_an_allowed_skip(engine_redis, tmp_path):
    run = run_phase(engine_redis.url, tmp_path, "--outcomes-stream=absent:trade.closed")
    g4 = next(c for c in run.record["checks"] if c["id"] == "G4")
    assert (g4["outcome"], g4["status"]) == ("skipped", "DEFERRED")
    # incomplete only for the host checks, which have no host here
    assert set(run.record["unevaluated"]) <= HOST_IDS, run.record["unevaluated"]
    assert not any("G4" in reason for reason in run.record["incomplete_reasons"])


def test_keyword_selection_is_recorded_incomplete(engine_redis, tmp_path):
    run = run_phase(engine_redis.url, tmp_path, "-k", "B3")
    record = run.record
    assert [c["id"] for c in record["checks"]] == ["B3"]
    assert record["keyword"] == "B3"
    assert record["passed"] is True and run.exit_code == 1  # passed, yet no GO
    assert record["complete"] is False
    assert "-k 'B3' selects a subset of the checks" in record["incomplete_reasons"]
    deselected = next(r for r in record["incomplete_reasons"] if r.startswith("deselected: "))
    assert set(deselected.removeprefix("deselected: ").split(", ")) == ALL_IDS - {"B3"}
    assert record["decision"] == "NO-GO"  # a partial run never says GO
    assert "shadowgate preactivation: NO-GO (incomplete run)" in run.output


def test_check_file_left_out_by_ignore_is_incomplete_and_not_go(engine_redis, tmp_path):
    """Complete means every catalog ID of the phase ran, not every test that was collected."""
    run = run_phase(engine_redis.url, tmp_path, DRILL, "--ignore=blockers/test_preconditions.py")
    record = run.record
    preconditions = catalog.ids_of_kind("P")
    assert {c["id"] for c in record["checks"]} == ALL_IDS - set(preconditions)
    assert record["complete"] is False
    assert record["incomplete_reasons"][0] == (
        f"catalog checks not collected: {', '.join(preconditions)}"
    )
    assert {i: record["unevaluated"][i] for i in preconditions} == dict.fromkeys(
        preconditions, "not collected"
    )
    assert record["decision"] == "NO-GO"
    assert "shadowgate preactivation: NO-GO (incomplete run)" in run.output


def test_a_plugin_replacing_check_bodies_leaves_every_check_unevaluated(
    engine_redis, tmp_path, monkeypatch
):
    """`pytest_pyfunc_call` returning True "passes" a check whose body never ran: no verdict,
    so the run is incomplete, not passed and NO-GO, and the record says which and why."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "no_bodies.py").write_text(
        "import pytest\n\n\n@pytest.hookimpl(tryfirst=True)\n"
        "def pytest_pyfunc_call(pyfuncitem):\n    return True\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(plugins))
    run = run_phase(engine_redis.url, tmp_path / "reports", DRILL, "-p", "no_bodies")
    record = run.record
    assert set(record["unevaluated"]) == ALL_IDS
    for check_id in STREAM_IDS:
        assert record["unevaluated"][check_id] == (
            "its test body ran but judged no verdict (a plugin replaced it?)"
        )
    assert (record["complete"], record["passed"], record["decision"]) == (False, False, "NO-GO")
    said = f"{len(ALL_IDS)} of {len(ALL_IDS)} checks not evaluated"
    assert any(r.startswith(said) for r in record["incomplete_reasons"])


def test_a_run_stopped_early_names_the_checks_that_did_not_run(engine_redis, tmp_path):
    """`-x` stops at the first failure: every check after it is unevaluated, "did not run"."""
    run = run_phase(engine_redis.url, tmp_path, DRILL, "-x")
    record = run.record
    ran = {c["id"] for c in record["checks"]}
    assert ran < ALL_IDS and record["complete"] is False and record["decision"] == "NO-GO"
    assert {i: record["unevaluated"][i] for i in ALL_IDS - ran} == dict.fromkeys(
        ALL_IDS - ran, "did not run"
    )


def test_two_phase_expression_is_recorded_without_a_decision(engine_redis, tmp_path):
    run = run_phase(engine_redis.url, tmp_path, "-k", "P6", markexpr="preactivation or rollback")
    record = run.record
    assert (record["phase"], record["decision"], record["complete"]) == (None, None, False)
    assert any("not exactly one phase marker" in r for r in record["incomplete_reasons"])


def test_collection_error_is_incomplete_and_an_html_elsewhere_is_archived(engine_redis, tmp_path):
    broken = tmp_path / "extra" / "test_broken.py"
    broken.parent.mkdir()
    broken.write_text("import no_such_module\n")
    elsewhere = tmp_path / "elsewhere" / "report.html"
    reports = tmp_path / "reports"
    paths = ("blockers", "gates", "postactivation", str(broken))
    run = run_phase(engine_redis.url, reports, f"--html={elsewhere}", *paths)
    record = run.record
    assert record["complete"] is False
    assert any(r.startswith("collection error in ") for r in record["incomplete_reasons"])
    assert record["files"]["html"] == f"{record['run_id']}.html"
    assert run.file(".html").read_bytes() == elsewhere.read_bytes()
    assert evidence.verify(reports).ok


def test_run_without_a_phase_marker_writes_nothing(engine_redis, tmp_path):
    reports = tmp_path / "reports"
    run = run_phase(engine_redis.url, reports, "blockers/test_hard_blockers.py", "-k", "B3",
                    markexpr=None)  # fmt: skip
    assert run.exit_code == 0, run.output
    assert not reports.exists()


def test_bad_strategy_value_is_refused_before_anything_runs(tmp_path):
    run = run_phase("redis://127.0.0.1:1/0", tmp_path / "r", "--weight=ten")
    assert run.exit_code == pytest.ExitCode.USAGE_ERROR
    assert "--weight (env SHADOWGATE_WEIGHT) must be a number > 0 and <= 100, got 'ten'" in (
        run.output
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set=gates.min_evnts=3",), "ERROR: unknown threshold key 'gates.min_evnts'"),
        (("--set=gates.min_events=many",), "ERROR: threshold 'gates.min_events' must be int"),
        (("--config=/nonexistent.toml",), "ERROR: cannot read threshold file /nonexistent.toml"),
    ],
)
def test_bad_threshold_is_one_usage_line_naming_the_key(tmp_path, args, message):
    run = run_phase("redis://127.0.0.1:1/0", tmp_path / "r", *args)
    assert run.exit_code == pytest.ExitCode.USAGE_ERROR
    assert message in run.output and "Traceback" not in run.output
    assert not (tmp_path / "r").exists()


LEAKY_CHECK = """
import pytest


@pytest.mark.check("B3")  # any preactivation check: its name is not its ID
def test_X1_fails_with_the_target_in_its_traceback(target):
    print("reading", target.redis_url)
    assert target.redis_url == "another url"
"""


def test_redis_password_never_reaches_any_file_or_the_terminal(tmp_path):
    """Also through the worst path: a check failing with a traceback, whose function
    arguments pytest prints (`target = Target(redis_url='redis://:...@...')`)."""
    password = "Pw-" + os.urandom(8).hex()
    leaky = tmp_path / "leaky" / "test_leaky.py"
    leaky.parent.mkdir()
    leaky.write_text(LEAKY_CHECK)
    server = throwaway_redis.start(password=password)
    try:
        fill_engine(server, hours=2)
        reports = tmp_path / "reports"
        run = run_phase(server.url, reports, "blockers", "gates", str(leaky), "--tb=long")
    finally:
        server.stop()
    assert "FAILED" in run.output and "test_X1_fails_with_the_target" in run.output
    assert "target = Target(stream=" in run.output  # the traceback was there (no redis_url)
    assert password not in run.output
    written = sorted(p for p in reports.iterdir() if p.is_file())
    assert {p.suffix for p in written} >= {".html", ".xml", ".json", ".jsonl"}
    for path in written:
        assert password.encode() not in path.read_bytes(), path.name
    assert run.record["target"]["redis_url"].startswith("redis://:***@127.0.0.1:")
