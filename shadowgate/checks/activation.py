"""Activation verification A0-A4 (runbook s.4 "Post-Activation Verification", T+0..5 min).

"Since the restart" is the unit's run that the activation's restart began: T+0 and the
InvocationID come from the activation record or `--activated-at` (evidence.anchors). A run that
began before T+0 may be the shadow run still, so it proves nothing (INCONCLUSIVE).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shadowgate import host, votes
from shadowgate.checks import catalog
from shadowgate.checks.common import CANNOT_PROVE, counted_in, guard
from shadowgate.checks.hostfacts import (
    MODEL_FACT,
    Finding,
    detail,
    file_findings,
    fold,
    load_findings,
    precise,
    process_findings,
)
from shadowgate.checks.limits import Limits
from shadowgate.checks.row import Check
from shadowgate.config import Target, Thresholds
from shadowgate.envchain import EnvChain
from shadowgate.evidence.record import latest_before
from shadowgate.host import FileFacts, JournalLine, ProcessEnv, UnitState
from shadowgate.intents import Intent
from shadowgate.verdict import EPSILON, Status, Verdict
from shadowgate.window import Window

if TYPE_CHECKING:
    from shadowgate.evidence import RunRecord
    from shadowgate.evidence.anchors import Anchor

A0, A1, A2, A3, A4 = (catalog.get(f"A{n}") for n in range(5))


@dataclass(frozen=True)
class UnitSamples:
    """Two `systemctl show` samples after a restart: the first once active (or at the
    deadline), the second later, with the host's clock at the second."""

    first: UnitState
    second: UnitState
    second_at: datetime


@dataclass(frozen=True)
class ObservedModel:
    """The model file a preactivation run observed in shadow (its record's `facts["model"]`)."""

    run_id: str
    path: str | None
    sha256: str | None

    @classmethod
    def latest(
        cls, records: Sequence[RunRecord], target: Target, before: datetime
    ) -> ObservedModel | None:
        """From the newest preactivation record of `target` finished at or before T+0 (a
        later one saw the model voting, not in shadow); None when there is none."""
        record = latest_before(records, "preactivation", target.describe(), before)
        if record is None:
            return None
        fact = record.facts.get(MODEL_FACT)
        fact = fact if isinstance(fact, dict) else {}
        path, sha = fact.get("path"), fact.get("sha256")
        return cls(
            record.run_id,
            path if isinstance(path, str) and path else None,
            sha if isinstance(sha, str) and sha else None,
        )


def run_since(state: UnitState, anchor: Anchor) -> Finding | None:
    """None when the unit's current run began with the anchor's restart or later (the
    InvocationID the action recorded, or a start at or after the anchor); else why that is
    unproven: an `--activated-at` given late reads the same as no restart at all."""
    if anchor.invocation_id and state.invocation_id == anchor.invocation_id:
        return None
    if state.started is None:
        return Finding.unproven(f"{state.unit} shows no start time: cannot tell it restarted")
    if state.started < anchor.at:
        return Finding.unproven(
            f"{state.unit} last started at {precise(state.started)}, before "
            f"{anchor.describe()}: no restart since, or the time given is later than the restart"
        )
    return None


def _start_findings(
    first: UnitState, t0: Anchor, within: float
) -> tuple[list[Finding], float | None]:
    """Active (running) in the run the activation began, within `within` s of T+0; the delay."""
    if not first.running:
        state = f"{first.active_state} ({first.sub_state})"
        return [Finding.fail(f"{first.unit} is {state}, not active (running)")], None
    if unproven := run_since(first, t0):
        return [unproven], None
    if t0.invocation_id and first.invocation_id != t0.invocation_id:
        text = (
            f"restarted since T+0: InvocationID {t0.invocation_id} after the activation's "
            f"restart, {first.invocation_id or '-'} now (NRestarts={first.n_restarts})"
        )
        return [Finding.fail(text)], None
    if first.started is None:
        return [Finding.unproven(f"{first.unit} shows no start time: delay unknown")], None
    # The action may record the restart when `systemctl restart` returned, after activation.
    delay = max(0.0, (first.started - t0.at).total_seconds())
    late = [Finding.fail(f"active {delay:.1f} s after T+0")] if delay > within else []
    return late, delay


def stay_findings(samples: UnitSamples, stable: float) -> list[Finding]:
    """The same process at a second sample taken long enough after the start."""
    first, second = samples.first, samples.second
    if not second.running:
        state = f"{second.active_state} ({second.sub_state})"
        return [Finding.fail(f"{second.unit} is {state} at the second sample: not staying up")]
    before = (first.main_pid, first.invocation_id)
    if (second.main_pid, second.invocation_id) != before:
        return [
            Finding.fail(
                f"MainPID {first.main_pid or '-'} -> {second.main_pid or '-'}, InvocationID "
                f"{first.invocation_id or '-'} -> {second.invocation_id or '-'} between the "
                "samples: not staying up"
            )
        ]
    if first.main_pid is None:
        return [Finding.unproven(f"{first.unit} shows no MainPID: cannot tell it stayed up")]
    up = None if first.started is None else (samples.second_at - first.started).total_seconds()
    if up is None or up < stable:
        shown = "unknown" if up is None else f"{up:.1f} s"
        return [Finding.unproven(f"second sample {shown} after the start, before {stable:g} s")]
    return []


