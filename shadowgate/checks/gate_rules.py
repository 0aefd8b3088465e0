"""Gates G1-G4 of the P0.4 gate simulation, and their quorum (B5, runbook s.1 and s.2).

The gates judge the model's own behaviour over the shadow observation window. They are judged
together, as the runbook does: GO needs >= 3/4 gates passed (>= 2/3 with G4 deferred), so a gate
that does not pass while the quorum holds is a WARN saying so, and when the quorum fails the
failing gates are FAIL and so is B5. GateVerdicts computes them once, so B5 counts the very
verdicts the gate tests judged, in any order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from shadowgate import metrics, trades
from shadowgate.checks import catalog
from shadowgate.checks.common import guard, judged, proven, too_few, window_text
from shadowgate.checks.limits import Limits
from shadowgate.checks.row import Check
from shadowgate.config import Target, Thresholds
from shadowgate.dayscan import DayScan
from shadowgate.outcomes import Outcome
from shadowgate.verdict import EPSILON, Status, Verdict
from shadowgate.window import Window, utc

G1, G2, G3, G4, B5 = (catalog.get(i) for i in ("G1", "G2", "G3", "G4", "B5"))


def _events(check: Check, day: DayScan, limits: Limits, threshold: str, n: int) -> Verdict | None:
    """The stream guard, then the gates' own minimum of events."""
    window = proven(day.window)  # finished by the scan
    return guard(check, window, limits, threshold) or too_few(
        check, threshold, window, n, limits.integer("gates.min_events")
    )


def g1_action_diversity(day: DayScan, target: Target, th: Thresholds) -> Verdict:
    """The model must not say the same thing every time (the P0.4 flatline model did)."""
    day = day.of(target)
    window = proven(day.window)
    model = target.breakdown_key
    dist = day.action_distribution()
    n = sum(r.hits for r in dist.values())
    limits = G1.limits(th)
    min_share, max_share = limits.number("gates.g1_min_share"), limits.number("gates.g1_max_share")
    min_actions = limits.integer("gates.g1_min_actions")
    threshold = f">= {min_actions} actions each > {min_share:.0%}, largest <= {max_share:.0%}"
    inconclusive = _events(G1, day, limits, threshold, n)
    if inconclusive:
        return inconclusive
    used = [a for a, r in dist.items() if r.value and r.value > min_share]
    top_action, top = proven(metrics.largest_share(dist))  # the guard counted predictions
    top_share = proven(top.value)
    measured = ", ".join(f"{a} {r}" for a, r in dist.items() if r.total)
    return G1.verdict(
        judged(len(used) >= min_actions and top_share <= max_share),
        measured=f"{model} predictions (failed ones left out): {measured}; "
        f"largest {top_action} {top_share:.1%}",
        threshold=threshold,
        window=window_text(window),
        sample=n,
        value=top_share,
    )


def g2_confidence_spread(day: DayScan, target: Target, th: Thresholds) -> Verdict:
    """Confidence must vary with the input: a constant confidence learned nothing. Read on the
    model's BUY/SELL votes only: HOLD confidences are engine placeholders (0.5, later 0.0)."""
    day = day.of(target)
    window = proven(day.window)
    model = target.breakdown_key
    spread = day.spread()
    limits = G2.limits(th)
    min_range, min_std = limits.number("gates.g2_min_p10_p90"), limits.number("gates.g2_min_std")
    threshold = f"P10..P90 >= {min_range:.2f} and std >= {min_std:.2f} (BUY/SELL votes only)"
    n = spread.n if spread else 0
    inconclusive = _events(G2, day, limits, threshold, n)
    if inconclusive:
        return inconclusive
    spread = proven(spread)
    return G2.verdict(
        judged(spread.range_p10_p90 >= min_range and spread.std >= min_std),
        measured=f"{model} confidence of its BUY/SELL votes (HOLD placeholders and "
        f"confidences outside 0..1 left out): {spread}",
        threshold=threshold,
        window=window_text(window),
        sample=n,
        value=spread.range_p10_p90,
    )


