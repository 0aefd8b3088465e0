"""The two scripts' command line: the suite's own options (settings.add_arguments, so the
action and its suite mean the same target and thresholds) plus the action's own."""

from __future__ import annotations

import argparse

from shadowgate import settings
from shadowgate.config import ConfigError
from shadowgate.exitcodes import USAGE, UsageParser

_NOT_FORWARDED = {"activated_at", "rollback_started_at"}  # the action gives its own anchor
_IN_ENVIRONMENT = {"redis_url"}  # may hold a password: flow.suite_env passes it, never argv


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    made = UsageParser(prog=prog, description=description)
    settings.add_arguments(made, [o.name for o in settings.OPTIONS if o.name not in _NOT_FORWARDED])
    made.add_argument(
        "--max-age",
        type=float,
        metavar="MINUTES",
        help="how old the arming record may be (default evidence.fresh_minutes)",
    )
    made.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and the gate's answer; change nothing",
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
