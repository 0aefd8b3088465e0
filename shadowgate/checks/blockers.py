"""Hard blockers B1-B4 and B6 (runbook s.2 and s.9); B5, the gate quorum, is in gate_rules.py.

Each reads the runbook's `COUNT 100` snapshot unless it is about the service itself.
"""

from __future__ import annotations

from shadowgate import metrics, votes
from shadowgate.checks import catalog
from shadowgate.checks.common import (
    counted_in,
    guard,
    judged,
    proven,
    sample_ids,
    too_few,
    window_text,
)
from shadowgate.checks.hostfacts import Finding, PreviousUnit, detail, fold, precise
from shadowgate.config import Target, Thresholds
from shadowgate.envfile import EnvFile
from shadowgate.host import AutoRestart, UnitState
from shadowgate.intents import Intent
from shadowgate.stream import Window
from shadowgate.verdict import Verdict

B1, B2, B3, B4, B6 = (catalog.get(i) for i in ("B1", "B2", "B3", "B4", "B6"))


def b1_consensus_in_shadow(snapshot: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """A consensus only reachable if the model voted: shadow mode is broken (counted against
    each intent's active voters; any such event is a finding, however thin the snapshot)."""
    limits = B1.limits(th)
    limit = limits.integer("blockers.max_full_consensus_in_shadow")
    threshold = f"<= {limit} events (consensus above the number of other active voters)"
    hits = [i for i in snapshot.records if votes.beyond_others(i, target.breakdown_key)]
    if len(hits) <= limit and (inconclusive := guard(B1, snapshot, limits, threshold)):
        return inconclusive
    return B1.verdict(
        judged(len(hits) <= limit),
        measured=f"{len(hits)} of {len(snapshot.records)} intents; consensus distribution "
        f"{metrics.consensus_distribution(snapshot.records)}",
        threshold=threshold,
        **counted_in(snapshot, hits),
    )


def b2_voting_while_flag_on(
    snapshot: Window[Intent], env: EnvFile, target: Target, th: Thresholds
) -> Verdict:
    """The flag says shadow, yet the model's vote was counted in the consensus: a logic error.
    "On" is what systemd delivers (`EnvironmentFile=` semantics), not what grep shows."""
    limits = B2.limits(th)
    threshold = "0 intents counting the model while systemd delivers the flag true"
    flag_on = env.flag_state(target.shadow_flag).systemd_value == "true"
    counted = [i for i in snapshot.records if votes.counts_model(i, target.breakdown_key)]
    finding = flag_on and bool(counted)
    if not finding and (inconclusive := guard(B2, snapshot, limits, threshold)):
        return inconclusive
    return B2.verdict(
        judged(not finding),
        measured=f"{target.shadow_flag} {'true' if flag_on else 'not true (see P1)'} as "
        f"systemd delivers it; {len(counted)} of {len(snapshot.records)} intents count the "
        f"{target.breakdown_key} vote",
        threshold=threshold,
        **counted_in(snapshot, counted),
    )


def b3_payload_p95(snapshot: Window[Intent], th: Thresholds) -> Verdict:
    """Payload bloat slows every consumer of the stream."""
    limits = B3.limits(th)
    limit = limits.integer("payload.max_p95_bytes")
    threshold = f"p95 < {limit} bytes"
    inconclusive = guard(B3, snapshot, limits, threshold)
    if inconclusive:
        return inconclusive
    p95 = proven(metrics.payload_p95(snapshot.records))  # the guard saw enough intents
    largest = sorted(snapshot.records, key=lambda i: i.payload_bytes, reverse=True)
    return B3.verdict(
        judged(p95 < limit),
        measured=f"p95 {p95:.0f} bytes (max {largest[0].payload_bytes})",
        threshold=threshold,
        window=window_text(snapshot),
        sample=len(snapshot.records),
        value=p95,
        evidence=sample_ids(largest),
    )


def _restart_marks(state: UnitState) -> tuple[object, ...]:
    """What any restart changes: a start by hand resets NRestarts, so it alone is not enough."""
    return state.n_restarts, state.invocation_id, state.started


def b4_restart_loop(
    first: UnitState,
    now: UnitState,
    recent: AutoRestart,
    previous: PreviousUnit | None,
    th: Thresholds,
) -> Verdict:
    """A restart loop, told apart from one old crash (Restart=always keeps NRestarts at 1 for
    good): running now, no automatic restart in the window (unproven is INCONCLUSIVE), no
    restart of any kind during this run, and NRestarts not grown since the previous record of
    this target within the same invocation."""
    limits = B4.limits(th)
    hours = limits.number("service.auto_restart_window_hours")
    findings = []
    if not now.running:
        state = f"{now.active_state} ({now.sub_state})"
        findings.append(Finding.fail(f"{now.unit} is {state}, not active (running)"))
    if recent.happened:
        findings.append(Finding.fail(recent.reason))
    elif recent.happened is None:
        why = f"cannot prove no automatic restart in the last {hours:g} h: {recent.reason}"
        findings.append(Finding.unproven(why))
    if _restart_marks(first) != _restart_marks(now):
        why = "restarted during the run (NRestarts, InvocationID or start time changed)"
        findings.append(Finding.fail(why))
    if previous is None:
        since = "no previous preactivation record of this target to compare with"
    else:
        since, finding = previous.compare(now)
        findings += [finding] if finding else []
    return B4.verdict(
        fold(findings),
        measured=f"now {now.describe()}, InvocationID {now.invocation_id or '-'}; at run start "
        f"NRestarts={first.n_restarts}, InvocationID {first.invocation_id or '-'}, started "
        f"{precise(first.started)}; last {hours:g} h: {recent.reason}; {since}",
        threshold=f"active (running); no automatic restart in the last {hours:g} h; NRestarts, "
        "InvocationID and start unchanged during the run; NRestarts not grown since the "
        "previous record of this target (same InvocationID)",
        window=f"systemctl show {now.unit} at run start and now; its journal",
        value=now.n_restarts,
        detail=detail(findings),
    )


def b6_hard_disagreement(snapshot: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """Shadow votes opposite to the ensemble would become execution conflict once voting."""
    limits = B6.limits(th)
    limit = limits.number("blockers.max_hard_disagreement")
    hard = metrics.hard_disagreement(snapshot.records, target.breakdown_key)
    threshold = f"<= {limit:.0%} BUY-vs-SELL against the ensemble side"
    inconclusive = guard(B6, snapshot, limits, threshold) or too_few(
        B6, threshold, snapshot, hard, 1
    )
    if inconclusive:
        return inconclusive
    return B6.verdict(
        judged(proven(hard.value) <= limit),
        measured=f"{hard} of the intents carrying a {target.breakdown_key} vote",
        threshold=threshold,
        window=window_text(snapshot),
        sample=hard.total,
        value=hard.value,
    )
