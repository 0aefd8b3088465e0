"""The pytest plugin: options, target and threshold fixtures.

Options can also be given as environment variables SHADOWGATE_<NAME> (e.g.
SHADOWGATE_REDIS_URL), so a systemd timer or a wrapper script need not repeat them.
"""

from __future__ import annotations

import os

import pytest

from shadowgate import config

_OPTIONS = (
    ("redis_url", config.DEFAULT_REDIS_URL, "Redis of the engine (password never printed)"),
    ("stream", config.DEFAULT_STREAM, "the engine's trade.intent stream"),
    ("outcomes_stream", config.DEFAULT_OUTCOMES_STREAM, "the trade.closed outcomes stream"),
    ("unit", config.DEFAULT_UNIT, "systemd unit of the AI engine"),
    ("env_file", config.DEFAULT_ENV_FILE, "the engine's env file"),
    ("model", config.DEFAULT_MODEL, "model being activated (flag and breakdown key derive)"),
    ("config", None, "threshold TOML layered over the shipped defaults"),
    ("reports_dir", "reports", "where reports and records are written"),
    ("operator", None, "who runs this (default: $SUDO_USER or $USER)"),
)


def _env_name(dest: str) -> str:
    return f"SHADOWGATE_{dest.upper()}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shadowgate", "shadowgate target and thresholds")
    for dest, default, help_text in _OPTIONS:
        group.addoption(
            f"--{dest.replace('_', '-')}",
            dest=f"sg_{dest}",
            default=os.environ.get(_env_name(dest), default),
            help=f"{help_text} [env {_env_name(dest)}; default {default}]",
        )
    env_sets = [s for s in os.environ.get("SHADOWGATE_SET", "").split(",") if s.strip()]
    group.addoption(
        "--set",
        dest="sg_set",
        action="append",
        default=env_sets,
        metavar="KEY=VALUE",
        help="override one threshold for this run, repeatable [env SHADOWGATE_SET, comma-separated]",
    )


def option(config_: pytest.Config, dest: str):
    """The value of a shadowgate option (CLI, then SHADOWGATE_<NAME>, then default)."""
    return config_.getoption(f"sg_{dest}")


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> config.Target:
    """Where this run looks: Redis, streams, unit, env file, model."""
    return config.Target(
        **{
            name: option(pytestconfig, name)
            for name in ("redis_url", "stream", "outcomes_stream", "unit", "env_file", "model")
        }
    )


@pytest.fixture(scope="session")
def thresholds(pytestconfig: pytest.Config) -> config.Thresholds:
    """The effective thresholds of this run (defaults, --config, --set)."""
    return config.Thresholds.load(option(pytestconfig, "config"), option(pytestconfig, "set"))
