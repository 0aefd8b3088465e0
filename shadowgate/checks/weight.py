"""Weight increase criteria W1-W4 (runbook s.8), judged after 24 h of voting.

Each is a criterion the runbook wants met before the weight goes up: one not met is a FAIL (do
not increase), one not yet provable is INCONCLUSIVE (too early, thin hours, too few outcomes),
never a PASS. "Stable" is read as DECISIONS.md "Ambiguities" says: the 24 h since T+0 sliced hourly,
every hour within the band.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from shadowgate import metrics, trades
from shadowgate.checks import catalog
from shadowgate.checks.common import CANNOT_PROVE, guard, proven, too_few
from shadowgate.checks.limits import Limits
from shadowgate.checks.monitoring import since_t0_text
from shadowgate.checks.row import Check
from shadowgate.checks.stops import PnlBaseline
from shadowgate.config import Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.host import UnitState
from shadowgate.intents import Intent
from shadowgate.metrics import Ratio
from shadowgate.outcomes import Outcome
from shadowgate.verdict import EPSILON, Status, Verdict
from shadowgate.window import HOUR_MS, Window, utc

W1, W2, W3, W4 = (catalog.get(i) for i in ("W1", "W2", "W3", "W4"))


def w1_uptime(unit: UnitState, t0: Anchor, now: datetime, th: Thresholds) -> Verdict:
    """The service ran since the activation's restart without a crash, for more than 24 h. A
    restart after T+0 is told by the InvocationID the activation recorded, else by a start later
    than T+0 plus the grace S1 gives the activation's own start (`stop.s1_start_grace_seconds`)."""
    limits = W1.limits(th)
    min_hours = limits.number("weight.min_uptime_hours")
    grace = limits.number("stop.s1_start_grace_seconds")
    threshold = (
        f"active (running), no restart since T+0 (its own restart within {grace:g} s), "
        f"up > {min_hours:g} h"
    )
    uptime_s = unit.uptime_s(now)
    hours = None if uptime_s is None else uptime_s / 3600
    if t0.invocation_id and unit.invocation_id:
        restarted = unit.invocation_id != t0.invocation_id
        how = f"InvocationID {unit.invocation_id}, T+0's {t0.invocation_id}"
    else:
        restarted = unit.started is not None and unit.started > t0.at + timedelta(seconds=grace)
        how = "InvocationID of T+0 unknown: judged by the start time"
    up = "not running" if hours is None else f"up {hours:.1f} h"
    measured = f"{unit.describe()}; {up}; {how}"
    if not unit.running or restarted:
        status, detail = Status.FAIL, "crashed or restarted since T+0: do not increase the weight"
    elif hours is None or hours <= min_hours:
        status, detail = Status.INCONCLUSIVE, f"not yet up > {min_hours:g} h: too early to tell"
    else:
        status, detail = Status.PASS, ""
    return W1.verdict(
        status,
        measured=measured,
        threshold=threshold,
        window=f"T+0 {t0.describe()}; host clock {now.isoformat(timespec='seconds')}",
        value=hours,
        detail=detail,
    )


