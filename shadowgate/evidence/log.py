"""The decision log: every record, hash-chained, and `verify`, which recomputes the chain.

The actions trust nothing but what this log holds, and an auditor nothing but what `verify` can
recompute, so every recorded run leaves, under the reports dir:

    <run_id>.json         the record (indented JSON, rendered from its log line)
    <run_id>.html         the pytest-html report      (optional; its sha256 is in the record)
    <run_id>.junit.xml    the JUnit XML report        (optional; its sha256 is in the record)
    decision-log.jsonl    every record, one canonical JSON line each, in the order they were
                          appended; each names the sha256 of the line before it
    decision-log.lock     the lock file appends (exclusive) and reads (shared) flock

and, outside it, in the journal of the engine host (journal_anchor.py), one line per record:

    anchor v1 run_id=RUN sha256=LINE_SHA previous_sha256=PREV_SHA reports_dir=/abs/reports

An auditor can recheck the chain with shell tools alone: `sed -n Np decision-log.jsonl |
sha256sum` is the `previous_sha256` of line N+1 (the line's bytes including its "\\n"; line 1
names "0" * 64), and `sha256sum <run_id>.html` is the record's `files.html_sha256`. The same
`sed -n Np ... | sha256sum` must appear as `sha256=` in `journalctl -t shadowgate -o cat` (add
`-o json` for `_UID`, which journald sets: root's or the reports dir owner's count), once every
line from the first anchored one on; and every such journal line of this reports dir must be a
line of the log.

The chain is blind to what a record says: it holds run records (`RunRecord`) and whatever
else is appended as a JSON object with a `run_id`; `verify` accepts every schema.

Decisions an operator or auditor should know:
- Records are strict JSON (no NaN, nothing but JSON types); anything else is refused before a
  byte is written. Lines are ASCII (non-ASCII is \\u-escaped), so no byte of a record can end a
  line or fail to decode.
- A lock held by a dead process never blocks anyone: flock dies with its process. A live
  process holding it longer than LOCK_TIMEOUT_S is reported by pid instead of waited for.
- An append writes the record file under a hidden name (`.<run_id>.json.pending`, synced),
  then the log line, then renames the file. A failure in between removes the file and cuts
  the log back. A process killed in between leaves at worst a hidden file: before the line,
  the next append removes it (the run was never recorded); after the line, `verify` reads the
  record from it (its bytes must be the line's) and the next append finishes the rename. So a
  kill -9 anywhere in an append leaves a log that verifies, or (killed between the line and
  its anchor) one the next append rolls forward (below). A log line cut short
  by such a kill is not a record: the next append cuts it off.
- An empty or missing decision log does not verify: there is nothing to trust.
- The chain alone proves order and integrity, not existence: the anchors do. A record names
  in `anchor` the journal it went to (`{"journal": HOSTNAME}`), or why it could not
  (`{"journal": null, "why": ...}`); the anchor is written after the line, under the lock, and
  read back. A run killed between its line and its anchor leaves a line the journal lacks:
  the next append (or `settle`, run by the actions before their gate) logs it as `missed`, so
  the chain verifies again and that record arms nothing. Removing, changing or adding a line
  after the first anchored one fails `verify` (crosscheck.py). Records older than the
  journal's reach are stated, not failed.
- Every file is opened without following symlinks (disk.open_regular): a symlink or a FIFO as
  the lock, the log, a record or a report is refused with one line. Readers never create a
  file. `.html` / `.junit.xml` that no record names (a run killed before its record) are
  stated by `verify`, not failed: they arm nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shadowgate.evidence.disk import (
    LOCK_NAME,
    EvidenceError,
    append_line,
    cut_to,
    locked,
    publish,
    read_file,
    sha256,
    sha256_file,
    write_synced,
)
from shadowgate.evidence.journal_anchor import MISSED, Journal, LineAnchor
from shadowgate.evidence.record import RunRecord
from shadowgate.host import HostError

LOG_NAME = "decision-log.jsonl"
GENESIS = "0" * 64
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Bounds on one line as read back (a record is a few hundred KiB at most, nested a few levels):
# json's decoder recurses once per level and raises RecursionError on '[' * 100000.
MAX_LINE_BYTES = 32 << 20
MAX_DEPTH = 64
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
FILE_KINDS = (("html", "HTML report"), ("junit", "JUnit report"))


class AnchorError(EvidenceError):
    """The run is recorded, but its anchor is not in the journal: `verify` will say so."""


# -- the bytes of a record -------------------------------------------------------------------


def canonical(record: Mapping[str, Any]) -> bytes:
    """The record as one log line (without its "\\n"): sorted keys, compact, ASCII."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def rendered(record: Mapping[str, Any]) -> bytes:
    """The record as `<run_id>.json`: the same content, indented for people."""
    return json.dumps(record, sort_keys=True, indent=2, allow_nan=False).encode() + b"\n"


