"""May this action run now? Judged from the latest records, as ARCHITECTURE.md "Evidence" says.

`activate` needs the latest `preactivation` record (`last`); `rollback` needs the latest
record that ran the `rollback_ready` checks, whatever phase it was run for, since every
monitoring window runs them too (`rollback_armed`). Either way the record must be fresh,
complete, for the same target and thresholds, and the whole chain must verify, cross-checked
with the anchors in the journal of the engine host (this machine unless given: the actions run
there). The record must name its HTML report (every complete run writes one, so a record
without is not the plugin's) and, when that journal can be read, be anchored in it: a tail
forged as "not anchored" arms nothing. Run as root, a reports dir another account could have
written arms nothing (trust.check_reports_dir: EvidenceError). Every reason it does not arm is
given, so the operator fixes them all at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import testinfra.host

from shadowgate import host
from shadowgate.checks import catalog
from shadowgate.evidence.log import run_records
from shadowgate.evidence.record import RunRecord, utc
from shadowgate.evidence.trust import check_reports_dir
from shadowgate.evidence.verification import Verification, verify
from shadowgate.timefmt import duration

ROLLBACK_READY = "rollback_ready"


@dataclass(frozen=True)
class LastRun:
    """The record an action would rest on, and whether it arms the action."""

    what: str  # which record this is, for the operator: "preactivation record"
    record: RunRecord
    path: Path
    age_s: float
    fresh: bool
    complete: bool
    passed: bool  # what the action needs passed: the run, or its rollback_ready checks
    chain_ok: bool
    same_target: bool | None  # None: not compared
    same_thresholds: bool | None  # None: not compared
    reasons: list[str]  # every reason it does not arm an action
    reported: bool = True  # it names its HTML report (verify checked its sha256)
    anchored: bool | None = None  # in the engine host's journal; None: no journal to read
    journal: str = ""  # what the journal cross-check said, for the operator

    @property
    def armed(self) -> bool:
        return (
            self.fresh
            and self.complete
            and self.passed
            and self.chain_ok
            and self.same_target is not False
            and self.same_thresholds is not False
            and self.reported
            and self.anchored is not False
        )

    def describe(self) -> str:
        rec = self.record
        age = "unknown time ago" if math.isinf(self.age_s) else f"{duration(self.age_s)} ago"
        if self.age_s < 0:
            age = f"{duration(self.age_s)} in the future"
        head = (
            f"The latest {self.what} is run {rec.run_id} ({self.path}), "
            f"finished {rec.finished_at} ({age}), decision {rec.decision}."
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
            anchored = "anchored in the journal" if self.anchored else self.journal
            return (
                f"{head} It arms the action: fresh, complete, passed, chain verified, "
                f"{anchored}{note}."
            )
        return f"{head} It does not arm the action: {'; '.join(self.reasons)}."


def _target_diff(recorded: Mapping[str, Any], expected: Mapping[str, Any]) -> str:
    keys = sorted(set(recorded) | set(expected))
    return ", ".join(
        f"{key} {recorded.get(key)!r} in the record, {expected.get(key)!r} now"
        for key in keys
        if recorded.get(key) != expected.get(key)
    )


def _provenance(record: RunRecord, chain: Verification) -> tuple[bool, bool | None, list[str]]:
    """(names its HTML report, anchored or None when no journal was read, the reasons)."""
    reasons = []
    reported = bool((record.files or {}).get("html"))
    if not reported:
        reasons.append(
            "it names no HTML report: every complete run writes one, so shadowgate did not "
            "write this record"
        )
    anchored = record.run_id in chain.anchored if chain.journal_read else None
    if anchored is False and chain.ok:
        why = (record.anchor or {}).get("why") or "it says nothing of an anchor"
        if record.run_id in chain.missed:
            why = "its run was killed between its line and its anchor: never anchored"
        reasons.append(
            f"it is not anchored in the engine host's journal ({why}): run the phase again "
            "where the journal can be written"
        )
    return reported, anchored, reasons


def _judge(
    reports_dir: Path,
    what: str,
    record: RunRecord,
    *,
    failed: list[str],
    incomplete: list[str],
    rerun: str,
    now: datetime | None,
    fresh_minutes: float,
    target: Mapping[str, Any] | None,
    thresholds_digest: str | None,
    engine_host: testinfra.host.Host | None,
) -> LastRun:
    """`record` judged as an action must; `failed` says why it did not pass, `incomplete` why
    it does not hold all the action needs (empty when it holds all)."""
    now = utc(now) if now is not None else datetime.now(UTC)
    reasons = list(failed)
    complete = not incomplete
    if not complete:
        reasons.append(f"the run was incomplete ({'; '.join(incomplete)})")

    finished = record.finished()
    age_s = math.inf if finished is None else (now - finished).total_seconds()
    fresh = 0 <= age_s <= fresh_minutes * 60
    if finished is None:
        reasons.append(f"its finish time {record.finished_at!r} is not an ISO-8601 UTC time")
    elif age_s < 0:
        reasons.append(
            f"it finished {duration(age_s)} in the future: the clock moved, do not trust it"
        )
    elif not fresh:
        reasons.append(
            f"it is stale: finished {duration(age_s)} ago, the limit is {fresh_minutes:g} min "
            f"(run `pytest -m {rerun}` again)"
        )

    same_target = None if target is None else dict(record.target) == dict(target)
    if target is not None and not same_target:
        reasons.append(f"it checked another target: {_target_diff(record.target, target)}")
    same_thresholds = (
        None if thresholds_digest is None else record.thresholds_digest == thresholds_digest
    )
    if thresholds_digest is not None and not same_thresholds:
        reasons.append(
            f"it ran with other thresholds (digest {str(record.thresholds_digest)[:12]}... "
            f"in the record, {thresholds_digest[:12]}... now; its overrides: "
            f"{dict(record.overrides) or 'none'})"
        )

    chain = verify(reports_dir, engine_host or host.connect("local://"))
    if not chain.ok:
        reasons.append(f"the decision log does not verify: {chain.describe()}")
    reported, anchored, unproven = _provenance(record, chain)
    reasons += unproven

    return LastRun(
        what=what,
        record=record,
        path=reports_dir / f"{record.run_id}.json",
        age_s=age_s,
        fresh=fresh,
        complete=complete,
        passed=not failed,
        chain_ok=chain.ok,
        same_target=same_target,
        same_thresholds=same_thresholds,
        reasons=reasons,
        reported=reported,
        anchored=anchored,
        journal=next((n for n in chain.notes if n.startswith("journal")), ""),
    )


def _latest(reports_dir: Path, wanted: Callable[[RunRecord], bool]) -> RunRecord | None:
    """The last wanted record in log order: a later failing run supersedes an earlier pass."""
    return next((r for r in reversed(run_records(reports_dir)) if wanted(r)), None)


def last(
    reports_dir: Path,
    phase: str,
    *,
    now: datetime | None = None,
    fresh_minutes: float = 15.0,
    target: Mapping[str, Any] | None = None,
    thresholds_digest: str | None = None,
    engine_host: testinfra.host.Host | None = None,
) -> LastRun | None:
    """The latest record of `phase`, judged as an action must: passed, fresh, complete, chain
    verified against the journal of `engine_host` (default this machine), anchored there, and
    the same target / thresholds where given. None if the phase was never recorded."""
    reports_dir = Path(reports_dir)
    check_reports_dir(reports_dir)
    record = _latest(reports_dir, lambda r: r.phase == phase)
    if record is None:
        return None
    failed = []
    if record.passed is not True:
        why = f": {'; '.join(record.causes)}" if record.causes else ""
        failed.append(f"the run did not pass (decision {record.decision}){why}")
    incomplete: list[str] = []
    if record.complete is not True:
        incomplete += record.incomplete_reasons or ["no reason recorded"]
    unjudged = record.not_evaluated(catalog.ids_of_phase(phase))
    if unjudged:  # a record of any schema: what its `complete` says is not taken on trust
        incomplete.append(f"checks without an evaluated verdict: {', '.join(unjudged)}")
    return _judge(
        reports_dir, f"{phase} record", record, failed=failed, incomplete=incomplete,
        rerun=phase, now=now,
        fresh_minutes=fresh_minutes, target=target, thresholds_digest=thresholds_digest,
        engine_host=engine_host,
    )  # fmt: skip


def rollback_armed(
    reports_dir: Path,
    *,
    target: Mapping[str, Any] | None,
    thresholds_digest: str | None,
    fresh_minutes: float = 15.0,
    now: datetime | None = None,
    required: Collection[str] = catalog.ids_of_phase(ROLLBACK_READY),
    engine_host: testinfra.host.Host | None = None,
) -> LastRun | None:
    """Is rollback armed? The latest record that ran any `rollback_ready` check (a monitoring
    window's as well as a `-m rollback_ready` run's), judged as `last` judges, except that it
    is every `rollback_ready` check that must have been evaluated and passed, not the run: a
    window that says STOP, or that could not read Redis, keeps rollback armed (ARCHITECTURE.md
    "Evidence"). `required`: the IDs that must be evaluated in it (default: those the catalog
    marks `rollback_ready`); one missing leaves it incomplete. None if no record ran
    a `rollback_ready` check."""
    reports_dir = Path(reports_dir)
    check_reports_dir(reports_dir)
    record = _latest(reports_dir, lambda r: bool(r.carrying(ROLLBACK_READY)))
    if record is None:
        return None
    checks = record.carrying(ROLLBACK_READY)
    failed = [f"{c.check_id} {c.outcome} ({c.status})" for c in checks if c.outcome != "passed"]
    reasons = [f"not every {ROLLBACK_READY} check passed: {', '.join(failed)}"] if failed else []
    unjudged = record.not_evaluated(sorted(required))
    why = f"{ROLLBACK_READY} checks not evaluated in it: {', '.join(unjudged)}"
    incomplete = [why] if unjudged else []
    what = f"record that ran the {ROLLBACK_READY} checks ({record.phase or record.markexpr})"
    return _judge(
        reports_dir, what, record, failed=reasons, incomplete=incomplete, rerun=ROLLBACK_READY,
        now=now,
        fresh_minutes=fresh_minutes, target=target, thresholds_digest=thresholds_digest,
        engine_host=engine_host,
    )  # fmt: skip
