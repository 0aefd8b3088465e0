"""A replay judges with its run's target, thresholds (its --set included) and strategy, read
from the bundle; what the operator gives on the command line or in the environment wins, and
`--set` goes on top of the run's thresholds (a threshold change tried against a past run)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from shadowgate import settings
from shadowgate.config import ConfigError, Thresholds
from shadowgate.replay import bundle

LIVE_SETS = ["service.min_uptime_hours=0", "gates.min_events=300"]
TARGET = {
    "redis_url": "redis://10.0.0.5:6380/2",
    "stream": "engine:intents",
    "outcomes_stream": "engine:closed",
    "unit": "engine.service",
    "env_file": "/etc/engine.env",
    "model": "patchtst",
}
STRATEGY = {"approved_by": "Jane Doe", "weight": 10.0, "confidence_cap": "none",
            "observation_hours": None}  # fmt: skip


@pytest.fixture
def replayed(tmp_path: Path) -> Path:
    """The bundle of a live run with LIVE_SETS, TARGET and STRATEGY."""
    live = Thresholds.load(sets=LIVE_SETS)
    path = tmp_path / f"run{bundle.SUFFIX}"
    captured = bundle.Bundle(
        phase="preactivation", thresholds=dict(live), overrides=dict(live.overrides),
        strategy=STRATEGY, target=TARGET,
    )  # fmt: skip
    bundle.write(path, captured)
    return path


def resolve(*argv: str, env: dict[str, str] | None = None) -> settings.Settings:
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser)
    return settings.resolve(parser.parse_args(list(argv)), env or {})


def test_a_replay_judges_with_its_runs_target_thresholds_and_strategy(replayed: Path) -> None:
    s = resolve(f"--replay={replayed}")
    assert s.target.describe() == TARGET
    assert s.thresholds.digest() == Thresholds.load(sets=LIVE_SETS).digest()
    assert dict(s.thresholds.overrides) == {
        "service.min_uptime_hours": 0.0,
        "gates.min_events": 300,
    }
    assert (s.strategy.approved_by, s.strategy.weight) == ("Jane Doe", 10.0)
    assert s.strategy.confidence_cap == "none" and s.strategy.observation_hours is None


def test_set_goes_on_top_of_the_runs_thresholds(replayed: Path) -> None:
    s = resolve(f"--replay={replayed}", "--set=gates.min_events=5000", "--set=gates.quorum=4")
    assert s.thresholds["service.min_uptime_hours"] == 0.0  # the live run's --set still holds
    assert (s.thresholds["gates.min_events"], s.thresholds["gates.quorum"]) == (5000, 4)
    assert dict(s.thresholds.overrides) == {
        "service.min_uptime_hours": 0.0, "gates.min_events": 5000, "gates.quorum": 4,
    }  # fmt: skip


def test_what_the_operator_gives_wins_over_the_bundle(replayed: Path, tmp_path: Path) -> None:
    s = resolve(
        f"--replay={replayed}", "--redis-url=redis://127.0.0.1:7000/0", "--weight=5",
        env={"SHADOWGATE_STREAM": "other:intents"},
    )  # fmt: skip
    assert (s.target.redis_url, s.target.stream) == ("redis://127.0.0.1:7000/0", "other:intents")
    assert s.target.unit == TARGET["unit"] and s.strategy.weight == 5.0
    toml = tmp_path / "thresholds.toml"
    toml.write_text("[gates]\nquorum = 4\n")
    mine = resolve(f"--replay={replayed}", f"--config={toml}").thresholds
    assert mine.digest() == Thresholds.load(toml).digest() and not mine.overrides


def test_a_live_run_is_untouched_and_an_unreadable_bundle_is_a_usage_error(tmp_path: Path) -> None:
    assert resolve().thresholds.digest() == Thresholds.load().digest()
    with pytest.raises(ConfigError, match=r"--replay .*nothing\.bundle\.json\.gz: cannot read"):
        resolve(f"--replay={tmp_path / 'nothing.bundle.json.gz'}")
