"""What a recorded run gathers from configure to sessionfinish, kept in the config's stash:
the recording module fills it, the judge's summary and the report read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from shadowgate.evidence import RunRecord

RUN_STATE = pytest.StashKey["RunState"]()


@dataclass
class RunState:
    """What a recorded run gathers from configure to sessionfinish; `run_record` is set when
    the session finishes, before pytest-html renders its summary."""

    run_id: str
    phase: str | None  # the single phase -m selects; None when -m is more than one marker
    markers: tuple[str, ...]  # every phase marker -m names
    started: datetime
    reports_dir: Path
    html_path: Path | None  # None: pytest-html is not active
    junit_path: Path | None  # None: junitxml is disabled
    collected: dict[str, str] = field(default_factory=dict)  # nodeid -> check ID, as collected
    phases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # nodeid -> phase markers
    deselected: list[str] = field(default_factory=list)
    collect_errors: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)  # nodeid -> outcome, in run order
    skip_reasons: dict[str, str] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)  # nodeids whose body was called (a call report)
    facts: dict[str, Any] = field(default_factory=dict)  # the record's `facts`, by name
    strategy: dict[str, Any] | None = None  # after T+0: its activation record's (plugin.since)
    run_record: RunRecord | None = None

    @property
    def record(self) -> dict[str, Any] | None:
        """The record as the log will store it: what the summary and the report render."""
        return None if self.run_record is None else self.run_record.to_dict()

    @property
    def record_path(self) -> Path:
        return self.reports_dir / f"{self.run_id}.json"

    def carries(self, item: pytest.Item) -> bool:
        return any(item.get_closest_marker(marker) for marker in self.markers)


def run_state(config_: pytest.Config) -> RunState | None:
    """This run's recording state; None when `-m` names no phase marker (nothing recorded)."""
    return config_.stash.get(RUN_STATE, None)


def note_fact(config_: pytest.Config, name: str, value: dict[str, Any]) -> None:
    """Keep what a source showed (the model file's sha256, the unit's InvocationID) for the
    record, so later phases compare against what this run saw; nothing when not recorded."""
    state = run_state(config_)
    if state is not None:
        state.facts[name] = value
