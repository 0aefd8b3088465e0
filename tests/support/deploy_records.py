"""Records of a monitored activation as the timers' wrapper reads them."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shadowgate.evidence import append_record
from tests.support.paths import REPO

DEPLOY = REPO / "deploy"


SPEC = importlib.util.spec_from_file_location("window_record", DEPLOY / "window_record.py")


window_record = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(window_record)


def stop_record(phase: str = "window_30m", decision: str = "STOP") -> dict:
    return {
        "run_id": f"20261127T120000Z-{phase}-stub", "phase": phase, "decision": decision,
        "complete": True, "finished_at": "2026-11-27T12:00:05Z",
        "checks": [
            {"id": "S1", "status": "PASS", "outcome": "passed", "value": 0.2},
            {"id": "S3", "status": "FAIL", "outcome": "failed", "value": 0.41},
            {"id": "M1", "status": "WARN", "outcome": "passed", "value": 0.83},
            {"id": "S4", "status": "NOT EVALUATED", "outcome": "failed", "value": None},
        ],
    }  # fmt: skip


def activated(tmp_path: Path, monkeypatch, minutes_ago: float = 10) -> tuple[Path, datetime]:
    """A reports dir and a T+0 `minutes_ago` (--activated-at), as the timers find them."""
    reports = tmp_path / "reports"
    reports.mkdir()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(reports))
    monkeypatch.setenv("SHADOWGATE_ACTIVATED_AT", t0.isoformat())
    return reports, t0


def recent(record: dict, t0: datetime, minutes: float) -> dict:
    """`record` as a run that finished `minutes` after T+0 (it started 5 s before)."""
    finished = t0 + timedelta(minutes=minutes)
    started = finished - timedelta(seconds=5)
    return record | {"started_at": started.isoformat(), "finished_at": finished.isoformat()}


def rolled_back(reports: Path, t0: datetime, minutes: float) -> None:
    at = t0 + timedelta(minutes=minutes)
    append_record(reports, {"action": "rollback", "run_id": "rb-1", "started_at": at.isoformat(),
                            "restarted_at": (at + timedelta(seconds=3)).isoformat()})  # fmt: skip
