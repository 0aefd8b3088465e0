"""The decision log: every record, hash-chained, and `verify`, which recomputes the chain.

The actions trust nothing but what this log holds, and an auditor nothing but what `verify` can
recompute, so every recorded run leaves, under the reports dir:

    <run_id>.json         the record (indented JSON, rendered from its log line)
    <run_id>.html         the pytest-html report      (optional; its sha256 is in the record)
    <run_id>.junit.xml    the JUnit XML report        (optional; its sha256 is in the record)
    decision-log.jsonl    every record, one canonical JSON line each, in the order they were
                          appended; each names the sha256 of the line before it
    decision-log.lock     the lock file appends (exclusive) and reads (shared) flock

An auditor can recheck the chain with shell tools alone: `sed -n Np decision-log.jsonl |
sha256sum` is the `previous_sha256` of line N+1 (the line's bytes including its "\\n"; line 1
names "0" * 64), and `sha256sum <run_id>.html` is the record's `files.html_sha256`.

The chain is blind to what a record says: it holds run records (`RunRecord`) and whatever
else is appended as a JSON object with a `run_id`; `verify` accepts every schema.

Decisions an operator or auditor should know:
- Records are strict JSON (no NaN, nothing but JSON types); anything else is refused before a
  byte is written. Lines are ASCII (non-ASCII is \\u-escaped), so no byte of a record can end a
  line or fail to decode.
- A lock held by a dead process never blocks anyone: flock dies with its process. A live
  process holding it longer than LOCK_TIMEOUT_S is reported by pid instead of waited for.
- An append writes `<run_id>.json` first, then the log line. A failure in between removes
  the record file and cuts the log back, so nothing half-written remains. A process killed
  in that instant leaves a record file that is not in the log; `verify` reports it, because
  it cannot be told apart from a removed last line (move the file aside if the run was killed).
  A log line cut short by such a kill is not a record: the next append cuts it off.
- An empty or missing decision log does not verify: there is nothing to trust.
- The chain proves order and integrity, not existence: someone who removes the last line, its
  record file and its reports together leaves a shorter valid chain. Archive the log elsewhere
  to guard against that.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadowgate.evidence.disk import (
    EvidenceError,
    append_line,
    locked,
    sha256,
    sha256_file,
    write_atomic,
)
from shadowgate.evidence.record import RunRecord

LOG_NAME = "decision-log.jsonl"
GENESIS = "0" * 64
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_FILE_KINDS = (("html", "HTML report"), ("junit", "JUnit report"))


# -- the bytes of a record -------------------------------------------------------------------


def canonical(record: Mapping[str, Any]) -> bytes:
    """The record as one log line (without its "\\n"): sorted keys, compact, ASCII."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _rendered(record: Mapping[str, Any]) -> bytes:
    """The record as `<run_id>.json`: the same content, indented for people."""
    return json.dumps(record, sort_keys=True, indent=2, allow_nan=False).encode() + b"\n"


# -- writing -----------------------------------------------------------------------------------


def _file_entry(kind: str, reports_dir: Path, path: Path | None) -> dict[str, str | None]:
    if path is None:
        return {kind: None, f"{kind}_sha256": None}
    path = Path(path)
    try:
        name = path.resolve().relative_to(reports_dir.resolve()).as_posix()
    except ValueError:
        raise ValueError(
            f"{kind} report {path} is outside the reports dir {reports_dir}: "
            "it must be archived beside its record"
        ) from None
    return {kind: name, f"{kind}_sha256": sha256_file(path)}


def _chain_head(log_path: Path) -> str:
    """sha256 of the last complete line; a fragment after it (an append killed mid-write,
    never a record) is cut off so the next line starts clean."""
    try:
        data = log_path.read_bytes()
    except FileNotFoundError:
        return GENESIS
    end = data.rfind(b"\n") + 1
    if end < len(data):
        os.truncate(log_path, end)
    if end == 0:
        return GENESIS
    return sha256(data[data.rfind(b"\n", 0, end - 1) + 1 : end])


