"""Nothing planted in the reports dir redirects a write or a read: a symlink (or a FIFO) as the
lock, the log, a record or a report is refused with one line, and the file it points at is
left as it was; readers never create a file."""

from __future__ import annotations

import os

import pytest

from shadowgate.evidence import LOCK_NAME, LOG_NAME, EvidenceError, records, verify
from tests.support.evidence_data import add_run

VICTIM = b"root:x:0:0:root:/root:/bin/bash\n"


def planted(reports, name: str, target) -> str:
    """`name` in the reports dir made a symlink to `target`; the line that refuses it."""
    link = reports / name
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    return (
        f"{link} is a symlink (to {target}): shadowgate never follows one in the reports dir; "
        "remove it and find out who made it"
    )


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "passwd"
    path.write_bytes(VICTIM)
    return path


@pytest.mark.parametrize("name", [LOCK_NAME, LOG_NAME])
def test_a_run_does_not_write_through_a_planted_symlink(tmp_path, victim, name):
    reports = tmp_path / "reports"
    add_run(reports)
    before = (reports / LOG_NAME).read_bytes()
    refusal = planted(reports, name, victim)
    with pytest.raises(EvidenceError) as refused:
        add_run(reports)
    assert str(refused.value) == refusal
    assert victim.read_bytes() == VICTIM  # not truncated, no pid written, nothing appended
    if name == LOCK_NAME:
        assert (reports / LOG_NAME).read_bytes() == before
    result = verify(reports)
    assert (result.ok, result.first_bad, result.problem) == (False, None, refusal)
    assert victim.read_bytes() == VICTIM


def test_verify_creates_nothing_through_a_dangling_lock_symlink(tmp_path):
    reports = tmp_path / "reports"
    add_run(reports)
    refusal = planted(reports, LOCK_NAME, tmp_path / "created")
    assert verify(reports).problem == refusal
    with pytest.raises(EvidenceError, match="is a symlink"):
        records(reports)
    assert not (tmp_path / "created").exists()


def test_readers_never_create_the_lock(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    assert not verify(reports).ok and records(reports) == []
    assert os.listdir(reports) == []


def test_a_fifo_as_the_lock_is_refused_not_waited_on(tmp_path):
    reports = tmp_path / "reports"
    add_run(reports)
    (reports / LOCK_NAME).unlink()
    os.mkfifo(reports / LOCK_NAME)
    with pytest.raises(EvidenceError, match=r"is not a regular file .* out of the reports dir"):
        add_run(reports)
    assert "is not a regular file" in verify(reports).problem


@pytest.mark.parametrize(
    ("suffix", "what"), [(".json", "the record file"), (".html", "the HTML report")]
)
def test_a_record_or_report_swapped_for_a_symlink_fails_verify(tmp_path, suffix, what):
    """Even to a byte-identical copy in the reports dir: records name regular files."""
    reports = tmp_path / "reports"
    run = add_run(reports)
    name = f"{run.run_id}{suffix}"
    (reports / "aside").mkdir()
    copy = reports / "aside" / f"copy{suffix}"
    copy.write_bytes((reports / name).read_bytes())
    refusal = planted(reports, name, copy)
    result = verify(reports)
    assert result.first_bad == f"{run.run_id} (line 1)"
    assert result.problem == f"{what} of run {run.run_id} cannot be read: {refusal}"


def test_reports_no_record_names_are_stated_not_failed(tmp_path):
    reports = tmp_path / "reports"
    add_run(reports)
    (reports / "killed-run.html").write_text("<html>half</html>")
    (reports / "killed-run.junit.xml").write_text("<testsuites/>")
    result = verify(reports)
    assert result.ok
    assert result.notes[-1] == (
        "2 reports no record names (killed-run.html, killed-run.junit.xml): runs killed or not "
        "recorded; they arm nothing (move them out of the reports dir)"
    )
