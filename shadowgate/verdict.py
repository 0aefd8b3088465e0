"""Verdict: what one check concluded, with everything an operator needs to trust it.

A bare pass/fail is useless at 3 a.m.; a verdict always carries the measured value, the
threshold it was held against, the sample size, the window it was measured over and the runbook
section the rule comes from, so the assertion message and the report say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# Float noise at a threshold's edge: a P10..P90 of 0.12 - 0.10, or a lift of 60% - 55%, must
# count as the 0.02 or the 5 points it is. Every rule comparing floats at an edge allows this.
EPSILON = 1e-9


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"  # a runbook "red flag": passes, shown and recorded
    FAIL = "FAIL"  # a blocker or stop condition
    INCONCLUSIVE = "INCONCLUSIVE"  # too little data, source missing, window not covered
    DEFERRED = "DEFERRED"  # a check the runbook allows to defer (G4 without outcomes)


@dataclass(frozen=True)
class Verdict:
    check_id: str
    title: str
    status: Status
    measured: str
    threshold: str
    section: str
    window: str = ""
    sample: int | None = None
    detail: str = ""
    value: float | int | None = None
    evidence: tuple[str, ...] = field(default=())  # a few entry ids behind the verdict

    @property
    def ok(self) -> bool:
        return self.status in (Status.PASS, Status.WARN)

    def message(self) -> str:
        """One self-contained paragraph: what, how much, against what, over what, where."""
        sample = f"; n={self.sample}" if self.sample is not None else ""
        lines = [
            f"{self.check_id} {self.status.value}: {self.title} (runbook {self.section})",
            f"  measured: {self.measured}{sample}",
            f"  threshold: {self.threshold}",
        ]
        if self.window:
            lines.append(f"  window: {self.window}")
        if self.detail:
            lines.append(f"  {self.detail}")
        if self.evidence:
            lines.append(f"  entries: {', '.join(self.evidence)}")
        return "\n".join(lines)

    def as_record(self) -> dict[str, object]:
        """The verdict as stored in the run's evidence record."""
        return {
            "id": self.check_id,
            "title": self.title,
            "status": self.status.value,
            "measured": self.measured,
            "value": self.value,
            "threshold": self.threshold,
            "sample": self.sample,
            "window": self.window,
            "section": self.section,
            "detail": self.detail,
            "evidence": list(self.evidence),
        }
