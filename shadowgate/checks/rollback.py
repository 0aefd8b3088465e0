"""Rollback verification R1-R5 (runbook s.6): the engine is back in shadow, by the flag (R1),
the journal (R2) and the stream (R3), got there within the runbook's 60 s (R4), and stays up
(R5: a crash loop behind R1-R4 is no rollback, ARCHITECTURE.md "The lifecycle").

"Since the restart" is the unit's run that the rollback's restart began (its InvocationID, or
a start at or after the rollback's start); R4's clock starts when the rollback began, from the
rollback action's record or `--rollback-started-at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shadowgate import host, votes
from shadowgate.checks import catalog
from shadowgate.checks.activation import UnitSamples, run_since, stay_findings
from shadowgate.checks.common import counted_in, guard, too_few
from shadowgate.checks.hostfacts import Finding, detail, fold, precise, shadow_flag_verdict
from shadowgate.config import Target, Thresholds, TypedReads
from shadowgate.envchain import EnvChain
from shadowgate.envfile import EnvFile
from shadowgate.host import JournalLine, ProcessEnv, UnitState
from shadowgate.intents import Intent
from shadowgate.verdict import Status, Verdict
from shadowgate.window import Window

if TYPE_CHECKING:
    from shadowgate.evidence.anchors import Anchor

R1, R2, R3, R4, R5 = (catalog.get(f"R{n}") for n in range(1, 6))


@dataclass(frozen=True)
class JournalSince:
    """The journal of the unit's current run (`unit`), read until the host's clock said
    `read_at` or later: a line missing from it was not written by then."""

    lines: tuple[JournalLine, ...]
    unit: UnitState
    read_at: datetime

    def shadow_lines(self, target: Target) -> list[JournalLine]:
        return [line for line in self.lines if host.is_shadow_line(line.text, target.model)]


def r1_shadow_flag_back(
    env: EnvFile, target: Target, chain: EnvChain, process: ProcessEnv
) -> Verdict:
    """The rollback's `echo FLAG=true >>` left exactly one anchored line, and systemd delivers
    it true (P1's rule: a flag left behind by the activation makes two lines, and the last
    one wins for systemd) from the env file that decides it in the whole chain; and the
    engine's process since the restart really has it (`/proc/<MainPID>/environ`)."""
    return shadow_flag_verdict(R1, env, target, chain, process)


def r2_shadow_lines_returning(
    journal: JournalSince, rollback: Anchor, target: Target, th: TypedReads
) -> Verdict:
    """Shadow lines (`[SHADOW] <model>` or `[QSC] <model> INACTIVE: shadow mode`) in the run the
    rollback's restart began. The engine writes one at most every 30 s and only on a
    prediction, so none is a FAIL only once the journal was read `rollback.shadow_wait_seconds`
    after the restart; before that it is INCONCLUSIVE."""
    limits = R2.limits(th)
    wait = limits.number("rollback.shadow_wait_seconds")
    unit, lines = journal.unit, journal.shadow_lines(target)
    findings = [f for f in (run_since(unit, rollback),) if f]
    waited = None if unit.started is None else (journal.read_at - unit.started).total_seconds()
    if not lines and not findings and waited is not None:
        text = f"no shadow line in the {waited:.1f} s after the restart"
        if waited >= wait:
            findings.append(Finding.fail(text))
        else:
            findings.append(Finding.unproven(f"{text}, fewer than {wait:g} s: not yet judged"))
    first = f", the first at {precise(lines[0].ts)}" if lines else ""
    return R2.verdict(
        fold(findings),
        measured=f"{len(lines)} shadow line(s) in {len(journal.lines)} lines{first}; journal read "
        f"until {precise(journal.read_at)}",
        threshold=f">= 1 [SHADOW] {target.model} or [QSC] {target.breakdown_key} INACTIVE: "
        f"shadow mode line since the restart, waiting up to {wait:g} s after it",
        window=f"journal of {unit.unit} since its start at {precise(unit.started)} (InvocationID "
        f"{unit.invocation_id or '-'}); rollback {rollback.describe()}",
        sample=len(journal.lines),
        value=len(lines),
        detail=detail(findings),
    )


def r3_no_consensus_needing_the_model(
    intents: Window[Intent], target: Target, th: TypedReads
) -> Verdict:
    """No intent since the rollback's restart whose consensus only the model's vote explains
    (s.6 "consensus back to 0-3, NOT 4"); any such intent fails on any data, and a PASS needs
    `rollback.min_intents` intents (the runbook's COUNT 5) in a window that proves something."""
    limits = R3.limits(th)
    needed = limits.integer("rollback.min_intents")
    threshold = "0 intents since the restart whose consensus only the model's vote explains"
    hits = [i for i in intents.records if votes.beyond_others(i, target.breakdown_key)]
    if not hits and (
        inconclusive := guard(R3, intents, limits, threshold, whole=True)
        or too_few(R3, threshold, intents, len(intents.records), needed)
    ):
        return inconclusive
    return R3.verdict(
        Status.FAIL if hits else Status.PASS,
        measured=f"{len(hits)} of {len(intents.records)} intents",
        threshold=f"{threshold}, on >= {needed} intents",
        **counted_in(intents, hits),
    )


