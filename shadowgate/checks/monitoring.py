"""Post-activation monitoring M1-M4 (runbook s.5 "Critical Metrics") over the intents since T+0.

A metric PASSes only inside the band its row names (the runbook's s.5 threshold); anywhere
outside it is a WARN (shown in yellow and recorded), never a FAIL, since stopping is the stop
conditions' job (S1-S5); past the runbook's red-flag line the WARN says the red flag's words.
A row never says PASS beside "outside" (DECISIONS.md "Ambiguities"). A silent engine, unreadable
entries, a stream that no longer reaches T+0 or fewer than `monitor.min_intents` events are
INCONCLUSIVE: a share of a handful of intents proves nothing healthy.
"""

from __future__ import annotations

from dataclasses import replace

from shadowgate import metrics
from shadowgate.checks import catalog
from shadowgate.checks.common import guard, proven, too_few, window_text
from shadowgate.checks.limits import Limits
from shadowgate.checks.reading import Reading
from shadowgate.checks.row import Check
from shadowgate.config import Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.intents import Intent
from shadowgate.metrics import Ratio
from shadowgate.verdict import EPSILON, Status, Verdict
from shadowgate.window import Described, Window, span

M1, M2, M3, M4 = (catalog.get(i) for i in ("M1", "M2", "M3", "M4"))


def since_t0_text(window: Window, t0: Anchor) -> str:
    """The window a post-activation check read: T+0, where it came from, how far past it the
    read reached, then what was read (`window_text`)."""
    reach = "" if window.read_at_ms is None else f", read {span(window.read_at_ms - t0.ms)} after"
    return f"since T+0 {t0.describe()}{reach}; {window_text(window)}"


def _doubt(
    check: Check, window: Described, limits: Limits, threshold: str, n: int
) -> Verdict | None:
    """The stream guard (the whole window since T+0 held), then `monitor.min_intents` events."""
    return guard(check, window, limits, threshold, whole=True) or too_few(
        check, threshold, window, n, limits.integer("monitor.min_intents")
    )


def judged_since_t0(
    check: Check, reading: Reading, window: Window, t0: Anchor, measured: str
) -> Verdict:
    """The rule's Verdict from its reading over the window since T+0: the doubt when the
    window proves nothing, else the reading's status and figures with `measured`."""
    since = since_t0_text(window, t0)
    if reading.doubt:
        return replace(reading.doubt, window=since)
    return check.verdict(
        reading.status,
        measured=measured,
        threshold=reading.threshold,
        window=since,
        sample=reading.sample,
        value=reading.value,
        detail=reading.detail,
    )


def _band(value: float, lo: float, hi: float) -> tuple[bool, str]:
    """Whether `value` is inside the inclusive band, and the words the row shows for it."""
    inside = lo <= value <= hi
    return inside, f"{'within' if inside else 'outside'} the healthy {lo:.0%}..{hi:.0%}"


def _flagged(
    inside: bool,
    flags: list[str],
    threshold: str,
    *,
    value: float | None,
    sample: int,
    words: str,
) -> Reading:
    """PASS only inside the band; outside it WARN, naming each red flag raised."""
    if flags:
        detail = "red flag: " + "; ".join(flags)
    else:
        detail = "" if inside else "outside the healthy band (no red flag raised)"
    status = Status.PASS if inside and not flags else Status.WARN
    return Reading(status, value, sample, threshold, words=words, detail=detail)


def m1_reading(window: Described, full: Ratio, low: Ratio, limits: Limits) -> Reading:
    """M1's comparisons: full consensus inside its band and below its red flag, consensus
    0..1 below its own."""
    lo, hi = limits.number("monitor.m1_healthy_min"), limits.number("monitor.m1_healthy_max")
    warn_full = limits.number("monitor.m1_warn_above")
    warn_low = limits.number("monitor.m1_low_warn_above")
    threshold = (
        f"healthy {lo:.0%}..{hi:.0%} at full consensus; red flag above {warn_full:.0%} at full "
        f"consensus or above {warn_low:.0%} at consensus 0..1"
    )
    if doubt := _doubt(M1, window, limits, threshold, full.total):
        return Reading(Status.INCONCLUSIVE, full.value, full.total, threshold, doubt)
    full_share, low_share = proven(full.value), proven(low.value)
    flags = []
    if full_share > warn_full:
        flags.append(f"full consensus {full} above {warn_full:.0%}: the model is redundant")
    if low_share > warn_low:
        flags.append(f"consensus 0..1 {low} above {warn_low:.0%}: severe disagreement")
    inside, band = _band(full_share, lo, hi)
    low_side = "at most" if low_share <= warn_low else "above"
    return _flagged(
        inside and low_share <= warn_low,
        flags,
        threshold,
        value=full_share,
        sample=full.total,
        words=f"{full}, {band}; consensus 0..1 {low}, {low_side} {warn_low:.0%}",
    )


