"""The actions' test bed: a fake engine, an env file and a reports dir the actions run against."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shadowgate import evidence
from shadowgate.actions import activate, flow
from shadowgate.config import Target, Thresholds
from shadowgate.envchain import EnvChain
from shadowgate.host import UnitState
from tests.support import envchains
from tests.support.evidence_data import make_record

FLAG, MODEL = "PATCHTST_SHADOW_ONLY", "PATCHTST_MODEL_PATH"


NOW = datetime.now(UTC)


INVOCATION = "0123456789abcdef0123456789abcdef"


class FakeEngine:
    """The unit as the flows see it: restarts at once, is active, has a journal."""

    unit = "quantum-ai-engine.service"

    def __init__(self, env: Path, running: bool = True) -> None:
        self.env = env  # the unit's only EnvironmentFile=, as on a unit without drop-ins
        self.restarts: list[datetime] = []
        self.running = running

    def env_chain(self) -> EnvChain:
        return envchains.sole(self.env.read_text(), str(self.env))

    def now(self) -> datetime:
        return datetime.now(UTC)

    def restart(self) -> datetime:
        self.restarts.append(self.now())
        return self.restarts[-1]

    def running_within(self, seconds: float) -> UnitState:
        sub = "running" if self.running else "dead"
        return UnitState(
            self.unit,
            "loaded",
            "active" if self.running else "failed",
            sub,
            "success",
            0,
            4242,
            self.restarts[-1],
            INVOCATION,
            self.restarts[-1],
        )

    def journal_since(self, since: datetime) -> str:
        return f"journal since {since.isoformat()}\n"


@dataclasses.dataclass
class Bed:
    env: Path
    model: Path
    reports: Path
    engine: FakeEngine
    suites: list[list[str]]
    said: list[str]

    def options(self, *extra: str) -> list[str]:
        return [f"--env-file={self.env}", f"--reports-dir={self.reports}", *extra]

    def target(self) -> dict:
        return Target(env_file=str(self.env)).describe()

    def record(self, phase="preactivation", *, facts=None, checks=(), **fields) -> None:
        fields.setdefault("finished", NOW - timedelta(minutes=1))
        fields.setdefault("target", self.target())
        fields.setdefault("digest", Thresholds.load().digest())
        record = make_record(evidence.new_run_id(phase, NOW), phase, checks=checks, **fields)
        sha = hashlib.sha256(self.model.read_bytes()).hexdigest()
        model = {"model": {"path": str(self.model), "sha256": sha}}
        facts = model if facts is None else facts
        self.reports.mkdir(parents=True, exist_ok=True)
        html = self.reports / f"{record.run_id}.html"
        html.write_text("<html></html>\n")  # every complete run the plugin records has one
        evidence.append_record(self.reports, dataclasses.replace(record, facts=facts), html)


def make_bed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Bed:
    """The `bed` fixture: an engine env file and model in tmp_path, the suite runs faked."""
    model = tmp_path / "patchtst.pth"
    model.write_bytes(b"weights")
    env = tmp_path / "ai-engine.env"
    env.write_text(f"# engine\r\n{FLAG}=true\n{MODEL}={model}\n")
    suites: list[list[str]] = []
    monkeypatch.setattr(flow, "run_suite", lambda argv, env: suites.append(list(argv)) or 0)
    return Bed(env, model, tmp_path / "reports", FakeEngine(env), suites, [])


def out(capsys) -> str:
    return capsys.readouterr().out


def activating(bed: Bed, *extra: str) -> int:
    return activate.main(
        bed.options("--approved-by=alice (risk)", "--weight=10", *extra), engine=bed.engine
    )
