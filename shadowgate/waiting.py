"""Waiting for the engine after a restart, against a deadline, never a blind sleep.

The runbook sleeps a fixed time (`sleep 10`, `sleep 60`) and then looks once; the engine may
need less (so the operator waits for nothing) or more (so one look proves nothing). `poll`
reads until what it waits for is there or the deadline has passed, and reads once more at the
deadline, so a verdict after it judges everything written until then. Clock and sleep are
injectable: the deadline logic is tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
INTERVAL_S = 2.0  # between reads: the journal and the stream are cheap to read, 2 s is plenty


@dataclass(frozen=True)
class Polled(Generic[T]):
    """The last read, whether what was waited for came (`done`), reads made, seconds waited."""

    value: T
    done: bool
    reads: int
    waited_s: float


def poll(
    read: Callable[[], T],
    done: Callable[[T], bool],
    budget_s: float,
    *,
    interval_s: float = INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Polled[T]:
    """`read()` until `done(value)` or `budget_s` seconds have passed (a budget <= 0: one read),
    sleeping at most `interval_s` between reads and never past the deadline."""
    start = clock()
    deadline = start + max(0.0, budget_s)
    reads = 0
    while True:
        value = read()
        reads += 1
        if done(value):
            return Polled(value, True, reads, clock() - start)
        remaining = deadline - clock()
        if remaining <= 0:
            return Polled(value, False, reads, clock() - start)
        sleep(min(interval_s, remaining))
