"""Options of every shadowgate run: target, thresholds and strategy, resolved once.

Options can also be given as environment variables SHADOWGATE_<NAME> (e.g.
SHADOWGATE_REDIS_URL), so a systemd timer or a wrapper script need not repeat them. A bad value
is a usage error (exit 4) before anything runs.
"""

from __future__ import annotations

import math
import os
from typing import Any

import pytest

from shadowgate import config, redact
from shadowgate.config import ConfigError, Thresholds

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
    ("approved_by", None, "who approved the activation, name/role (runbook s.7)"),
    ("weight", None, "initial voting weight in percent (runbook s.3: 10)"),
    ("confidence_cap", None, "confidence cap in 0..1, or none (runbook s.3: 0.75)"),
    ("observation_hours", None, "critical observation window in hours (runbook s.3: 6)"),
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
        help="override one threshold for one run, repeatable [env SHADOWGATE_SET, comma-separated]",
    )


def option(config_: pytest.Config, dest: str) -> Any:
    """The value of a shadowgate option (CLI, then SHADOWGATE_<NAME>, then default)."""
    return config_.getoption(f"sg_{dest}")


def target_of(config_: pytest.Config) -> config.Target:
    """Where this run looks: Redis, streams, unit, env file, model."""
    return config.Target(
        **{
            name: option(config_, name)
            for name in ("redis_url", "stream", "outcomes_stream", "unit", "env_file", "model")
        }
    )


def strategy_of(config_: pytest.Config) -> dict[str, Any]:
    """The activation parameters given for this run (runbook s.3, s.7), None where not given:
    shown in the report and recorded. A value out of range is refused with the option's name."""
    cap = option(config_, "confidence_cap")
    no_cap = cap is not None and str(cap).strip().lower() == "none"
    return {
        "approved_by": option(config_, "approved_by") or None,
        "weight": _positive(config_, "weight", 100.0),
        "confidence_cap": "none" if no_cap else _positive(config_, "confidence_cap", 1.0),
        "observation_hours": _positive(config_, "observation_hours", math.inf),
    }


def _positive(config_: pytest.Config, dest: str, top: float) -> float | None:
    text = option(config_, dest)
    if text is None or not str(text).strip():
        return None
    try:
        value = float(str(text).strip().removesuffix("%"))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= top):
        bound = f"a number > 0 and <= {top:g}" if math.isfinite(top) else "a number > 0"
        raise pytest.UsageError(
            f"--{dest.replace('_', '-')} (env {_env_name(dest)}) must be {bound}, got {text!r}"
        )
    return value


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> config.Target:
    """Where this run looks: Redis, streams, unit, env file, model."""
    return target_of(pytestconfig)


_THRESHOLDS = pytest.StashKey[config.Thresholds]()


def thresholds_of(config_: pytest.Config) -> config.Thresholds:
    """The effective thresholds of this run (defaults, --config, --set), loaded and validated
    once, by whichever configure hook asks first; a bad key or value is one usage error."""
    if _THRESHOLDS not in config_.stash:
        try:
            loaded = Thresholds.load(option(config_, "config"), option(config_, "set"))
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        config_.stash[_THRESHOLDS] = loaded
    return config_.stash[_THRESHOLDS]


@pytest.fixture(scope="session")
def thresholds(pytestconfig: pytest.Config) -> config.Thresholds:
    """The effective thresholds of this run (defaults, --config, --set)."""
    return thresholds_of(pytestconfig)


def secrets_of(config_: pytest.Config) -> tuple[str, ...]:
    """The Redis password as given and decoded: never shown, never recorded."""
    return redact.url_secrets(option(config_, "redis_url") or "")


def validate(config_: pytest.Config) -> None:
    """Before anything runs: a bad --weight, a misspelt threshold key or a bad value is one
    usage error naming it. Every configure hook that reads options calls this first."""
    strategy_of(config_)
    thresholds_of(config_)


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
