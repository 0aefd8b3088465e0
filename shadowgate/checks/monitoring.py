"""Post-activation monitoring M1-M4 (runbook s.5 "Critical Metrics") over the intents since T+0.

These are the runbook's red flags: past a red-flag line a metric is a WARN (shown in yellow and
recorded), never a FAIL, since stopping is the stop conditions' job (S1-S5). Between the healthy
band and the red flag the verdict is PASS with the figure shown. A silent engine, unreadable
entries, a stream that no longer reaches T+0 or fewer than `monitor.min_intents` events are
INCONCLUSIVE: a share of a handful of intents proves nothing healthy.
"""

from __future__ import annotations

from dataclasses import replace

from shadowgate import metrics
from shadowgate.checks import catalog
from shadowgate.checks.common import guard, too_few, window_text
from shadowgate.config import Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.intents import Intent
from shadowgate.verdict import Status, Verdict
from shadowgate.window import Window, span

M1, M2, M3, M4 = (catalog.get(i) for i in ("M1", "M2", "M3", "M4"))
NOISE = 1e-9  # float noise: a P10..P90 of 0.12 - 0.10 must count as the 0.02 it is


def since_t0_text(window: Window, t0: Anchor) -> str:
    """The window a post-activation check read: T+0, where it came from, how far past it the
    read reached, then what was read (`window_text`)."""
    reach = "" if window.read_at_ms is None else f", read {span(window.read_at_ms - t0.ms)} after"
    return f"since T+0 {t0.describe()}{reach}; {window_text(window)}"


def _unproven(
    check: catalog.Check, window: Window[Intent], t0: Anchor, th: Thresholds, threshold: str, n: int
) -> Verdict | None:
    """The stream guard (the whole window since T+0 held), then `monitor.min_intents` events."""
    verdict = guard(check, window, th, threshold, whole=True) or too_few(
        check, threshold, window, n, int(th["monitor.min_intents"])
    )
    return verdict and replace(verdict, window=since_t0_text(window, t0))


def _band(value: float, lo: float, hi: float) -> str:
    if lo <= value <= hi:
        return f"within the healthy {lo:.0%}..{hi:.0%}"
    return f"outside the healthy {lo:.0%}..{hi:.0%}"


def _flagged(
    check: catalog.Check, flags: list[str], window: Window, t0: Anchor, **fields: object
) -> Verdict:
    """WARN naming each red flag raised, else PASS."""
    return check.verdict(
        Status.WARN if flags else Status.PASS,
        window=since_t0_text(window, t0),
        detail="red flag: " + "; ".join(flags) if flags else "",
        **fields,
    )


def m1_consensus_distribution(window: Window[Intent], t0: Anchor, th: Thresholds) -> Verdict:
    """Metric 1: too much full consensus means the model only copies the others, too much
    consensus 0..1 means it is broken. Full consensus is counted from each intent's active
    voters (DESIGN "Checks"), never from total_models."""
    full = metrics.full_consensus_share(window.records)
    low = metrics.low_consensus_share(window.records)
    lo, hi = th.number("monitor.m1_healthy_min"), th.number("monitor.m1_healthy_max")
    warn_full, warn_low = th.number("monitor.m1_warn_above"), th.number("monitor.m1_low_warn_above")
    threshold = (
        f"healthy {lo:.0%}..{hi:.0%} at full consensus; red flag above {warn_full:.0%} at full "
        f"consensus or above {warn_low:.0%} at consensus 0..1"
    )
    unproven = _unproven(M1, window, t0, th, threshold, full.total)
    if unproven:
        return unproven
    flags = []
    if full.value > warn_full:
        flags.append(f"full consensus {full} above {warn_full:.0%}: the model is redundant")
    if low.value > warn_low:
        flags.append(f"consensus 0..1 {low} above {warn_low:.0%}: severe disagreement")
    dist = ", ".join(f"{k}: {n}" for k, n in metrics.consensus_distribution(window.records).items())
    return _flagged(
        M1,
        flags,
        window,
        t0,
        measured=f"full consensus (all active voters agree) {full}, "
        f"{_band(full.value, lo, hi)}; consensus 0..1 {low}; consensus_count {dist}",
        threshold=threshold,
        sample=full.total,
        value=full.value,
    )


def m2_agreement(window: Window[Intent], t0: Anchor, target: Target, th: Thresholds) -> Verdict:
    """Metric 2: the model siding with the ensemble too rarely is a contrarian, too often a copy.
    40..55% and 75..90% pass with the figure (DESIGN "Decisions": healthy is the gates' band)."""
    model = target.breakdown_key
    agree = metrics.agreement(window.records, model)
    lo, hi = th.number("monitor.m2_healthy_min"), th.number("monitor.m2_healthy_max")
    below, above = th.number("monitor.m2_warn_below"), th.number("monitor.m2_warn_above")
    threshold = f"healthy {lo:.0%}..{hi:.0%}; red flag below {below:.0%} or above {above:.0%}"
    unproven = _unproven(M2, window, t0, th, threshold, agree.total)
    if unproven:
        return unproven
    flags = []
    if agree.value < below:
        flags.append(f"agreement {agree} below {below:.0%}: contrarian")
    if agree.value > above:
        flags.append(f"agreement {agree} above {above:.0%}: copying the ensemble")
    return _flagged(
        M2,
        flags,
        window,
        t0,
        measured=f"{model} action equals the ensemble side: {agree}, {_band(agree.value, lo, hi)}",
        threshold=threshold,
        sample=agree.total,
        value=agree.value,
    )


def m3_hard_disagreement(
    window: Window[Intent], t0: Anchor, target: Target, th: Thresholds
) -> Verdict:
    """Metric 3: the model saying BUY where the ensemble says SELL (or the reverse) adds
    execution conflict; above 25% is a red flag, above 30% a stop (S3)."""
    model = target.breakdown_key
    hard = metrics.hard_disagreement(window.records, model)
    above = th.number("monitor.m3_warn_above")
    threshold = f"red flag above {above:.0%}"
    unproven = _unproven(M3, window, t0, th, threshold, hard.total)
    if unproven:
        return unproven
    flags = [f"hard disagreement {hard} above {above:.0%}"] if hard.value > above else []
    return _flagged(
        M3,
        flags,
        window,
        t0,
        measured=f"{model} opposite the ensemble side (BUY vs SELL): {hard}",
        threshold=threshold,
        sample=hard.total,
        value=hard.value,
    )


def m4_confidence_distribution(
    window: Window[Intent], t0: Anchor, target: Target, th: Thresholds
) -> Verdict:
    """Metric 4: a confidence that no longer varies learned nothing from its features. Read on
    the model's BUY/SELL votes only: HOLD confidences are engine placeholders."""
    model = target.breakdown_key
    spread = metrics.confidence_spread(metrics.model_confidences(window.records, model))
    healthy, below = th.number("monitor.m4_healthy_min"), th.number("monitor.m4_warn_below")
    threshold = f"healthy P10..P90 >= {healthy:.2f}; red flag below {below:.2f}"
    unproven = _unproven(M4, window, t0, th, threshold, spread.n if spread else 0)
    if unproven:
        return unproven
    spread_range = spread.range_p10_p90
    flags = [] if spread_range >= below - NOISE else [f"P10..P90 {spread_range:.4f}: flatlined"]
    band = "healthy" if spread_range >= healthy - NOISE else f"below the healthy {healthy:.2f}"
    return _flagged(
        M4,
        flags,
        window,
        t0,
        measured=f"{model} confidence of its BUY/SELL votes: {spread}; {band}",
        threshold=threshold,
        sample=spread.n,
        value=spread_range,
    )
