"""`shadowgate backtest --compare`: archived runs re-judged by replaying their bundles (the
shipped preactivation examples) with a threshold change, and the one whose decision flips."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from shadowgate import cli
from shadowgate.backtest import compare
from shadowgate.evidence import append_record
from shadowgate.replay import bundle
from shadowgate.testbed import examples
from shadowgate.verdict import Status
from tests.support.evidence_data import entry, every_check_passed, make_record

FEWER_EVENTS = "gates.min_events=5000"  # more events than either example holds: G1-G3 cannot judge
P04_FAILING = ("B5", "G1", "G2", "G3", "G4")


def archive(reports: Path, run_id: str, example: str, failing: tuple[str, ...] = ()) -> None:
    """A preactivation record as the live run of the shipped `example` wrote it (`failing`
    FAIL, every other check PASS), its bundle beside it."""
    checks = tuple(
        entry(c.check_id, c.phases, status=Status.FAIL) if c.check_id in failing else c
        for c in every_check_passed("preactivation")
    )
    record = replace(make_record(run_id, checks=checks), passed=not failing)
    record = replace(record, decision="NO-GO" if failing else "GO")
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"{run_id}{bundle.SUFFIX}"
    shutil.copyfile(examples.EXAMPLES_DIR / f"{example}{bundle.SUFFIX}", path)
    append_record(reports, record, bundle_path=path)


def test_compare_lists_the_decision_a_threshold_change_flips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    archive(reports, "pre-p04", "p04_preactivation", P04_FAILING)
    archive(reports, "pre-healthy", "healthy_preactivation")
    assert (
        cli.main(["backtest", "--compare", f"--set={FEWER_EVENTS}", f"--reports-dir={reports}"])
        == 0
    )
    said = capsys.readouterr().out
    assert f"1 of 2 archived runs in {reports} would flip with {FEWER_EVENTS}" in said
    assert "pre-healthy (preactivation): FLIPS: GO -> NO-GO (B5 PASS -> INCONCLUSIVE;" in said
    assert (
        "pre-p04 (preactivation): same decision: NO-GO -> NO-GO (B5 FAIL -> INCONCLUSIVE;" in said
    )
    assert "G1 FAIL -> INCONCLUSIVE" in said and "G4 FAIL" not in said


def test_compare_says_what_it_cannot_rejudge(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    archive(reports, "pre-tampered", "healthy_preactivation")
    shutil.copyfile(
        examples.EXAMPLES_DIR / f"p04_preactivation{bundle.SUFFIX}",
        reports / f"pre-tampered{bundle.SUFFIX}",
    )
    append_record(reports, make_record("pre-bare"))
    tampered, bare = compare.compare(reports, [FEWER_EVENTS])
    assert not tampered.flips and "does not match the record's sha256" in tampered.describe()
    assert not bare.flips and "no bundle beside the record" in bare.describe()
