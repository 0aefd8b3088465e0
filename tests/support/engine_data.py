"""Stand-in engine data, read back the way the live suite reads it: for check self-tests."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shadowgate import stream
from shadowgate.config import Target, Thresholds
from shadowgate.intents import Intent
from shadowgate.outcomes import Outcome, parse_outcome
from shadowgate.testbed import scenarios
from shadowgate.testbed.engine import Engine

HOUR_MS = 3_600_000
NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: fixed, so verdicts are reproducible


@dataclass(frozen=True)
class Windows:
    """What the plugin's fixtures would hand the checks for one engine state."""

    snapshot: stream.Window[Intent]
    day: stream.Window[Intent]
    outcomes: stream.Window[Outcome] | None
    now_ms: int


def backfill(
    server,
    scenario: str = "healthy_shadow",
    hours: float = 26.0,
    now_ms: int = NOW_MS,
    *,
    shadow: bool = True,
    maxlen: int = 10_000,
    seed: int = 11,
    outcomes_stream: str = Target().outcomes_stream,
) -> None:
    """`hours` of `scenario` up to now_ms, written by the stand-in engine into `server`."""
    engine = Engine(
        server.client(), scenarios.get(scenario), shadow, Target().stream, outcomes_stream,
        maxlen, random.Random(seed), start_ms=now_ms - HOUR_MS,
    )  # fmt: skip
    engine.backfill(hours, now_ms)


def engine_windows(
    server,
    scenario: str,
    shadow: bool = True,
    hours: float = 26.0,
    maxlen: int = 10_000,
    seed: int = 11,
    outcomes: bool = True,
    thresholds: Thresholds | None = None,
) -> Windows:
    """Backfill `hours` of `scenario` into `server`, then read snapshot, day and outcomes."""
    th = thresholds or Thresholds.load()
    target = Target(redis_url=server.url)
    outcome_key = target.outcomes_stream if outcomes else "test:no-outcomes"
    backfill(
        server, scenario, hours, shadow=shadow, maxlen=maxlen, seed=seed,
        outcomes_stream=outcome_key,
    )  # fmt: skip
    client = stream.connect(server.url)
    intents = stream.StreamReader(client, target.stream, clock=lambda: NOW_MS)
    day_start = NOW_MS - int(th.number("window.precondition_hours") * HOUR_MS)
    closed = None
    if outcomes:
        reader = stream.StreamReader(
            client, target.outcomes_stream, parser=parse_outcome, clock=lambda: NOW_MS
        )
        closed = reader.window(day_start)
    return Windows(
        snapshot=intents.latest(int(th["window.snapshot_count"])),
        day=intents.window(day_start),
        outcomes=closed,
        now_ms=NOW_MS,
    )