def g3_agreement(day: DayScan, target: Target, th: Thresholds) -> Verdict:
    """Agreement in a band: too low is a contrarian, too high a copy of the ensemble."""
    day = day.of(target)
    window = proven(day.window)
    agree, hard = day.agreement, day.hard_disagreement
    limits = G3.limits(th)
    lo, hi = limits.number("gates.g3_min_agreement"), limits.number("gates.g3_max_agreement")
    max_hard = limits.number("gates.g3_max_hard_disagreement")
    threshold = f"agreement {lo:.0%}..{hi:.0%} and hard disagreement < {max_hard:.0%}"
    inconclusive = _events(G3, day, limits, threshold, agree.total)
    if inconclusive:
        return inconclusive
    return G3.verdict(
        judged(lo <= proven(agree.value) <= hi and proven(hard.value) < max_hard),
        measured=f"agreement {agree}, hard disagreement {hard}",
        threshold=threshold,
        window=window_text(window),
        sample=agree.total,
        value=agree.value,
    )


def join_window_ms(th: Thresholds) -> int:
    """How far before an outcome its intent may be (G4's join)."""
    return int(G4.limits(th).number("gates.join_window_minutes") * 60_000)


def _deferred(threshold: str, measured: str, why: str, window: str = "", n: int = 0) -> Verdict:
    return G4.verdict(
        Status.DEFERRED,
        measured=measured,
        threshold=threshold,
        window=window,
        sample=n,
        detail=f"G4 DEFERRED: {why}; the quorum becomes >= 2/3",
    )