def a0_service_active(samples: UnitSamples, t0: Anchor, th: Thresholds) -> Verdict:
    """Active (running) within `service.active_within_seconds` of T+0 in the run the restart
    began, and the same process (MainPID, InvocationID) at a second sample at least
    `activation.stable_seconds` after the start: the runbook's `sleep 10; systemctl is-active`
    (s.4 steps 6-7), but one look at `active` does not show a process that crashes at 12 s."""
    limits = A0.limits(th)
    within = limits.number("service.active_within_seconds")
    stable = limits.number("activation.stable_seconds")
    first, second = samples.first, samples.second
    findings, delay = _start_findings(first, t0, within)
    if first.running:
        findings += stay_findings(samples, stable)
    after = "delay unknown" if delay is None else f"{delay:.1f} s after T+0"
    return A0.verdict(
        fold(findings),
        measured=f"{first.describe()}, InvocationID {first.invocation_id or '-'}, started "
        f"{precise(first.started)} ({after}); at {precise(samples.second_at)}: "
        f"{second.active_state} ({second.sub_state}), MainPID {second.main_pid or '-'}, "
        f"InvocationID {second.invocation_id or '-'}",
        threshold=f"active (running) within {within:g} s of T+0; same MainPID and InvocationID "
        f"at a second sample >= {stable:g} s after the start",
        window=f"systemctl show {first.unit} after T+0 {t0.describe()}",
        value=delay,
        detail=detail(findings),
    )


def _observed_findings(
    observed: ObservedModel | None, model_file: FileFacts | None, state: UnitState
) -> list[Finding]:
    """The file the preactivation record observed is the file on disk now, unchanged since
    the restart (so the weights loaded are the observed ones)."""
    if observed is None or observed.path is None or observed.sha256 is None:
        why = (
            "no preactivation record of this target before T+0"
            if observed is None
            else f"preactivation record {observed.run_id} holds no model path and sha256"
        )
        return [Finding.unproven(f"{why}: the observed file is unknown")]
    if model_file is None:
        return [Finding.unproven(f"{observed.path} was not inspected")]
    found = file_findings(model_file, state)
    if model_file.sha256 and model_file.sha256 != observed.sha256:
        found.append(
            Finding.fail(
                f"{observed.path} has sha256 {model_file.sha256}, not {observed.sha256} as "
                f"observed in shadow (record {observed.run_id})"
            )
        )
    return found


def _weight_warnings(weights: Sequence[float], given: float | None) -> list[str]:
    """The `(weight: X%)` line against the requested weight (the activation record's): a red
    flag only, the engine may hard-code it (runbook s.3, s.8). Its first clause is the reason
    the activation's headline names."""
    if given is None:
        return []
    if not weights:
        return [
            f"no `(weight: X%)` line since the restart to compare with the requested {given:g}%"
        ]
    if not math.isclose(weights[-1], given, rel_tol=EPSILON, abs_tol=EPSILON):
        return [
            f"weight {weights[-1]:g}% is not the requested {given:g}%; the engine may hard-code "
            "it (runbook s.3, s.8)"
        ]
    return []


def a1_model_loaded_voting(
    journal: Sequence[JournalLine],
    state: UnitState,
    t0: Anchor,
    observed: ObservedModel | None,
    model_file: FileFacts | None,
    target: Target,
    weight: float | None,
    chain: EnvChain,
    process: ProcessEnv,
) -> Verdict:
    """Since the restart (the unit's current run, begun at or after T+0) the agent chose and
    read the file observed in shadow (same sha256, unchanged since the start), with no load
    failure and no shadow line, and the engine's process really has no shadow flag (its
    `/proc/<MainPID>/environ`, the same as the chain delivers); the `[OK] ... (weight: X%)`
    line alone proves nothing, and a weight other than the requested `weight` (the activation
    record's strategy) is a WARN."""
    findings = [f for f in (run_since(state, t0),) if f]
    findings += _observed_findings(observed, model_file, state)
    flag_findings, flag_seen = process_findings(process, chain, target.shadow_flag, shadow=False)
    findings += flag_findings
    seen = "preactivation record: none"
    if observed is not None:
        seen = f"preactivation record {observed.run_id}: {observed.path} sha256 {observed.sha256}"
    if observed is not None and observed.path:
        loaded, summary = load_findings(journal, observed.path, target.model)
        findings += loaded
        seen += f"; {summary}"
    shadow = [line for line in journal if host.is_shadow_line(line.text, target.model)]
    if shadow:
        first = shadow[0]
        text = f"{len(shadow)} shadow line(s) since the restart, first at {precise(first.ts)}"
        findings.append(Finding.fail(f"{text}: {first.message[:160]!r}"))
    weights = [
        w for line in journal if (w := host.loaded_weight(line.text, target.model)) is not None
    ]
    warnings = _weight_warnings(weights, weight)
    status = fold(findings)
    if status is Status.PASS and warnings:
        status = Status.WARN
    shown = f"{weights[-1]:g}%" if weights else "no weight line"
    return A1.verdict(
        status,
        measured=f"{seen}; {len(shadow)} shadow line(s); weight {shown} vs requested "
        + (f"{weight:g}%" if weight is not None else "not recorded")
        + f"; {flag_seen}",
        threshold="since the restart: the agent chose and read the file observed in shadow "
        "(same sha256, unchanged since the start), no load failure, no shadow line, no "
        f"{target.shadow_flag}=true in the engine's process; the weight line equals the "
        "activation record's weight (else WARN)",
        window=f"journal of {state.unit} since its start at {precise(state.started)} "
        f"(InvocationID {state.invocation_id or '-'}), T+0 {t0.describe()}",
        sample=len(journal),
        value=len(findings) + len(warnings),
        detail=" | ".join(p for p in (detail(findings), "; ".join(warnings)) if p),
    )


