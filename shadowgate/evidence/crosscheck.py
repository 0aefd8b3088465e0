"""The chain against its anchors in the engine host's journal, as `verify` judges it.

The chain alone cannot tell its tail was rewritten; the journal, written at each append, can:
- every trusted anchor of this reports dir is a line of the log, else that line was removed or
  changed after its run;
- once a line is anchored, every later line is: a tail appended without an anchor fails, also
  one whose record says it was "not anchored";
- a line the journal marks `missed` (its run was killed between the line and its anchor; the
  next append said so) keeps the chain going, is stated, and counts as not anchored: it arms
  nothing;
- a line before the first anchored one may say why it was not anchored (no journal then); one
  that says it was, yet is not, fails while the journal reaches back to its time, and is only
  stated once the journal no longer does (vacuumed oldest first);
- a journal that cannot be read fails the cross-check when a line says it was anchored, and is
  stated as "not possible" otherwise (this dev machine, an archive handed to an auditor).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shadowgate.evidence.journal_anchor import Anchors, Journal, Logged
from shadowgate.host import HostError
from shadowgate.window import plural


@dataclass(frozen=True)
class Link:
    """One verified line of the log."""

    number: int
    run_id: str
    sha256: str  # of the line, "\n" included
    record: Mapping[str, Any]

    @property
    def where(self) -> str:
        return f"{self.run_id} (line {self.number})"

    def said(self) -> Mapping[str, Any]:
        """What the record says of its anchor (`anchor`; older records: nothing)."""
        anchor = self.record.get("anchor")
        return anchor if isinstance(anchor, Mapping) else {}

    def when(self) -> datetime | None:
        text = str(self.record.get("finished_at") or self.record.get("started_at") or "")
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None


@dataclass(frozen=True)
class Outcome:
    """The cross-check: the first problem (none: `problem` is ""), what to state either way,
    the run ids anchored, whether a journal was read at all, the run ids marked missed, and
    how many leading lines hold up (all of them when there is no problem)."""

    first_bad: str | None
    problem: str
    notes: tuple[str, ...]
    anchored: frozenset[str]
    read: bool
    missed: frozenset[str] = frozenset()
    holds: int | None = None  # None: every line


def _beyond_reach(journal: Journal, link: Link) -> bool:
    moment = link.when()
    try:
        return moment is not None and not journal.reaches_back(moment)
    except HostError:
        return False


_KILLED = (
    "its run was killed between the line and its anchor (the next record marks it as never "
    "anchored), or "
)


def _line_problem(
    link: Link, found: Anchors, first: Link | None, journal: Journal, last: bool
) -> tuple[str | None, bool]:
    """(problem, beyond the journal's reach) of a line the journal holds no anchor of; a last
    line that says it was anchored may be a run killed before its anchor: the problem says so."""
    killed = _KILLED if last and link.said().get("journal") else ""
    named = next((a for a in found.trusted.values() if a.anchor.run_id == link.run_id), None)
    if named is not None:
        return (
            f"line {link.number} is not the line anchored for run {link.run_id} in the journal "
            f"of {found.journal} ({named.describe()}): it was changed after the run"
        ), False
    if first is not None:
        return (
            f"run {link.run_id} has no anchor in the journal of {found.journal}, though line "
            f"{first.number} before it has one: {killed}it was added without shadowgate's "
            "anchor, or its run could not write it (and said so in red)"
        ), False
    if not link.said().get("journal"):
        return None, False
    if _beyond_reach(journal, link):
        return None, True
    return (
        f"run {link.run_id} says it was anchored in the journal of {link.said()['journal']}, "
        f"but the journal of {found.journal}, which reaches back to its time, holds no such "
        f"anchor: {killed}the line was changed, or this is not the engine host (--hosts)"
    ), False


def _notes(
    links: Sequence[Link], found: Anchors, anchored: int, beyond: int, missed: Sequence[Link]
) -> list[str]:
    notes = [f"journal cross-check: {anchored} of {plural(len(links), 'record')} anchored in "
             f"the journal of {found.journal}"]  # fmt: skip
    if beyond:
        notes.append(f"{plural(beyond, 'older record')} beyond the journal's reach (vacuumed)")
    if missed:
        notes.append(
            f"{plural(len(missed), 'record')} never anchored: its run was killed between the "
            f"line and its anchor, as the next record logged; it arms nothing (the latest: "
            f"{missed[-1].where})"
        )
    unanchored = [link for link in links if not link.said().get("journal")]
    if unanchored:
        why = unanchored[-1].said().get("why") or "written before records were anchored"
        notes.append(
            f"{plural(len(unanchored), 'record')} not anchored when written (the latest: {why})"
        )
    if found.untrusted:
        uids = sorted({str(logged.uid) for logged in found.untrusted})
        notes.append(
            f"ignored {plural(len(found.untrusted), 'journal entry', 'journal entries')} tagged "
            "`shadowgate` for this reports dir "
            f"from uid {', '.join(uids)}: only root (and evidence.anchor_uid) anchor records; "
            "find out who wrote them"
        )
    return notes


def _gone(lost: Logged, links: Sequence[Link], journal: str) -> tuple[str, str, int]:
    """(first bad, problem, lines that hold up) of a trusted anchor that is no line of the
    log: the lines up to the one it followed hold up."""
    run_id = lost.anchor.run_id
    link = next((link for link in links if link.run_id == run_id), None)
    if link is not None:  # its line is anchored too: anchored again after a change
        return (
            link.where,
            (
                f"line {link.number} is not the line first anchored for run {run_id} in the "
                f"journal of {journal} ({lost.describe()}): it was changed and anchored again"
            ),
            link.number - 1,
        )
    before = next((ln for ln in links if ln.sha256 == lost.anchor.previous_sha256), None)
    return (
        run_id,
        (
            f"the journal of {journal} holds the anchor of run {run_id} ({lost.describe()}), but "
            "no line of the log is that record: its line was removed or changed after the run"
        ),
        0 if before is None else before.number,
    )


def _unreadable(links: Sequence[Link], exc: HostError) -> Outcome:
    """The journal cannot be read: a chain whose records say they were anchored is not proven
    (the anchors alone prove its tail was not rewritten), one whose records never were is
    stated. Said plainly: "journalctl exited 0" read like success."""
    claimed = [link for link in links if link.said().get("journal")]
    if not claimed:
        note = f"journal cross-check: not possible ({exc}); no record says it was anchored"
        return Outcome(None, "", (note,), frozenset(), False)
    were = "1 record was" if len(claimed) == 1 else f"{len(claimed)} records were"
    notes = (
        f"the chain alone holds up: {plural(len(links), 'record')}, each line, record file and "
        "report as written; only the anchors can prove its tail was not rewritten",
        f"{were} anchored in the journal of {claimed[-1].said()['journal']}: run verify where "
        "that journal is (--hosts); until then verify exits 1",
    )
    return Outcome(None, f"anchors cannot be checked here: {exc}", notes, frozenset(), False)


def cross_check(links: Sequence[Link], journal: Journal, reports_dir: Path) -> Outcome:
    """The rules of the module docstring, first problem in chain order, then anchors whose
    line is gone."""
    try:
        found = journal.read(reports_dir)
    except HostError as exc:
        return _unreadable(links, exc)
    first: Link | None = None
    beyond = 0
    problem: tuple[str | None, str, int | None] = (None, "", None)
    for link in links:
        if link.sha256 in found.trusted or link.sha256 in found.missed:
            first = first or link
            continue
        text, far = _line_problem(link, found, first, journal, link is links[-1])
        beyond += far
        if text is not None:
            problem = (link.where, text, link.number - 1)
            break
    lines = {link.sha256 for link in links}
    marks = [*found.trusted.items(), *found.missed.items()]
    gone = [logged for sha, logged in marks if sha not in lines]
    if not problem[1] and gone:
        problem = _gone(min(gone, key=lambda logged: logged.at), links, found.journal)
    missed = [link for link in links if link.sha256 in found.missed]  # even if anchored late
    anchored = frozenset(
        link.run_id for link in links if link.sha256 in found.trusted and link not in missed
    )
    notes = _notes(links, found, len(anchored), beyond, missed)
    first_bad, text, holds = problem
    missed_ids = frozenset(m.run_id for m in missed)
    return Outcome(first_bad, text, tuple(notes), anchored, True, missed_ids, holds)
