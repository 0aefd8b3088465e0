"""Where to look (Target) and what counts as healthy (Thresholds).

Thresholds come from the TOML file shipped beside this module, optionally layered with an
operator's file and single-key overrides. Every key is known in advance, so a typo or a bad
value is refused with the key's name instead of silently keeping a default.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from shadowgate.operatorfiles import PathRefused, read_bytes, shown_path
from shadowgate.redact import redact_url

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_STREAM = "quantum:stream:trade.intent"
DEFAULT_OUTCOMES_STREAM = "quantum:stream:trade.closed"
DEFAULT_UNIT = "quantum-ai-engine.service"
DEFAULT_ENV_FILE = "/etc/quantum/ai-engine.env"
DEFAULT_MODEL = "patchtst"

Scalar = bool | int | float | str
T = TypeVar("T", bool, int, float)


@dataclass(frozen=True)
class Range:
    """Where a numeric threshold means something: a quorum of 0 passes everything, a share of
    5 or a window of inf hours cannot be judged, NaN compares false with everything."""

    low: float
    high: float
    low_open: bool = False  # the low end itself is refused (a window of 0 hours reads nothing)

    def holds(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False  # an int is finite (and may be too large for math.isfinite)
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def __str__(self) -> str:
        low = f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
        return low if math.isinf(self.high) else f"{low} and <= {self.high:g}"


SHARE = Range(0, 1)  # a fraction of intents, outcomes or confidence
COUNT = Range(1, math.inf)  # intents, events, lines, entries: 0 would judge on nothing
LIMIT = Range(0, math.inf)  # a count allowed (0: none), or a minimum that may be waived
HOURS, MINUTES, SECONDS = (Range(0, n, low_open=True) for n in (8760, 525_600, 31_536_000))
DRILL_HOURS = Range(0, 8760)  # uptime and restart windows a drill on a fresh unit sets to 0
DRILL_SECONDS = Range(0, 31_536_000)
# The numeric keys of thresholds.toml that mean something only in a narrower range than `range_of`'s
# default; durations at most a year (a window reaching back past 1970 is no window).
# tests/unit/test_config.py proves each default lies in its range.
RANGES: Mapping[str, Range] = MappingProxyType({
    "window.snapshot_count": COUNT,
    "window.precondition_hours": HOURS,
    "window.read_batch": COUNT,  # XRANGE COUNT 0 would read nothing, forever
    "window.split_scan_entries": LIMIT,  # 0: never split
    "window.min_snapshot_intents": COUNT,
    "window.max_age_minutes": MINUTES,
    "window.max_unreadable_share": SHARE,
    "window.max_future_seconds": SECONDS,
    "shadow.min_observation_hours": DRILL_HOURS,
    "shadow.journal_minutes": MINUTES,
    "shadow.min_journal_lines": COUNT,
    "service.min_uptime_hours": DRILL_HOURS,
    "service.auto_restart_window_hours": DRILL_HOURS,
    "service.active_within_seconds": SECONDS,
    "activation.stable_seconds": SECONDS,
    "activation.min_intents": COUNT,
    "activation.first_intent_wait_seconds": SECONDS,
    "payload.max_p95_bytes": COUNT,
    "blockers.max_full_consensus_in_shadow": LIMIT,
    "blockers.max_hard_disagreement": SHARE,
    "gates.min_events": COUNT,
    "gates.quorum": Range(1, 4),  # of the four gates
    "gates.quorum_deferred": Range(1, 3),  # of the three left with G4 deferred
    "gates.g1_min_actions": Range(1, 3),  # BUY, SELL, HOLD
    "gates.g1_min_share": SHARE,
    "gates.g1_max_share": SHARE,
    "gates.g2_min_p10_p90": SHARE,
    "gates.g2_min_std": SHARE,
    "gates.g3_min_agreement": SHARE,
    "gates.g3_max_agreement": SHARE,
    "gates.g3_max_hard_disagreement": SHARE,
    "gates.g4_min_outcomes": LIMIT,  # G4 still needs one usable outcome at 0
    "gates.g4_buckets": Range(2, math.inf),  # one bucket has no order to keep
    "gates.g4_min_lift": SHARE,
    "gates.join_window_minutes": MINUTES,
    "monitor.m1_healthy_min": SHARE,
    "monitor.m1_healthy_max": SHARE,
    "monitor.m1_warn_above": SHARE,
    "monitor.m1_low_warn_above": SHARE,
    "monitor.m2_healthy_min": SHARE,
    "monitor.m2_healthy_max": SHARE,
    "monitor.m2_warn_below": SHARE,
    "monitor.m2_warn_above": SHARE,
    "monitor.m3_warn_above": SHARE,
    "monitor.m4_healthy_min": SHARE,
    "monitor.m4_warn_below": SHARE,
    "monitor.min_intents": COUNT,
    "monitor.min_slice_intents": COUNT,
    "stop.s1_start_grace_seconds": DRILL_SECONDS,
    "stop.s2_full_consensus_above": SHARE,
    "stop.s2_slices": COUNT,
    "stop.s2_slice_minutes": MINUTES,
    "stop.s3_hard_disagreement_above": SHARE,
    "stop.s4_min_p10_p90": SHARE,
    "stop.s5_after_hours": HOURS,
    "stop.s5_before_hours": HOURS,
    "stop.s5_baseline_max_age_hours": HOURS,
    "stop.s5_max_win_rate_drop": SHARE,
    "stop.s5_max_loss_ratio": Range(0, math.inf, low_open=True),
    "stop.s5_min_outcomes": COUNT,
    "weight.min_uptime_hours": DRILL_HOURS,
    "weight.full_consensus_min": SHARE,
    "weight.full_consensus_max": SHARE,
    "weight.agreement_min": SHARE,
    "weight.agreement_max": SHARE,
    "weight.observation_hours": HOURS,
    "weight.min_intents_per_hour": COUNT,
    "weight.max_win_rate_drop": SHARE,
    "weight.min_outcomes": COUNT,
    "rollback.max_seconds": SECONDS,
    "rollback.shadow_wait_seconds": SECONDS,
    "rollback.min_intents": COUNT,
    "rollback.intent_wait_seconds": SECONDS,
    "rollback.stable_seconds": SECONDS,
    "rollback.break_glass_lock_wait_seconds": Range(0, 600),  # 0: refuse at once
    "evidence.fresh_minutes": MINUTES,
    "evidence.anchor_uid": Range(0, 2**32 - 2),  # a uid; (uid_t)-1 is no one
})  # fmt: skip


# Keys of trust, not of judgement (ARCHITECTURE.md "Trust boundaries"): only the installed
# file sets them.
PINNED = frozenset({"evidence.anchor_uid"})

# Pairs whose first must not exceed the second: an inverted band is a typo that would fail (or
# pass) a check on every run without saying why. Equal is allowed: a band of one point, or no
# "PASS with the figure shown" zone between healthy and red flag, is strict but meaningful.
ORDERED: tuple[tuple[str, str], ...] = (
    ("window.min_snapshot_intents", "window.snapshot_count"),  # a snapshot holds at most COUNT
    ("gates.g1_min_share", "gates.g1_max_share"),
    ("gates.g3_min_agreement", "gates.g3_max_agreement"),
    ("monitor.m1_healthy_min", "monitor.m1_healthy_max"),
    ("monitor.m1_healthy_max", "monitor.m1_warn_above"),
    ("monitor.m2_warn_below", "monitor.m2_healthy_min"),
    ("monitor.m2_healthy_min", "monitor.m2_healthy_max"),
    ("monitor.m2_healthy_max", "monitor.m2_warn_above"),
    ("monitor.m4_warn_below", "monitor.m4_healthy_min"),
    ("weight.full_consensus_min", "weight.full_consensus_max"),
    ("weight.agreement_min", "weight.agreement_max"),
)


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
    """The file as flat keys; a ConfigError for anything tomllib cannot take, including what it
    raises outside TOMLDecodeError (an integer past Python's 4300-digit limit, nesting deeper
    than the interpreter's stack)."""
    try:
        return _flatten(tomllib.loads(text))
    except RecursionError:
        raise ConfigError(f"threshold file {origin} is nested too deep to be a TOML file") from None
    except ValueError as exc:  # TOMLDecodeError is one
        raise ConfigError(f"threshold file {origin} is not valid TOML: {exc}") from None


def _default_table() -> dict[str, Scalar]:
    text = resources.files("shadowgate").joinpath("thresholds.toml").read_text("utf-8")
    return _load_toml(text, "shadowgate/thresholds.toml")


def _shown(value: Any) -> str:
    """A value as the operator wrote it, cut to one readable line (a 4000-digit number too)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text)} characters)"


def _coerce(key: str, value: Any, default: Scalar) -> Scalar:
    """Check a value against the type of the shipped default; parse strings from --set."""
    kind = type(default)
    if isinstance(value, str) and kind is not str:
        value = _parse_text(key, value, kind)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not kind:
        raise ConfigError(
            f"threshold {key!r} must be {kind.__name__}, "
            f"got {_shown(value)} ({type(value).__name__})"
        )
    if kind is not bool and isinstance(value, int | float) and not range_of(key).holds(value):
        raise ConfigError(f"threshold {key!r} must be {range_of(key)}, got {_shown(value)}")
    return value


def range_of(key: str) -> Range:
    """Where numeric threshold `key` means something: its RANGES entry, else finite and >= 0, so
    a new check's threshold needs only its default in thresholds.toml."""
    return RANGES.get(key, LIMIT)


def _parse_text(key: str, text: str, kind: type) -> Scalar:
    raw = text.strip()
    if kind is bool:
        lowered = raw.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"threshold {key!r} must be true or false, got {_shown(text)}")
    try:
        return kind(raw)
    except ValueError:
        why = f"threshold {key!r} must be {kind.__name__}, got {_shown(text)}"
        raise ConfigError(why) from None


