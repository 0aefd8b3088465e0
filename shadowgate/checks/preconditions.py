"""Preconditions P1-P7 (runbook s.1 and s.4 pre-activation verification).

Shadow mode is proven twice and separately: by the flag (P1) and by behaviour (P2), because the
engine once hard-coded shadow mode off while the flag still said true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shadowgate import votes
from shadowgate.checks import catalog
from shadowgate.checks.common import flag_values, judged, sample_ids, too_few, window_text
from shadowgate.config import Target, Thresholds
from shadowgate.envfile import EnvFile
from shadowgate.host import FileFacts, JournalLine, UnitState
from shadowgate.intents import Intent
from shadowgate.stream import HOUR_MS, Window
from shadowgate.verdict import Status, Verdict

P1, P2, P3, P4, P5, P6, P7 = (catalog.get(f"P{n}") for n in range(1, 8))


def _surprises(env: EnvFile, key: str) -> str:
    notes = env.surprises(key)
    return f"env file surprises: {'; '.join(notes)}" if notes else ""


def p1_shadow_flag(env: EnvFile, target: Target) -> Verdict:
    """The flag line the runbook greps for (`^FLAG=true`) stands exactly once."""
    values = flag_values(env, target)
    exact = [v for v in values if v == "true"]
    return P1.verdict(
        judged(len(exact) == 1 and len(values) == 1),
        measured=f"{len(values)} anchored {target.shadow_flag}= line(s): "
        + (", ".join(repr(v) for v in values) or "none"),
        threshold=f"exactly one line {target.shadow_flag}=true",
        window=target.env_file,
        sample=len(values),
        value=len(exact),
        detail=_surprises(env, target.shadow_flag),
    )


def _shadow_lines(lines: Sequence[JournalLine], target: Target) -> list[JournalLine]:
    needle = f"[shadow] {target.model.lower()}"
    return [line for line in lines if needle in line.message.lower()]


def p2_shadow_behaviour(
    snapshot: Window[Intent], journal: Sequence[JournalLine], target: Target, th: Thresholds
) -> Verdict:
    """Payloads tag the model shadow and the journal shows [SHADOW] lines: behaviour, not flag."""
    model = target.breakdown_key
    carrying = [i for i in snapshot.records if model in i.breakdown]
    untagged = [i for i in carrying if not votes.is_shadow(i.breakdown[model])]
    absent = len(snapshot.records) - len(carrying)
    minutes = th.number("shadow.journal_minutes")
    min_lines = int(th["shadow.min_journal_lines"])
    shadow_lines = _shadow_lines(journal, target)
    threshold = (
        f"every {model} vote tagged shadow in the snapshot; >= {min_lines} "
        f"'[SHADOW] {target.model}' journal line(s) in the last {minutes:g} min"
    )
    short = too_few(P2, threshold, snapshot, len(snapshot.records), 1)
    if short:
        return short
    return P2.verdict(
        judged(not untagged and not absent and len(shadow_lines) >= min_lines),
        measured=f"{len(carrying) - len(untagged)}/{len(snapshot.records)} intents carry a "
        f"shadow-tagged {model} vote ({len(untagged)} untagged, {absent} without {model}); "
        f"{len(shadow_lines)} [SHADOW] journal lines in {len(journal)} lines of {target.unit}",
        threshold=threshold,
        window=window_text(snapshot),
        sample=len(snapshot.records),
        value=len(untagged) + absent,
        evidence=sample_ids(untagged),
    )


def p3_no_full_consensus_24h(window: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """Zero events whose consensus needed the model's vote over the whole precondition window."""
    hours = th.number("window.precondition_hours")
    limit = int(th["blockers.max_full_consensus_in_shadow"])
    threshold = f"<= {limit} events over {hours:g} h (consensus above the other voters)"
    hits = [i for i in window.records if votes.beyond_others(i, target.breakdown_key)]
    covered = bool(window.covered)
    return P3.verdict(
        judged(len(hits) <= limit) if covered else Status.INCONCLUSIVE,
        measured=f"{len(hits)} of {len(window.records)} intents"
        + ("" if covered else " in the part still held"),
        threshold=threshold,
        window=window_text(window),
        sample=len(window.records),
        value=len(hits),
        evidence=sample_ids(hits),
        detail=""
        if covered
        else f"the stream no longer covers the {hours:g} h window "
        "(capped): cannot prove zero events",
    )


