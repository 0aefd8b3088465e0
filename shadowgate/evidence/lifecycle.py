"""The lifecycle of an activation (ARCHITECTURE.md "The lifecycle"): one state, derived from the
verified chain only, that every consumer acts on (activate, rollback --on-stop, the windows,
the monitor, the timers' wrapper, `shadowgate status`, `shadowgate conclude`).

    SHADOW --(complete GO, fresh)--> ARMED --(activate)--> ACTIVE (T+0)
    ACTIVE --(a window STOP)--> STOPPED --(rollback)--> ROLLED_BACK
    ACTIVE --(T+6h, s.10)--> AWAITING_DECISION --(`shadowgate conclude`)--> CONCLUDED
    ROLLED_BACK / CONCLUDED --(a new complete GO after it)--> ARMED   (s.6 "re-try")

The records are walked in chain order (evidence.cycle): an activation record with a restart
opens a cycle (T+0 its restart); a window record after it saying STOP stops it, unless a
rollback or conclusion came first; a rollback record with a restart ends it (its verification:
the first `rollback` run after it); a `conclude` record ends it too. Whether the latest
preactivation GO arms anything is evidence.arming's judgement (`evidence.last`), never repeated
here; the lifecycle only adds that it must have started after the cycle it would re-arm ended: a
rollback disarms activation until a GO that started after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypedDict

import testinfra.host

from shadowgate import host
from shadowgate.evidence import cycle
from shadowgate.evidence.anchors import Anchor, parse_moment
from shadowgate.evidence.arming import LastRun, last
from shadowgate.evidence.chain import verified_chain
from shadowgate.evidence.cycle import stamp
from shadowgate.evidence.disk import EvidenceError

DECISIONS = ("continue", "adjust", "rollback")  # runbook s.7 "Decision", s.10
DEFAULT_OBSERVATION_HOURS = 6.0  # runbook s.10: the decision point at T+6h


class State(StrEnum):
    SHADOW = "SHADOW"
    ARMED = "ARMED"
    ACTIVE = "ACTIVE"
    STOPPED = "STOPPED"
    ROLLED_BACK = "ROLLED_BACK"
    AWAITING_DECISION = "AWAITING_DECISION"
    CONCLUDED = "CONCLUDED"


@dataclass(frozen=True)
class Lifecycle:
    """The state, since when, what is allowed next and why, and what it rests on."""

    state: State
    since: datetime | None  # None: SHADOW with nothing recorded
    why: str  # what put it in this state, in the operator's words
    allowed: str  # what is allowed next, and why
    t0: Anchor | None = None  # the activation in force (record or --activated-at)
    stop: Mapping[str, Any] | None = None  # the window record that said STOP in this cycle
    rollback: Anchor | None = None  # the rollback that ended this cycle
    trigger: str | None = None  # what the rollback answered: "S3", "break-glass: ..."
    verified: bool | None = None  # the rollback's `pytest -m rollback` passed; None: not yet
    verification: str = ""  # the rollback's verification in words
    story: tuple[tuple[str, str], ...] = ()  # (runbook s.7 section, line), oldest first
    broken: str | None = None  # the verified chain's break, if any

    def headline(self) -> str:
        return f"{self.state} since {stamp(self.since)}: {self.why}"

    def rolled_back(self) -> str:
        """What a window or the monitor says after the rollback of the activation it would
        judge: there is nothing left to monitor."""
        assert self.rollback is not None
        return (
            f"rolled back at {stamp(self.rollback.at)} (trigger {self.trigger}); nothing to monitor"
        )


class _Basis(TypedDict):
    """What every state's Lifecycle rests on: the cycle walked and the chain's break."""

    t0: Anchor | None
    stop: Mapping[str, Any] | None
    rollback: Anchor | None
    story: tuple[tuple[str, str], ...]
    broken: str | None


def _observation_hours(t0: Anchor) -> float:
    """The activation's own observation hours (its record's strategy), else s.10's 6 h."""
    strategy = getattr(t0, "strategy", None) or {}
    hours = strategy.get("observation_hours") if isinstance(strategy, Mapping) else None
    if isinstance(hours, int | float) and not isinstance(hours, bool) and hours > 0:
        return float(hours)
    return DEFAULT_OBSERVATION_HOURS


