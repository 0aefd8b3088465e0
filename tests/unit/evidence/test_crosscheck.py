"""The cross-check where the journal cannot be read (issue 23): records that say they were
anchored are not proven, said plainly and never as "journalctl exited 0"; records that never
were are stated."""

from __future__ import annotations

from pathlib import Path

from shadowgate.evidence.crosscheck import Link, cross_check
from shadowgate.evidence.journal_anchor import Journal
from tests.support.canned_host import canned

NO_JOURNAL = {
    "journalctl -t shadowgate": (0, b"", b""),
    "journalctl -n 0": (0, b"-- No entries --\n", b"No journal files were found.\n"),
}


def links(*anchors: dict) -> list[Link]:
    return [
        Link(n, f"run-{n}", f"{n:064x}", {"run_id": f"run-{n}", "anchor": anchor})
        for n, anchor in enumerate(anchors, 1)
    ]


def test_anchored_records_on_a_machine_without_journal_files_are_not_proven(tmp_path: Path):
    chain = links({"journal": "sdbox"}, {"journal": "sdbox"})
    outcome = cross_check(chain, Journal(canned(NO_JOURNAL)), tmp_path)
    assert outcome.problem == (
        "anchors cannot be checked here: the journal of canned://canned has no files: journald "
        "is not running there (is it booted with systemd?) (reading shadowgate's anchors; "
        "journalctl: No journal files were found.)"
    )
    assert "exited 0" not in outcome.problem and not outcome.read and not outcome.anchored
    assert outcome.notes == (
        "the chain alone holds up: 2 records, each line, record file and report as written; "
        "only the anchors can prove its tail was not rewritten",
        "2 records were anchored in the journal of sdbox: run verify where that journal is "
        "(--hosts); until then verify exits 1",
    )


def test_records_never_anchored_are_stated_not_failed(tmp_path: Path):
    chain = links({"journal": None, "why": "no journal"})
    outcome = cross_check(chain, Journal(canned(NO_JOURNAL)), tmp_path)
    assert outcome.problem == ""
    (note,) = outcome.notes
    assert note.startswith(
        "journal cross-check: not possible (the journal of canned://canned has no files"
    )
    assert note.endswith("; no record says it was anchored")
