"""Inputs shared by tests/unit/checks' rule tests and their edge tests (gates)."""

from __future__ import annotations

from shadowgate.checks import catalog
from shadowgate.verdict import Status
from tests.support.dayscans import scanned
from tests.support.handmade import HOUR, MINUTE, NOW, SECOND, intent, outcome, shadow, timed

DAY = NOW - 24 * HOUR


def day(*groups: tuple[int, str, float, str]):
    """A covered 24 h window, scanned: for each (n, PatchTST action, confidence, ensemble side)
    group, n intents 10 s apart, the newest 10 s ago."""
    spec = [(action, conf, side) for n, action, conf, side in groups for _ in range(n)]
    return scanned(
        timed(
            [
                intent(
                    NOW - (len(spec) - k) * 10 * SECOND, side=side, patchtst=shadow(action, conf)
                )
                for k, (action, conf, side) in enumerate(spec)
            ],
            DAY,
        )
    )


def calibrated(hits: list[tuple[float, int, int]], outcome_errors: int = 0):
    """Intents and outcomes: for each (confidence, hits, n), n BUY votes at that confidence,
    `hits` of whose LONG outcomes made money."""
    intents, outcomes = [], []
    for conf, good, n in hits:
        for k in range(n):
            ts = NOW - (len(intents) + 2) * MINUTE
            intents.append(intent(ts, symbol=f"S{len(intents)}", patchtst=shadow("BUY", conf)))
            outcomes.append(outcome(ts + 30 * SECOND, f"S{len(intents) - 1}", k < good))
    order = sorted(range(len(intents)), key=lambda i: intents[i].ts_ms)
    return (
        timed([intents[i] for i in order], DAY),
        timed([outcomes[i] for i in order], DAY, errors=outcome_errors),
    )


IDS = ("G1", "G2", "G3", "G4")


def verdicts(*statuses: Status):
    return [
        catalog.get(i).verdict(s, measured="m", threshold="t")
        for i, s in zip(IDS, statuses, strict=True)
    ]


P, F, U, D = Status.PASS, Status.FAIL, Status.INCONCLUSIVE, Status.DEFERRED  # U: undecided