def derive(
    records: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    go: LastRun | None,
    unit: str | None = None,
    activated_at: datetime | None = None,
    broken: str | None = None,
) -> Lifecycle:
    """The state of `unit` (None: every unit) from `records`, the verified chain's, at `now`
    (T+6h is measured against it: the caller says which clock). `go`: evidence.last's judgement
    of the latest preactivation record (None: none, or not judged: never ARMED then).
    `activated_at`: T+0 of an activation done by hand, placed in the chain by its time."""
    walk, story = cycle.walk(records, unit, activated_at)
    common = _Basis(
        t0=walk.t0, stop=walk.stop, rollback=walk.rollback, story=tuple(story), broken=broken
    )
    if walk.rollback is not None:
        assert walk.rollback_record is not None
        trigger = cycle.trigger(walk.rollback_record, walk.stop, records)
        verification = walk.verification
        verified = None if verification is None else verification.get("decision") == "OK"
        said = {
            None: "its verification (`pytest -m rollback`) has not recorded yet",
            True: f"verified by run {verification and verification.get('run_id')}",
            False: f"NOT verified: {verification and cycle.said(verification)}",
        }[verified]
        life = Lifecycle(
            State.ROLLED_BACK,
            walk.rollback.at,
            f"rolled back (trigger {trigger}); {said}",
            "re-arm with `pytest -m preactivation`: only a complete GO that starts after the "
            "rollback arms activate.py (runbook s.6 re-try)"
            + (
                ""
                if verified is not False
                else "; first check the rollback by hand (runbook s.6 Rollback Verification)"
            ),
            trigger=trigger,
            verified=verified,
            verification=said,
            **common,
        )
        cutoff: datetime | None = walk.rollback.at
    elif walk.conclusion is not None:
        concluded = walk.conclusion
        at = cycle.moment(concluded)
        life = Lifecycle(
            State.CONCLUDED,
            at,
            f"decision {concluded.get('decision')} recorded by "
            f"{concluded.get('by')} (runbook s.7, s.10)",
            "actions/rollback.py at any time (s.6); a new complete GO re-arms activation",
            **common,
        )
        cutoff = at
    elif walk.stop is not None:
        stop = walk.stop
        ids = ", ".join(cycle.failing_stops(stop)) or "STOP"
        return Lifecycle(
            State.STOPPED,
            _time_of_finish(stop),
            f"window run {stop.get('run_id')} said STOP: {ids}",
            "roll back now: actions/rollback.py (or --on-stop) (runbook s.6); nothing else "
            "until the rollback is recorded",
            **common,
        )
    elif walk.t0 is not None:
        hours = _observation_hours(walk.t0)
        decision_at = walk.t0.at + timedelta(hours=hours)
        if now >= decision_at:
            return Lifecycle(
                State.AWAITING_DECISION,
                decision_at,
                f"T+{hours:g} h reached with no STOP since T+0 {stamp(walk.t0.at)} (runbook s.10)",
                "`shadowgate conclude --decision=continue|adjust|rollback --by=NAME` (runbook "
                "s.7 Decision); the window timers have stopped",
                **common,
            )
        return Lifecycle(
            State.ACTIVE,
            walk.t0.at,
            f"activated, T+0 {walk.t0.describe()}",
            f"the windows (runbook s.5) until T+{hours:g} h ({stamp(decision_at)}); "
            "actions/rollback.py on a STOP (s.6)",
            **common,
        )
    else:
        life = Lifecycle(
            State.SHADOW,
            None,
            "nothing activated",
            "`pytest -m preactivation`: activation needs a complete, fresh GO (runbook s.1, s.9)",
            **common,
        )
        cutoff = None
    return _armed(life, go, cutoff)


def _time_of_finish(record: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_moment(str(record.get("finished_at")))
    except ValueError:
        return None


def _armed(life: Lifecycle, go: LastRun | None, cutoff: datetime | None) -> Lifecycle:
    """ARMED when evidence.arming says the latest GO arms and its run started after the cycle
    it re-arms ended; else `life`, its next step saying why the GO does not arm."""
    if go is None:
        return life
    run_id = go.record.run_id
    started = cycle.moment({"started_at": go.record.started_at})
    if not go.armed:
        why = f"preactivation run {run_id} does not arm: {'; '.join(go.reasons)}"
    elif cutoff is not None and (started is None or started <= cutoff):
        why = (
            f"preactivation run {run_id} started {stamp(started)}, before the {life.state} "
            f"at {stamp(cutoff)}: it arms nothing"
        )
    else:
        return replace(
            life,
            state=State.ARMED,
            since=go.record.finished(),
            why=f"armed by preactivation run {run_id} (GO, complete, fresh)",
            allowed="actions/activate.py --approved-by=NAME (runbook s.4)",
        )
    return replace(life, allowed=f"{life.allowed} ({why})")


def current(
    reports_dir: Path,
    *,
    now: datetime,
    target: Mapping[str, Any] | None = None,
    thresholds_digest: str | None = None,
    fresh_minutes: float = 15.0,
    activated_at: datetime | None = None,
    engine_host: testinfra.host.Host | None = None,
    judge_go: bool = True,
) -> Lifecycle:
    """The state of `target`'s unit from the verified chain of `reports_dir` (cross-checked
    with the journal of `engine_host`, default this machine) at `now`. `judge_go=False`: the
    preactivation GO is not judged (a consumer that needs only T+0 and the rollback): ARMED
    is never derived then. A reports dir arming cannot trust leaves the GO unjudged too."""
    engine_host = engine_host or host.connect("local://")
    chain = verified_chain(Path(reports_dir), engine_host)
    go = None
    if judge_go:
        try:
            go = last(
                Path(reports_dir),
                "preactivation",
                now=now,
                fresh_minutes=fresh_minutes,
                target=target,
                thresholds_digest=thresholds_digest,
                engine_host=engine_host,
            )
        except EvidenceError:
            go = None
    unit = None if target is None else target.get("unit")
    return derive(
        chain.records, now=now, go=go, unit=unit, activated_at=activated_at, broken=chain.broken()
    )
