"""The verified chain read in order: which activation cycle is in force (its T+0, the STOP in
it, the rollback that ended it and that rollback's verification, or its conclusion) and the
story of it in runbook s.7's sections. `lifecycle` turns the cycle into one state.

The order is the chain's (the order records were appended, which no clock step can reorder).
Records of another unit are skipped; a record of another shape is told by its bare decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shadowgate.checks import catalog
from shadowgate.evidence.anchors import ACTIVATE, ROLLBACK, Anchor, latest_action, parse_moment
from shadowgate.evidence.record import iso_utc
from shadowgate.wording import headline, stops

CONCLUDE = "conclude"  # the `action` of `shadowgate conclude`'s record


def stamp(moment: datetime | None) -> str:
    """A moment as records store it, or "unknown time"."""
    return "unknown time" if moment is None else iso_utc(moment)


def moment(record: Mapping[str, Any]) -> datetime | None:
    """When a record's event began: an action's restart (or start), a run's start."""
    for key in ("restarted_at", "started_at"):
        with_value = record.get(key)
        if with_value:
            try:
                return parse_moment(str(with_value))
            except ValueError:
                continue
    return None


def said(record: Mapping[str, Any]) -> str:
    """A run's headline; a verified record of another shape its bare decision, never a
    traceback (the chain holds any JSON object with a run_id)."""
    try:
        return headline(record)
    except (KeyError, TypeError):
        return f"{record.get('phase')}: {record.get('decision')}"


def failing_stops(record: Mapping[str, Any]) -> list[str]:
    checks = record.get("checks") or []
    return list(
        dict.fromkeys(
            c.get("id")
            for c in checks
            if c.get("outcome") == "failed"
            and c.get("status") == "FAIL"
            and stops(str(c.get("id")))
        )
    )


def trigger(
    rollback: Mapping[str, Any],
    stop: Mapping[str, Any] | None,
    records: Sequence[Mapping[str, Any]],
) -> str:
    """The STOP's failing IDs, the break-glass reason, or "operator"."""
    if rollback.get("trigger") == "break-glass":
        return f"break-glass: {rollback.get('reason')}"
    window = next((r for r in records if r.get("run_id") == rollback.get("window")), None) or stop
    if window is not None:
        return ", ".join(failing_stops(window)) or str(window.get("decision"))
    reason = rollback.get("reason")
    return f"operator: {reason}" if reason else "operator"


def _ours(record: Mapping[str, Any], unit: str | None) -> bool:
    recorded = record.get("target")
    return unit is None or not isinstance(recorded, Mapping) or recorded.get("unit") == unit


@dataclass
class Cycle:
    """The cycle in force while the chain is read in order."""

    t0: Anchor | None = None
    stop: Mapping[str, Any] | None = None
    rollback: Anchor | None = None
    rollback_record: Mapping[str, Any] | None = None
    verification: Mapping[str, Any] | None = None
    conclusion: Mapping[str, Any] | None = None

    def activate(self, anchor: Anchor) -> None:
        """A new cycle: nothing of the old one counts any more."""
        self.t0, self.stop, self.conclusion = anchor, None, None
        self.rollback = self.rollback_record = self.verification = None


def walk(
    records: Sequence[Mapping[str, Any]], unit: str | None, activated_at: datetime | None
) -> tuple[Cycle, list[tuple[str, str]]]:
    walk, story = Cycle(), []
    manual = (
        None
        if activated_at is None
        else Anchor(activated_at, "--activated-at", started_at=activated_at)
    )
    for record in records:
        if not _ours(record, unit):
            continue
        if manual is not None and (moment(record) or manual.at) > manual.at:
            walk.activate(manual)
            story.append(("Activation", f"T+0 {manual.describe()}: an activation done by hand"))
            manual = None
        action, phase, run_id = record.get("action"), record.get("phase"), record.get("run_id")
        if action in (ACTIVATE, ROLLBACK):
            anchor = latest_action(Path(), str(action), None, (record,))
            if anchor is None:  # it never restarted the engine: no T+0, no rollback
                story.append(
                    (
                        "Activation" if action == ACTIVATE else "Rollback",
                        f"{action} {run_id} failed before its restart: changed nothing",
                    )
                )
                continue
            if action == ACTIVATE:
                walk.activate(anchor)
                strategy = record.get("strategy") or {}
                story.append(
                    (
                        "Activation",
                        f"T+0 {stamp(anchor.at)}: activated by "
                        f"{record.get('operator')}, approved by "
                        f"{record.get('approved_by')}, weight {strategy.get('weight')} "
                        f"(record {run_id})",
                    )
                )
            else:
                walk.rollback, walk.rollback_record, walk.verification = anchor, record, None
                why = trigger(record, walk.stop, records)
                story.append(
                    (
                        "Rollback",
                        f"rolled back at {stamp(anchor.at)} (trigger {why}; record {run_id})",
                    )
                )
        elif action == CONCLUDE:
            if walk.conclusion is None and walk.rollback is None:
                walk.conclusion = record
            story.append(
                (
                    "Conclusion",
                    f"decision {record.get('decision')} by "
                    f"{record.get('by')} at {stamp(moment(record))}"
                    + (f": {record.get('note')}" if record.get("note") else ""),
                )
            )
        elif phase == "rollback" and walk.rollback is not None and walk.verification is None:
            walk.verification = record
            story.append(("Rollback", f"verification {said(record)} (run {run_id})"))
        elif phase in catalog.MONITORING:
            story.append(
                (
                    "Post-Activation",
                    f"{record.get('finished_at')} {said(record)} (run {run_id})",
                )
            )
            ended = walk.rollback is not None or walk.conclusion is not None
            if record.get("decision") == "STOP" and walk.stop is None and not ended:
                walk.stop = record
        elif phase == "preactivation":
            story.append(
                ("Pre-Activation", f"{record.get('finished_at')} {said(record)} (run {run_id})")
            )
    if manual is not None:
        walk.activate(manual)
        story.append(("Activation", f"T+0 {manual.describe()}: an activation done by hand"))
    return walk, story
