"""The deadline logic of `waiting.poll` and the restart fixtures' budgets, on a fake clock:
no real waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shadowgate import waiting
from shadowgate.plugin.restart import seconds_until


class FakeClock:
    """A monotonic clock that only moves when slept on, and records every sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


def run(values, budget, interval=2.0):
    clock, seen = FakeClock(), iter(values)
    reads: list[float] = []

    def read():
        reads.append(clock.now)
        return next(seen)

    polled = waiting.poll(read, bool, budget, interval_s=interval, clock=clock, sleep=clock.sleep)
    return polled, clock, reads


def test_returns_at_the_first_read_that_is_done_without_sleeping():
    polled, clock, _ = run([1], 45)
    assert (polled.value, polled.done, polled.reads, polled.waited_s) == (1, True, 1, 0.0)
    assert clock.sleeps == []


def test_reads_every_interval_until_done():
    polled, _, reads = run([0, 0, 0, 7], 45)
    assert (polled.value, polled.done, polled.reads, polled.waited_s) == (7, True, 4, 6.0)
    assert reads == [100.0, 102.0, 104.0, 106.0]


def test_never_sleeps_past_the_deadline_and_reads_once_more_at_it():
    polled, clock, reads = run([0] * 10, 5)
    assert clock.sleeps == [2.0, 2.0, 1.0]
    assert reads == [100.0, 102.0, 104.0, 105.0]  # the last read at the deadline
    assert (polled.done, polled.reads, polled.waited_s) == (False, 4, 5.0)


@pytest.mark.parametrize("budget", [0, -30])
def test_a_passed_deadline_reads_once(budget):
    polled, clock, _ = run([0, 1], budget)
    assert (polled.value, polled.done, polled.reads) == (0, False, 1)
    assert clock.sleeps == []


def test_budget_is_the_time_left_before_the_deadline():
    t0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    deadline = t0 + timedelta(seconds=30)
    assert seconds_until(deadline, t0 + timedelta(seconds=12)) == 18.0
    assert seconds_until(deadline, t0 + timedelta(seconds=31)) == -1.0
