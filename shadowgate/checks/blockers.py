"""Hard blockers B1-B4 and B6 (runbook s.2 and s.9); B5, the gate quorum, is in gates.py.

Each reads the runbook's `COUNT 100` snapshot unless it is about the service itself.
"""

from __future__ import annotations

from shadowgate import metrics, votes
from shadowgate.checks import catalog
from shadowgate.checks.common import flag_values, judged, sample_ids, too_few, window_text
from shadowgate.config import Target, Thresholds
from shadowgate.envfile import EnvFile
from shadowgate.host import UnitState
from shadowgate.intents import Intent
from shadowgate.stream import Window
from shadowgate.verdict import Verdict

B1, B2, B3, B4, B6 = (catalog.get(i) for i in ("B1", "B2", "B3", "B4", "B6"))


def b1_consensus_in_shadow(snapshot: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """A consensus only reachable if the model voted: shadow mode is broken."""
    limit = int(th["blockers.max_full_consensus_in_shadow"])
    threshold = f"<= {limit} events (consensus above the number of other voters)"
    short = too_few(B1, threshold, snapshot, len(snapshot.records), 1)
    if short:
        return short
    hits = [i for i in snapshot.records if votes.beyond_others(i, target.breakdown_key)]
    return B1.verdict(
        judged(len(hits) <= limit),
        measured=f"{len(hits)} of {len(snapshot.records)} intents; consensus distribution "
        f"{metrics.consensus_distribution(snapshot.records)}",
        threshold=threshold,
        window=window_text(snapshot),
        sample=len(snapshot.records),
        value=len(hits),
        evidence=sample_ids(hits),
    )


def b2_voting_while_flag_on(snapshot: Window[Intent], env: EnvFile, target: Target) -> Verdict:
    """The flag says shadow, yet the model's vote was counted in the consensus: a logic error."""
    threshold = "0 intents counting the model while the flag is on"
    flag_on = flag_values(env, target) == ["true"]
    short = too_few(B2, threshold, snapshot, len(snapshot.records), 1)
    if short:
        return short
    counted = [i for i in snapshot.records if votes.counts_model(i, target.breakdown_key)]
    return B2.verdict(
        judged(not (flag_on and counted)),
        measured=f"flag {'on' if flag_on else 'not on (see P1)'}; {len(counted)} of "
        f"{len(snapshot.records)} intents count the {target.breakdown_key} vote",
        threshold=threshold,
        window=window_text(snapshot),
        sample=len(snapshot.records),
        value=len(counted),
        evidence=sample_ids(counted),
    )


def b3_payload_p95(snapshot: Window[Intent], th: Thresholds) -> Verdict:
    """Payload bloat slows every consumer of the stream."""
    limit = int(th["payload.max_p95_bytes"])
    threshold = f"p95 < {limit} bytes"
    short = too_few(B3, threshold, snapshot, len(snapshot), 1)
    if short:
        return short
    p95 = metrics.payload_p95(snapshot.records)
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


def b4_restart_loop(first: UnitState, now: UnitState, th: Thresholds) -> Verdict:
    """Active (running) now, and no automatic restart between the run's two samples."""
    max_restarts = int(th["service.max_restarts"])
    restarted = (now.n_restarts > first.n_restarts) or (now.active_enter != first.active_enter)
    ok = now.running and not restarted and now.n_restarts <= max_restarts
    return B4.verdict(
        judged(ok),
        measured=f"now {now.describe()}; at run start NRestarts={first.n_restarts}"
        + ("; restarted during the run" if restarted else ""),
        threshold=f"active (running), NRestarts <= {max_restarts} and not growing",
        window=f"systemctl show {now.unit}, sampled twice",
        value=now.n_restarts,
    )


def b6_hard_disagreement(snapshot: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """Shadow votes opposite to the ensemble would become execution conflict once voting."""
    limit = th.number("blockers.max_hard_disagreement")
    hard = metrics.hard_disagreement(snapshot.records, target.breakdown_key)
    threshold = f"<= {limit:.0%} BUY-vs-SELL against the ensemble side"
    short = too_few(B6, threshold, snapshot, hard, 1)
    if short:
        return short
    return B6.verdict(
        judged(hard.value <= limit),
        measured=str(hard),
        threshold=threshold,
        window=window_text(snapshot),
        sample=hard.total,
        value=hard.value,
    )