def parse_line(raw: bytes) -> Any:
    """A log line (or record file) as JSON, every read of one goes through here; ValueError
    says what it is instead ("nested deeper than 64 levels"), never a RecursionError."""
    if len(raw) > MAX_LINE_BYTES:
        raise ValueError(f"longer than {MAX_LINE_BYTES >> 20} MiB")
    depth = 0
    for bracket in _STRING.sub(b'""', raw).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in b"[{" else -1
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw)
    except ValueError:
        raise ValueError("not valid JSON") from None


# -- writing -----------------------------------------------------------------------------------


def _archived(kind: str, reports_dir: Path, path: Path) -> tuple[str, str]:
    """(name relative to the reports dir, sha256) of a file archived beside its record."""
    path = Path(path)
    try:
        name = path.resolve().relative_to(reports_dir.resolve()).as_posix()
    except ValueError:
        raise ValueError(
            f"{kind} {path} is outside the reports dir {reports_dir}: "
            "it must be archived beside its record"
        ) from None
    return name, sha256_file(path)


def _file_entry(kind: str, reports_dir: Path, path: Path | None) -> dict[str, str | None]:
    if path is None:
        return {kind: None, f"{kind}_sha256": None}
    name, digest = _archived(f"{kind} report", reports_dir, path)
    return {kind: name, f"{kind}_sha256": digest}


def pending_file(reports_dir: Path, run_id: str) -> Path:
    """Where an append keeps the record file until its log line is written."""
    return reports_dir / f".{run_id}.json.pending"


def _pending_run(name: str) -> str | None:
    """The run id of a `.<run_id>.json.pending` file name, else None."""
    if name.startswith(".") and name.endswith(".json.pending"):
        return name[1 : -len(".json.pending")]
    return None


def _finish_interrupted(reports_dir: Path, last_line: bytes) -> None:
    """What a killed append left: the record file of the log's last line is renamed into
    place (its bytes are the line's); any other pending file is a run never recorded."""
    try:
        parsed = parse_line(last_line) if last_line else None
    except ValueError:
        parsed = None
    last = parsed if isinstance(parsed, dict) else {}
    last_id = last.get("run_id")
    for name in os.listdir(reports_dir):
        run_id = _pending_run(name)
        if run_id is None:
            continue
        pending = reports_dir / name
        final = reports_dir / f"{run_id}.json"
        whole = run_id == last_id and not os.path.lexists(final)
        if whole and read_file(pending) == rendered(last):
            publish(pending, final)
        else:
            pending.unlink()


def _mark_missed(journal: Journal, reports_dir: Path, line: bytes) -> None:
    """The last line says it went to a journal that holds no anchor of it: its run was killed
    between the line and the anchor (we hold the lock it held), so log it as `missed`, never
    anchored. Whatever fails here is left for `verify` to name."""
    try:
        record = parse_line(line)
        said = record["anchor"]["journal"]
        anchor = LineAnchor(record["run_id"], sha256(line), record["previous_sha256"],
                            str(reports_dir.resolve()), MISSED)  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return
    if not said or journal.probe(reports_dir)[0] != said:
        return  # it went to another journal, or none: nothing this one can say of it
    try:
        found = journal.read(reports_dir)
        if anchor.sha256 not in found.trusted | found.missed:
            journal.write(anchor, reports_dir)
    except HostError:
        return


def _chain_head(reports_dir: Path, log_path: Path, journal: Journal) -> str:
    """sha256 of the last complete line; a fragment after it (an append killed mid-write,
    never a record) is cut off so the next line starts clean, and what a killed append left
    is settled (`_finish_interrupted`, `_mark_missed`)."""
    try:
        data = read_file(log_path)
    except FileNotFoundError:
        data = b""
    end = data.rfind(b"\n") + 1
    if end < len(data):
        cut_to(log_path, end)
    last = data[data.rfind(b"\n", 0, end - 1) + 1 : end] if end else b""
    _finish_interrupted(reports_dir, last)
    if last:
        _mark_missed(journal, reports_dir, last)
    return sha256(last) if last else GENESIS


def settle(reports_dir: Path, journal: Journal | None = None) -> None:
    """Roll forward what a killed append left (as the next append does first), so that the
    chain verifies again before an action judges it: run by the actions before their gate."""
    reports_dir = Path(reports_dir)
    with locked(reports_dir, exclusive=True):
        _chain_head(reports_dir, reports_dir / LOG_NAME, journal or Journal.local())


def _anchor_said(journal: Journal, reports_dir: Path) -> dict[str, str | None]:
    """The record's `anchor`: the journal it will go to, or why it cannot."""
    where, why = journal.probe(reports_dir)
    return {"journal": where} if where else {"journal": None, "why": why}


