"""The decision log must catch every tampering an auditor could ask about, survive concurrent
and killed writers, and read every record it ever held (schema 1 and 2)."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import multiprocessing
import os
import signal
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from shadowgate.evidence import (
    GENESIS,
    LOCK_NAME,
    LOG_NAME,
    SCHEMA,
    EvidenceError,
    RunRecord,
    Verification,
    append_record,
    disk,
    log,
    records,
    run_records,
    verify,
)
from shadowgate.evidence.log import parse_line
from tests.support.evidence_data import (
    NOW,
    P6_PHASES,
    add_run,
    entry,
    flip_byte,
    log_lines,
    make_record,
    write_log,
)

FORK = multiprocessing.get_context("fork")


def assert_chain_ok(reports: Path, count: int) -> None:
    """The chain verifies (alone: no engine host given) and nothing else is stated."""
    assert verify(reports) == Verification(
        True, count, None, "", ("journal cross-check: not done (no engine host given)",)
    )


# -- appending ---------------------------------------------------------------------------------


def test_records_are_chained_canonical_and_mirrored(tmp_path):
    runs = [add_run(tmp_path, finished=NOW + timedelta(minutes=i)) for i in range(3)]
    lines = log_lines(tmp_path)
    assert len(lines) == 3
    previous = GENESIS
    for line, run in zip(lines, runs, strict=True):
        run_id = run.run_id
        record = json.loads(line)
        # the record as given, plus what append_record filled in: files, anchor, previous_sha256
        filled = {"files": record["files"], "anchor": record["anchor"], "previous_sha256": previous}
        assert record == run.to_dict() | filled
        assert record["anchor"]["journal"] is None and record["anchor"]["why"]  # no journal here
        assert record["previous_sha256"] == previous
        assert line == json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        assert line.isascii()
        assert json.loads((tmp_path / f"{run_id}.json").read_text()) == record
        assert record["files"] == {
            "html": f"{run_id}.html",
            "html_sha256": hashlib.sha256((tmp_path / f"{run_id}.html").read_bytes()).hexdigest(),
            "junit": f"{run_id}.junit.xml",
            "junit_sha256": hashlib.sha256(
                (tmp_path / f"{run_id}.junit.xml").read_bytes()
            ).hexdigest(),
        }
        previous = hashlib.sha256(line + b"\n").hexdigest()  # = `sed -n Np LOG | sha256sum`
    assert runs[0].strategy["approved_by"] == "Ana Müller"
    assert json.loads(lines[0])["strategy"]["approved_by"] == "Ana Müller"
    assert_chain_ok(tmp_path, 3)


def test_append_returns_the_record_file_and_allows_runs_without_reports(tmp_path):
    record = make_record("20261126T063000Z-rollback-000001", "rollback")
    path = append_record(tmp_path / "new", record)
    assert path == tmp_path / "new" / "20261126T063000Z-rollback-000001.json"
    assert record.files is None  # the record given is not changed
    assert json.loads(path.read_text())["files"] == {
        "html": None,
        "html_sha256": None,
        "junit": None,
        "junit_sha256": None,
    }
    assert verify(tmp_path / "new").ok


def test_append_refuses_what_it_cannot_record_faithfully(tmp_path):
    add_run(tmp_path, run_id="taken")
    before = (tmp_path / LOG_NAME).read_bytes()
    with pytest.raises(EvidenceError, match="already recorded"):
        add_run(tmp_path, run_id="taken", with_reports=False)
    with pytest.raises(ValueError, match="run_id"):
        append_record(tmp_path, make_record("../escape"))
    with pytest.raises(ValueError, match="run_id"):
        append_record(tmp_path, {"phase": "preactivation"})
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere.html"
    outside.write_text("<html/>")
    with pytest.raises(ValueError, match="outside the reports dir"):
        append_record(tmp_path, make_record("far"), html_path=outside)
    judged = entry()
    nan_entry = replace(judged, verdict=replace(judged.verdict, value=float("nan")))
    nan = make_record("nan-run", checks=[nan_entry])
    with pytest.raises(ValueError):
        append_record(tmp_path, nan)
    assert (tmp_path / LOG_NAME).read_bytes() == before
    assert not (tmp_path / "nan-run.json").exists()
    assert_chain_ok(tmp_path, 1)


def test_failed_record_write_leaves_no_partial_file(tmp_path, monkeypatch):
    add_run(tmp_path)
    before = (tmp_path / LOG_NAME).read_bytes()

    def no_rename(src, dst):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(disk.os, "replace", no_rename)
    with pytest.raises(OSError):
        add_run(tmp_path, run_id="failed")
    monkeypatch.undo()
    assert not (tmp_path / "failed.json").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".pending"))]
    assert (tmp_path / LOG_NAME).read_bytes() == before
    assert verify(tmp_path).ok


def test_failed_log_append_is_undone(tmp_path, monkeypatch):
    add_run(tmp_path)
    before = (tmp_path / LOG_NAME).read_bytes()
    write_all = disk.write_all

    def disk_full_on_log(fd: int, data: bytes) -> None:
        if data.startswith(b'{"'):  # the log line (the record file starts with "{\n")
            os.write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        write_all(fd, data)

    monkeypatch.setattr(disk, "write_all", disk_full_on_log)
    with pytest.raises(OSError, match="No space"):
        add_run(tmp_path, run_id="full")
    monkeypatch.undo()
    assert (tmp_path / LOG_NAME).read_bytes() == before
    assert not (tmp_path / "full.json").exists()
    assert verify(tmp_path).ok


# -- verifying ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damaged", "needle", "problem"),
    [
        ("{}.html", b"report of", "the HTML report {}.html of run {} has changed since the run"),
        ("{}.junit.xml", b"testsuites", "the JUnit report {}.junit.xml of run {} has changed"),
        ("{}.json", b'"oncall"', "the record file {}.json differs from line 2"),
        (LOG_NAME, b"oncall", "the record file {}.json differs from line 2"),
    ],
    ids=["html", "junit", "record", "log-line"],
)
def test_one_byte_changed_anywhere_is_named(tmp_path, damaged, needle, problem):
    runs = [add_run(tmp_path, finished=NOW + timedelta(minutes=i)) for i in range(3)]
    victim = runs[1].run_id
    path = tmp_path / damaged.format(victim)
    if damaged == LOG_NAME:  # one byte inside line 2
        data = bytearray(path.read_bytes())
        at = data.index(needle, data.index(victim.encode()))
        data[at] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        flip_byte(path, needle)
    result = verify(tmp_path)
    assert not result.ok
    assert result.first_bad == f"{victim} (line 2)"
    assert problem.format(victim, victim) in result.problem


def test_a_log_line_broken_or_reformatted_is_named(tmp_path):
    runs = [add_run(tmp_path) for _ in range(3)]
    lines = log_lines(tmp_path)
    write_log(tmp_path, [lines[0], lines[1].replace(b'"phase":', b'"phase": '), lines[2]])
    result = verify(tmp_path)
    assert (result.first_bad, result.records) == (f"{runs[1].run_id} (line 2)", 3)
    assert "not byte for byte what shadowgate wrote" in result.problem
    write_log(tmp_path, [lines[0], lines[1][:-1], lines[2]])
    result = verify(tmp_path)
    assert result.first_bad == "line 2"
    assert "not valid JSON" in result.problem


def test_a_removed_record_is_named(tmp_path):
    runs = [add_run(tmp_path) for _ in range(3)]
    lines = log_lines(tmp_path)
    write_log(tmp_path, [lines[0], lines[2]])
    result = verify(tmp_path)
    assert result.first_bad == f"{runs[2].run_id} (line 2)"
    assert "does not follow line 1" in result.problem
    assert "removed, inserted or reordered" in result.problem


def test_a_removed_first_record_is_named(tmp_path):
    runs = [add_run(tmp_path) for _ in range(2)]
    write_log(tmp_path, log_lines(tmp_path)[1:])
    result = verify(tmp_path)
    assert result.first_bad == f"{runs[1].run_id} (line 1)"
    assert "the records before it were removed" in result.problem


def test_a_removed_last_record_is_named_by_its_record_file(tmp_path):
    runs = [add_run(tmp_path) for _ in range(2)]
    write_log(tmp_path, log_lines(tmp_path)[:1])
    result = verify(tmp_path)
    assert result.first_bad == runs[1].run_id
    assert f"{runs[1].run_id}.json is not in {LOG_NAME}: its line was removed" in result.problem


def test_two_reordered_records_are_named(tmp_path):
    runs = [add_run(tmp_path) for _ in range(3)]
    lines = log_lines(tmp_path)
    write_log(tmp_path, [lines[0], lines[2], lines[1]])
    result = verify(tmp_path)
    assert result.first_bad == f"{runs[2].run_id} (line 2)"
    assert "reordered" in result.problem


def test_a_copied_record_is_named(tmp_path):
    runs = [add_run(tmp_path) for _ in range(2)]
    lines = log_lines(tmp_path)
    write_log(tmp_path, [*lines, lines[0]])
    result = verify(tmp_path)
    assert result.first_bad == f"{runs[0].run_id} (line 3)"
    assert "recorded twice (lines 1 and 3)" in result.problem


def test_missing_files_are_named(tmp_path):
    runs = [add_run(tmp_path) for _ in range(2)]
    (tmp_path / f"{runs[0].run_id}.junit.xml").unlink()
    result = verify(tmp_path)
    assert result.first_bad == f"{runs[0].run_id} (line 1)"
    assert f"the JUnit report {runs[0].run_id}.junit.xml" in result.problem
    assert result.problem.endswith("is missing")
    (tmp_path / f"{runs[0].run_id}.json").unlink()
    assert verify(tmp_path).problem == f"the record file {runs[0].run_id}.json of run " + (
        f"{runs[0].run_id} is missing"
    )


def test_no_records_is_nothing_to_trust(tmp_path):
    assert verify(tmp_path / "absent") == Verification(
        False, 0, None, f"no records: {tmp_path / 'absent'} does not exist"
    )
    result = verify(tmp_path)
    assert (result.ok, result.records, result.first_bad) == (False, 0, None)
    assert "no records" in result.problem


def test_a_line_cut_short_is_reported_then_cut_off_by_the_next_append(tmp_path):
    add_run(tmp_path)
    with (tmp_path / LOG_NAME).open("ab") as log:
        log.write(b'{"run_id":"torn","pha')
    result = verify(tmp_path)
    assert (result.ok, result.records, result.first_bad) == (False, 2, "line 2")
    assert "cut short" in result.problem
    add_run(tmp_path)
    assert_chain_ok(tmp_path, 2)


# -- concurrency and dead writers --------------------------------------------------------------


def _append_many(reports: str, worker: int, count: int) -> None:
    for i in range(count):
        add_run(Path(reports), run_id=f"worker{worker}-{i}", with_reports=i % 2 == 0)


def _verify_until(reports: str, done, problems) -> None:
    """Readers running during appends must never see an append half done."""
    while not done.is_set():
        result = verify(Path(reports))
        if not result.ok and result.records:
            problems.put(result.describe())
            return


def test_concurrent_appends_keep_the_chain(tmp_path):
    done, problems = FORK.Event(), FORK.Queue()
    reader = FORK.Process(target=_verify_until, args=(str(tmp_path), done, problems))
    reader.start()
    workers = [FORK.Process(target=_append_many, args=(str(tmp_path), w, 15)) for w in range(5)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    done.set()
    reader.join(60)
    assert problems.empty()
    assert_chain_ok(tmp_path, 75)
    assert len({json.loads(line)["run_id"] for line in log_lines(tmp_path)}) == 75


def _killed_mid_append(reports: str, holding) -> None:
    """Take the lock, write the record file and half the log line, then hang."""

    def write_half_and_hang(log_path: Path, line: bytes) -> None:
        with log_path.open("ab") as log:
            log.write(line[: len(line) // 2])
        holding.set()
        time.sleep(600)

    log.append_line = write_half_and_hang
    add_run(Path(reports), run_id="killed")


def test_a_writer_killed_holding_the_lock_blocks_nobody(tmp_path):
    add_run(tmp_path, run_id="before")
    holding = FORK.Event()
    writer = FORK.Process(target=_killed_mid_append, args=(str(tmp_path), holding))
    writer.start()
    assert holding.wait(30)
    os.kill(writer.pid, signal.SIGKILL)
    writer.join(10)
    started = time.monotonic()
    add_run(tmp_path, run_id="after")
    assert time.monotonic() - started < disk.LOCK_TIMEOUT_S / 2
    # The half line was cut off and the killed run's pending record file removed: it was never
    # recorded. Only its reports are left, and verify states them: they arm nothing.
    assert not list(tmp_path.glob(".*.pending"))
    result = verify(tmp_path)
    assert result.ok, result.problem
    assert result.notes[-1].startswith("2 reports no record names (killed.html, killed.junit.xml)")
    for name in ("killed.html", "killed.junit.xml"):
        (tmp_path / name).rename(tmp_path / f"{name}.aside")
    assert_chain_ok(tmp_path, 2)


def test_a_live_lock_holder_is_named_not_waited_for(tmp_path, monkeypatch):
    add_run(tmp_path)
    monkeypatch.setattr(disk, "LOCK_TIMEOUT_S", 0.2)
    with (tmp_path / LOCK_NAME).open("r+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        with pytest.raises(EvidenceError, match=r"locked by pid 4242 for 0.2 s"):
            add_run(tmp_path)
        result = verify(tmp_path)
        assert not result.ok
        assert "locked by pid 4242" in result.problem


# -- schemas -----------------------------------------------------------------------------------


def test_records_without_a_schema_still_verify_and_read_back(tmp_path):
    """Lines written before records had `schema` and checks their `phases`: an audit format
    only grows, so every old log keeps verifying and being read."""
    old = add_run(tmp_path, old=True, finished=NOW - timedelta(minutes=2))
    new = add_run(tmp_path, checks=[entry("P6", P6_PHASES)], finished=NOW)
    (first, second) = (json.loads(line) for line in log_lines(tmp_path))
    assert "schema" not in first and "phases" not in first["checks"][0] and "facts" not in first
    assert second["schema"] == SCHEMA and second["checks"][0]["phases"] == list(P6_PHASES)
    assert_chain_ok(tmp_path, 2)
    read_old, read_new = run_records(tmp_path)
    assert (read_old.schema, read_old.checks[0].phases) == (1, ())
    assert read_old.run_id == old.run_id and read_old.checks[0].verdict.measured == "1210 bytes"
    assert read_new.checks[0].phases == P6_PHASES
    assert replace(read_new, files=None, previous_sha256=None, anchor=None) == new


def test_lines_that_are_not_run_records_are_kept_but_not_read_as_runs(tmp_path):
    """The chain holds any JSON object with a run_id (the actions' records, later)."""
    add_run(tmp_path, run_id="a-run")
    append_record(tmp_path, {"run_id": "an-action", "action": "rollback", "steps": []})
    assert verify(tmp_path).ok
    assert [r["run_id"] for r in records(tmp_path)] == ["a-run", "an-action"]
    assert [r.run_id for r in run_records(tmp_path)] == ["a-run"]
    assert isinstance(run_records(tmp_path)[0], RunRecord)


def test_a_log_line_is_parsed_within_bounds():
    """64 levels parse, 65 are one ValueError; brackets inside strings do not count."""
    assert parse_line(b"[" * 64 + b"]" * 64) is not None
    with pytest.raises(ValueError, match=r"^nested deeper than 64 levels$"):
        parse_line(b"[" * 65 + b"]" * 65)
    assert parse_line(b'{"a": "[\\"' + b"[" * 1000 + b'"}') == {"a": '["' + "[" * 1000}
    with pytest.raises(ValueError, match=r"^not valid JSON$"):
        parse_line(b"{not json")
