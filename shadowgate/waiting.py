"""Waiting for the engine after a restart, against a deadline, never a blind sleep.

The runbook sleeps a fixed time (`sleep 10`, `sleep 60`) and then looks once; the engine may
need less (so the operator waits for nothing) or more (so one look proves nothing). `poll`
reads until what it waits for is there or the deadline has passed, and reads once more at the
deadline, so a verdict after it judges everything written until then. Clock and sleep are
injectable: the deadline logic is tested without waiting.

A wait that lasts longer than QUIET_S says what it waits for and how long is left (`Telling`):
an operator at 3 a.m. must not wonder whether the command hangs.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
INTERVAL_S = 2.0  # between reads: the journal and the stream are cheap to read, 2 s is plenty
QUIET_S = 2.0  # a wait that ends sooner says nothing: most reads find what they wait for at once
EVERY_S = 10.0  # between two lines of a long wait written to a log (a timer's journal, a file)
EVERY_ON_TERMINAL_S = 4.0  # ... and of one someone watches on a terminal


@dataclass(frozen=True)
class Telling:
    """Where a wait longer than QUIET_S says what it waits for and the time left, how often."""

    say: Callable[[str], None]
    every_s: float = EVERY_S


def every_s(terminal: bool) -> float:
    """Seconds between two lines of a long wait: a countdown on a terminal, sparse in a log."""
    return EVERY_ON_TERMINAL_S if terminal else EVERY_S


def to_stderr() -> Telling:
    """A long wait's lines on stderr, as often as `every_s` says for it."""
    return Telling(
        lambda line: print(line, file=sys.stderr, flush=True), every_s(sys.stderr.isatty())
    )


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
    what: str = "",
    tell: Telling | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Polled[T]:
    """`read()` until `done(value)` or `budget_s` seconds have passed (a budget <= 0: one read),
    sleeping at most `interval_s` between reads and never past the deadline. Past QUIET_S,
    `tell` hears `waiting for WHAT: N s left` every `tell.every_s`."""
    start = clock()
    deadline = start + max(0.0, budget_s)
    reads = 0
    told_at = -math.inf
    while True:
        value = read()
        reads += 1
        if done(value):
            return Polled(value, True, reads, clock() - start)
        now = clock()
        remaining = deadline - now
        if remaining <= 0:
            return Polled(value, False, reads, now - start)
        if tell is not None and now - start >= QUIET_S and now - told_at >= tell.every_s:
            tell.say(f"waiting for {what}: {remaining:.0f} s left")
            told_at = now
        sleep(min(interval_s, remaining))