def _anchor(journal: Journal, reports_dir: Path, entry: Mapping[str, Any], line: bytes) -> None:
    anchor = LineAnchor(
        entry["run_id"], sha256(line), entry["previous_sha256"], str(reports_dir.resolve())
    )
    try:
        journal.write(anchor, reports_dir)
    except HostError as exc:
        raise AnchorError(
            f"run {anchor.run_id} is recorded, but its anchor is not in the journal of "
            f"{journal.name}: {exc}; `shadowgate evidence verify` will fail on it"
        ) from None


def append_record(
    reports_dir: Path,
    record: RunRecord | Mapping[str, Any],
    html_path: Path | None = None,
    junit_path: Path | None = None,
    journal: Journal | None = None,
    bundle_path: Path | None = None,
    replay: Mapping[str, Any] | None = None,
) -> Path:
    """Record a finished run: hash its reports, chain it to the log, write `<run_id>.json`,
    then anchor its line in the journal of the engine host (default: this machine's).

    A run that captured a replay bundle gets `bundle` {file, sha256}; a replay gets
    `replay` (what it replayed) and is never anchored: it is no live run.

    The reports must be final (their sha256 is taken here) and inside `reports_dir`. What is
    written is `record` plus `files`, `anchor` and `previous_sha256` (a plain mapping is taken
    as is: the chain holds any JSON object with a `run_id`). Returns the path of
    `<run_id>.json`; AnchorError when the record is written but its anchor is not.
    """
    reports_dir = Path(reports_dir)
    entry = record.to_dict() if isinstance(record, RunRecord) else dict(record)
    run_id = entry.get("run_id")
    if not isinstance(run_id, str) or not SAFE_NAME.fullmatch(run_id):
        raise ValueError(f"record needs a run_id usable as a file name, got {run_id!r}")
    reports_dir.mkdir(parents=True, exist_ok=True)
    entry["files"] = _file_entry("html", reports_dir, html_path) | _file_entry(
        "junit", reports_dir, junit_path
    )
    if bundle_path is not None:
        name, digest = _archived("replay bundle", reports_dir, bundle_path)
        entry["bundle"] = {"file": name, "sha256": digest}
    journal = journal or Journal.local()
    entry["anchor"] = _anchor_said(journal, reports_dir)
    if replay is not None:
        entry["replay"] = dict(replay)
        entry["anchor"] = {"journal": None, "why": "a replay is never anchored as a live run"}
    json_path = reports_dir / f"{run_id}.json"
    log_path = reports_dir / LOG_NAME
    with locked(reports_dir, exclusive=True):
        entry["previous_sha256"] = _chain_head(reports_dir, log_path, journal)
        if os.path.lexists(json_path):
            raise EvidenceError(f"run {run_id} is already recorded in {json_path}")
        line = canonical(entry) + b"\n"
        pending = pending_file(reports_dir, run_id)
        size = log_path.lstat().st_size if os.path.lexists(log_path) else 0
        write_synced(pending, rendered(entry))
        try:
            append_line(log_path, line)
            publish(pending, json_path)
        except BaseException:  # an error, not a kill: undo all of it, record nothing
            pending.unlink(missing_ok=True)
            json_path.unlink(missing_ok=True)
            if os.path.lexists(log_path):
                cut_to(log_path, size)
            raise
        if entry["anchor"]["journal"]:
            _anchor(journal, reports_dir, entry, line)
    return json_path


# -- reading -----------------------------------------------------------------------------------


def _log_lines(reports_dir: Path) -> tuple[list[bytes], bytes]:
    """Complete lines (without "\\n") and whatever follows the last line end."""
    try:
        data = read_file(reports_dir / LOG_NAME)
    except FileNotFoundError:
        return [], b""
    lines = data.split(b"\n")
    tail = lines.pop()
    return lines, tail


def snapshot(reports_dir: Path) -> tuple[list[bytes], bytes, list[str]]:
    """The log's lines, its cut-short tail and the dir's file names, with no append half done:
    under the shared lock, read again under it if the first append created it meanwhile."""
    while True:
        with locked(reports_dir, exclusive=False) as held:
            lines, tail = _log_lines(reports_dir)
            names = sorted(os.listdir(reports_dir))
        if held or not os.path.lexists(reports_dir / LOCK_NAME):
            return lines, tail, names


def records(reports_dir: Path) -> list[dict[str, Any]]:
    """Every readable line of the log as JSON, oldest first (unreadable lines are skipped:
    `verify` is what judges the log)."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return []
    lines, _, _ = snapshot(reports_dir)
    found = []
    for raw in lines:
        with contextlib.suppress(ValueError):
            record = parse_line(raw)
            if isinstance(record, dict):
                found.append(record)
    return found


def run_records(reports_dir: Path) -> list[RunRecord]:
    """Every record of a live run in the log, any schema, oldest first; other lines are
    skipped, and so are replays (they judged a bundle, not the engine: ARCHITECTURE.md
    "Replay")."""
    found = []
    for data in records(reports_dir):
        with contextlib.suppress(ValueError):
            found.append(RunRecord.from_dict(data))
    return [record for record in found if not record.is_replay]
