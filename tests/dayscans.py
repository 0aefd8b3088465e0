"""The day's checks (P3, P5, G1-G4) over hand-made windows: each window is scanned with the
accumulators the live run uses (`shadowgate.dayscan`), so the rules are tested as they run."""

from __future__ import annotations

from shadowgate.checks import gates
from shadowgate.config import Target, Thresholds
from shadowgate.dayscan import DayScan, scan_window
from shadowgate.intents import Intent, Outcome
from shadowgate.verdict import Verdict
from shadowgate.window import Window

TARGET = Target()
TH = Thresholds.load()


def scanned(
    window: Window[Intent],
    outcomes: Window[Outcome] | None = None,
    th: Thresholds = TH,
    target: Target = TARGET,
) -> DayScan:
    """`window` as the day's scan of `target`'s model, joined against `outcomes`."""
    return scan_window(window, target.breakdown_key, outcomes, gates.join_window_ms(th))


def g4(
    window: Window[Intent],
    outcomes: Window[Outcome] | None,
    th: Thresholds = TH,
    target: Target = TARGET,
) -> Verdict:
    """G4 over `window` scanned against `outcomes`, as the run's fixtures do."""
    return gates.g4_calibration(scanned(window, outcomes, th, target), outcomes, target, th)
