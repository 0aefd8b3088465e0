"""`verify`: recompute the decision log's chain from the files, then cross-check it with the
journal's anchors. What it checks, and how an auditor rechecks it by hand, is in log.py's
docstring; this module only reads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import testinfra.host

from shadowgate.evidence.crosscheck import Link, cross_check
from shadowgate.evidence.disk import EvidenceError, read_file, sha256, sha256_file
from shadowgate.evidence.journal_anchor import Journal
from shadowgate.evidence.log import (
    FILE_KINDS,
    GENESIS,
    LOG_NAME,
    SAFE_NAME,
    canonical,
    parse_line,
    pending_file,
    rendered,
    snapshot,
)

_REPORT_SUFFIXES = (".html", ".junit.xml", ".bundle.json.gz")


@dataclass(frozen=True)
class Verification:
    """What `verify` found: ok, or the first bad record and what is wrong with it; what an
    auditor should know either way; which runs the journal holds the anchor of."""

    ok: bool
    records: int  # lines in the log (complete or not)
    first_bad: str | None  # "<run_id> (line N)", "line N", or "<run_id>" for a stray file
    problem: str  # one operator sentence; "" when ok
    notes: tuple[str, ...] = ()  # the journal cross-check, reports no record names
    anchored: frozenset[str] = frozenset()  # run ids whose anchor is in the journal
    journal_read: bool = False  # a journal was read: a run not in `anchored` is not anchored
    missed: frozenset[str] = frozenset()  # run ids the journal marks never anchored (killed)

    def describe(self) -> str:
        if self.ok:
            return f"chain OK: {self.records} records"
        if self.first_bad is None:
            return self.problem
        return f"chain BROKEN at {self.first_bad}: {self.problem}"


def _check_files(reports_dir: Path, run_id: str, files: object) -> str | None:
    if not isinstance(files, dict):
        return f"run {run_id} has no 'files' entry: it is not a record shadowgate wrote"
    for kind, label in FILE_KINDS:
        name, recorded = files.get(kind), files.get(f"{kind}_sha256")
        if name is not None and (
            problem := _check_file(reports_dir, run_id, label, name, recorded)
        ):
            return problem
    return None


def _check_bundle(reports_dir: Path, run_id: str, bundle: object) -> str | None:
    """The replay bundle a record names is there, unchanged (covered as its reports are)."""
    if bundle is None:
        return None
    if not isinstance(bundle, dict):
        return f"run {run_id} has a 'bundle' entry that is not a JSON object: it was edited"
    return _check_file(
        reports_dir, run_id, "replay bundle", bundle.get("file"), bundle.get("sha256")
    )


def _check_file(
    reports_dir: Path, run_id: str, label: str, name: object, recorded: object
) -> str | None:
    path = reports_dir / str(name)
    if not path.resolve().is_relative_to(reports_dir.resolve()):
        return f"the {label} of run {run_id} is recorded as {name!r}, outside the reports dir"
    try:
        actual = sha256_file(path)
    except FileNotFoundError:
        return f"the {label} {name} of run {run_id} is missing"
    except (OSError, EvidenceError) as exc:
        return f"the {label} of run {run_id} cannot be read: {exc}"
    if actual != recorded:
        return (
            f"the {label} {name} of run {run_id} has changed since the run "
            f"(sha256 recorded {str(recorded)[:12]}..., now {actual[:12]}...)"
        )
    return None


def _record_file(reports_dir: Path, run_id: str, last: bool) -> Path:
    """`<run_id>.json`; for the last line, its pending file when an append was killed after
    the line and before the rename (the next append renames it)."""
    final = reports_dir / f"{run_id}.json"
    pending = pending_file(reports_dir, run_id)
    if last and not os.path.lexists(final) and os.path.lexists(pending):
        return pending
    return final


def _check_line(
    reports_dir: Path, number: int, raw: bytes, previous: str, kept: list[Link], last: bool
) -> tuple[str | None, str | None]:
    """(problem, run_id) of one log line; problem is None when the line holds up, and it is
    added to `kept`."""
    if not raw:
        return f"line {number} of {LOG_NAME} is empty: the log was edited", None
    try:
        record = parse_line(raw)
    except ValueError as exc:
        return f"line {number} of {LOG_NAME} is {exc}: the log was edited or damaged", None
    run_id = record.get("run_id") if isinstance(record, dict) else None
    if not isinstance(run_id, str) or not SAFE_NAME.fullmatch(run_id):
        return f"line {number} of {LOG_NAME} is not a run record (no usable run_id)", None
    try:
        as_written = canonical(record) == raw
    except ValueError:  # NaN or Infinity: never written by append_record
        as_written = False
    if not as_written:
        return f"line {number} is not byte for byte what shadowgate wrote: it was edited", run_id
    twice = next((link.number for link in kept if link.run_id == run_id), None)
    if twice is not None:
        return f"run {run_id} is recorded twice (lines {twice} and {number})", run_id
    json_path = _record_file(reports_dir, run_id, last)
    try:
        on_disk = read_file(json_path)
    except FileNotFoundError:
        return f"the record file {json_path.name} of run {run_id} is missing", run_id
    except (OSError, EvidenceError) as exc:
        return f"the record file of run {run_id} cannot be read: {exc}", run_id
    if on_disk != rendered(record):
        return (
            f"the record file {json_path.name} differs from line {number} of {LOG_NAME}: "
            "one of them was changed after the run"
        ), run_id
    problem = _check_files(reports_dir, run_id, record.get("files"))
    problem = problem or _check_bundle(reports_dir, run_id, record.get("bundle"))
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
    if problem is None:
        kept.append(Link(number, run_id, sha256(raw + b"\n"), record))
    return problem, run_id


def _stray_record(reports_dir: Path, names: list[str], seen: set[str]) -> Path | None:
    """A `<run_id>.json` record file whose line is not in the log."""
    for name in names:
        path = reports_dir / name
        if path.suffix != ".json" or path.stem in seen:
            continue
        try:
            record = parse_line(read_file(path))
        except (OSError, ValueError, EvidenceError):
            continue
        if isinstance(record, dict) and record.get("run_id") == path.stem:
            return path
    return None


def _pending_rename(reports_dir: Path, last: Link) -> list[str]:
    """The note for a last record read from its pending file."""
    if _record_file(reports_dir, last.run_id, True).name.endswith(".pending"):
        return [
            f"the record file of run {last.run_id} awaits its rename (an append was killed "
            "after its line); the next record completes it"
        ]
    return []


def _orphans(names: list[str], links: list[Link]) -> list[str]:
    """Reports no record names: a run killed before its record, or one not recorded."""
    named = set()
    for link in links:
        files = link.record.get("files")
        if isinstance(files, Mapping):
            named |= {files.get(kind) for kind, _ in FILE_KINDS}
        bundle = link.record.get("bundle")
        if isinstance(bundle, Mapping):
            named.add(bundle.get("file"))
    found = [n for n in names if n.endswith(_REPORT_SUFFIXES) and n not in named]
    if not found:
        return []
    return [
        f"{len(found)} reports no record names ({', '.join(found)}): runs killed or not "
        "recorded; they arm nothing (move them out of the reports dir)"
    ]


def _verify(
    reports_dir: Path,
    lines: list[bytes],
    tail: bytes,
    names: list[str],
    journal: Journal | None,
) -> tuple[Verification, list[Link]]:
    """The verification, and the leading lines that hold up (all of them when it is ok)."""
    count = len(lines) + (1 if tail else 0)
    links: list[Link] = []
    previous = GENESIS
    for number, raw in enumerate(lines, 1):
        last = number == len(lines)
        problem, run_id = _check_line(reports_dir, number, raw, previous, links, last)
        if problem is not None:
            where = f"{run_id} (line {number})" if run_id else f"line {number}"
            return Verification(False, count, where, problem), links
        previous = sha256(raw + b"\n")
    if tail:
        return Verification(
            False,
            count,
            f"line {count}",
            f"the last line of {LOG_NAME} is cut short: an append was interrupted; "
            "the next run's record cuts it off",
        ), links
    stray = _stray_record(reports_dir, names, {link.run_id for link in links})
    if stray is not None:
        return Verification(
            False,
            count,
            stray.stem,
            f"the record file {stray.name} is not in {LOG_NAME}: its line was removed, or "
            "the run was killed while recording it (then move the file out of the reports dir)",
        ), links
    if not lines:
        return Verification(
            False, 0, None, f"no records in {reports_dir}: {LOG_NAME} is missing or empty"
        ), links
    orphans = [*_pending_rename(reports_dir, links[-1]), *_orphans(names, links)]
    if journal is None:
        notes = ("journal cross-check: not done (no engine host given)", *orphans)
        return Verification(True, count, None, "", notes), links
    checked = cross_check(links, journal, reports_dir)
    notes = (*checked.notes, *orphans)
    ok = not checked.problem
    return Verification(
        ok,
        count,
        checked.first_bad,
        checked.problem,
        notes,
        checked.anchored,
        checked.read,
        checked.missed,
    ), links[: checked.holds]


def verify(reports_dir: Path, journal_host: testinfra.host.Host | None = None) -> Verification:
    """`walk`'s verdict alone."""
    return walk(reports_dir, journal_host)[0]


def walk(
    reports_dir: Path, journal_host: testinfra.host.Host | None = None
) -> tuple[Verification, list[Link]]:
    """Walk the whole log: every line parses and is canonical, chains to the line before,
    matches its `<run_id>.json`, and its reports still have their recorded sha256; no record
    file lies outside the log; then cross-check it with the anchors in the journal of
    `journal_host`, the engine host (None: the chain alone, and the notes say so). Stops at
    the first problem. With the verdict, the lines before that problem, which hold up."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        return Verification(False, 0, None, f"no records: {reports_dir} does not exist"), []
    try:
        # A consistent snapshot (no append half done) under the lock; the slow part, hashing
        # the reports, after it, so appends never wait for a verify. Appends only add files.
        lines, tail, names = snapshot(reports_dir)
    except (OSError, EvidenceError) as exc:
        return Verification(False, 0, None, str(exc)), []
    journal = None if journal_host is None else Journal(journal_host)
    return _verify(reports_dir, lines, tail, names, journal)