def _check_order(values: Mapping[str, Scalar]) -> None:
    """Refuse the first inverted pair of ORDERED, naming both keys and both values."""
    for low, high in ORDERED:
        below, above = values[low], values[high]  # both numeric: every ORDERED key is in RANGES
        if isinstance(below, int | float) and isinstance(above, int | float) and below > above:
            raise ConfigError(
                f"threshold {low!r} ({values[low]!r}) must be <= {high!r} ({values[high]!r})"
            )


class TypedReads(ABC):
    """Threshold reads that come out typed: a key read as another type than the one its
    shipped default has (and load() enforces) is a programming error, raised at once."""

    @abstractmethod
    def __getitem__(self, key: str) -> Scalar: ...

    def number(self, key: str) -> float:
        """A float threshold (a share, a duration), for arithmetic in checks."""
        return self._typed(key, float)

    def integer(self, key: str) -> int:
        """An int threshold (a count, a quorum)."""
        return self._typed(key, int)

    def flag(self, key: str) -> bool:
        return self._typed(key, bool)

    def _typed(self, key: str, kind: type[T]) -> T:
        value = self[key]
        if not isinstance(value, kind) or type(value) is not kind:  # a bool is no int
            raise TypeError(
                f"threshold {key!r} is {type(value).__name__} ({value!r}), read as {kind.__name__}"
            )
        return value


