"""Run records, the hash-chained decision log, and "has PHASE just passed?".

The actions (activate, rollback) trust nothing but this module's answer, and an auditor trusts
nothing but what `verify` can recompute, so every run leaves, under the reports dir:

    <run_id>.json         the run's record (indented JSON, rendered from its log line)
    <run_id>.html         the pytest-html report      (optional; its sha256 is in the record)
    <run_id>.junit.xml    the JUnit XML report        (optional; its sha256 is in the record)
    decision-log.jsonl    every record, one canonical JSON line each, in the order they were
                          appended; each names the sha256 of the line before it
    decision-log.lock     the lock file appends (exclusive) and reads (shared) flock

An auditor can recheck the chain with shell tools alone: `sed -n Np decision-log.jsonl |
sha256sum` is the `previous_sha256` of line N+1 (the line's bytes including its "\\n"; line 1
names "0" * 64), and `sha256sum <run_id>.html` is the record's `files.html_sha256`.

The record (written by the plugin; `append_record` adds `files` and `previous_sha256`):

    run_id              sortable, unique (`new_run_id`); also the stem of the run's files
    phase               the single phase marker the run selected (`-m preactivation`), or null
    markexpr, keyword   the run's `-m` and `-k` expressions as given
    started_at          ISO-8601 UTC with "Z" (`iso_utc`)
    finished_at         ISO-8601 UTC with "Z": freshness is measured from here
    operator            who ran it ($SUDO_USER / $USER, or --operator)
    target              Target.describe(): redis_url (no password), stream, outcomes_stream,
                        unit, env_file, model
    thresholds_digest   Thresholds.digest() of the effective thresholds
    overrides           the --set overrides {key: value}
    suite_version       shadowgate.__version__
    strategy            {approved_by, weight, confidence_cap, observation_hours}
    checks              [{nodeid, id, outcome, status, measured, value, threshold, sample,
                          window, section, detail, evidence}] (Verdict.as_record() + pytest's
                          nodeid and outcome)
    complete            true only if every required check of the phase ran (no -k, nothing
                        deselected or skipped that is required)
    incomplete_reasons  [str], why it is not complete
    passed              true only if the run passed
    decision            "GO" / "NO-GO" (preactivation), "OK" / "STOP" (other phases), or null
    causes              [str], the NO-GO / STOP causes in operator words
    files               {html, html_sha256, junit, junit_sha256}: names relative to the
                        reports dir, null where the run had no such report
    previous_sha256     sha256 of the previous log line ("0" * 64 for the first record)

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
import fcntl
import hashlib
import json
import math
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOG_NAME = "decision-log.jsonl"
LOCK_NAME = "decision-log.lock"
GENESIS = "0" * 64
LOCK_TIMEOUT_S = 10.0  # an append takes milliseconds; rollback's budget is 60 s
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_FILE_KINDS = (("html", "HTML report"), ("junit", "JUnit report"))


class EvidenceError(RuntimeError):
    """The decision log cannot take or give a record right now; the message says why."""


# -- names and times ---------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"time must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """A time as records store it: 2026-11-26T06:30:00Z."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(phase: str | None, now: datetime) -> str:
    """`20261126T063000Z-preactivation-1a2b3c`: sorts by start time, random tail for uniqueness."""
    label = re.sub(r"[^A-Za-z0-9_]+", "-", phase or "").strip("-") or "run"
    return f"{_utc(now):%Y%m%dT%H%M%SZ}-{label}-{secrets.token_hex(3)}"


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(abs(seconds)), 60)
    if minutes == 0:
        return f"{secs} s"
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


# -- bytes on disk -----------------------------------------------------------------------------


def canonical(record: Mapping[str, Any]) -> bytes:
    """The record as one log line (without its "\\n"): sorted keys, compact, ASCII."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _rendered(record: Mapping[str, Any]) -> bytes:
    """The record as `<run_id>.json`: the same content, indented for people."""
    return json.dumps(record, sort_keys=True, indent=2, allow_nan=False).encode() + b"\n"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never a part (tmp, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _append_line(log_path: Path, line: bytes) -> None:
    """Append one line durably; on any error cut the log back to where it was."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            _write_all(fd, line)
            os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)
    if size == 0:
        _fsync_dir(log_path.parent)


