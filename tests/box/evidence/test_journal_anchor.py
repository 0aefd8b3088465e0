"""Anchors in a real journal (the systemd box): every rewrite of the chain's tail that the chain
alone lets through is caught by `verify`, `last` and the arming, with one line saying what;
a clean anchored chain passes; what the anchor cannot prove is pinned down too."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from shadowgate import cli
from shadowgate.evidence import LOG_NAME, Journal, append_record, last, rollback_armed, verify
from shadowgate.evidence.disk import sha256
from shadowgate.evidence.journal_anchor import LineAnchor
from shadowgate.evidence.log import canonical
from tests.support.evidence_data import entry, log_lines, make_record, write_log

pytestmark = pytest.mark.systemd


def add(reports, journal, *, reported: bool = True, **fields):
    """One run recorded as the plugin records it (HTML + JUnit), anchored through `journal`."""
    record = make_record(f"run{len(log_lines(reports)) if (reports / LOG_NAME).exists() else 0}",
                         finished=datetime.now(UTC) - timedelta(seconds=30), **fields)  # fmt: skip
    reports.mkdir(parents=True, exist_ok=True)
    html = junit = None
    if reported:
        html = reports / f"{record.run_id}.html"
        html.write_text(f"<html>{record.run_id}</html>\n")
        junit = reports / f"{record.run_id}.junit.xml"
        junit.write_text("<testsuites/>\n")
    append_record(reports, record, html, junit, journal)
    return record


def forge_tail(reports, edit) -> dict:
    """Rewrite the last line and its record file consistently, as an operator with an editor
    would: the chain alone still verifies."""
    lines = log_lines(reports)
    record = json.loads(lines[-1])
    edit(record)
    write_log(reports, [*lines[:-1], canonical(record)])
    (reports / f"{record['run_id']}.json").write_bytes(
        json.dumps(record, sort_keys=True, indent=2).encode() + b"\n"
    )
    assert verify(reports).ok  # the chain alone is blind to it
    return record


def forge_append(reports, anchor: dict) -> dict:
    """Append a record chained to the last one, without reports, as a forger would."""
    last_line = log_lines(reports)[-1]
    record = json.loads(last_line) | {
        "run_id": "forged",
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": {"html": None, "html_sha256": None, "junit": None, "junit_sha256": None},
        "anchor": anchor,
        "previous_sha256": sha256(last_line + b"\n"),
    }
    write_log(reports, [*log_lines(reports), canonical(record)])
    (reports / "forged.json").write_bytes(
        json.dumps(record, sort_keys=True, indent=2).encode() + b"\n"
    )
    assert verify(reports).ok
    return record


@pytest.fixture
def journal(box_host):
    return Journal(box_host)


@pytest.fixture
def anchored(tmp_path, journal):
    """A reports dir with three anchored runs, only the last one complete (every check of its
    phase passed, P6 among them): it alone arms activation and rollback."""
    reports = tmp_path / "reports"
    for _ in range(2):
        add(reports, journal, checks=[entry()])
    add(reports, journal)
    return reports


def test_a_clean_anchored_chain_verifies_and_arms(anchored, box_host, journal):
    result = verify(anchored, box_host)
    assert result.ok and result.journal_read
    assert result.anchored == {"run0", "run1", "run2"}
    assert result.notes == (
        f"journal cross-check: 3 of 3 records anchored in the journal of {journal.name}",
    )
    record = json.loads(log_lines(anchored)[-1])
    assert record["anchor"] == {"journal": "sdbox"}
    said = box_host.run("journalctl -t shadowgate -o cat").stdout.splitlines()
    assert said[-1] == LineAnchor(
        "run2", sha256(log_lines(anchored)[-1] + b"\n"), record["previous_sha256"],
        str(anchored.resolve()),
    ).message()  # fmt: skip
    run = last(anchored, "preactivation", engine_host=box_host)
    assert run is not None and run.armed and run.anchored
    assert "chain verified, anchored in the journal" in run.describe()
    assert rollback_armed(anchored, target=None, thresholds_digest=None, engine_host=box_host).armed


def test_the_last_line_rewritten_consistently_is_caught(anchored, box_host, journal):
    forge_tail(anchored, lambda r: r.update(operator="someone else"))
    result = verify(anchored, box_host)
    assert result.first_bad == "run2 (line 3)"
    assert result.problem.startswith(
        f"line 3 is not the line anchored for run run2 in the journal of {journal.name} (logged "
    )
    assert re.search(r"by uid 0( \(echo\))?\): it was changed after the run$", result.problem)
    run = last(anchored, "preactivation", engine_host=box_host)
    assert run is not None and not run.armed and not run.chain_ok


def test_the_last_line_rewritten_and_anchored_again_by_root_is_still_caught(
    anchored, box_host, journal
):
    """Root can log a new anchor, but not take the old one out of the journal."""
    record = forge_tail(anchored, lambda r: r.update(operator="root"))
    line = log_lines(anchored)[-1]
    anchor = LineAnchor("run2", sha256(line + b"\n"), record["previous_sha256"],
                        str(anchored.resolve()))  # fmt: skip
    journal.write(anchor, anchored)
    result = verify(anchored, box_host)
    assert result.first_bad == "run2 (line 3)"
    assert result.problem.startswith(
        f"line 3 is not the line first anchored for run run2 in the journal of {journal.name}"
    )
    assert result.problem.endswith("it was changed and anchored again")


@pytest.mark.parametrize(
    "said",
    [
        {"journal": None, "why": "no journal on vps: is it booted with systemd?"},
        {"journal": "sdbox"},
    ],
    ids=["says-not-anchored", "says-anchored"],
)
def test_a_forged_record_appended_is_caught(anchored, box_host, journal, said):
    forge_append(anchored, said)
    result = verify(anchored, box_host)
    assert result.first_bad == "forged (line 4)"
    killed = (
        "its run was killed between the line and its anchor (the next record marks it as never "
        "anchored), or "
    )
    assert result.problem == (
        f"run forged has no anchor in the journal of {journal.name}, though line 1 before it "
        f"has one: {killed if said['journal'] else ''}it was added without shadowgate's anchor, "
        "or its run could not write it (and said so in red)"
    )
    run = last(anchored, "preactivation", engine_host=box_host)
    assert run is not None and run.record.run_id == "forged" and not run.armed
    assert not run.reported  # files.html null: no complete run records that
    assert any(r.startswith("it names no HTML report") for r in run.reasons)


def test_the_last_record_removed_with_its_files_is_caught(anchored, box_host, journal):
    write_log(anchored, log_lines(anchored)[:-1])
    for suffix in (".json", ".html", ".junit.xml"):
        (anchored / f"run2{suffix}").unlink()
    assert verify(anchored).ok  # the chain alone: a shorter valid chain
    result = verify(anchored, box_host)
    assert result.first_bad == "run2"
    assert result.problem.startswith(
        f"the journal of {journal.name} holds the anchor of run run2 (logged "
    )
    assert result.problem.endswith(
        "but no line of the log is that record: its line was removed or changed after the run"
    )
    run = rollback_armed(anchored, target=None, thresholds_digest=None, engine_host=box_host)
    assert run is None  # the run that armed it is gone, and nothing else arms
    pre = last(anchored, "preactivation", engine_host=box_host)
    assert pre is not None and not pre.armed and not pre.chain_ok


def test_an_anchor_forged_by_another_uid_counts_for_nothing(anchored, box, box_host, journal):
    record = forge_append(anchored, {"journal": "sdbox"})
    line = log_lines(anchored)[-1]
    message = LineAnchor("forged", sha256(line + b"\n"), record["previous_sha256"],
                         str(anchored.resolve())).message()  # fmt: skip
    box.exec(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
              "systemd-cat", "-t", "shadowgate", "echo", message], check=True)  # fmt: skip
    result = verify(anchored, box_host)
    assert result.first_bad == "forged (line 4)" and "has no anchor" in result.problem
    assert result.notes[-1] == (
        "ignored 1 journal entry tagged `shadowgate` for this reports dir from uid 65534: "
        "only root (and evidence.anchor_uid) anchor records; find out who wrote them"
    )


def test_a_journal_that_cannot_be_read_fails_an_anchored_chain(anchored, box):
    nobody = box.testinfra_host(user="nobody")  # outside systemd-journal: a partial view
    result = verify(anchored, nobody)
    assert not result.ok and result.first_bad is None
    assert result.problem.startswith("anchors cannot be checked here: the journal of sdbox://")
    assert "cannot be read whole by this user" in result.problem
    assert result.notes[-1] == (
        "3 records were anchored in the journal of sdbox: run verify where that journal is "
        "(--hosts); until then verify exits 1"
    )
    run = last(anchored, "preactivation", engine_host=nobody)
    assert run is not None and not run.armed


def test_records_that_could_not_be_anchored_say_why(tmp_path, box, box_host, journal):
    """A host without a journal (this dev machine): recorded, not anchored, stated."""
    reports = tmp_path / "reports"
    add(reports, Journal(box.testinfra_host(user="nobody")))
    said = json.loads(log_lines(reports)[0])["anchor"]
    assert said["journal"] is None and "cannot be read whole by this user" in said["why"]
    result = verify(reports, box.testinfra_host(user="nobody"))
    assert result.ok and result.notes[0].startswith("journal cross-check: not possible (")
    result = verify(reports, box_host)  # the journal is readable, the record was not anchored
    assert result.ok and result.notes[1].startswith("1 record not anchored when written")
    run = last(reports, "preactivation", engine_host=box_host)
    assert run is not None and not run.armed and run.anchored is False
    assert run.reasons[0].startswith("it is not anchored in the engine host's journal (")
    add(reports, journal)  # anchored from here on: the chain holds from this line
    assert verify(reports, box_host).anchored == {"run1"}


def test_anchors_vacuumed_are_stated_not_failed(anchored, box, box_host, journal):
    """What the anchor cannot prove: records older than the journal's reach."""
    box.clear_journal()
    result = verify(anchored, box_host)
    assert result.ok and result.anchored == frozenset()
    assert result.notes[:2] == (
        f"journal cross-check: 0 of 3 records anchored in the journal of {journal.name}",
        "3 older records beyond the journal's reach (vacuumed)",
    )
    # A forged "not anchored" tail then passes verify (nothing anchored to follow), but it
    # arms nothing while the journal can be read.
    forge_append(anchored, {"journal": None, "why": "forged"})
    assert verify(anchored, box_host).ok
    run = last(anchored, "preactivation", engine_host=box_host)
    assert run is not None and not run.armed and run.anchored is False


def test_cli_verify_cross_checks_the_engine_hosts_journal(anchored, box_host, monkeypatch, capsys):
    monkeypatch.setattr(cli.host, "first_of", lambda spec: box_host)
    assert cli.main(["evidence", "verify", "--reports-dir", str(anchored), "--hosts=x"]) == 0
    assert "3 of 3 records anchored" in capsys.readouterr().out
    write_log(anchored, log_lines(anchored)[:-1])
    (anchored / "run2.json").unlink()
    (anchored / "run2.html").unlink()
    (anchored / "run2.junit.xml").unlink()
    assert cli.main(["evidence", "verify", "--reports-dir", str(anchored), "--hosts=x"]) == 1
    assert capsys.readouterr().err.startswith("chain BROKEN at run2: the journal of ")
