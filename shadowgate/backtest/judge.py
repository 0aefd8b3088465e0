"""One window position's figures -> each backtested check's status, as its rule says it.

The rules (checks/monitoring.py, checks/stops.py) measure a window of Intents into figures and
hand them to one pure function each (`m1_reading` .. `s4_reading`) that makes every comparison;
here the same figures come from the sweep's running sums and go to those same functions, so no
threshold is compared twice. S5 is called as it is, on the outcomes since T+0 and a baseline
summed up by the sweep. tests/unit/backtest proves the figures counted as the rules count them,
every status equal to the rule's on random histories.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shadowgate import metrics
from shadowgate.checks import catalog, monitoring, stops
from shadowgate.checks.limits import Limits
from shadowgate.checks.reading import Reading
from shadowgate.config import Thresholds
from shadowgate.metrics import Ratio
from shadowgate.verdict import Status
from shadowgate.window import WindowSummary

BACKTESTED = ("M1", "M2", "M3", "M4", "S2", "S3", "S4", "S5")
NOT_BACKTESTED = {
    "S1": "needs the unit's facts (InvocationID, NRestarts, start time), which a stream "
    "history does not hold; an engine gone silent shows as every check INCONCLUSIVE",
}


@dataclass(frozen=True)
class Figures:
    """What the intents since T+0 hold at one position, counted as the rules count them."""

    since: WindowSummary  # for the stream guard: counts, newest intent, coverage, read time
    model: str  # the model judged (named in S4's threshold)
    full: Ratio  # full consensus (M1)
    low: Ratio  # consensus 0..1 (M1)
    agree: Ratio  # the model's action equals the ensemble side (M2)
    hard: Ratio  # BUY vs SELL against the ensemble (M3)
    confidences: Sequence[float]  # sorted: the spread votes' confidences (M4)
    latest_hard: Ratio  # hard disagreement in the latest `window.snapshot_count` (S3)
    latest_confidences: Sequence[float]  # sorted, in that snapshot (S4)
    slices: Sequence[Ratio]  # full consensus per S2 slice, oldest first


@dataclass(frozen=True, slots=True)
class Judged:
    """A check's status at one position and the figure its rule compares (shown even when
    INCONCLUSIVE: the timeline plots it), with the sample it was read on."""

    status: Status
    value: float | None
    sample: int


def _p10_p90(ordered: Sequence[float]) -> float | None:
    """P10..P90 as `metrics.confidence_spread` gives it (type 7); None without confidences."""
    if not ordered:
        return None
    return metrics.percentile(ordered, 90) - metrics.percentile(ordered, 10)


def _limits(check_id: str, th: Thresholds) -> Limits:
    return catalog.get(check_id).limits(th)


READINGS: dict[str, Callable[[Figures, Thresholds], Reading]] = {
    "M1": lambda f, th: monitoring.m1_reading(f.since, f.full, f.low, _limits("M1", th)),
    "M2": lambda f, th: monitoring.m2_reading(f.since, f.agree, _limits("M2", th)),
    "M3": lambda f, th: monitoring.m3_reading(f.since, f.hard, _limits("M3", th)),
    "M4": lambda f, th: monitoring.m4_reading(
        f.since, _p10_p90(f.confidences), len(f.confidences), _limits("M4", th)
    ),
    "S2": lambda f, th: stops.s2_reading(f.since, f.slices, _limits("S2", th)),
    "S3": lambda f, th: stops.s3_reading(f.since, f.latest_hard, _limits("S3", th)),
    "S4": lambda f, th: stops.s4_reading(
        f.since,
        _p10_p90(f.latest_confidences),
        len(f.latest_confidences),
        _limits("S4", th),
        f.model,
    ),
}


def judged(check_id: str, fig: Figures, th: Thresholds) -> Judged:
    """The status `check_id`'s rule gives these figures, with the figure it compared."""
    reading = READINGS[check_id](fig, th)
    return Judged(reading.status, reading.value, reading.sample)


def fired(check_id: str, status: Status) -> bool:
    """Would the check have fired: a stop condition's FAIL (roll back now), a metric's WARN
    (outside its healthy band, or past a red flag)."""
    if catalog.get(check_id).stops:
        return status is Status.FAIL
    return status in (Status.WARN, Status.FAIL)