def p4_service_stable(state: UnitState, now: datetime, th: Thresholds) -> Verdict:
    """Active (running), up long enough, and never restarted automatically."""
    min_hours = th.number("service.min_uptime_hours")
    max_restarts = int(th["service.max_restarts"])
    uptime = state.uptime_s(now)
    hours = None if uptime is None else uptime / 3600
    ok = state.running and hours is not None and hours >= min_hours
    return P4.verdict(
        judged(ok and state.n_restarts <= max_restarts),
        measured=f"{state.describe()}; uptime "
        + ("n/a (not running)" if hours is None else f"{hours:.2f} h"),
        threshold=f"active (running), uptime >= {min_hours:g} h, NRestarts <= {max_restarts}",
        window=f"systemctl show {state.unit}",
        value=hours,
    )


def p5_observation_long_enough(
    window: Window[Intent], target: Target, th: Thresholds, now_ms: int
) -> Verdict:
    """The model has been in shadow, continuously, for at least the observation period."""
    min_hours = th.number("shadow.min_observation_hours")
    model = target.breakdown_key
    voting = [
        i
        for i in window.records
        if model not in i.breakdown or not votes.is_shadow(i.breakdown[model])
    ]
    start_ms = voting[-1].ts_ms if voting else window.oldest_ms
    hours = 0.0 if start_ms is None else max(0, now_ms - start_ms) / HOUR_MS
    since = "the last intent without a shadow vote" if voting else "the oldest stream entry"
    return P5.verdict(
        judged(hours >= min_hours),
        measured=f"{hours:.1f} h of shadow data (since {since})",
        threshold=f">= {min_hours:g} h of shadow data",
        window=window_text(window),
        sample=len(window.records),
        value=hours,
        evidence=sample_ids(voting[-1:]),
    )


@dataclass(frozen=True)
class Backup:
    """A backup of the env file as found on the host: parsed, or why it could not be."""

    path: str
    env: EnvFile | None
    error: str = ""


def p6_rollback_plan(backups: Sequence[Backup], target: Target) -> Verdict:
    """The newest backup exists, parses and would restore shadow mode if copied back."""
    threshold = f"newest {target.env_file}.bak* readable, {target.shadow_flag}=true exactly once"
    if not backups:
        return P6.verdict(
            Status.FAIL,
            measured="no backup found",
            threshold=threshold,
            window=target.env_file,
            sample=0,
            detail=f"create one: cp {target.env_file} "
            f"{target.env_file}.bak.activation.$(date +%Y%m%d_%H%M%S)",
        )
    newest = backups[-1]
    if newest.env is None:
        measured, ok = f"{newest.path}: {newest.error}", False
    else:
        values = flag_values(newest.env, target)
        has_path = len(newest.env.occurrences(target.model_path_key)) == 1
        ok = values == ["true"] and has_path
        measured = (
            f"{newest.path}: {target.shadow_flag} lines {values or 'none'}, "
            f"{target.model_path_key} {'present' if has_path else 'missing'}"
        )
    return P6.verdict(
        judged(ok),
        measured=measured,
        threshold=threshold + f", {target.model_path_key} once",
        window=f"{len(backups)} backup(s) of {target.env_file}",
        sample=len(backups),
    )


def p7_model_path(env: EnvFile, model_file: FileFacts | None, target: Target) -> Verdict:
    """The model path the engine will load is set once and points at a real, non-empty file."""
    lines = env.occurrences(target.model_path_key)
    threshold = f"{target.model_path_key} set once; the file exists, is readable, non-empty"
    if len(lines) != 1 or model_file is None:
        measured = f"{len(lines)} anchored {target.model_path_key}= lines"
        ok = False
    else:
        f = model_file
        measured = (
            f"{f.path}: exists={f.exists} file={f.is_file} readable={f.readable} size={f.size}"
        )
        ok = f.exists and f.is_file and f.readable and bool(f.size)
    return P7.verdict(
        judged(ok),
        measured=measured,
        threshold=threshold,
        window=target.env_file,
        detail=_surprises(env, target.model_path_key),
    )