def _predicted(intents: Sequence[Intent], model: str) -> list[Intent]:
    return [i for i in intents if votes.failure_form(i, model) is None]


def vote_verdict(
    check: Check,
    intents: Window[Intent],
    limits: Limits,
    offending: Sequence[Intent],
    measured: str,
    threshold: str,
    model: str,
) -> Verdict:
    """No intent may offend (a FAIL on any data); a PASS needs a window that proves something
    (guard, the whole span since the restart held) and at least one prediction of `model`."""
    predicted = _predicted(intents.records, model)
    failures = votes.failure_forms(intents.records, model)
    measured += "; intents without a prediction: " + (
        ", ".join(f"{n}x {form}" for form, n in failures.items()) or "none"
    )
    if not offending and (inconclusive := guard(check, intents, limits, threshold, whole=True)):
        return inconclusive
    status = Status.FAIL if offending else Status.PASS
    if not offending and not predicted:
        status = Status.INCONCLUSIVE
    return check.verdict(
        status,
        measured=measured,
        threshold=threshold,
        **counted_in(intents, offending),
        detail=f"no {model} prediction since the restart: {CANNOT_PROVE}"
        if status is Status.INCONCLUSIVE
        else "",
    )


def a2_consensus_needing_the_model(
    intents: Window[Intent], target: Target, th: Thresholds
) -> Verdict:
    """PatchTST's vote counts: >= 1 intent since T+0 whose consensus only its vote explains
    (above the other active voters; a full consensus with it among the active voters is one).
    A full consensus of the others alone proves nothing. None yet is INCONCLUSIVE, not FAIL:
    full consensus is about half the intents even when the model votes."""
    limits = A2.limits(th)
    model = target.breakdown_key
    threshold = f">= 1 intent since T+0 whose consensus only the {model} vote explains"
    hits = [i for i in intents.records if votes.beyond_others(i, model)]
    if inconclusive := guard(A2, intents, limits, threshold):
        return inconclusive
    return A2.verdict(
        Status.PASS if hits else Status.INCONCLUSIVE,
        measured=f"{len(hits)} of {len(intents.records)} intents; consensus counts "
        f"{dict(sorted(Counter(i.consensus_count for i in intents.records).items()))}",
        threshold=threshold,
        **counted_in(intents, hits),
        detail="" if hits else f"none yet: cannot prove the {model} vote counts",
    )


def a3_no_excluded_vote(intents: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """No PatchTST vote since T+0 is left out of the ensemble: tagged shadow (`"shadow": true`,
    a `*_shadow` name) or `inactive` for any reason (shadow mode, fallback rules)."""
    limits = A3.limits(th)
    model = target.breakdown_key
    excluded = [
        i for i in intents.records if (v := i.breakdown.get(model)) and votes.is_excluded(v)
    ]
    why = Counter(
        "shadow" if votes.is_shadow(vote) else f"inactive: {vote.inactive_reason or '-'}"
        for vote in (i.breakdown[model] for i in excluded)
    )
    return vote_verdict(
        A3,
        intents,
        limits,
        excluded,
        f"{len(excluded)} of {len(intents.records)} intents with the {model} vote excluded "
        f"({', '.join(f'{n}x {w}' for w, n in why.items()) or 'none'})",
        f"0 {model} votes tagged shadow or inactive since T+0",
        model,
    )


def a4_model_in_breakdown(intents: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """The model is in model_breakdown under its own name, not `<model>_shadow` (runbook s.4
    step 4); a missing entry is a failed prediction, counted, and cannot pass alone."""
    limits = A4.limits(th)
    model = target.breakdown_key
    named = Counter(v.model for i in intents.records if (v := i.breakdown.get(model)))
    shadow_named = [
        i for i in intents.records if (v := i.breakdown.get(model)) and v.model.endswith("_shadow")
    ]
    return vote_verdict(
        A4,
        intents,
        limits,
        shadow_named,
        f"{sum(named.values())} of {len(intents.records)} intents carry a {model} entry; "
        f"model names {dict(named) or 'none'}",
        f"{model} in the breakdown, its model field never *_shadow since T+0",
        model,
    )
