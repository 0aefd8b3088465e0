"""Run a real phase of the suite in a child pytest against the stand-in engine."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from shadowgate.testbed import throwaway_redis
from tests.support import children
from tests.support.engine_data import backfill
from tests.support.paths import REPO

NO_HOST = ("--unit=shadowgate-absent.service", "--env-file=/nonexistent/shadowgate/engine.env")


DRILL = "--set=service.min_uptime_hours=0"


STRATEGY = ("--approved-by=Jane Doe (desk lead)", "--weight=10", "--confidence-cap=0.75",
            "--observation-hours=6")  # fmt: skip


def fill_engine(server: throwaway_redis.ThrowawayRedis, hours: float = 26.0) -> None:
    """`hours` of a healthy shadow engine up to now: every stream check can pass."""
    backfill(server, hours=hours, now_ms=int(time.time() * 1000), seed=7)


@dataclass(frozen=True)
class PhaseRun:
    """One `pytest -m ...` of the real suite and what it left in its reports dir."""

    exit_code: int
    output: str
    reports_dir: Path

    @property
    def records(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.reports_dir.glob("*.json"))]

    @property
    def record(self) -> dict:
        (only,) = self.records
        return only

    def file(self, suffix: str) -> Path:
        return self.reports_dir / f"{self.record['run_id']}{suffix}"


def run_phase(
    redis_url: str, reports_dir: Path, *args: str, markexpr: str | None = "preactivation"
) -> PhaseRun:
    """The suite from the repo root, as an operator runs it (`--opt=value`: see suiterun)."""
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={REPO}",
            f"--redis-url={redis_url}", f"--reports-dir={reports_dir}", *NO_HOST,
            *args]  # fmt: skip
    if markexpr is not None:
        argv[3:3] = ["-m", markexpr]
    done = children.run(argv)
    return PhaseRun(done.returncode, done.stdout + done.stderr, reports_dir)
