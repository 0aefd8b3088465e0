"""Gates G1-G4 of the P0.4 gate simulation, and their quorum (B5, runbook s.1 and s.2).

The gates judge the model's own behaviour over the shadow observation window; B5 calls the
same functions, so the quorum never depends on the order in which pytest ran the gate tests.
"""

from __future__ import annotations

from collections.abc import Sequence

from shadowgate import metrics
from shadowgate.checks.common import judged, too_few, window_text
from shadowgate.config import Target, Thresholds
from shadowgate.intents import Intent, Outcome
from shadowgate.stream import Window
from shadowgate.verdict import Status, Verdict

SECTION = "s.1 gate evaluation (P0.4 gate simulation)"


def g1_action_diversity(window: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """The model must not say the same thing every time (the P0.4 flatline model did)."""
    title = "action diversity"
    model = target.breakdown_key
    dist = metrics.action_distribution(window.records, model)
    n = sum(r.hits for r in dist.values())
    min_share, max_share = th.number("gates.g1_min_share"), th.number("gates.g1_max_share")
    min_actions = int(th["gates.g1_min_actions"])
    threshold = f">= {min_actions} actions each > {min_share:.0%}, largest <= {max_share:.0%}"
    short = too_few("G1", title, SECTION, threshold, window, n, int(th["gates.min_events"]))
    if short:
        return short
    used = [a for a, r in dist.items() if r.value and r.value > min_share]
    top_action, top = metrics.largest_share(dist)
    measured = ", ".join(f"{a} {r}" for a, r in dist.items() if r.total)
    return Verdict(
        "G1",
        title,
        judged(len(used) >= min_actions and (top.value or 0) <= max_share),
        measured=f"{model} actions: {measured}; largest {top_action} {top.value:.1%}",
        threshold=threshold,
        section=SECTION,
        window=window_text(window),
        sample=n,
        value=top.value,
    )


def g2_confidence_spread(window: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """Confidence must vary with the input: a constant confidence learned nothing."""
    title = "confidence spread"
    spread = metrics.confidence_spread(
        metrics.model_confidences(window.records, target.breakdown_key)
    )
    min_range, min_std = th.number("gates.g2_min_p10_p90"), th.number("gates.g2_min_std")
    threshold = f"P10..P90 >= {min_range:.2f} and std >= {min_std:.2f}"
    n = spread.n if spread else 0
    short = too_few("G2", title, SECTION, threshold, window, n, int(th["gates.min_events"]))
    if short:
        return short
    return Verdict(
        "G2",
        title,
        judged(spread.range_p10_p90 >= min_range and spread.std >= min_std),
        measured=f"{target.breakdown_key} confidence {spread}",
        threshold=threshold,
        section=SECTION,
        window=window_text(window),
        sample=n,
        value=spread.range_p10_p90,
    )


def g3_agreement(window: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """Agreement in a band: too low is a contrarian, too high a copy of the ensemble."""
    title = "agreement with the ensemble"
    model = target.breakdown_key
    agree = metrics.agreement(window.records, model)
    hard = metrics.hard_disagreement(window.records, model)
    lo, hi = th.number("gates.g3_min_agreement"), th.number("gates.g3_max_agreement")
    max_hard = th.number("gates.g3_max_hard_disagreement")
    threshold = f"agreement {lo:.0%}..{hi:.0%} and hard disagreement < {max_hard:.0%}"
    short = too_few("G3", title, SECTION, threshold, window, agree, int(th["gates.min_events"]))
    if short:
        return short
    return Verdict(
        "G3",
        title,
        judged(lo <= agree.value <= hi and hard.value < max_hard),
        measured=f"agreement {agree}, hard disagreement {hard}",
        threshold=threshold,
        section=SECTION,
        window=window_text(window),
        sample=agree.total,
        value=agree.value,
    )


def g4_calibration(
    window: Window[Intent], outcomes: Window[Outcome] | None, target: Target, th: Thresholds
) -> Verdict:
    """Higher confidence must not mean a lower hit rate; without outcomes the gate is deferred."""
    title = "calibration against outcomes"
    buckets_wanted = int(th["gates.g4_buckets"])
    min_outcomes = int(th["gates.g4_min_outcomes"])
    threshold = (
        f"hit rate non-decreasing over {buckets_wanted} confidence buckets, "
        f">= {min_outcomes} joined outcomes"
    )
    model = target.breakdown_key
    if outcomes is None or not outcomes.records:
        where = "absent" if outcomes is None else "empty"
        return Verdict(
            "G4",
            title,
            Status.DEFERRED,
            measured=f"outcomes stream {target.outcomes_stream} {where}",
            threshold=threshold,
            section=SECTION,
            sample=0,
            detail="G4 DEFERRED: no outcomes to calibrate against; quorum becomes >= 2/3",
        )
    window_ms = int(th.number("gates.join_window_minutes") * 60_000)
    pairs = metrics.join_outcomes(window.records, outcomes.records, window_ms)
    judged_pairs = [(i, o) for i, o in pairs if metrics.model_hit(i, o, model) is not None]
    buckets = metrics.calibration_buckets(judged_pairs, model, buckets_wanted)
    joined = f"{len(pairs)} of {len(outcomes.records)} outcomes joined to intents"
    if len(judged_pairs) < min_outcomes or len(buckets) < buckets_wanted:
        return Verdict(
            "G4",
            title,
            Status.DEFERRED,
            measured=f"{joined}, {len(judged_pairs)} with a "
            f"{model} direction, {len(buckets)} distinct confidence buckets",
            threshold=threshold,
            section=SECTION,
            window=window_text(outcomes),
            sample=len(judged_pairs),
            detail="G4 DEFERRED: too few outcomes to calibrate; quorum becomes >= 2/3",
        )
    rates = [b.hit_rate for b in buckets]
    return Verdict(
        "G4",
        title,
        judged(metrics.non_decreasing(rates)),
        measured=f"{joined}; buckets " + "; ".join(str(b) for b in buckets),
        threshold=threshold,
        section=SECTION,
        window=window_text(outcomes),
        sample=len(judged_pairs),
        value=rates[-1] - rates[0],
    )


def evaluate(
    window: Window[Intent], outcomes: Window[Outcome] | None, target: Target, th: Thresholds
) -> list[Verdict]:
    """All four gates, in order: what the quorum counts."""
    return [
        g1_action_diversity(window, target, th),
        g2_confidence_spread(window, target, th),
        g3_agreement(window, target, th),
        g4_calibration(window, outcomes, target, th),
    ]


def b5_quorum(gates: Sequence[Verdict], th: Thresholds) -> Verdict:
    """Hard blocker B5: fewer gates passed than the runbook's quorum (3/4, or 2/3 deferred)."""
    deferred = [g for g in gates if g.status is Status.DEFERRED]
    counted = [g for g in gates if g.status is not Status.DEFERRED]
    passed = [g for g in counted if g.ok]
    needed = int(th["gates.quorum_deferred" if deferred else "gates.quorum"])
    statuses = ", ".join(f"{g.check_id} {g.status.value}" for g in gates)
    failed = [g.check_id for g in counted if not g.ok]
    return Verdict(
        "B5",
        "gate quorum",
        judged(len(passed) >= needed),
        measured=f"{len(passed)}/{len(counted)} gates passed ({statuses})",
        threshold=f">= {needed}/{len(counted)}" + (" (G4 deferred)" if deferred else ""),
        section="s.1, s.2 gate failures",
        sample=len(counted),
        value=len(passed),
        detail=f"not passed: {', '.join(failed)}" if failed else "",
    )
