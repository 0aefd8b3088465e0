"""Replay a captured run's bundle on this machine (no box, no Redis) and hold it to the live
run: the same verdicts, values and decision (ARCHITECTURE.md "Replay")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shadowgate.replay.archive import replay_archived

JUDGED = ("outcome", "status", "measured", "value", "threshold", "sample", "window")
RUN_JUDGED = ("decision", "passed", "causes", "complete")


def replay(reports: Path, run_id: str, into: Path, *args: str) -> dict[str, Any]:
    """Replay the bundle of `run_id` (its target, thresholds and strategy are the bundle's),
    with `args` on top; its record."""
    live = json.loads((reports / f"{run_id}.json").read_text())
    replayed = replay_archived(reports, live, into, args)
    assert not isinstance(replayed, str), replayed
    return replayed


def assert_replays_alike(reports: Path, run_id: str, into: Path, *args: str) -> None:
    """The replay of `run_id` judges every check, and the run, as the live run did."""
    live = json.loads((reports / f"{run_id}.json").read_text())
    replayed = replay(reports, run_id, into, *args)
    for key in RUN_JUDGED:
        assert replayed[key] == live[key], (key, replayed[key], live[key])
    by_id = {check["id"]: check for check in replayed["checks"]}
    for check in live["checks"]:
        again = by_id.get(check["id"], {})
        for key in JUDGED:
            assert again.get(key) == check[key], (check["id"], key, again.get(key), check[key])
