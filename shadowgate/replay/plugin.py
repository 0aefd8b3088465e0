"""Capture and replay in a pytest run: which Redis client and host the data-source fixtures
read through, and the bundle written beside the record.

A phase run captures by default when it is preactivation or an action's verification run
(activation, rollback), else only with `--capture-bundle`; `--no-capture-bundle` turns it
off. `--replay BUNDLE` reads the bundle instead of Redis and the host: it must be of the phase
`-m` names, and its record says it is a replay (it arms nothing, is never anchored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shadowgate import config, stream
from shadowgate.checks.hostfacts import CHAIN_FACT
from shadowgate.plugin.options import settings_of, thresholds_of
from shadowgate.plugin.phases import phase_of
from shadowgate.plugin.state import RunState, run_state
from shadowgate.replay import bundle
from shadowgate.replay.capture import RecordingHost, RecordingRedis, Tape
from shadowgate.replay.serve import ReplayHost, ReplayRedis

CAPTURED_BY_DEFAULT = frozenset({"preactivation", "activation", "rollback"})
_TAPE = pytest.StashKey[Tape]()
_REPLAY = pytest.StashKey[tuple[Path, bundle.Bundle, str]]()  # path, bundle, its sha256


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load the bundle a replay judges (a usage error when it cannot be used), or start the
    tape of a run that captures."""
    settings = settings_of(config)
    phase = phase_of(config)
    if settings.replay is not None and settings.replayed is not None:  # both or neither
        config.stash[_REPLAY] = _load(config, settings.replay, *settings.replayed, phase)
    elif run_state(config) is not None and phase is not None:
        wanted = settings.capture
        if wanted or (wanted is None and phase in CAPTURED_BY_DEFAULT):
            config.stash[_TAPE] = Tape()


def _load(
    config_: pytest.Config, path: Path, loaded: bundle.Bundle, digest: str, phase: str | None
) -> tuple[Path, bundle.Bundle, str]:
    """The bundle the options read (settings.resolve: a usage error when it cannot be read),
    if it is of the phase `-m` names."""
    path = config_.invocation_params.dir / path
    if loaded.phase != phase:
        raise pytest.UsageError(
            f"--replay {path} holds a {loaded.phase or 'phaseless'} run: replay it with "
            f"-m {loaded.phase or 'PHASE'} (this run's -m names {phase or 'no single phase'})"
        )
    return path, loaded, digest


def redis_client(config_: pytest.Config, target: config.Target) -> stream.ReadOnlyRedis:
    """The run's Redis: the replayed bundle's, or the live one (recorded when capturing)."""
    if _REPLAY in config_.stash:
        return ReplayRedis(config_.stash[_REPLAY][1])
    live = stream.connect(target.redis_url)
    tape = config_.stash.get(_TAPE, None)
    return live if tape is None else RecordingRedis(live, tape)


def engine_host(config_: pytest.Config, live: Any) -> Any:
    """The host the checks read: the replayed bundle's, or the live one (recorded when
    capturing)."""
    if _REPLAY in config_.stash:
        path, replayed, _ = config_.stash[_REPLAY]
        return ReplayHost(replayed, f"replay of {path.name}")
    tape = config_.stash.get(_TAPE, None)
    return live if tape is None else RecordingHost(live, tape)


def write_bundle(config_: pytest.Config, state: RunState) -> Path | None:
    """The bundle of a capturing run, written beside its record; None when it captured
    nothing."""
    tape = config_.stash.get(_TAPE, None)
    if tape is None:
        return None
    settings = settings_of(config_)
    target = settings.target
    record = state.record or {}
    captured = tape.bundle(
        settings.secrets,
        frozenset({target.shadow_flag, target.model_path_key}),
        phase=state.phase or "",
        env_chain=dict(state.facts.get(CHAIN_FACT, {})),
        thresholds=dict(thresholds_of(config_)),
        overrides=dict(thresholds_of(config_).overrides),
        strategy=dict(record.get("strategy") or {}),
        target=target.describe(),
    )
    path = bundle.bundle_path(state.record_path)
    bundle.write(path, captured)
    return path


def replay_of(config_: pytest.Config) -> dict[str, str] | None:
    """What a replay's record says it replayed; None for a live run."""
    if _REPLAY not in config_.stash:
        return None
    path, replayed, digest = config_.stash[_REPLAY]
    return {"bundle": str(path), "sha256": digest, "phase": replayed.phase}
