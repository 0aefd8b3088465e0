"""The deadline logic of `waiting.poll` and the restart fixtures' budgets, on a fake clock:
no real waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shadowgate import waiting
from shadowgate.plugin.restart import seconds_until
from tests.support.fake_clock import FakeClock


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


def told(values, budget, every=10.0, interval=2.0):
    """The lines a wait says, each with the fake clock's time when it said it."""
    clock, seen, said = FakeClock(), iter(values), []
    tell = waiting.Telling(lambda line: said.append((clock.now - 100.0, line)), every)
    waiting.poll(
        lambda: next(seen),
        bool,
        budget,
        interval_s=interval,
        what="quantum-ai-engine.service to stay up 10 s after its start",
        tell=tell,
        clock=clock,
        sleep=clock.sleep,
    )
    return said


def test_a_wait_that_ends_within_two_seconds_says_nothing():
    assert told([0, 1], 45) == []  # done at the second read, 2 s in


def test_a_long_wait_says_what_it_waits_for_and_the_time_left_every_few_seconds():
    said = told([0] * 30, 45, every=10.0)
    assert said[0] == (
        2.0,
        "waiting for quantum-ai-engine.service to stay up 10 s after its start: 43 s left",
    )
    assert [at for at, _ in said] == [2.0, 12.0, 22.0, 32.0, 42.0]
    assert said[-1][1].endswith(": 3 s left")


def test_on_a_terminal_the_countdown_is_closer_than_in_a_log():
    on_terminal = told([0] * 30, 45, every=waiting.every_s(terminal=True))
    in_a_log = told([0] * 30, 45, every=waiting.every_s(terminal=False))
    assert len(on_terminal) > len(in_a_log) == 5
    assert waiting.every_s(terminal=False) == 10.0


def test_telling_never_changes_when_it_reads_or_what_it_returns():
    quiet, _, quiet_reads = run([0] * 10, 5)
    clock, seen, reads = FakeClock(), iter([0] * 10), []

    def read():
        reads.append(clock.now)
        return next(seen)

    loud = waiting.poll(
        read, bool, 5, what="x", tell=waiting.Telling(lambda _: None, 1.0),
        clock=clock, sleep=clock.sleep,
    )  # fmt: skip
    assert (loud.value, loud.done, loud.reads, loud.waited_s) == (
        quiet.value, quiet.done, quiet.reads, quiet.waited_s,
    )  # fmt: skip
    assert reads == quiet_reads