def g4_calibration(
    day: DayScan, outcomes: Window[Outcome] | None, target: Target, th: Thresholds
) -> Verdict:
    """Higher confidence must mean a clearly higher hit rate. DEFERRED only without enough
    usable outcomes; enough outcomes whose confidences cannot form the buckets is a FAIL (a
    confidence that does not vary cannot be calibrated, and deferring would lower the quorum)."""
    day = day.of(target)
    window = proven(day.window)
    model = target.breakdown_key
    limits = G4.limits(th)
    buckets_wanted = limits.integer("gates.g4_buckets")
    min_outcomes = limits.integer("gates.g4_min_outcomes")
    min_lift = limits.number("gates.g4_min_lift")
    threshold = (
        f"hit rate non-decreasing over {buckets_wanted} confidence buckets and top minus "
        f"bottom >= {min_lift * 100:g} points, on >= {min_outcomes} joined outcomes with a "
        f"{model} BUY/SELL prediction"
    )
    inconclusive = guard(G4, window, limits, threshold) or (
        outcomes is not None and guard(G4, outcomes, limits, threshold, fresh=False)
    )
    if inconclusive:
        return inconclusive
    if outcomes is None or not outcomes.records:
        where = "does not exist" if outcomes is None else "holds no outcome in the window"
        return _deferred(
            threshold,
            f"outcomes stream {target.outcomes_stream} {where}",
            "no outcomes to calibrate against",
            "" if outcomes is None else window_text(outcomes),
        )
    pairs = day.joined(outcomes, join_window_ms(th))
    usable = [(v.confidence, trades.direction_hit(v.action, o)) for v, o in pairs if v]
    joined = (
        f"{len(pairs)} of {len(outcomes.records)} outcomes "
        f"({utc(outcomes.records[0].ts_ms)} .. {utc(outcomes.records[-1].ts_ms)}) joined to "
        f"intents, {len(usable)} with a {model} BUY/SELL prediction"
    )
    if len(usable) < max(min_outcomes, 1):
        why = f"only {len(usable)} usable outcomes, {min_outcomes} needed"
        return _deferred(threshold, joined, why, window_text(outcomes), len(usable))
    buckets = trades.buckets_of(usable, buckets_wanted)
    rates = [b.hit_rate for b in buckets]
    lift = rates[-1] - rates[0]
    levels = len({confidence for confidence, _ in usable})
    formed = len(buckets) == buckets_wanted
    return G4.verdict(
        judged(formed and trades.non_decreasing(rates) and lift >= min_lift - EPSILON),
        measured=f"{joined}; {levels} distinct confidence levels; buckets "
        + "; ".join(str(b) for b in buckets)
        + f"; top minus bottom {lift * 100:+.1f} points",
        threshold=threshold,
        window=window_text(outcomes),
        sample=len(usable),
        value=lift,
        detail=""
        if formed
        else f"only {len(buckets)} of {buckets_wanted} buckets can be formed: a confidence that "
        "does not vary cannot be calibrated (not deferred: that would lower the quorum)",
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
    """The gates' `X/4` (or `X/3` with a gate deferred), for B5 and the report alike: only PASS
    passes. A gate's WARN is a gate that did not pass while the quorum held; FAIL, INCONCLUSIVE
    and a gate that did not run (any other word, None) do not pass either."""
    given = list(statuses)
    counted = [s for s in given if s != Status.DEFERRED]
    passed = sum(s == Status.PASS for s in counted)
    return GateTotal(passed, len(counted), len(counted) < len(given))


def _needed(total: GateTotal, th: Thresholds) -> int:
    """The quorum B5 holds the gates to (its row's keys), with or without G4."""
    return B5.limits(th).integer("gates.quorum_deferred" if total.deferred else "gates.quorum")


def _quorum_text(total: GateTotal, needed: int) -> str:
    deferred = " (G4 deferred)" if total.deferred else ""
    holds = "holds" if total.passed >= needed else f"fails, needs {needed}/{total.counted}"
    return f"quorum {total}{deferred} {holds}"


def with_quorum(gates: Sequence[Verdict], th: Thresholds) -> list[Verdict]:
    """The gates as the runbook judges them together: while the quorum holds, a gate that
    failed or was inconclusive is a WARN that says so ("G4 failed; quorum 3/4 holds"); when it
    fails, such gates keep their status and say that too."""
    total = gate_total(g.status for g in gates)
    needed = _needed(total, th)
    quorum = _quorum_text(total, needed)
    judged_gates = []
    for gate in gates:
        if gate.status in (Status.FAIL, Status.INCONCLUSIVE):
            word = "failed" if gate.status is Status.FAIL else "inconclusive"
            note = f"{gate.check_id} {word}; {quorum}"
            gate = replace(
                gate,
                status=Status.WARN if total.passed >= needed else gate.status,
                detail="; ".join(part for part in (note, gate.detail) if part),
            )
        judged_gates.append(gate)
    return judged_gates


class GateVerdicts:
    """The gates over one observation window, computed once and judged together, whoever asks
    first: a gate test asks for its own rule by name and B5 counts them all, so the quorum
    counts exactly the verdicts the gate tests judged, in whatever order pytest runs them."""

    def __init__(
        self,
        day: DayScan,
        outcomes: Window[Outcome] | None,
        target: Target,
        th: Thresholds,
    ) -> None:
        self._th = th
        self._args: dict[Callable[..., Verdict], tuple[object, ...]] = {
            g1_action_diversity: (day, target, th),
            g2_confidence_spread: (day, target, th),
            g3_agreement: (day, target, th),
            g4_calibration: (day, outcomes, target, th),
        }
        self._judged: list[Verdict] | None = None

    def of(self, rule: Callable[..., Verdict]) -> Verdict:
        """The verdict of gate `rule`, computed on the run's inputs and judged with the others
        (a ValueError for a rule that is not one of the four gates)."""
        gates = list(self._args)
        if rule not in gates:
            raise ValueError(f"{getattr(rule, '__name__', rule)} is not one of the gates G1-G4")
        return self.all()[gates.index(rule)]

    def all(self) -> list[Verdict]:
        """All four gates, in order, judged with the quorum: what B5 counts."""
        if self._judged is None:
            raw = [rule(*args) for rule, args in self._args.items()]
            self._judged = with_quorum(raw, self._th)
        return self._judged


def b5_quorum(gates: Sequence[Verdict], th: Thresholds) -> Verdict:
    """Hard blocker B5: fewer gates passed than the runbook's quorum (3/4, or 2/3 with G4
    deferred). INCONCLUSIVE when only the inconclusive gates could still make the quorum."""
    total = gate_total(g.status for g in gates)
    needed = _needed(total, th)
    undecided = sum(g.status is Status.INCONCLUSIVE for g in gates)
    if total.passed >= needed:
        status = Status.PASS
    elif total.passed + undecided >= needed:
        status = Status.INCONCLUSIVE
    else:
        status = Status.FAIL
    statuses = ", ".join(f"{g.check_id} {g.status.value}" for g in gates)
    not_passed = [g.check_id for g in gates if g.status not in (Status.PASS, Status.DEFERRED)]
    return B5.verdict(
        status,
        measured=f"{total} gates passed ({statuses}); {_quorum_text(total, needed)}",
        threshold=f">= {needed}/{total.counted}" + (" (G4 deferred)" if total.deferred else ""),
        sample=total.counted,
        value=total.passed,
        detail=f"not passed: {', '.join(not_passed)}" if not_passed else "",
    )
