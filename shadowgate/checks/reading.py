"""What a stream rule's comparisons made of its figures (`Reading`), kept apart from measuring.

M1-M4 and S2-S4 are each split in two: the rule measures its window into figures (Ratios,
counts, a P10..P90), then one pure function holds those figures against the row's limits. The
rule turns the Reading into its Verdict; the backtest (shadowgate/backtest/judge.py) calls the
same function on figures from its running sums, so each threshold is compared in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from shadowgate.verdict import Status, Verdict


@dataclass(frozen=True, slots=True)
class Reading:
    """A rule's status and the figure it compared (`value`, kept when INCONCLUSIVE too: the
    backtest plots it) on `sample` events, with the texts that depend on the comparisons:
    `words` for the measured text, `detail`, and (`doubt`) the INCONCLUSIVE verdict saying why
    the window proves nothing (its window text is the rule's to set: since T+0)."""

    status: Status
    value: float | None
    sample: int
    threshold: str
    doubt: Verdict | None = None
    words: str = ""
    detail: str = ""
