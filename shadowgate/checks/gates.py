"""Gates G1-G4 of the P0.4 gate simulation, and their quorum (B5, runbook s.1 and s.2).

The gates judge the model's own behaviour over the shadow observation window; GateVerdicts
computes each once, so B5 counts the very verdicts the gate tests judged, in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from shadowgate import metrics
from shadowgate.checks import catalog
from shadowgate.checks.common import judged, too_few, window_text
from shadowgate.config import Target, Thresholds
from shadowgate.intents import Intent, Outcome
from shadowgate.stream import Window
from shadowgate.verdict import Status, Verdict

G1, G2, G3, G4, B5 = (catalog.get(i) for i in ("G1", "G2", "G3", "G4", "B5"))


def g1_action_diversity(window: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """The model must not say the same thing every time (the P0.4 flatline model did)."""
    model = target.breakdown_key
    dist = metrics.action_distribution(window.records, model)
    n = sum(r.hits for r in dist.values())
    min_share, max_share = th.number("gates.g1_min_share"), th.number("gates.g1_max_share")
    min_actions = int(th["gates.g1_min_actions"])
    threshold = f">= {min_actions} actions each > {min_share:.0%}, largest <= {max_share:.0%}"
    short = too_few(G1, threshold, window, n, int(th["gates.min_events"]))
    if short:
        return short
    used = [a for a, r in dist.items() if r.value and r.value > min_share]
    top_action, top = metrics.largest_share(dist)
    measured = ", ".join(f"{a} {r}" for a, r in dist.items() if r.total)
    return G1.verdict(
        judged(len(used) >= min_actions and (top.value or 0) <= max_share),
        measured=f"{model} actions: {measured}; largest {top_action} {top.value:.1%}",
        threshold=threshold,
        window=window_text(window),
        sample=n,
        value=top.value,
    )


def g2_confidence_spread(window: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """Confidence must vary with the input: a constant confidence learned nothing."""
    spread = metrics.confidence_spread(
        metrics.model_confidences(window.records, target.breakdown_key)
    )
    min_range, min_std = th.number("gates.g2_min_p10_p90"), th.number("gates.g2_min_std")
    threshold = f"P10..P90 >= {min_range:.2f} and std >= {min_std:.2f}"
    n = spread.n if spread else 0
    short = too_few(G2, threshold, window, n, int(th["gates.min_events"]))
    if short:
        return short
    return G2.verdict(
        judged(spread.range_p10_p90 >= min_range and spread.std >= min_std),
        measured=f"{target.breakdown_key} confidence {spread}",
        threshold=threshold,
        window=window_text(window),
        sample=n,
        value=spread.range_p10_p90,
    )


def g3_agreement(window: Window[Intent], target: Target, th: Thresholds) -> Verdict:
    """Agreement in a band: too low is a contrarian, too high a copy of the ensemble."""
    model = target.breakdown_key
    agree = metrics.agreement(window.records, model)
    hard = metrics.hard_disagreement(window.records, model)
    lo, hi = th.number("gates.g3_min_agreement"), th.number("gates.g3_max_agreement")
    max_hard = th.number("gates.g3_max_hard_disagreement")
    threshold = f"agreement {lo:.0%}..{hi:.0%} and hard disagreement < {max_hard:.0%}"
    short = too_few(G3, threshold, window, agree, int(th["gates.min_events"]))
    if short:
        return short
    return G3.verdict(
        judged(lo <= agree.value <= hi and hard.value < max_hard),
        measured=f"agreement {agree}, hard disagreement {hard}",
        threshold=threshold,
        window=window_text(window),
        sample=agree.total,
        value=agree.value,
    )


def g4_calibration(
    window: Window[Intent], outcomes: Window[Outcome] | None, target: Target, th: Thresholds
) -> Verdict:
    """Higher confidence must not mean a lower hit rate; without outcomes the gate is deferred."""
    buckets_wanted = int(th["gates.g4_buckets"])
    min_outcomes = int(th["gates.g4_min_outcomes"])
    threshold = (
        f"hit rate non-decreasing over {buckets_wanted} confidence buckets, "
        f">= {min_outcomes} joined outcomes"
    )
    model = target.breakdown_key
    if outcomes is None or not outcomes.records:
        where = "absent" if outcomes is None else "empty"
        return G4.verdict(
            Status.DEFERRED,
            measured=f"outcomes stream {target.outcomes_stream} {where}",
            threshold=threshold,
            sample=0,
            detail="G4 DEFERRED: no outcomes to calibrate against; quorum becomes >= 2/3",
        )
    window_ms = int(th.number("gates.join_window_minutes") * 60_000)
    pairs = metrics.join_outcomes(window.records, outcomes.records, window_ms)
    judged_pairs = [(i, o) for i, o in pairs if metrics.model_hit(i, o, model) is not None]
    buckets = metrics.calibration_buckets(judged_pairs, model, buckets_wanted)
    joined = f"{len(pairs)} of {len(outcomes.records)} outcomes joined to intents"
    if len(judged_pairs) < min_outcomes or len(buckets) < buckets_wanted:
        return G4.verdict(
            Status.DEFERRED,
            measured=f"{joined}, {len(judged_pairs)} with a "
            f"{model} direction, {len(buckets)} distinct confidence buckets",
            threshold=threshold,
            window=window_text(outcomes),
            sample=len(judged_pairs),
            detail="G4 DEFERRED: too few outcomes to calibrate; quorum becomes >= 2/3",
        )
    rates = [b.hit_rate for b in buckets]
    return G4.verdict(
        judged(metrics.non_decreasing(rates)),
        measured=f"{joined}; buckets " + "; ".join(str(b) for b in buckets),
        threshold=threshold,
        window=window_text(outcomes),
        sample=len(judged_pairs),
        value=rates[-1] - rates[0],
    )


@dataclass(frozen=True)
class GateTotal:
    """Gates passed over gates that count (runbook s.1): a DEFERRED gate does not count."""

    passed: int
    counted: int
    deferred: bool

    def __str__(self) -> str:
        return f"{self.passed}/{self.counted}"


def gate_total(statuses: Iterable[str | None]) -> GateTotal:
    """The gates' `X/4` (or `X/3` with a gate deferred), for B5 and the report alike: PASS and
    WARN pass; FAIL, INCONCLUSIVE and a gate that did not run (any other word, None) do not."""
    given = list(statuses)
    counted = [s for s in given if s != Status.DEFERRED]
    passed = sum(s in (Status.PASS, Status.WARN) for s in counted)
    return GateTotal(passed, len(counted), len(counted) < len(given))


class GateVerdicts:
    """The gates over one observation window, each computed once, whoever asks first: a gate
    test asks for its own rule by name and B5 counts them all, so the quorum counts exactly
    the verdicts the gate tests judged, in whatever order pytest runs them."""

    def __init__(
        self,
        window: Window[Intent],
        outcomes: Window[Outcome] | None,
        target: Target,
        th: Thresholds,
    ) -> None:
        self._inputs = (window, outcomes, target, th)
        self._done: dict[Callable[..., Verdict], tuple[Verdict, tuple[object, ...]]] = {}

    def of(self, rule: Callable[..., Verdict], *args: object) -> Verdict:
        """`rule(*args)`, computed on the first request only. Asking again with other inputs
        is refused: the quorum would count a verdict that no gate test judged."""
        if rule not in self._done:
            self._done[rule] = (rule(*args), args)
        verdict, first = self._done[rule]
        if len(first) != len(args) or any(a is not b for a, b in zip(first, args, strict=True)):
            raise ValueError(f"{rule.__name__} asked for again with other inputs")
        return verdict

    def all(self) -> list[Verdict]:
        """All four gates, in order: what the quorum counts."""
        window, outcomes, target, th = self._inputs
        return [
            self.of(g1_action_diversity, window, target, th),
            self.of(g2_confidence_spread, window, target, th),
            self.of(g3_agreement, window, target, th),
            self.of(g4_calibration, window, outcomes, target, th),
        ]


def b5_quorum(gates: Sequence[Verdict], th: Thresholds) -> Verdict:
    """Hard blocker B5: fewer gates passed than the runbook's quorum (3/4, or 2/3 deferred)."""
    total = gate_total(g.status for g in gates)
    needed = int(th["gates.quorum_deferred" if total.deferred else "gates.quorum"])
    statuses = ", ".join(f"{g.check_id} {g.status.value}" for g in gates)
    failed = [g.check_id for g in gates if g.status is not Status.DEFERRED and not g.ok]
    return B5.verdict(
        judged(total.passed >= needed),
        measured=f"{total} gates passed ({statuses})",
        threshold=f">= {needed}/{total.counted}" + (" (G4 deferred)" if total.deferred else ""),
        sample=total.counted,
        value=total.passed,
        detail=f"not passed: {', '.join(failed)}" if failed else "",
    )