def append_record(
    reports_dir: Path,
    record: RunRecord | Mapping[str, Any],
    html_path: Path | None = None,
    junit_path: Path | None = None,
) -> Path:
    """Record a finished run: hash its reports, chain it to the log, write `<run_id>.json`.

    The reports must be final (their sha256 is taken here) and inside `reports_dir`. What is
    written is `record` plus `files` and `previous_sha256` (a plain mapping is taken as is: the
    chain holds any JSON object with a `run_id`). Returns the path of `<run_id>.json`.
    """
    reports_dir = Path(reports_dir)
    entry = record.to_dict() if isinstance(record, RunRecord) else dict(record)
    run_id = entry.get("run_id")
    if not isinstance(run_id, str) or not _SAFE_NAME.fullmatch(run_id):
        raise ValueError(f"record needs a run_id usable as a file name, got {run_id!r}")
    reports_dir.mkdir(parents=True, exist_ok=True)
    entry["files"] = _file_entry("html", reports_dir, html_path) | _file_entry(
        "junit", reports_dir, junit_path
    )
    json_path = reports_dir / f"{run_id}.json"
    log_path = reports_dir / LOG_NAME
    with locked(reports_dir, exclusive=True):
        if json_path.exists():
            raise EvidenceError(f"run {run_id} is already recorded in {json_path}")
        entry["previous_sha256"] = _chain_head(log_path)
        line = canonical(entry) + b"\n"
        write_atomic(json_path, _rendered(entry))
        try:
            append_line(log_path, line)
        except BaseException:
            json_path.unlink(missing_ok=True)
            raise
    return json_path


# -- reading -----------------------------------------------------------------------------------


def _log_lines(reports_dir: Path) -> tuple[list[bytes], bytes]:
    """Complete lines (without "\\n") and whatever follows the last line end."""
    try:
        data = (reports_dir / LOG_NAME).read_bytes()
    except FileNotFoundError:
        return [], b""
    lines = data.split(b"\n")
    tail = lines.pop()
    return lines, tail


