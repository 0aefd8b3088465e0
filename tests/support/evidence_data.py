"""Records shaped as the plugin writes them, and ways to damage a reports dir, for the evidence
tests (log, arming, CLI)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shadowgate.checks import catalog
from shadowgate.config import Target
from shadowgate.evidence import LOG_NAME, CheckEntry, RunRecord, append_record, iso_utc, new_run_id
from shadowgate.verdict import Status, Verdict

NOW = datetime(2026, 11, 26, 6, 30, tzinfo=UTC)
TARGET = Target().describe()
DIGEST = "ab" * 32
PRE = ("preactivation",)
P6_PHASES = ("preactivation", "rollback_ready")


def entry(
    check_id: str = "B3",
    phases: Iterable[str] = PRE,
    *,
    status: Status = Status.PASS,
    outcome: str | None = None,
    detail: str = "",
) -> CheckEntry:
    """A judged check as the plugin records it; outcome follows the status unless given."""
    verdict = Verdict(
        check_id, "payload size p95", status, "1210 bytes", "< 1500 bytes", "s.2", sample=100,
        detail=detail,
    )  # fmt: skip
    outcome = outcome or ("passed" if verdict.ok else "failed")
    return CheckEntry.judged(f"blockers/test_b.py::test_{check_id}", outcome, verdict, phases)


def every_check_passed(phase: str | None) -> tuple[CheckEntry, ...]:
    """A PASS entry for every catalog check of `phase`, with the phases the catalog gives it."""
    ids = catalog.ids_of_phase(phase) if phase else ()
    return tuple(entry(i, catalog.get(i).phases) for i in ids) or (entry(),)


def make_record(
    run_id: str,
    phase: str | None = "preactivation",
    *,
    finished: datetime = NOW,
    passed: bool = True,
    complete: bool = True,
    target: dict = TARGET,
    digest: str = DIGEST,
    checks: Iterable[CheckEntry] = (),
) -> RunRecord:
    """A record shaped as the plugin writes it: unless `checks` are given, every catalog check
    of `phase` passed (one B3 check for a phase with none)."""
    go, stop = ("GO", "NO-GO") if phase == "preactivation" else ("OK", "STOP")
    return RunRecord(
        run_id=run_id,
        phase=phase,
        markexpr=phase,
        keyword=None,
        started_at=iso_utc(finished - timedelta(minutes=2)),
        finished_at=iso_utc(finished),
        operator="oncall",
        target=dict(target),
        thresholds_digest=digest,
        overrides={},
        suite_version="0.1.0",
        strategy={
            "approved_by": "Ana Müller",  # non-ASCII on purpose
            "weight": 0.2,
            "confidence_cap": 0.75,
            "observation_hours": 24,
        },
        checks=tuple(checks) or every_check_passed(phase),
        complete=complete,
        incomplete_reasons=() if complete else ("-k B3 was given: 30 required checks not run",),
        passed=passed,
        decision=go if passed else stop,
        causes=() if passed else ("B3 FAIL: payload p95 1620 bytes, threshold < 1500",),
    )


def schema_1(record: RunRecord) -> dict[str, Any]:
    """`record` as shadowgate wrote it before records had a schema, checks their phases and
    records their facts (or what was left unevaluated)."""
    data = record.to_dict()
    del data["schema"], data["facts"], data["unevaluated"]
    for check in data["checks"]:
        del check["phases"]
    return data


def add_run(
    reports: Path,
    phase: str | None = "preactivation",
    *,
    run_id: str | None = None,
    with_reports: bool = True,
    old: bool = False,
    **fields: Any,
) -> RunRecord:
    """Record one run (with an HTML and a JUnit report unless told otherwise; in the schema 1
    form if `old`). Returns the record as given: the log adds `files` and `previous_sha256`."""
    run_id = run_id or new_run_id(phase, fields.get("finished", NOW))
    html = junit = None
    if with_reports:
        reports.mkdir(parents=True, exist_ok=True)
        html = reports / f"{run_id}.html"
        html.write_text(f"<html><body>report of {run_id}</body></html>\n")
        junit = reports / f"{run_id}.junit.xml"
        junit.write_text(f'<testsuites name="{run_id}"/>\n')
    record = make_record(run_id, phase, **fields)
    append_record(reports, schema_1(record) if old else record, html, junit)
    return record


def log_lines(reports: Path) -> list[bytes]:
    data = (reports / LOG_NAME).read_bytes()
    assert data.endswith(b"\n")
    return data.split(b"\n")[:-1]


def write_log(reports: Path, lines: list[bytes]) -> None:
    (reports / LOG_NAME).write_bytes(b"".join(line + b"\n" for line in lines))


def flip_byte(path: Path, needle: bytes) -> None:
    """Change exactly one byte: the first of `needle` in the file."""
    data = bytearray(path.read_bytes())
    at = data.index(needle)
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
