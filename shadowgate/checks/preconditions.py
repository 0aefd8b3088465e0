"""Preconditions P1-P7 (runbook s.1 and s.4 pre-activation verification).

Shadow mode is proven twice and separately: by the flag (P1) and by behaviour (P2), because the
engine once hard-coded shadow mode off while the flag still said true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shadowgate import host, votes
from shadowgate.checks import catalog
from shadowgate.checks.common import (
    CANNOT_PROVE,
    counted_in,
    guard,
    judged,
    proven,
    window_text,
)
from shadowgate.checks.hostfacts import (
    Finding,
    chain_findings,
    chain_view,
    detail,
    file_findings,
    fold,
    load_findings,
    precise,
    read_key,
    rollback_findings,
    shadow_flag_verdict,
)
from shadowgate.config import Target, Thresholds
from shadowgate.dayscan import DayScan
from shadowgate.envchain import EnvChain
from shadowgate.envfile import EnvFile
from shadowgate.host import FileFacts, JournalLine, UnitState
from shadowgate.intents import Intent
from shadowgate.stream import HOUR_MS, Window
from shadowgate.timefmt import duration
from shadowgate.verdict import Status, Verdict

P1, P2, P3, P4, P5, P6, P7 = (catalog.get(f"P{n}") for n in range(1, 8))


def p1_shadow_flag(env: EnvFile, target: Target, chain: EnvChain) -> Verdict:
    """What the engine gets counts (the whole chain systemd delivers: unit, drop-ins, every
    EnvironmentFile=), and the runbook's anchored grep must show the same in the env file that
    decides, so the operator's check and the engine's view cannot drift apart."""
    return shadow_flag_verdict(P1, env, target, chain)


def _shadow_lines(lines: Sequence[JournalLine], target: Target) -> list[JournalLine]:
    return [line for line in lines if host.is_shadow_line(line.text, target.model)]


def _named(forms: dict[str, int]) -> str:
    return ", ".join(f"{n}x {form}" for form, n in forms.items()) or "none"


def p2_shadow_behaviour(
    snapshot: Window[Intent], journal: Sequence[JournalLine], target: Target, th: Thresholds
) -> Verdict:
    """Every prediction of the model in the snapshot is shadow evidence, and the journal shows
    shadow lines: behaviour, not the flag. Failed predictions are named but prove nothing
    either way; a confidence outside 0..1 from the model under test is itself a finding."""
    limits = P2.limits(th)
    model = target.breakdown_key
    minutes = limits.number("shadow.journal_minutes")
    min_lines = limits.integer("shadow.min_journal_lines")
    threshold = (
        f"every {model} prediction shadow evidence (shadow tag, *_shadow model or inactive for "
        f"shadow_mode) with a confidence within 0..1; >= {min_lines} shadow journal line(s) "
        f"([SHADOW] {target.model} or [QSC] {model} INACTIVE: shadow mode) in the last "
        f"{minutes:g} min"
    )
    predicted = [i for i in snapshot.records if votes.failure_form(i, model) is None]
    voting = [i for i in predicted if not votes.is_shadow(i.breakdown[model])]
    odd = [i for i in predicted if i.breakdown[model].odd]
    offending = [
        i for i in predicted if i.breakdown[model].odd or not votes.is_shadow(i.breakdown[model])
    ]
    if not offending and (inconclusive := guard(P2, snapshot, limits, threshold)):
        return inconclusive
    failures = votes.failure_forms(snapshot.records, model)
    lines = _shadow_lines(journal, target)
    if offending:
        status = Status.FAIL
    elif not predicted:
        status = Status.INCONCLUSIVE
    else:
        status = judged(len(lines) >= min_lines)
    return P2.verdict(
        status,
        measured=f"{len(predicted) - len(voting)}/{len(predicted)} {model} predictions are "
        f"shadow evidence ({len(voting)} voting, {len(odd)} with a confidence outside 0..1); "
        f"{sum(failures.values())} of {len(snapshot.records)} intents without a prediction "
        f"({_named(failures)}); {len(lines)} shadow journal lines in {len(journal)} lines "
        f"of {target.unit}",
        threshold=threshold,
        **counted_in(snapshot, offending),
        detail=f"no {model} prediction in the snapshot, only failures: {CANNOT_PROVE}"
        if status is Status.INCONCLUSIVE
        else "",
    )


def p3_no_full_consensus_24h(day: DayScan, target: Target, th: Thresholds) -> Verdict:
    """Zero events whose consensus needed the model's vote over the whole precondition window
    (any event found is a finding even where the window is thin, stale or not covered)."""
    limits = P3.limits(th)
    hours = limits.number("window.precondition_hours")
    limit = limits.integer("blockers.max_full_consensus_in_shadow")
    threshold = f"<= {limit} events over {hours:g} h (consensus above the other active voters)"
    hits, window = day.of(target).beyond_others, proven(day.window)
    if hits.n <= limit and (inconclusive := guard(P3, window, limits, threshold, whole=True)):
        return inconclusive
    return P3.verdict(
        judged(hits.n <= limit),
        measured=f"{hits.n} of {window.n_records} intents"
        + ("" if window.covered else " in the part still held"),
        threshold=threshold,
        **counted_in(window, hits),
    )


def p4_service_stable(state: UnitState, now: datetime, th: Thresholds) -> Verdict:
    """Up long enough since its last start. Restart=always keeps NRestarts at 1 for good after
    one crash days ago, so an automatic restart before that start is reported, not failed (B4
    judges the recent ones)."""
    limits = P4.limits(th)
    min_hours = limits.number("service.min_uptime_hours")
    uptime = state.uptime_s(now)
    if not state.running:
        status, up = Status.FAIL, "not running"
    elif uptime is None:
        status, up = Status.INCONCLUSIVE, "no start time shown: uptime unknown"
    else:
        status = judged(uptime >= min_hours * 3600)
        up = f"up {duration(int(uptime))} since {precise(state.started)}"
    auto = (
        f"; this run began with an automatic restart at {precise(state.started)} (reported, "
        "not failed)"
        if state.running and state.n_restarts
        else ""
    )
    return P4.verdict(
        status,
        measured=f"{state.describe()}; {up}{auto}",
        threshold=f"active (running), up >= {min_hours:g} h since the last start",
        window=f"systemctl show {state.unit} at {precise(now)}",
        value=None if uptime is None else uptime / 3600,
    )


def p5_observation_long_enough(
    day: DayScan, target: Target, th: Thresholds, now_ms: int
) -> Verdict:
    """The model has been in shadow, continuously, for at least the observation period: since
    the newest intent where it voted (a prediction that is no shadow evidence), else since the
    window's start if the stream still holds it. Failed or missing votes neither reset nor
    extend the period."""
    limits = P5.limits(th)
    min_hours = limits.number("shadow.min_observation_hours")
    threshold = f">= {min_hours:g} h of shadow data"
    model = target.breakdown_key
    voted, window = day.of(target).newest_vote, proven(day.window)
    start_ms = voted.ts_ms if voted else window.start_ms
    hours = 0.0 if start_ms is None else max(0, now_ms - start_ms) / HOUR_MS
    if not (voted and hours < min_hours):
        inconclusive = guard(P5, window, limits, threshold, whole=not voted)
        if inconclusive:
            return inconclusive
    since = (
        f"the newest intent where {model} voted"
        if voted
        else "the window's start, at least: the window reaches no further"
    )
    failed = sum(day.failures.values())
    return P5.verdict(
        judged(hours >= min_hours),
        measured=f"{hours:.1f} h of shadow data (since {since}); {failed} intents without a "
        f"{model} prediction neither reset nor extend it",
        threshold=threshold,
        window=window_text(window),
        sample=window.n_records,
        value=hours,
        evidence=(voted.entry_id,) if voted else (),
    )


@dataclass(frozen=True)
class Backup:
    """A backup of the env file as found on the host: parsed, or why it could not be."""

    path: str
    env: EnvFile | None
    error: str = ""


def p6_rollback_plan(
    backups: Sequence[Backup],
    live: EnvFile,
    live_file: FileFacts,
    target: Target,
    chain: EnvChain,
) -> Verdict:
    """Both ways back to shadow work: copying the newest backup back (systemd reads the flag on
    and a model path from it), and the runbook's `echo FLAG=true >> ENV_FILE` (s.6) on the live
    file, which needs a final newline, a file that keeps the appended flag, and write access;
    and the env file decides the flag in the whole chain, or neither reaches the engine."""
    flag, key, env_path = target.shadow_flag, target.model_path_key, target.env_file
    findings = rollback_findings(live, live_file, flag)
    notes: tuple[str, ...] = ()
    echoed = chain.replaced(env_path, live.appended(f"{flag}=true"))
    overridden = chain_findings(echoed, env_path, flag, "after the rollback's echo: ")
    findings += overridden
    if not backups:
        seen = "no backup found"
        cp = f"cp {env_path} {env_path}.bak.activation.$(date +%Y%m%d_%H%M%S)"
        findings.insert(0, Finding.fail(f"no backup: create one with {cp}"))
    elif (newest := backups[-1]).env is None:
        seen = f"newest backup {newest.path}: {newest.error}"
        findings.insert(0, Finding.fail(f"the newest backup cannot be read: {newest.error}"))
    else:
        shadow = read_key(newest.env, flag, "true", "backup: ")
        has_path = bool(newest.env.systemd_value(key))
        seen = f"newest backup {newest.path} (of {len(backups)}): {shadow.views()}; " + (
            f"{key} set" if has_path else f"no {key}"
        )
        missing = [] if has_path else [Finding.fail(f"backup: systemd sets no {key}")]
        if not overridden:  # the same drop-in would override the backup: said once
            restored = chain.replaced(env_path, newest.env)
            missing += chain_findings(restored, env_path, flag, "backup copied back: ")
        findings[:0] = [*shadow.findings, *missing]
        notes = shadow.state.notes
    live_seen = (
        f"{env_path} {'ends' if live.ends_with_newline else 'does not end'} with a newline, "
        f"is {'' if live_file.writable else 'not '}writable"
    )
    return P6.verdict(
        fold(findings),
        measured=f"{seen}; {live_seen}",
        threshold=f"newest {env_path}.bak* (by mtime) readable, systemd delivers {flag}=true "
        f"from one anchored line grep agrees with, and a {key}; {env_path} ends with a newline, "
        f"delivers {flag}=true after `echo {flag}=true >>`, is writable by the user running the "
        f"checks, and decides {flag} (no drop-in or other file overrides it)",
        window=f"{len(backups)} backup(s) of {env_path}",
        sample=len(backups),
        value=len(findings),
        detail=detail(findings, notes),
    )


def p7_model_observed(
    env: EnvFile,
    model_file: FileFacts | None,
    state: UnitState,
    journal: Sequence[JournalLine],
    target: Target,
    chain: EnvChain,
) -> Verdict:
    """The model to activate is the model observed in shadow: the file systemd names (from the
    env file the activation keeps it in, no drop-in overriding it), unchanged since the unit's
    last start and loaded at that start as its journal shows (the engine loads a bad file with
    random weights and still prints `[OK] ... loaded`). Its sha256 is recorded (the
    `model_file` fixture) for A1."""
    key = target.model_path_key
    reading = read_key(env, key, None)
    findings = [*reading.findings, *chain_findings(chain, target.env_file, key)]
    seen = [reading.views(), chain_view(chain, key)]
    if model_file is None:
        findings.append(Finding.unproven(f"{key} names no file to inspect"))
    else:
        f = model_file
        seen.append(
            f"{f.path}: exists={f.exists} file={f.is_file} readable={f.readable} size={f.size} "
            f"sha256={f.sha256 or '-'} changed {precise(f.changed)}; {state.unit} started "
            f"{precise(state.started)}"
        )
        loaded, summary = load_findings(journal, f.path, target.model)
        findings += file_findings(f, state) + loaded
        seen.append(summary)
    return P7.verdict(
        fold(findings),
        measured="; ".join(seen),
        threshold=f"{key} set (one anchored line, grep and systemd agree); the file exists, is "
        f"readable, non-empty, unchanged since {state.unit} started; since that start the "
        "journal shows the agent chose it and read its weights, and no load failure",
        window=f"{target.env_file}; journal of {state.unit} since its start "
        f"(InvocationID {state.invocation_id or '-'})",
        sample=len(journal),
        value=len(findings),
        detail=detail(findings, reading.state.notes),
    )