def _holder(lock_path: Path) -> str:
    with contextlib.suppress(OSError):
        pid = lock_path.read_text().strip()
        if pid.isdigit():
            return f"pid {pid}"
    return "another process"


@contextlib.contextmanager
def _locked(reports_dir: Path, exclusive: bool) -> Iterator[None]:
    """flock on the lock file: released by the kernel when its holder dies, however it dies.

    Readers take it shared, so they never see an append half done; a reports dir they may not
    write to (an archive handed to an auditor) is read without it, nobody appends there.
    """
    lock_path = reports_dir / LOCK_NAME
    try:
        fd = os.open(lock_path, (os.O_RDWR if exclusive else os.O_RDONLY) | os.O_CREAT, 0o644)
    except OSError:
        if exclusive:
            raise
        fd = None
    if fd is None:
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EvidenceError(
                        f"the decision log in {reports_dir} has been locked by "
                        f"{_holder(lock_path)} for {LOCK_TIMEOUT_S:g} s; it is alive (a dead "
                        "process holds no lock): find out what it is doing"
                    ) from None
                time.sleep(0.02)
        if exclusive:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


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
    return {kind: name, f"{kind}_sha256": _sha256_file(path)}


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
    return _sha256(data[data.rfind(b"\n", 0, end - 1) + 1 : end])


def append_record(
    reports_dir: Path,
    record: dict,
    html_path: Path | None = None,
    junit_path: Path | None = None,
) -> Path:
    """Record a finished run: hash its reports, chain it to the log, write `<run_id>.json`.

    The reports must be final (their sha256 is taken here) and inside `reports_dir`.
    `record` gains `files` and `previous_sha256`. Returns the path of `<run_id>.json`.
    """
    reports_dir = Path(reports_dir)
    run_id = record.get("run_id")
    if not isinstance(run_id, str) or not _SAFE_NAME.fullmatch(run_id):
        raise ValueError(f"record needs a run_id usable as a file name, got {run_id!r}")
    reports_dir.mkdir(parents=True, exist_ok=True)
    record["files"] = _file_entry("html", reports_dir, html_path) | _file_entry(
        "junit", reports_dir, junit_path
    )
    json_path = reports_dir / f"{run_id}.json"
    log_path = reports_dir / LOG_NAME
    with _locked(reports_dir, exclusive=True):
        if json_path.exists():
            raise EvidenceError(f"run {run_id} is already recorded in {json_path}")
        record["previous_sha256"] = _chain_head(log_path)
        line = canonical(record) + b"\n"
        _write_atomic(json_path, _rendered(record))
        try:
            _append_line(log_path, line)
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


