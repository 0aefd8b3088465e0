"""Stop conditions S1-S5 (runbook s.5 "Immediate Stop Conditions"): any FAIL means roll back now
(s.6). Each judges only what happened since T+0, the activation's restart. What cannot be
proven healthy is INCONCLUSIVE, never PASS; a breach proven on enough data is a FAIL even when
other doubts remain (stale, unreadable entries, an hour not over), since stopping is safe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from shadowgate import metrics, trades
from shadowgate.checks import catalog
from shadowgate.checks.common import guard, proven
from shadowgate.checks.hostfacts import Finding, fold, precise
from shadowgate.checks.limits import Limits
from shadowgate.checks.monitoring import judged_since_t0, since_t0_text
from shadowgate.checks.reading import Reading
from shadowgate.checks.row import Check
from shadowgate.config import Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.host import UnitState
from shadowgate.intents import Intent
from shadowgate.metrics import Ratio
from shadowgate.outcomes import Outcome
from shadowgate.verdict import EPSILON, Status, Verdict
from shadowgate.window import HOUR_MS, MINUTE_MS, Described, Window, span, utc

S1, S2, S3, S4, S5 = (catalog.get(i) for i in ("S1", "S2", "S3", "S4", "S5"))
PNL_FACT = "pnl_baseline"  # the preactivation record's `facts` name of S5's baseline


def _doubt(
    check: Check,
    window: Described,
    limits: Limits,
    threshold: str,
    reasons: Sequence[str] = (),
    **guarded: bool,
) -> Verdict | None:
    """INCONCLUSIVE when the stream guard or one of `reasons` says the data proves nothing (its
    window is the rule's to say: since T+0)."""
    verdict = guard(check, window, limits, threshold, whole=True, **guarded)
    measured = [verdict.measured] if verdict else []
    if not measured and not reasons:
        return None
    return check.verdict(
        Status.INCONCLUSIVE,
        measured="; ".join([*reasons, *measured]),
        threshold=verdict.threshold if verdict else threshold,
        sample=window.n_records,
        value=verdict.value if verdict else None,
        detail="too little usable data since T+0 to prove the engine healthy",
    )


def _latest(window: Window[Intent], limits: Limits) -> tuple[Intent, ...]:
    """The runbook's `COUNT 100` snapshot, never reaching back before T+0."""
    return window.records[-limits.integer("window.snapshot_count") :]


def _latest_text(latest: Sequence[Intent], window: Window[Intent]) -> str:
    first = f" from entry {latest[0].entry_id}" if latest else ""
    return f"latest {len(latest)} of {len(window.records)} intents since T+0{first}"


# --- S1: crashed, restarted or silent ---------------------------------------------------------


def s1_service_crashed(
    now: UnitState, intents: Window[Intent], t0: Anchor, th: Thresholds
) -> Verdict:
    """Crash or restart loop since T+0 (another InvocationID than the activation's restart, an
    automatic restart, a start after T+0), or an engine that publishes nothing: a running
    engine that stays silent is an incident too."""
    limits = S1.limits(th)
    max_age = limits.number("window.max_age_minutes")
    grace = limits.number("stop.s1_start_grace_seconds")
    started, findings = now.started, []
    if not now.running:
        findings.append(Finding.fail(f"{now.unit} is {now.active_state} ({now.sub_state})"))
    if t0.invocation_id and now.invocation_id != t0.invocation_id:
        how = "automatically" if now.n_restarts else "by hand (NRestarts reset)"
        findings.append(
            Finding.fail(
                f"restarted {how} since T+0: InvocationID {t0.invocation_id} at the activation, "
                f"{now.invocation_id or '-'} now, started {precise(started)}"
            )
        )
    elif started is None:
        findings.append(Finding.unproven(f"{now.unit} shows no start time"))
    elif started > t0.at and now.n_restarts:
        text = f"restarted automatically at {precise(started)}, after T+0"
        findings.append(Finding.fail(f"{text} (NRestarts={now.n_restarts})"))
    elif started > t0.at + timedelta(seconds=grace) and not t0.invocation_id:
        findings.append(
            Finding.unproven(
                f"started by hand at {precise(started)}, more than {grace:g} s after T+0: a "
                "restart since the activation, or T+0 given too early (if that start was the "
                f"activation, give --activated-at={started.isoformat()})"
            )
        )
    read_at = intents.read_at_ms
    quiet_since = max(intents.newest_ms or t0.ms, t0.ms)
    silent = None if read_at is None else max(0, read_at - quiet_since) / MINUTE_MS
    newest = f"newest own intent {utc(intents.newest_ms)}" if intents.newest_ms else "no intent"
    if silent is None:
        findings.append(Finding.unproven("the intents' read time is unknown: silence unproven"))
    elif silent > max_age:
        findings.append(Finding.fail(f"engine silent: {newest}, {silent:.1f} min without one"))
    return S1.verdict(
        fold(findings),
        measured=f"{now.describe()}, InvocationID {now.invocation_id or '-'}; {newest} since "
        f"T+0" + ("" if silent is None else f", silent {silent:.1f} min at the read"),
        threshold=f"active (running); no restart since T+0 (the activation's InvocationID "
        f"{t0.invocation_id or 'unknown'}; no automatic restart; started at most {grace:g} s "
        f"after T+0); newest own intent at most {max_age:g} min old",
        window=since_t0_text(intents, t0),
        sample=len(intents.records),
        value=silent,
        detail="; ".join(f.text for f in findings),
    )


# --- S2: full consensus sustained --------------------------------------------------------------


def s2_slice_ms(limits: Limits) -> float:
    """The length of one S2 slice."""
    return limits.number("stop.s2_slice_minutes") * MINUTE_MS


def s2_reading(window: Described, shares: Sequence[Ratio], limits: Limits) -> Reading:
    """S2's comparisons: full consensus `shares` of the last slices (oldest first, ending at the
    window's read) each above the line and each judged on enough intents."""
    limit = limits.number("stop.s2_full_consensus_above")
    count, need = limits.integer("stop.s2_slices"), limits.integer("monitor.min_slice_intents")
    slice_ms = s2_slice_ms(limits)
    threshold = (
        f"full consensus > {limit:.0%} in each of the last {count} consecutive "
        f"{span(int(slice_ms))} slices, each of >= {need} intents, stops"
    )
    end = window.read_at_ms  # None: unknown, and the guard says so
    above = [r.total > 0 and proven(r.value) > limit for r in shares]
    judged = [r.total >= need for r in shares]
    sustained = end is not None and all(judged) and all(above)
    value, sample = (shares[-1].value if shares else None), sum(r.total for r in shares)
    if not sustained and (doubt := _doubt(S2, window, limits, threshold)):
        return Reading(Status.INCONCLUSIVE, value, sample, threshold, doubt)
    end = proven(end)  # the guard judged a window read at an unknown time INCONCLUSIVE
    figures = "; ".join(
        f"{utc(int(end - (count - k) * slice_ms), date=False)}.."
        f"{utc(int(end - (count - 1 - k) * slice_ms), date=False)} {r}"
        + ("" if judged[k] else " (too thin)")
        for k, r in enumerate(shares)
    )
    if sustained:
        status, detail = Status.FAIL, "sustained: roll back (runbook s.6)"
    elif any(above):
        status, detail = Status.WARN, "red flag: above the line, not proven sustained"
    elif any(judged):
        status, detail = Status.PASS, ""
    else:
        status, detail = Status.INCONCLUSIVE, f"no slice holds {need} intents: cannot judge"
    return Reading(status, value, sample, threshold, words=figures, detail=detail)


def s2_full_consensus_sustained(intents: Window[Intent], t0: Anchor, th: Thresholds) -> Verdict:
    """PatchTST only copies the others: full consensus above the line in each of the last
    consecutive slices, each holding enough intents to judge (ARCHITECTURE.md "Windows"). A breach
    not proven sustained (latest slice only, or thin slices) is a red flag."""
    limits = S2.limits(th)
    count = limits.integer("stop.s2_slices")
    slices = metrics.time_slices(
        intents.records, intents.read_at_ms or 0, s2_slice_ms(limits), count
    )
    reading = s2_reading(intents, [metrics.full_consensus_share(s) for s in slices], limits)
    measured = f"full consensus per slice, oldest first: {reading.words}"
    return judged_since_t0(S2, reading, intents, t0, measured)


# --- S3, S4: the latest snapshot since T+0 ----------------------------------------------------


def s3_reading(window: Described, hard: Ratio, limits: Limits) -> Reading:
    """S3's comparisons: the latest snapshot's hard disagreement above the line, on enough
    votes; a breach so proven stops whatever the guard doubts."""
    limit = limits.number("stop.s3_hard_disagreement_above")
    need = limits.integer("monitor.min_intents")
    threshold = f"BUY-vs-SELL against the ensemble side > {limit:.0%} stops"
    breach = hard.total >= need and proven(hard.value) > limit + EPSILON
    thin = [] if hard.total >= need else [f"only {hard} intents carry a vote, need {need}"]
    if not breach and (doubt := _doubt(S3, window, limits, threshold, thin)):
        return Reading(Status.INCONCLUSIVE, hard.value, hard.total, threshold, doubt)
    return Reading(Status.FAIL if breach else Status.PASS, hard.value, hard.total, threshold)


def s3_hard_disagreement(
    intents: Window[Intent], t0: Anchor, target: Target, th: Thresholds
) -> Verdict:
    """The model votes against the ensemble so often that execution conflicts (s.5 stop 3)."""
    limits = S3.limits(th)
    latest = _latest(intents, limits)
    hard = metrics.hard_disagreement(latest, target.breakdown_key)
    measured = (
        f"{hard} of the {_latest_text(latest, intents)} carrying a {target.breakdown_key} vote"
    )
    return judged_since_t0(S3, s3_reading(intents, hard, limits), intents, t0, measured)


def s4_reading(
    window: Described, p10_p90: float | None, n: int, limits: Limits, model: str
) -> Reading:
    """S4's comparisons: the P10..P90 of `model`'s latest `n` BUY/SELL confidences below the
    line, on enough votes; a breach so proven stops whatever the guard doubts."""
    limit, need = limits.number("stop.s4_min_p10_p90"), limits.integer("monitor.min_intents")
    threshold = f"P10..P90 of {model}'s BUY/SELL confidences < {limit:g} stops"
    breach = p10_p90 is not None and n >= need and p10_p90 + EPSILON < limit
    thin = [] if n >= need else [f"only {n} BUY/SELL votes of the model, need {need}"]
    if not breach and (doubt := _doubt(S4, window, limits, threshold, thin)):
        return Reading(Status.INCONCLUSIVE, p10_p90, n, threshold, doubt)
    return Reading(Status.FAIL if breach else Status.PASS, p10_p90, n, threshold)


def s4_confidence_collapse(
    intents: Window[Intent], t0: Anchor, target: Target, th: Thresholds
) -> Verdict:
    """The model predicts the same confidence whatever the input (s.5 stop 4), read on its
    BUY/SELL votes: HOLD confidences are engine placeholders."""
    limits = S4.limits(th)
    latest = _latest(intents, limits)
    spread = metrics.confidence_spread(metrics.model_confidences(latest, target.breakdown_key))
    p10_p90, n = (spread.range_p10_p90, spread.n) if spread else (None, 0)
    reading = s4_reading(intents, p10_p90, n, limits, target.breakdown_key)
    measured = f"{spread} over the {_latest_text(latest, intents)}"
    return judged_since_t0(S4, reading, intents, t0, measured)


# --- S5: PnL against the baseline of the 24 h before -----------------------------------------


@dataclass(frozen=True)
class PnlBaseline:
    """S5's yardstick: the outcomes closed in the 24 h before activation, measured by the
    preactivation run and kept in its record, because the capped outcomes stream may no longer
    hold them when S5 runs."""

    start_ms: int
    end_ms: int
    covered: bool  # the outcomes stream reached back to start_ms
    outcomes: int
    wins: int
    losses: int
    mean_loss: float | None  # mean |pnl_percent| of the losing trades
    unreadable: int
    run_id: str = ""  # the record it was read from

    @classmethod
    def measure(cls, window: Window[Outcome] | None, start_ms: int, end_ms: int) -> PnlBaseline:
        """From the precondition window's outcomes; None (no outcomes stream) is an empty one."""
        if window is None:
            return cls(start_ms, end_ms, False, 0, 0, 0, None, 0)
        closed = window.records
        return cls(
            start_ms, end_ms, bool(window.covered), len(closed), trades.win_rate(closed).hits,
            sum(o.pnl_percent < 0 for o in closed), trades.mean_loss(closed), len(window.errors),
        )  # fmt: skip

    @property
    def win_rate(self) -> Ratio:
        return Ratio(self.wins, self.outcomes)

    def to_fact(self) -> dict[str, Any]:
        fact = asdict(self)
        del fact["run_id"]
        return fact | {"win_rate": self.win_rate.value}

    @classmethod
    def from_fact(cls, fact: object, run_id: str) -> PnlBaseline | None:
        """Read back from a record; None when the record holds none or a damaged one."""
        if not isinstance(fact, Mapping):
            return None
        try:
            fields = {k: fact[k] for k in cls.__dataclass_fields__ if k != "run_id"}
            baseline = cls(**fields, run_id=run_id)
            baseline.win_rate  # noqa: B018 (raises ValueError on counts that cannot be)
            return baseline
        except (KeyError, TypeError, ValueError):
            return None

    def describe(self) -> str:
        loss = "no losing trade" if self.mean_loss is None else f"mean loss {self.mean_loss:.3g}%"
        return (
            f"baseline (record {self.run_id}) {utc(self.start_ms)} .. {utc(self.end_ms)}: win "
            f"rate {self.win_rate}, {loss} over {self.losses} losing trades"
        )


def _baseline_doubts(
    baseline: PnlBaseline | None, t0: Anchor, need: int, limits: Limits
) -> list[str]:
    """Why the stored baseline is no yardstick for the 24 h before T+0."""
    if baseline is None:
        return ["no S5 baseline: no preactivation record of this target before T+0 holds one"]
    before_ms = limits.number("stop.s5_before_hours") * HOUR_MS
    max_age_ms = limits.number("stop.s5_baseline_max_age_hours") * HOUR_MS
    doubts = []
    if baseline.outcomes < need:
        doubts.append(f"only {baseline.outcomes} outcomes in the baseline, need {need}")
    if not baseline.covered or baseline.end_ms - baseline.start_ms < before_ms:
        doubts.append(f"the baseline does not hold the whole {span(int(before_ms))} before")
    if t0.ms - baseline.end_ms > max_age_ms:
        doubts.append(f"the baseline ended {span(t0.ms - baseline.end_ms)} before T+0")
    if baseline.unreadable > limits.number("window.max_unreadable_share") * (
        baseline.outcomes + baseline.unreadable
    ):
        doubts.append(f"{baseline.unreadable} unreadable outcomes in the baseline")
    return doubts


def s5_pnl_degradation(
    outcomes: Window[Outcome] | None,
    baseline: PnlBaseline | None,
    t0: Anchor,
    now_ms: int,
    th: Thresholds,
) -> Verdict:
    """The first hour after T+0 against the 24 h before (DECISIONS.md "Ambiguities"): the win rate
    fell by more than the allowed points, or the mean loss per losing trade grew beyond the
    allowed ratio. Too few outcomes on either side, or no usable baseline, is INCONCLUSIVE."""
    limits = S5.limits(th)
    hours, need = limits.number("stop.s5_after_hours"), limits.integer("stop.s5_min_outcomes")
    max_drop = limits.number("stop.s5_max_win_rate_drop")
    max_ratio = limits.number("stop.s5_max_loss_ratio")
    end_ms = t0.ms + int(hours * HOUR_MS)
    threshold = (
        f"over the first {hours:g} h after T+0: win rate more than {max_drop * 100:g} points "
        f"below the baseline, or mean loss more than {max_ratio:g}x the baseline's, stops; "
        f">= {need} outcomes on each side"
    )
    closed = [o for o in outcomes.records if o.ts_ms < end_ms] if outcomes else []
    rate, loss = trades.win_rate(closed), trades.mean_loss(closed)
    doubts = _baseline_doubts(baseline, t0, need, limits)
    if len(closed) < need:
        doubts.append(f"only {len(closed)} outcomes closed in the first {hours:g} h, need {need}")
    drop = ratio = None
    if baseline is not None and rate.value is not None and baseline.win_rate.value is not None:
        drop = baseline.win_rate.value - rate.value
    if loss is not None and baseline is not None:
        if baseline.mean_loss:
            ratio = loss / baseline.mean_loss
        else:
            doubts.append("no losing trade in the baseline: loss magnitude cannot be compared")
    comparable = baseline is not None and min(len(closed), baseline.outcomes) >= need
    breach = comparable and (
        (drop is not None and drop > max_drop + EPSILON)
        or (ratio is not None and ratio > max_ratio + EPSILON)
    )
    if now_ms < end_ms:
        doubts.append(f"the first {hours:g} h after T+0 ends at {utc(end_ms)}, not yet over")
    if outcomes is None:
        doubts.append("the outcomes stream does not exist")
        return S5.verdict(
            Status.INCONCLUSIVE,
            measured="; ".join(doubts),
            threshold=threshold,
            window=f"since T+0 {t0.describe()}",
            detail="cannot prove the PnL healthy",
        )
    if not breach and (doubt := _doubt(S5, outcomes, limits, threshold, doubts, fresh=False)):
        return replace(doubt, window=since_t0_text(outcomes, t0))
    figures = [
        f"first {hours:g} h ({utc(t0.ms)} .. {utc(end_ms, date=False)}): win rate {rate}, "
        + ("no losing trade" if loss is None else f"mean loss {loss:.3g}%"),
        baseline.describe() if baseline else "no baseline",
    ]
    if drop is not None:
        side = "below" if drop >= 0 else "above"
        figures.append(f"win rate {abs(drop) * 100:.1f} points {side} the baseline")
    if ratio is not None:
        figures.append(f"mean loss {ratio:.2f}x the baseline's")
    return S5.verdict(
        Status.FAIL if breach else Status.PASS,
        measured="; ".join(figures),
        threshold=threshold,
        window=since_t0_text(outcomes, t0),
        sample=len(closed),
        value=drop,
        detail="; ".join(doubts),
    )
