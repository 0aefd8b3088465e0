"""What one row of the check catalog is (`Check`) and the phases a row may name.

Kept apart from the table itself (catalog.py) so that the rules, the plugin and the report can
name the type and the phase markers without reading the list of checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from shadowgate.checks.limits import Limits
from shadowgate.config import TypedReads
from shadowgate.verdict import Status, Verdict

# Phase marker -> what it selects (the marker's help text).
PHASES = MappingProxyType(
    {
        "preactivation": "before going live, the GO / NO-GO checks (runbook s.1, s.2, s.9, gates)",
        "activation": "T+0..5 min after the restart that activates voting (runbook s.4)",
        "window_30m": "every 5 min during T+0..30 min (runbook s.5)",
        "window_2h": "every 15 min during T+30 min..2 h (runbook s.5)",
        "window_6h": "every 30 min during T+2..6 h (runbook s.5)",
        "window_24h": "weight increase criteria after 24 h (runbook s.8)",
        "rollback_ready": "the rollback is armed (runbook s.1, s.4, s.6)",
        "rollback": "after a rollback (runbook s.6)",
    }
)


# ARCHITECTURE.md "Verdicts": every check's key, unless its row names its own
INCONCLUSIVE_FAILS = "monitor.inconclusive_fails"


@dataclass(frozen=True)
class Check:
    """One runbook row: its ID, title, runbook section, phase markers, the threshold keys its
    rule reads, and (gates) the name the runbook's decision log gives it. `stops`: its FAIL in
    a monitoring window means roll back now (s.5 stop conditions); `inconclusive_key`: the
    threshold that says whether its INCONCLUSIVE fails a monitoring window (read by the judge,
    not the rule); `measured`: its verdict's value is a measurement worth a metric."""

    id: str
    title: str
    section: str
    phases: tuple[str, ...]
    threshold_keys: tuple[str, ...] = ()
    runbook_name: str = ""
    stops: bool = False
    inconclusive_key: str = INCONCLUSIVE_FAILS
    measured: bool = True  # False: its value only counts findings or restarts (no metric)

    def limits(self, th: TypedReads) -> Limits:
        """The thresholds this check's rule may read: its row's keys only, typed."""
        return Limits(self.id, self.threshold_keys, th)

    def verdict(self, status: Status, **fields: Any) -> Verdict:
        """A Verdict of this check: ID, title and section from the catalog; `fields` are the
        Verdict's own (measured, threshold, window, ...), which it types."""
        return Verdict(self.id, self.title, status, section=self.section, **fields)
