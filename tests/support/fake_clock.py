"""A monotonic clock for `waiting.poll` and the waits built on it: time passes only when slept
on, so a wait's deadline and countdown are tested without waiting."""

from __future__ import annotations


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