def first_shadow_evidence(
    journal: JournalSince, intents: Window[Intent], target: Target
) -> datetime | None:
    """The earliest sign of shadow mode after the restart: a shadow journal line, or an intent
    whose model vote is shadow evidence; None without either."""
    lines = [line.ts for line in journal.shadow_lines(target)]
    tagged = [
        datetime.fromtimestamp(i.ts_ms / 1000, UTC)
        for i in intents.records
        if (v := i.breakdown.get(target.breakdown_key)) and votes.is_shadow(v)
    ]
    return min([*lines, *tagged], default=None)


def r4_rollback_time(
    env: EnvFile,
    chain: EnvChain,
    process: ProcessEnv,
    journal: JournalSince,
    intents: Window[Intent],
    rollback: Anchor,
    target: Target,
    th: Thresholds,
) -> Verdict:
    """From the rollback's start to the engine back in shadow (R1-R3 hold; the moment is the
    first shadow evidence after the restart), under `rollback.max_seconds`. No evidence once
    the limit has passed is a FAIL; a start time the record does not hold is INCONCLUSIVE,
    since the restart's time would understate it."""
    limits = R4.limits(th)
    limit = limits.number("rollback.max_seconds")
    start = rollback.started_at
    evidence = first_shadow_evidence(journal, intents, target)
    findings, took = [], None
    if start is None:
        findings.append(Finding.unproven(f"{rollback.source} holds no start time"))
    elif evidence is not None:
        took = (evidence - start).total_seconds()
        if took >= limit:
            findings.append(Finding.fail(f"back in shadow {took:.1f} s after the start"))
    elif (so_far := (journal.read_at - start).total_seconds()) >= limit:
        findings.append(Finding.fail(f"no shadow evidence {so_far:.1f} s after the start"))
    else:
        findings.append(Finding.unproven(f"no shadow evidence yet, {so_far:.1f} s after the start"))
    for prior in (
        r1_shadow_flag_back(env, target, chain, process),
        r2_shadow_lines_returning(journal, rollback, target, limits),
        r3_no_consensus_needing_the_model(intents, target, limits),
    ):
        if not prior.ok:
            text = f"{prior.check_id} {prior.status.value}: back in shadow not established"
            failed = prior.status is Status.FAIL
            findings.append(Finding.fail(text) if failed else Finding.unproven(text))
    return R4.verdict(
        fold(findings),
        measured=f"started {precise(start)}, first shadow evidence {precise(evidence)}"
        + ("" if took is None else f": {took:.1f} s"),
        threshold=f"< {limit:g} s from the rollback's start to the first shadow evidence after "
        "the restart, with R1-R3 passed",
        window=f"rollback {rollback.describe()}; journal until {precise(journal.read_at)}; "
        f"{len(intents.records)} intents since the restart",
        value=took,
        detail=detail(findings),
    )


def _restart_findings(samples: UnitSamples, restart: datetime) -> list[Finding]:
    """NRestarts not grown between the samples: systemd counts every automatic restart, so
    growth is a crash loop even when the second sample catches the engine running."""
    first, second = samples.first, samples.second
    if first.n_restarts is None or second.n_restarts is None:
        return [Finding.unproven(f"{first.unit} shows no NRestarts: cannot tell it stays up")]
    if second.n_restarts <= first.n_restarts:
        return []
    took = (samples.second_at - (first.started or restart)).total_seconds()
    return [
        Finding.fail(
            f"crash-looping: NRestarts {first.n_restarts} -> {second.n_restarts} in {took:.1f} s "
            "after the restart"
        )
    ]


def r5_engine_stays_up(samples: UnitSamples, rollback: Anchor, th: Thresholds) -> Verdict:
    """The run the rollback's restart began is active (running) within
    `service.active_within_seconds`, and at a second sample `rollback.stable_seconds` after its
    start (s.6's `sleep 10`) it is the same process (A0's rule) with NRestarts not grown."""
    limits = R5.limits(th)
    within = limits.number("service.active_within_seconds")
    stable = limits.number("rollback.stable_seconds")
    first, second = samples.first, samples.second
    findings = _restart_findings(samples, rollback.at)
    if not first.running:
        state = f"{first.active_state} ({first.sub_state})"
        text = f"{first.unit} is {state}, not active (running) {within:g} s after the restart"
        findings.append(Finding.fail(text))
    elif unproven := run_since(first, rollback):
        findings.append(unproven)
    elif rollback.invocation_id and first.invocation_id != rollback.invocation_id:
        findings.append(
            Finding.fail(
                f"restarted since the rollback's restart: InvocationID {rollback.invocation_id} "
                f"after it, {first.invocation_id or '-'} now"
            )
        )
    if first.running:
        findings += stay_findings(samples, stable)
    grown = (
        None
        if first.n_restarts is None or second.n_restarts is None
        else second.n_restarts - first.n_restarts
    )
    return R5.verdict(
        fold(findings),
        measured=f"{first.describe()}, InvocationID {first.invocation_id or '-'}, started "
        f"{precise(first.started)}; at {precise(samples.second_at)}: {second.describe()}, "
        f"InvocationID {second.invocation_id or '-'}",
        threshold=f"active (running) within {within:g} s of the restart; same MainPID and "
        f"InvocationID, NRestarts not grown, at a second sample >= {stable:g} s after the start",
        window=f"systemctl show {first.unit} after the rollback's restart, {rollback.describe()}",
        value=grown,
        detail=detail(findings),
    )
