"""Which archived decisions would a threshold change flip? Each run record with a bundle, of
any phase, is replayed (`pytest -m PHASE --replay=BUNDLE --set ...`: its own target,
thresholds and strategy, the change on top) against the decision log as the run found it, and
its decision and checks are set beside the record's. The replay is the suite itself, so no rule
has a second copy here. A record without a bundle, or whose bundle is gone or changed, says so
rather than passing for "no flip"."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadowgate import evidence
from shadowgate.evidence import disk
from shadowgate.replay.archive import replay_archived


@dataclass(frozen=True)
class Flip:
    """One archived record re-judged: `changes` are (check, status then, status now)."""

    run_id: str
    phase: str
    note: str  # why it could not be re-judged, or the decision then -> now
    changes: tuple[tuple[str, str, str], ...] = ()
    flips: bool = False

    def describe(self) -> str:
        changed = "; ".join(f"{c} {a} -> {b}" for c, a, b in self.changes)
        verdict = "FLIPS" if self.flips else "same decision"
        return f"{self.run_id} ({self.phase}): {verdict}: {self.note}" + (
            f" ({changed})" if changed else ""
        )


def _statuses(record: Mapping[str, Any]) -> dict[str, str]:
    """Each check's status by ID ('not evaluated' where it reached no verdict)."""
    return {
        str(c.get("id")): str(c.get("status") or "not evaluated")
        for c in record.get("checks") or ()
        if isinstance(c, Mapping)
    }


def rejudge(record: Mapping[str, Any], reports_dir: Path, sets: Sequence[str], into: Path) -> Flip:
    """`record` re-judged from its bundle with `sets` applied (scratch files under `into`)."""
    run_id, phase = str(record.get("run_id")), str(record.get("phase"))
    named = record.get("bundle")
    if not isinstance(named, Mapping) or not named.get("file"):
        return Flip(run_id, phase, "no bundle beside the record: cannot be re-judged")
    path = reports_dir / str(named["file"])
    try:
        if disk.sha256_file(path) != named.get("sha256"):
            return Flip(run_id, phase, f"bundle {path.name} does not match the record's sha256")
    except (OSError, evidence.EvidenceError) as exc:
        return Flip(run_id, phase, f"bundle {path.name} unreadable: {exc}")
    replayed = replay_archived(reports_dir, record, into / run_id, [f"--set={s}" for s in sets])
    if isinstance(replayed, str):
        return Flip(run_id, phase, replayed)
    before, after = _statuses(record), _statuses(replayed)
    changes = tuple(
        (c, before.get(c, "absent"), after.get(c, "absent"))
        for c in sorted(before.keys() | after.keys())
        if before.get(c) != after.get(c)
    )
    was, will = record.get("decision"), replayed.get("decision")
    return Flip(run_id, phase, f"{was} -> {will}", changes, was != will)


def compare(reports_dir: Path, sets: Sequence[str]) -> list[Flip]:
    """Every run record of the decision log, oldest first, re-judged with `sets` applied
    (replays are no decisions: left out)."""
    runs = [
        r
        for r in evidence.records(reports_dir)
        if "checks" in r and "run_id" in r and "phase" in r and not r.get("replay")
    ]
    with tempfile.TemporaryDirectory(prefix="shadowgate-compare-") as tmp:
        return [rejudge(r, reports_dir, sets, Path(tmp)) for r in runs]