def records(reports_dir: Path) -> list[dict]:
    """Every readable record of the log, oldest first (unreadable lines are skipped:
    `verify` is what judges the log)."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return []
    with _locked(reports_dir, exclusive=False):
        lines, _ = _log_lines(reports_dir)
    found = []
    for raw in lines:
        with contextlib.suppress(ValueError):
            record = json.loads(raw)
            if isinstance(record, dict):
                found.append(record)
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
        actual = _sha256_file(path)
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
        previous = _sha256(raw + b"\n")
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
        with _locked(reports_dir, exclusive=False):
            lines, tail = _log_lines(reports_dir)
            names = sorted(path.name for path in reports_dir.glob("*.json"))
    except EvidenceError as exc:
        return Verification(False, 0, None, str(exc))
    return _verify(reports_dir, lines, tail, names)


# -- judging the latest run of a phase ----------------------------------------------------------


@dataclass
class LastRun:
    """The latest record of a phase, and whether it arms an action."""

    record: dict
    path: Path
    age_s: float
    fresh: bool
    complete: bool
    passed: bool
    chain_ok: bool
    same_target: bool | None  # None: not compared
    same_thresholds: bool | None  # None: not compared
    reasons: list[str]  # every reason it does not arm an action

    @property
    def armed(self) -> bool:
        return (
            self.fresh
            and self.complete
            and self.passed
            and self.chain_ok
            and self.same_target is not False
            and self.same_thresholds is not False
        )

    def describe(self) -> str:
        rec = self.record
        age = "unknown time ago" if math.isinf(self.age_s) else f"{_duration(self.age_s)} ago"
        if self.age_s < 0:
            age = f"{_duration(self.age_s)} in the future"
        head = (
            f"The latest {rec.get('phase')} record is run {rec.get('run_id')} ({self.path}), "
            f"finished {rec.get('finished_at')} ({age}), decision {rec.get('decision')}."
        )
        if self.armed:
            unchecked = [
                name
                for name, same in (
                    ("target", self.same_target),
                    ("thresholds", self.same_thresholds),
                )
                if same is None
            ]
            note = f" ({' and '.join(unchecked)} not compared)" if unchecked else ""
            return f"{head} It arms the action: fresh, complete, passed, chain verified{note}."
        return f"{head} It does not arm the action: {'; '.join(self.reasons)}."


def _target_diff(recorded: object, expected: Mapping[str, Any]) -> str:
    if not isinstance(recorded, dict):
        return f"the record names no target (expected {dict(expected)})"
    keys = sorted(set(recorded) | set(expected))
    return ", ".join(
        f"{key} {recorded.get(key)!r} in the record, {expected.get(key)!r} now"
        for key in keys
        if recorded.get(key) != expected.get(key)
    )


def last(
    reports_dir: Path,
    phase: str,
    *,
    now: datetime | None = None,
    fresh_minutes: float = 15.0,
    target: dict | None = None,
    thresholds_digest: str | None = None,
) -> LastRun | None:
    """The latest record of `phase` in log order (a later failing run supersedes an earlier
    passing one), judged as an action must: fresh, complete, passed, chain verified, and
    the same target / thresholds where given. None if the phase was never recorded."""
    reports_dir = Path(reports_dir)
    record = next((r for r in reversed(records(reports_dir)) if r.get("phase") == phase), None)
    if record is None:
        return None
    now = _utc(now) if now is not None else datetime.now(UTC)
    reasons: list[str] = []

    passed = record.get("passed") is True
    if not passed:
        causes = record.get("causes") or []
        why = f": {'; '.join(map(str, causes))}" if causes else ""
        reasons.append(f"the run did not pass (decision {record.get('decision')}){why}")
    complete = record.get("complete") is True
    if not complete:
        why = "; ".join(map(str, record.get("incomplete_reasons") or [])) or "no reason recorded"
        reasons.append(f"the run was incomplete ({why})")

    finished = _parse_time(record.get("finished_at"))
    age_s = math.inf if finished is None else (now - finished).total_seconds()
    fresh = 0 <= age_s <= fresh_minutes * 60
    if finished is None:
        reasons.append(f"its finish time {record.get('finished_at')!r} is not an ISO-8601 UTC time")
    elif age_s < 0:
        reasons.append(
            f"it finished {_duration(age_s)} in the future: the clock moved, do not trust it"
        )
    elif not fresh:
        reasons.append(
            f"it is stale: finished {_duration(age_s)} ago, the limit is {fresh_minutes:g} min "
            f"(run `pytest -m {phase}` again)"
        )

    same_target = None if target is None else record.get("target") == target
    if same_target is False:
        reasons.append(f"it checked another target: {_target_diff(record.get('target'), target)}")
    same_thresholds = (
        None if thresholds_digest is None else record.get("thresholds_digest") == thresholds_digest
    )
    if same_thresholds is False:
        overrides = record.get("overrides") or {}
        reasons.append(
            f"it ran with other thresholds (digest {str(record.get('thresholds_digest'))[:12]}... "
            f"in the record, {thresholds_digest[:12]}... now; its overrides: {overrides or 'none'})"
        )

    chain = verify(reports_dir)
    if not chain.ok:
        reasons.append(f"the decision log does not verify: {chain.describe()}")

    return LastRun(
        record=record,
        path=reports_dir / f"{record.get('run_id')}.json",
        age_s=age_s,
        fresh=fresh,
        complete=complete,
        passed=passed,
        chain_ok=chain.ok,
        same_target=same_target,
        same_thresholds=same_thresholds,
        reasons=reasons,
    )