def m1_consensus_distribution(window: Window[Intent], t0: Anchor, th: Thresholds) -> Verdict:
    """Metric 1: too much full consensus means the model only copies the others, too much
    consensus 0..1 means it is broken. Full consensus is counted from each intent's active
    voters (DECISIONS.md "Ambiguities"), never from total_models."""
    limits = M1.limits(th)
    full = metrics.full_consensus_share(window.records)
    low = metrics.low_consensus_share(window.records)
    reading = m1_reading(window, full, low, limits)
    dist = ", ".join(f"{k}: {n}" for k, n in metrics.consensus_distribution(window.records).items())
    return judged_since_t0(
        M1,
        reading,
        window,
        t0,
        f"full consensus (all active voters agree) {reading.words}; consensus_count {dist}",
    )


def m2_reading(window: Described, agree: Ratio, limits: Limits) -> Reading:
    """M2's comparisons: agreement inside its band and between its two red flags."""
    lo, hi = limits.number("monitor.m2_healthy_min"), limits.number("monitor.m2_healthy_max")
    below, above = limits.number("monitor.m2_warn_below"), limits.number("monitor.m2_warn_above")
    threshold = f"healthy {lo:.0%}..{hi:.0%}; red flag below {below:.0%} or above {above:.0%}"
    if doubt := _doubt(M2, window, limits, threshold, agree.total):
        return Reading(Status.INCONCLUSIVE, agree.value, agree.total, threshold, doubt)
    agree_share = proven(agree.value)
    flags = []
    if agree_share < below:
        flags.append(f"agreement {agree} below {below:.0%}: contrarian")
    if agree_share > above:
        flags.append(f"agreement {agree} above {above:.0%}: copying the ensemble")
    inside, band = _band(agree_share, lo, hi)
    return _flagged(
        inside, flags, threshold, value=agree_share, sample=agree.total, words=f"{agree}, {band}"
    )


def m2_agreement(window: Window[Intent], t0: Anchor, target: Target, th: Thresholds) -> Verdict:
    """Metric 2: the model siding with the ensemble too rarely is a contrarian, too often a copy.
    PASS inside the runbook's s.5 threshold (50..80%), WARN outside it (DECISIONS.md
    "Ambiguities")."""
    limits = M2.limits(th)
    model = target.breakdown_key
    reading = m2_reading(window, metrics.agreement(window.records, model), limits)
    measured = f"{model} action equals the ensemble side: {reading.words}"
    return judged_since_t0(M2, reading, window, t0, measured)


def m3_reading(window: Described, hard: Ratio, limits: Limits) -> Reading:
    """M3's comparison: hard disagreement at most its red flag."""
    above = limits.number("monitor.m3_warn_above")
    threshold = f"red flag above {above:.0%}"
    if doubt := _doubt(M3, window, limits, threshold, hard.total):
        return Reading(Status.INCONCLUSIVE, hard.value, hard.total, threshold, doubt)
    inside = proven(hard.value) <= above
    flags = [] if inside else [f"hard disagreement {hard} above {above:.0%}"]
    words = f"{hard}, {'at most' if inside else 'above'} {above:.0%}"
    return _flagged(inside, flags, threshold, value=hard.value, sample=hard.total, words=words)


def m3_hard_disagreement(
    window: Window[Intent], t0: Anchor, target: Target, th: Thresholds
) -> Verdict:
    """Metric 3: the model saying BUY where the ensemble says SELL (or the reverse) adds
    execution conflict; above 25% is a red flag, above 30% a stop (S3)."""
    limits = M3.limits(th)
    model = target.breakdown_key
    reading = m3_reading(window, metrics.hard_disagreement(window.records, model), limits)
    measured = f"{model} opposite the ensemble side (BUY vs SELL): {reading.words}"
    return judged_since_t0(M3, reading, window, t0, measured)


def m4_reading(window: Described, p10_p90: float | None, n: int, limits: Limits) -> Reading:
    """M4's comparisons: the P10..P90 of `n` confidences at least its healthy line and its
    red flag's."""
    healthy, below = limits.number("monitor.m4_healthy_min"), limits.number("monitor.m4_warn_below")
    threshold = f"healthy P10..P90 >= {healthy:.2f}; red flag below {below:.2f}"
    if doubt := _doubt(M4, window, limits, threshold, n):
        return Reading(Status.INCONCLUSIVE, p10_p90, n, threshold, doubt)
    spread_range = proven(p10_p90)
    flags = [] if spread_range >= below - EPSILON else [f"P10..P90 {spread_range:.4f}: flatlined"]
    inside = spread_range >= healthy - EPSILON
    band = f"within the healthy >= {healthy:.2f}" if inside else f"below the healthy {healthy:.2f}"
    return _flagged(inside, flags, threshold, value=spread_range, sample=n, words=band)


def m4_confidence_distribution(
    window: Window[Intent], t0: Anchor, target: Target, th: Thresholds
) -> Verdict:
    """Metric 4: a confidence that no longer varies learned nothing from its features. Read on
    the model's BUY/SELL votes only: HOLD confidences are engine placeholders."""
    limits = M4.limits(th)
    model = target.breakdown_key
    spread = metrics.confidence_spread(metrics.model_confidences(window.records, model))
    p10_p90, n = (spread.range_p10_p90, spread.n) if spread else (None, 0)
    reading = m4_reading(window, p10_p90, n, limits)
    measured = f"{model} confidence of its BUY/SELL votes: {spread}; {reading.words}"
    return judged_since_t0(M4, reading, window, t0, measured)
