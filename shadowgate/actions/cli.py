"""The two scripts' command line: the suite's own options (settings.add_arguments, so the
action and its suite mean the same target and thresholds) plus the action's own."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

from shadowgate import settings
from shadowgate.config import ConfigError, Thresholds
from shadowgate.exitcodes import USAGE, UsageParser

_NOT_FORWARDED = {"activated_at", "rollback_started_at"}  # the action gives its own anchor
_IN_ENVIRONMENT = {"redis_url"}  # may hold a password: flow.suite_env passes it, never argv
# The strategy: activate.py records it, every later phase reads it from that record (README).
STRATEGY = tuple(field.name for field in dataclasses.fields(settings.Strategy))
_STRATEGY_FLAGS = tuple(f"{o.flag}=" for o in settings.OPTIONS if o.name in STRATEGY)


def parser(prog: str, description: str, epilog: str, *, strategy: bool) -> argparse.ArgumentParser:
    """The suite's options the action passes on (with `strategy`: the activation's too)."""
    made = UsageParser(prog=prog, description=description, epilog=epilog)
    names = [o.name for o in settings.OPTIONS if o.name not in _NOT_FORWARDED]
    settings.add_arguments(made, [n for n in names if strategy or n not in STRATEGY])
    made.add_argument(
        "--max-age",
        type=float,
        metavar="MINUTES",
        help="refuse a record older than this as the one that arms the action (default "
        f"evidence.fresh_minutes: {Thresholds.load().number('evidence.fresh_minutes'):g})",
    )
    made.add_argument(
        "--dry-run",
        action="store_true",
        help="say whether it would run, and the steps it would take; change nothing",
    )
    return made


def forwarded(args: argparse.Namespace) -> list[str]:
    """The suite options given on the command line as `--opt=value` (README: pytest chooses
    its rootdir before it knows them), but the Redis URL (flow.suite_env); the reports dir
    made absolute, the suite runs elsewhere."""
    out = []
    for option in settings.OPTIONS:
        given = getattr(args, option.dest, None)
        if given is None or option.name in _IN_ENVIRONMENT:
            continue
        values = given if isinstance(given, list) else [given]
        out += [f"{option.flag}={value}" for value in values]
    reports = settings.reports_dir_of(args).resolve()
    return [*(o for o in out if not o.startswith("--reports-dir=")), f"--reports-dir={reports}"]


def without_strategy(options: Sequence[str]) -> list[str]:
    """`forwarded` options as rollback.py takes them: it has no strategy options."""
    return [option for option in options if not option.startswith(_STRATEGY_FLAGS)]


def resolve(args: argparse.Namespace) -> tuple[settings.Settings, float]:
    """Settings and the arming record's maximum age; ConfigError on a bad option, or on a
    reports dir the action could not write its record in (probed as the suite probes it,
    before the env file is touched: a record lost after the restart is a traceback then)."""
    resolved = settings.resolve(args)
    settings.ensure_reports_dir(resolved.reports_dir)
    max_age = args.max_age
    if max_age is None:
        max_age = resolved.thresholds.number("evidence.fresh_minutes")
    if max_age <= 0:
        raise ConfigError(f"--max-age must be > 0 minutes, got {max_age:g}")
    return resolved, max_age


def usage_error(exc: ConfigError) -> int:
    print(f"ERROR: {exc}")
    return USAGE