def _hourly(
    check: Check,
    window: Window[Intent],
    t0: Anchor,
    limits: Limits,
    measure: Callable[[Sequence[Intent]], Ratio],
    band: tuple[float, float],
    what: str,
) -> Verdict:
    """`measure` in each hour of T+0..T+`weight.observation_hours`, every hour within `band`.
    An hour out of band is a FAIL on any data (a finding stands); otherwise the stream guard,
    then any hour with fewer than `weight.min_intents_per_hour` intents (thin, or not reached
    yet), is INCONCLUSIVE. The value is the number of hours judged within the band."""
    lo, hi = band
    count = int(limits.number("weight.observation_hours"))
    min_n = limits.integer("weight.min_intents_per_hour")
    threshold = f"{what} {lo:.0%}..{hi:.0%} in every hour of T+0..T+{count} h, >= {min_n} each"
    end = t0.ms + count * HOUR_MS
    hours = [measure(s) for s in metrics.time_slices(window.records, end, HOUR_MS, count)]
    judged = [(k, r) for k, r in enumerate(hours, 1) if r.total >= min_n]
    outside = [f"h{k} {r}" for k, r in judged if not lo <= proven(r.value) <= hi]
    thin = [f"h{k}" for k, r in enumerate(hours, 1) if r.total < min_n]
    figures = "; ".join(f"h{k} {r}" for k, r in enumerate(hours, 1))
    fields = {
        "measured": f"{what} per hour since T+0: {figures}",
        "threshold": threshold,
        "window": since_t0_text(window, t0),
        "sample": sum(r.total for r in hours),
        "value": len(judged) - len(outside),
    }
    if outside:
        return check.verdict(Status.FAIL, detail=f"out of band: {', '.join(outside)}", **fields)
    unproven = guard(check, window, limits, threshold, whole=True)
    if unproven:
        return unproven
    if thin:
        early = "" if (window.read_at_ms or 0) >= end else f"; T+{count} h is {utc(end)}"
        detail = f"too few intents to judge {', '.join(thin)}{early}: cannot prove it stable"
        return check.verdict(Status.INCONCLUSIVE, detail=detail, **fields)
    return check.verdict(Status.PASS, **fields)


def w2_full_consensus_stable(window: Window[Intent], t0: Anchor, th: Thresholds) -> Verdict:
    """Consensus distribution healthy: full consensus (from the active voters) 40..70% in
    every hour, so the model neither copies the others nor breaks the ensemble."""
    limits = W2.limits(th)
    band = (limits.number("weight.full_consensus_min"), limits.number("weight.full_consensus_max"))
    return _hourly(W2, window, t0, limits, metrics.full_consensus_share, band, "full consensus")


def w3_agreement_stable(
    window: Window[Intent], t0: Anchor, target: Target, th: Thresholds
) -> Verdict:
    """Agreement rate stable: the model sides with the ensemble 55..75% in every hour."""
    limits = W3.limits(th)
    model = target.breakdown_key
    band = (limits.number("weight.agreement_min"), limits.number("weight.agreement_max"))
    return _hourly(
        W3,
        window,
        t0,
        limits,
        lambda hour: metrics.agreement(hour, model),
        band,
        f"{model} agreement",
    )


def w4_pnl_not_worse(
    outcomes: Window[Outcome] | None, baseline: PnlBaseline | None, t0: Anchor, th: Thresholds
) -> Verdict:
    """PnL neutral or positive: the win rate since T+0 no more than `weight.max_win_rate_drop`
    below the baseline's (S5's, the 24 h before T+0). No baseline, no outcomes stream or fewer
    than `weight.min_outcomes` outcomes on either side prove nothing: INCONCLUSIVE."""
    limits = W4.limits(th)
    max_drop = limits.number("weight.max_win_rate_drop")
    min_n = limits.integer("weight.min_outcomes")
    threshold = f"win rate since T+0 at most {max_drop * 100:g} points below the baseline's"
    if outcomes is None or baseline is None:
        missing = "no outcomes stream" if outcomes is None else "no PnL baseline in the record"
        return W4.verdict(
            Status.INCONCLUSIVE,
            measured=missing,
            threshold=threshold,
            window=f"since T+0 {t0.describe()}",
            detail=f"nothing to compare: {CANNOT_PROVE}",
        )
    after, before = trades.win_rate(outcomes.records), baseline.win_rate
    unproven = (
        guard(W4, outcomes, limits, threshold, fresh=False)
        or too_few(W4, threshold, outcomes, after, min_n)
        or too_few(W4, f"{threshold} (baseline)", outcomes, before, min_n)
    )
    window = f"{since_t0_text(outcomes, t0)}; {baseline.describe()}"
    if unproven:
        return replace(unproven, window=window)
    change = proven(after.value) - proven(before.value)
    return W4.verdict(
        Status.FAIL if -change > max_drop + EPSILON else Status.PASS,
        measured=f"win rate since T+0 {after}, baseline {before}: {change * 100:+.1f} points",
        threshold=threshold,
        window=window,
        sample=after.total,
        value=change,
    )
