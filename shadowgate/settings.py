"""Every option of a shadowgate run, resolved once into a frozen Settings.

The pytest plugin, the `shadowgate` CLI and the actions register their options from the one
table here (`arguments`, `add_arguments`) and resolve them with `resolve`, so all three mean the
same target, thresholds and strategy. A value comes from the command line, else the environment
variable SHADOWGATE_<NAME> (a systemd timer or a wrapper need not repeat it; an empty variable
counts as unset), else the default. A bad value is one ConfigError naming the option, raised
before anything runs.
"""

from __future__ import annotations

import argparse
import getpass
import math
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import redis
import redis.connection

from shadowgate import config, redact
from shadowgate.config import ConfigError, Target, Thresholds
from shadowgate.evidence.anchors import parse_moment
from shadowgate.replay import bundle
from shadowgate.replay.bundle import Bundle, BundleError


@dataclass(frozen=True)
class Option:
    """One option: e.g. `--reports-dir` on the command line, SHADOWGATE_REPORTS_DIR in the env."""

    name: str
    default: str | None
    help: str

    @property
    def flag(self) -> str:
        return f"--{self.name.replace('_', '-')}"

    @property
    def env(self) -> str:
        return f"SHADOWGATE_{self.name.upper()}"

    @property
    def dest(self) -> str:
        """Where a parser stores it: prefixed, so it cannot clash with one of pytest's own."""
        return f"sg_{self.name}"


OPTIONS = (
    Option("redis_url", config.DEFAULT_REDIS_URL, "Redis of the engine (password never printed)"),
    Option("stream", config.DEFAULT_STREAM, "the engine's trade.intent stream"),
    Option("outcomes_stream", config.DEFAULT_OUTCOMES_STREAM, "the trade.closed outcomes stream"),
    Option("unit", config.DEFAULT_UNIT, "systemd unit of the AI engine"),
    Option("env_file", config.DEFAULT_ENV_FILE, "the engine's env file"),
    Option("model", config.DEFAULT_MODEL, "model being activated (flag and breakdown key derive)"),
    Option("config", None, "threshold TOML layered over the shipped defaults"),
    Option("set", None, "override one threshold for one run, repeatable"),
    Option("reports_dir", "reports", "where reports and records are written"),
    Option("operator", None, "who runs this (default: $SUDO_USER or $USER)"),
    Option("approved_by", None, "who approved the activation, name/role (runbook s.7)"),
    Option("weight", None, "initial voting weight in percent (runbook s.3: 10)"),
    Option("confidence_cap", None, "confidence cap in 0..1, or none (runbook s.3: 0.75)"),
    Option("observation_hours", None, "critical observation window in hours (runbook s.3: 6)"),
    Option(
        "activated_at",
        None,
        "T+0 of an activation done by hand, ISO-8601 (UTC if no zone); else the latest "
        "activation record's restart",
    ),
    Option(
        "capture_bundle",
        None,
        "write a replay bundle beside the record (--no-capture-bundle: none); default on "
        "for preactivation, activation and rollback runs",
    ),
    Option("replay", None, "judge a captured bundle (.bundle.json.gz) instead of the live host"),
    Option(
        "rollback_started_at",
        None,
        "start of a rollback done by hand, ISO-8601 (UTC if no zone); else the latest "
        "rollback record's",
    ),
)
_BY_NAME = {option.name: option for option in OPTIONS}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TARGET = ("redis_url", "stream", "outcomes_stream", "unit", "env_file", "model")


