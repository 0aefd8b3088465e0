"""The day's checks (P3, P5, G1-G4) over hand-made windows: each window is scanned with the
accumulators the live run uses (`shadowgate.dayscan`), so the rules are tested as they run."""

from __future__ import annotations

from shadowgate.checks import gate_rules
from shadowgate.config import Target, Thresholds
from shadowgate.dayscan import DayScan, scan_window
from shadowgate.intents import Intent
from shadowgate.outcomes import Outcome
from shadowgate.verdict import Verdict
from shadowgate.window import Window

TARGET = Target()
TH = Thresholds.load()
FIGURES = ("beyond_others", "failures", "newest_vote", "actions", "confidences", "spoke", "agree",
           "opposed", "odd")  # fmt: skip


def figures(day: DayScan) -> dict[str, object]:
    """Every figure a check reads, with the order of the counters' keys (first seen first)."""
    found = {name: getattr(day, name) for name in FIGURES}
    for name in ("failures", "actions", "odd"):
        found[name] = list(found[name].items())
    found["confidences"] = list(day.confidences)
    return found


def scanned(
    window: Window[Intent],
    outcomes: Window[Outcome] | None = None,
    th: Thresholds = TH,
    target: Target = TARGET,
) -> DayScan:
    """`window` as the day's scan of `target`'s model, joined against `outcomes`."""
    return scan_window(window, target.breakdown_key, outcomes, gate_rules.join_window_ms(th))


def g4(
    window: Window[Intent],
    outcomes: Window[Outcome] | None,
    th: Thresholds = TH,
    target: Target = TARGET,
) -> Verdict:
    """G4 over `window` scanned against `outcomes`, as the run's fixtures do."""
    return gate_rules.g4_calibration(scanned(window, outcomes, th, target), outcomes, target, th)