class Thresholds(TypedReads, Mapping[str, Scalar]):
    """Every runbook threshold by dotted key (`gates.min_events`), validated and hashable."""

    def __init__(self, values: Mapping[str, Scalar], overrides: Mapping[str, Scalar]) -> None:
        self._values = MappingProxyType(dict(values))
        self.overrides = MappingProxyType(dict(overrides))

    @classmethod
    def load(
        cls,
        config_file: str | Path | None = None,
        sets: Iterable[str] = (),
        recorded: Mapping[str, Any] | None = None,
    ) -> Thresholds:
        """Shipped defaults, then the `recorded` values of a replayed run, then `config_file`
        (same shape), then `key=value` overrides. A recorded key the shipped table no longer
        has is dropped, a pinned one is the installed value (as for a live run)."""
        defaults = _default_table()
        values = dict(defaults)
        overrides: dict[str, Scalar] = {}
        for key, value in (recorded or {}).items():
            if key in defaults and key not in PINNED:
                values[key] = cls._checked(defaults, key, value)
        if config_file is not None:
            path = Path(config_file)
            if "\0" in str(path):  # open() would raise ValueError, not OSError
                raise ConfigError(f"threshold file {shown_path(path)} holds a NUL byte: no path")
            try:
                text = read_bytes(path).decode("utf-8")
            except PathRefused as exc:
                raise ConfigError(f"cannot read threshold file {exc}") from None
            except UnicodeDecodeError as exc:
                byte = exc.object[exc.start]
                raise ConfigError(
                    f"threshold file {shown_path(path)} is not UTF-8 text (byte {byte:#04x}"
                    f" at offset {exc.start}): not a TOML file?"
                ) from None
            for key, value in _load_toml(text, shown_path(path)).items():
                values[key] = cls._checked(defaults, key, value)
        for item in sets:
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError(f"--set expects key=value, got {_shown(item)}")
            values[key] = overrides[key] = cls._checked(defaults, key, text)
        _check_order(values)
        return cls(values, overrides)

    @staticmethod
    def _checked(defaults: Mapping[str, Scalar], key: str, value: Any) -> Scalar:
        if key not in defaults:
            raise ConfigError(f"unknown threshold key {key!r} (known keys: see thresholds.toml)")
        checked = _coerce(key, value, defaults[key])
        if key in PINNED and checked != defaults[key]:
            raise ConfigError(
                f"threshold {key!r} is read from the installed thresholds.toml only: "
                "a run's --config or --set cannot change who the evidence trusts"
            )
        return checked

    def __getitem__(self, key: str) -> Scalar:
        try:
            return self._values[key]
        except KeyError:
            raise ConfigError(f"unknown threshold key {key!r}") from None

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def digest(self) -> str:
        """sha256 of the effective thresholds: two runs compare equal only on equal numbers."""
        canonical = json.dumps(dict(self._values), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