def arguments(names: Collection[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(flag, keyword arguments) of every option, or of those named, for argparse's
    `add_argument` and pytest's `addoption` alike. A parser keeps only what the command line
    gave (None otherwise): `resolve` applies the environment and the defaults."""
    unknown = set(names or ()) - _BY_NAME.keys()
    if unknown:
        raise ValueError(f"no such shadowgate option: {', '.join(sorted(unknown))}")
    for option in OPTIONS:
        if names is not None and option.name not in names:
            continue
        kwargs: dict[str, Any]
        if option.name == "set":
            kwargs = {"action": "append", "metavar": "KEY=VALUE"}
            where = f"[env {option.env}, comma-separated]"
        elif option.name == "capture_bundle":
            kwargs = {"action": argparse.BooleanOptionalAction}
            where = f"[env {option.env}=yes|no]"
        else:
            kwargs = {"metavar": option.name.upper()}
            default = f"; default {option.default}" if option.default else ""
            where = f"[env {option.env}{default}]"
        yield option.flag, {"dest": option.dest, "help": f"{option.help} {where}", **kwargs}


def add_arguments(parser: argparse.ArgumentParser, names: Collection[str] | None = None) -> None:
    """Register every option, or those named, on an argparse parser (the CLI, the actions)."""
    for flag, kwargs in arguments(names):
        parser.add_argument(flag, **kwargs)


@dataclass(frozen=True)
class Strategy:
    """The activation parameters given for this run (runbook s.3, s.7), None where not given:
    shown in the report and recorded."""

    approved_by: str | None = None
    weight: float | None = None
    confidence_cap: float | Literal["none"] | None = None
    observation_hours: float | None = None


@dataclass(frozen=True)
class Settings:
    """One run's options, resolved and validated: what it reads, judges, records and as whom."""

    target: Target
    strategy: Strategy
    reports_dir: Path
    thresholds: Thresholds
    operator: str | None
    secrets: tuple[str, ...] = field(repr=False)  # the Redis password, to scrub from all output
    activated_at: datetime | None = None  # --activated-at: T+0 of a manual activation
    rollback_started_at: datetime | None = None  # --rollback-started-at
    capture: bool | None = None  # --capture-bundle / --no-capture-bundle; None: the phase's default
    replay: Path | None = None  # --replay BUNDLE: judge it instead of the live host
    replayed: tuple[Bundle, str] | None = field(default=None, repr=False)  # and its sha256


Args = argparse.Namespace | None


def resolve(args: Args = None, env: Mapping[str, str] | None = None) -> Settings:
    """Every option from `args` (a parsed command line, or pytest's `config.option`), else
    `env` (default: os.environ), else its default; ConfigError names the first bad one."""
    env = os.environ if env is None else env
    replay = Path(given) if (given := _value("replay", args, env)) else None
    replayed = _replayed(replay)
    bundle_read = replayed[0] if replayed else None
    env = {**_as_env(bundle_read), **{k: v for k, v in env.items() if v}}  # empty is unset
    values = {name: _value(name, args, env) for name in _TARGET}
    target = Target(**{**values, "redis_url": _redis_url(values["redis_url"])})
    return Settings(
        target=target,
        strategy=_strategy(args, env),
        reports_dir=reports_dir_of(args, env),
        thresholds=_thresholds(args, env, bundle_read),
        operator=_operator(_value("operator", args, env), env),
        secrets=redact.url_secrets(target.redis_url),
        activated_at=_moment("activated_at", args, env),
        rollback_started_at=_moment("rollback_started_at", args, env),
        capture=_yes_no("capture_bundle", args, env),
        replay=replay,
        replayed=replayed,
    )


def _replayed(path: Path | None) -> tuple[Bundle, str] | None:
    """The bundle a replay judges and its sha256, read once (None for a live run): its run's
    target, thresholds and strategy are the replay's unless the command line or the
    environment gives them."""
    if path is None:
        return None
    try:
        return bundle.read_with_digest(path)
    except BundleError as exc:
        raise ConfigError(f"{_BY_NAME['replay'].flag} {path}: {exc}") from None


def _as_env(replayed: Bundle | None) -> dict[str, str]:
    """A replayed run's target and strategy as the SHADOWGATE_* variables that would give them,
    layered under the real environment; {} for a live run."""
    if replayed is None:
        return {}
    given = {**replayed.target, **replayed.strategy}
    return {
        _BY_NAME[name].env: str(value)
        for name, value in given.items()
        if name in _BY_NAME and value is not None
    }


def _thresholds(args: Args, env: Mapping[str, str], replayed: Bundle | None) -> Thresholds:
    """Shipped defaults, --config and --set; a replay starts from its run's thresholds instead
    (unless --config is given), its run's --set still overrides and this run's on top."""
    config_file = _value("config", args, env)
    if replayed is None or config_file is not None:
        return Thresholds.load(config_file, _sets(args, env))
    then = [f"{key}={value}" for key, value in replayed.overrides.items()]
    return Thresholds.load(None, [*then, *_sets(args, env)], replayed.thresholds)


def reports_dir_of(args: Args = None, env: Mapping[str, str] | None = None) -> Path:
    """The reports dir alone: the evidence commands need nothing else, so an unrelated bad
    option must not stop them."""
    return Path(_value("reports_dir", args, os.environ if env is None else env))


def _where(path: Path) -> str:
    return f"{_BY_NAME['reports_dir'].flag} {config.shown_path(path)}"


def _refuse_impossible(path: Path, where: str) -> None:
    """ConfigError for a path that can never be a reports dir: a NUL byte, a file, a symlink
    that cannot be followed, a file in the way of its parents."""
    if "\0" in str(path):  # os calls would raise ValueError, not OSError
        raise ConfigError(f"{where} holds a NUL byte: no file system takes it")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{where} is a file, not a directory")
    if path.is_symlink() and not path.exists():
        try:
            path.stat()
        except OSError as exc:  # ELOOP: a loop; ENOENT: its target is missing
            why = exc.strerror
            raise ConfigError(f"{where} is a symlink that cannot be followed: {why}") from None
    blocker = next((p for p in path.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise ConfigError(f"{where} cannot be created: {config.shown_path(blocker)} is a file")


def ensure_reports_dir(path: Path) -> Path:
    """Create the reports dir when missing and prove a file can be written in it, before
    anything runs: a run (or an action) that cannot keep its evidence must not judge or change
    anything first. ConfigError says the real cause (a file in the way, no permission, a
    read-only file system)."""
    where = _where(path)
    _refuse_impossible(path, where)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{where} cannot be created: {exc.strerror}") from None
    try:
        with tempfile.TemporaryFile(dir=path, prefix=".shadowgate-probe-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{where} is not writable: {exc.strerror}") from None
    return path


def readable_reports_dir(path: Path) -> Path:
    """For a command that only reads records (`shadowgate monitor`): the same refusal of a
    path that can never be a directory, but nothing created (a missing dir holds no record
    yet) and no write asked (an auditor's archive may be read-only); an existing dir must be
    listable."""
    where = _where(path)
    _refuse_impossible(path, where)
    if path.is_dir() and not os.access(path, os.R_OK | os.X_OK):
        raise ConfigError(f"{where} is not readable: permission denied")
    return path


def _value(name: str, args: Args, env: Mapping[str, str]) -> Any:
    option = _BY_NAME[name]
    given = getattr(args, option.dest, None)
    return given if given is not None else env.get(option.env) or option.default


def _redis_url(url: str) -> str:
    """The URL if redis-py can connect with it; else a ConfigError saying what is wrong (the
    password never shown), so a typo is one line before anything runs, not a setup error in
    every check."""
    option = _BY_NAME["redis_url"]
    where = f"{option.flag} (env {option.env})"
    if not url.strip():
        raise ConfigError(f"{where} is empty: give redis://HOST:PORT/DB")
    shown = redact.redact_url(url)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{where} must start with redis://, rediss:// or unix://, got {shown!r}")
    if "#" in (redact.password_of(url) or ""):  # redis-py would name the part before it
        raise ConfigError(f"{where} {shown!r}: the password holds a raw '#'; write it as %23")
    try:
        parsed = redis.connection.parse_url(url)
    except ValueError as exc:
        why = redact.scrubbed(str(exc), redact.url_secrets(url))
        raise ConfigError(f"{where} {shown!r} is not a Redis URL: {why}") from None
    try:  # what redis-py refuses only when it builds the connection (an option in the query)
        redis.Redis.from_url(url).connection_pool.make_connection()
    except (TypeError, ValueError, redis.RedisError) as exc:
        why = redact.scrubbed(str(exc), redact.url_secrets(url))
        raise ConfigError(f"{where} {shown!r} has an option redis-py cannot use: {why}") from None
    if url.startswith("unix://") and not parsed.get("path"):
        raise ConfigError(f"{where} {shown!r} names no socket path (unix:///run/redis.sock)")
    if urlsplit(url).port == 0 or redact.host_of(url).endswith(":"):  # redis-py reads 0 as 6379
        raise ConfigError(f"{where} {shown!r} has no valid port (1..65535)")
    return url


def _sets(args: Args, env: Mapping[str, str]) -> list[str]:
    """SHADOWGATE_SET's items, then each --set: for the same key the command line wins."""
    from_env = [item for item in env.get(_BY_NAME["set"].env, "").split(",") if item.strip()]
    return from_env + list(getattr(args, _BY_NAME["set"].dest, None) or ())


def _strategy(args: Args, env: Mapping[str, str]) -> Strategy:
    cap = _value("confidence_cap", args, env)
    no_cap = cap is not None and str(cap).strip().lower() == "none"
    return Strategy(
        approved_by=_value("approved_by", args, env) or None,
        weight=_positive("weight", args, env, 100.0),
        confidence_cap="none" if no_cap else _positive("confidence_cap", args, env, 1.0),
        observation_hours=_positive("observation_hours", args, env, math.inf),
    )


def _positive(name: str, args: Args, env: Mapping[str, str], top: float) -> float | None:
    """A number in (0, top], an optional % sign allowed; None when not given."""
    text = _value(name, args, env)
    if text is None or not str(text).strip():
        return None
    try:
        value = float(str(text).strip().removesuffix("%"))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= top):
        option = _BY_NAME[name]
        bound = f"a number > 0 and <= {top:g}" if math.isfinite(top) else "a number > 0"
        raise ConfigError(f"{option.flag} (env {option.env}) must be {bound}, got {text!r}")
    return value


def _yes_no(name: str, args: Args, env: Mapping[str, str]) -> bool | None:
    """A switch: the command line's flag, else yes/no (true/false, 1/0, on/off) in the
    environment; None when not given."""
    given = _value(name, args, env)
    if given is None or isinstance(given, bool):
        return given
    word = str(given).strip().lower()
    if word in ("yes", "true", "1", "on"):
        return True
    if word in ("no", "false", "0", "off"):
        return False
    option = _BY_NAME[name]
    raise ConfigError(f"{option.env} must be yes or no, got {given!r}")


def _moment(name: str, args: Args, env: Mapping[str, str]) -> datetime | None:
    """An ISO-8601 time option as UTC, from 1970 (stream ids count from it) to a day ahead of
    this machine's clock (a T+0 to come is no T+0; a day is more than any clock is off, and
    a window reaching past year 9999 is a traceback); None when not given."""
    text = _value(name, args, env)
    if text is None or not str(text).strip():
        return None
    option = f"{_BY_NAME[name].flag} (env {_BY_NAME[name].env})"
    where = f"{option}: {text}"
    try:
        moment = parse_moment(str(text))
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    except OverflowError:  # a valid time whose UTC is before year 1 or after 9999
        raise ConfigError(f"{where} is out of range in UTC (years 1..9999)") from None
    if moment < EPOCH:
        raise ConfigError(f"{where} is before 1970: no stream entry is")
    if moment > datetime.now(UTC) + timedelta(days=1):
        raise ConfigError(f"{where} is more than a day ahead of this machine's clock")
    return moment


def _operator(given: str | None, env: Mapping[str, str]) -> str | None:
    """--operator, else whoever ran sudo, else the login name; None where this uid has no name
    (a bare container)."""
    name = given or env.get("SUDO_USER") or env.get("USER")
    try:
        return name or getpass.getuser()
    except (KeyError, OSError):
        return None
