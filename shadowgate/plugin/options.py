"""The shadowgate options in pytest: registered from shadowgate.settings, resolved once at
configure into the run's Settings, read by the other plugin modules through these helpers.

A bad value is a usage error (one `ERROR:` line, exit 4) before anything runs.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from shadowgate import config, host, redact, settings
from shadowgate.config import ConfigError
from shadowgate.settings import Settings

_SETTINGS = pytest.StashKey[Settings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shadowgate", "shadowgate target and thresholds")
    for flag, kwargs in settings.arguments():
        group.addoption(flag, **kwargs)


def settings_of(config_: pytest.Config) -> Settings:
    """This run's Settings, resolved and validated once, by whichever hook asks first; a bad
    option, threshold key or value is one usage error naming it."""
    if _SETTINGS not in config_.stash:
        try:
            config_.stash[_SETTINGS] = settings.resolve(config_.option)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
    return config_.stash[_SETTINGS]


def target_of(config_: pytest.Config) -> config.Target:
    """Where this run looks: Redis, streams, unit, env file, model."""
    return settings_of(config_).target


def strategy_of(config_: pytest.Config) -> dict[str, Any]:
    """The activation parameters given for this run (runbook s.3, s.7), None where not given,
    as recorded."""
    return dataclasses.asdict(settings_of(config_).strategy)


def thresholds_of(config_: pytest.Config) -> config.Thresholds:
    """The effective thresholds of this run (defaults, --config, --set)."""
    return settings_of(config_).thresholds


def resolved_path(config_: pytest.Config, path: str) -> Path:
    """A path option as pytest-html and junitxml resolve theirs: from the invocation dir."""
    return config_.invocation_params.dir / Path(os.path.expandvars(path)).expanduser()


def reports_dir_of(config_: pytest.Config) -> Path:
    """Where this run's records go and where earlier records are read from."""
    return resolved_path(config_, str(settings_of(config_).reports_dir))


def secrets_of(config_: pytest.Config) -> tuple[str, ...]:
    """The Redis password as given and decoded: never shown, never recorded."""
    return settings_of(config_).secrets


def validate(config_: pytest.Config) -> None:
    """Before anything runs: every configure hook that reads options calls this first, so a bad
    one stops the run whichever hook pytest calls first; so does a `--hosts` testinfra cannot
    use (else a traceback in every check)."""
    settings_of(config_)
    try:
        host.first_of(config_.getoption("hosts", None))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> config.Target:
    """Where this run looks: Redis, streams, unit, env file, model."""
    return target_of(pytestconfig)


@pytest.fixture(scope="session")
def thresholds(pytestconfig: pytest.Config) -> config.Thresholds:
    """The effective thresholds of this run (defaults, --config, --set)."""
    return thresholds_of(pytestconfig)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    validate(config)


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata: dict, config: pytest.Config) -> None:
    """pytest-html's environment table: the target (password removed), nothing secret."""
    metadata["shadowgate target"] = target_of(config).describe()
    clean = redact.scrubbed(dict(metadata), secrets_of(config))
    metadata.clear()
    metadata.update(clean)