def records(reports_dir: Path) -> list[dict[str, Any]]:
    """Every readable line of the log as JSON, oldest first (unreadable lines are skipped:
    `verify` is what judges the log)."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return []
    with locked(reports_dir, exclusive=False):
        lines, _ = _log_lines(reports_dir)
    found = []
    for raw in lines:
        with contextlib.suppress(ValueError):
            record = json.loads(raw)
            if isinstance(record, dict):
                found.append(record)
    return found


def run_records(reports_dir: Path) -> list[RunRecord]:
    """Every run record of the log, any schema, oldest first; other lines are skipped."""
    found = []
    for data in records(reports_dir):
        with contextlib.suppress(ValueError):
            found.append(RunRecord.from_dict(data))
    return found


@dataclass(frozen=True)
class Verification:
    """What `verify` found: ok, or the first bad record and what is wrong with it."""

    ok: bool
    records: int  # lines in the log (complete or not)
    first_bad: str | None  # "<run_id> (line N)", "line N", or "<run_id>" for a stray file
    problem: str  # one operator sentence; "" when ok

    def describe(self) -> str:
        if self.ok:
            return f"chain OK: {self.records} records"
        if self.first_bad is None:
            return self.problem
        return f"chain BROKEN at {self.first_bad}: {self.problem}"


def _check_files(reports_dir: Path, run_id: str, files: object) -> str | None:
    if not isinstance(files, dict):
        return f"run {run_id} has no 'files' entry: it is not a record shadowgate wrote"
    root = reports_dir.resolve()
    for kind, label in _FILE_KINDS:
        name, recorded = files.get(kind), files.get(f"{kind}_sha256")
        if name is None:
            continue
        path = reports_dir / str(name)
        if not path.resolve().is_relative_to(root):
            return f"the {label} of run {run_id} is recorded as {name!r}, outside the reports dir"
        if not path.is_file():
            return f"the {label} {name} of run {run_id} is missing"
        actual = sha256_file(path)
        if actual != recorded:
            return (
                f"the {label} {name} of run {run_id} has changed since the run "
                f"(sha256 recorded {str(recorded)[:12]}..., now {actual[:12]}...)"
            )
    return None


def _check_line(
    reports_dir: Path, number: int, raw: bytes, previous: str, seen: dict[str, int]
) -> tuple[str | None, str | None]:
    """(problem, run_id) of one log line; problem is None when the line holds up."""
    if not raw:
        return f"line {number} of {LOG_NAME} is empty: the log was edited", None
    try:
        record = json.loads(raw)
    except ValueError:
        return f"line {number} of {LOG_NAME} is not valid JSON: the log was edited or damaged", None
    run_id = record.get("run_id") if isinstance(record, dict) else None
    if not isinstance(run_id, str) or not _SAFE_NAME.fullmatch(run_id):
        return f"line {number} of {LOG_NAME} is not a run record (no usable run_id)", None
    try:
        as_written = canonical(record) == raw
    except ValueError:  # NaN or Infinity: never written by append_record
        as_written = False
    if not as_written:
        return f"line {number} is not byte for byte what shadowgate wrote: it was edited", run_id
    if run_id in seen:
        return f"run {run_id} is recorded twice (lines {seen[run_id]} and {number})", run_id
    seen[run_id] = number
    json_path = reports_dir / f"{run_id}.json"
    if not json_path.is_file():
        return f"the record file {json_path.name} of run {run_id} is missing", run_id
    if json_path.read_bytes() != _rendered(record):
        return (
            f"the record file {json_path.name} differs from line {number} of {LOG_NAME}: "
            "one of them was changed after the run"
        ), run_id
    problem = _check_files(reports_dir, run_id, record.get("files"))
    if problem is None and record.get("previous_sha256") != previous:
        if number == 1:
            problem = (
                f"run {run_id} is the first line but does not open the chain: "
                "the records before it were removed"
            )
        else:
            problem = (
                f"run {run_id} does not follow line {number - 1} in the hash chain: a record "
                f"was removed, inserted or reordered before it, or line {number - 1} was changed"
            )
    return problem, run_id


def _stray_record(reports_dir: Path, names: list[str], seen: Mapping[str, int]) -> Path | None:
    """A `<run_id>.json` record file whose line is not in the log."""
    for name in names:
        path = reports_dir / name
        if path.stem in seen:
            continue
        try:
            record = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("run_id") == path.stem:
            return path
    return None


def _verify(reports_dir: Path, lines: list[bytes], tail: bytes, names: list[str]) -> Verification:
    count = len(lines) + (1 if tail else 0)
    seen: dict[str, int] = {}
    previous = GENESIS
    for number, raw in enumerate(lines, 1):
        problem, run_id = _check_line(reports_dir, number, raw, previous, seen)
        if problem is not None:
            where = f"{run_id} (line {number})" if run_id else f"line {number}"
            return Verification(False, count, where, problem)
        previous = sha256(raw + b"\n")
    if tail:
        return Verification(
            False,
            count,
            f"line {count}",
            f"the last line of {LOG_NAME} is cut short: an append was interrupted; "
            "the next run's record cuts it off",
        )
    stray = _stray_record(reports_dir, names, seen)
    if stray is not None:
        return Verification(
            False,
            count,
            stray.stem,
            f"the record file {stray.name} is not in {LOG_NAME}: its line was removed, or "
            "the run was killed while recording it (then move the file out of the reports dir)",
        )
    if not lines:
        return Verification(
            False, 0, None, f"no records in {reports_dir}: {LOG_NAME} is missing or empty"
        )
    return Verification(True, count, None, "")


def verify(reports_dir: Path) -> Verification:
    """Walk the whole log: every line parses and is canonical, chains to the line before,
    matches its `<run_id>.json`, and its reports still have their recorded sha256; no record
    file lies outside the log. Stops at the first problem."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return Verification(False, 0, None, f"no records: {reports_dir} does not exist")
    try:
        # A consistent snapshot (no append half done) under the lock; the slow part, hashing
        # the reports, after it, so appends never wait for a verify. Appends only add files.
        with locked(reports_dir, exclusive=False):
            lines, tail = _log_lines(reports_dir)
            names = sorted(path.name for path in reports_dir.glob("*.json"))
    except EvidenceError as exc:
        return Verification(False, 0, None, str(exc))
    return _verify(reports_dir, lines, tail, names)
