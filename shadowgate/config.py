"""Where to look (Target) and what counts as healthy (Thresholds).

Thresholds come from the TOML file shipped beside this module, optionally layered with an
operator's file and single-key overrides. Every key is known in advance, so a typo or a bad
value is refused with the key's name instead of silently keeping a default.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from shadowgate.redact import redact_url

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_STREAM = "quantum:stream:trade.intent"
DEFAULT_OUTCOMES_STREAM = "quantum:stream:trade.closed"
DEFAULT_UNIT = "quantum-ai-engine.service"
DEFAULT_ENV_FILE = "/etc/quantum/ai-engine.env"
DEFAULT_MODEL = "patchtst"

Scalar = bool | int | float | str
_AT_LEAST_ONE = frozenset({"window.read_batch"})  # XRANGE COUNT 0 would read nothing, forever


class ConfigError(ValueError):
    """An option, threshold file, key or value the operator must fix before anything runs."""


@dataclass(frozen=True)
class Target:
    """The engine under test: its Redis, streams, systemd unit, env file and model name."""

    redis_url: str = field(default=DEFAULT_REDIS_URL, repr=False)  # may hold a password
    stream: str = DEFAULT_STREAM
    outcomes_stream: str = DEFAULT_OUTCOMES_STREAM
    unit: str = DEFAULT_UNIT
    env_file: str = DEFAULT_ENV_FILE
    model: str = DEFAULT_MODEL

    @property
    def shadow_flag(self) -> str:
        """Env key that keeps the model in shadow mode, e.g. PATCHTST_SHADOW_ONLY."""
        return f"{self.model.upper()}_SHADOW_ONLY"

    @property
    def model_path_key(self) -> str:
        """Env key naming the model's weights file, e.g. PATCHTST_MODEL_PATH."""
        return f"{self.model.upper()}_MODEL_PATH"

    @property
    def breakdown_key(self) -> str:
        """Key of the model in the payload's model_breakdown, e.g. patchtst."""
        return self.model.lower()

    @property
    def safe_redis_url(self) -> str:
        return redact_url(self.redis_url)

    def describe(self) -> dict[str, str]:
        """The target as recorded in evidence: never the password."""
        return {
            "redis_url": self.safe_redis_url,
            "stream": self.stream,
            "outcomes_stream": self.outcomes_stream,
            "unit": self.unit,
            "env_file": self.env_file,
            "model": self.model,
        }


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Scalar]:
    flat: dict[str, Scalar] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[key] = value
    return flat


def _load_toml(text: str, origin: str) -> dict[str, Scalar]:
    try:
        return _flatten(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"threshold file {origin} is not valid TOML: {exc}") from exc


def _default_table() -> dict[str, Scalar]:
    text = resources.files("shadowgate").joinpath("thresholds.toml").read_text("utf-8")
    return _load_toml(text, "shadowgate/thresholds.toml")


def _coerce(key: str, value: Any, default: Scalar) -> Scalar:
    """Check a value against the type of the shipped default; parse strings from --set."""
    kind = type(default)
    if isinstance(value, str) and kind is not str:
        value = _parse_text(key, value, kind)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not kind:
        raise ConfigError(
            f"threshold {key!r} must be {kind.__name__}, got {value!r} ({type(value).__name__})"
        )
    if kind in (int, float) and value < 0:
        raise ConfigError(f"threshold {key!r} must not be negative, got {value!r}")
    if key in _AT_LEAST_ONE and value < 1:
        raise ConfigError(f"threshold {key!r} must be at least 1, got {value!r}")
    return value


def _parse_text(key: str, text: str, kind: type) -> Scalar:
    raw = text.strip()
    if kind is bool:
        lowered = raw.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"threshold {key!r} must be true or false, got {text!r}")
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"threshold {key!r} must be {kind.__name__}, got {text!r}") from None


class Thresholds(Mapping[str, Scalar]):
    """Every runbook threshold by dotted key (`gates.min_events`), validated and hashable."""

    def __init__(self, values: Mapping[str, Scalar], overrides: Mapping[str, Scalar]) -> None:
        self._values = MappingProxyType(dict(values))
        self.overrides = MappingProxyType(dict(overrides))

    @classmethod
    def load(cls, config_file: str | Path | None = None, sets: Iterable[str] = ()) -> Thresholds:
        """Shipped defaults, then `config_file` (same shape), then `key=value` overrides."""
        defaults = _default_table()
        values = dict(defaults)
        overrides: dict[str, Scalar] = {}
        if config_file is not None:
            path = Path(config_file)
            try:
                text = path.read_text("utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read threshold file {path}: {exc.strerror}") from exc
            for key, value in _load_toml(text, str(path)).items():
                values[key] = cls._checked(defaults, key, value)
        for item in sets:
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError(f"--set expects key=value, got {item!r}")
            values[key] = overrides[key] = cls._checked(defaults, key, text)
        return cls(values, overrides)

    @staticmethod
    def _checked(defaults: Mapping[str, Scalar], key: str, value: Any) -> Scalar:
        if key not in defaults:
            raise ConfigError(f"unknown threshold key {key!r} (known keys: see thresholds.toml)")
        return _coerce(key, value, defaults[key])

    def __getitem__(self, key: str) -> Scalar:
        try:
            return self._values[key]
        except KeyError:
            raise ConfigError(f"unknown threshold key {key!r}") from None

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def number(self, key: str) -> float:
        """A numeric threshold as float, for arithmetic in checks."""
        return float(self[key])

    def digest(self) -> str:
        """sha256 of the effective thresholds: two runs compare equal only on equal numbers."""
        canonical = json.dumps(dict(self._values), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
