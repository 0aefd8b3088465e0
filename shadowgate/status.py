"""`shadowgate status`: where the activation stands (ARCHITECTURE.md "The lifecycle"), what is
allowed next and why, and the decision log (runbook s.7) as one story: pre-activation, activation,
each window, the rollback with its trigger and time, the conclusion.

It reads the verified chain through the same function every action, window and timer acts on
(`evidence.lifecycle.current`), with the suite's target and thresholds options (a GO arms only
the target and thresholds it judged). "Now" is this machine's clock: T+6 h (s.10) is a matter
of hours, not of the seconds a clock may be off. It is a report: exit 0; a decision log that
does not verify exits 1 and says from where (the state then rests on the records before it).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from shadowgate import host, settings
from shadowgate.config import ConfigError
from shadowgate.evidence import cycle, lifecycle
from shadowgate.evidence.disk import EvidenceError
from shadowgate.exitcodes import NO, OK, USAGE, epilog

# The suite's options that say which target and thresholds a GO must have judged.
OPTIONS = ("redis_url", "stream", "outcomes_stream", "unit", "env_file", "model", "config",
           "set", "reports_dir", "activated_at")  # fmt: skip
HOSTS_HELP = (
    "the engine's host, whose journal holds the records' anchors: local:// (default, this "
    "machine) or ssh://root@vps, as pytest's --hosts"
)


def options_of(args: argparse.Namespace) -> settings.Settings:
    """The settings, and a reports dir that can hold records; ConfigError otherwise."""
    options = settings.resolve(args)
    settings.readable_reports_dir(options.reports_dir)
    return options


def state_of(args: argparse.Namespace, options: settings.Settings) -> lifecycle.Lifecycle:
    """The lifecycle of the options' target at this machine's clock."""
    return lifecycle.current(
        options.reports_dir,
        now=datetime.now(UTC),
        target=options.target.describe(),
        thresholds_digest=options.thresholds.digest(),
        fresh_minutes=options.thresholds.number("evidence.fresh_minutes"),
        activated_at=options.activated_at,
        engine_host=host.first_of(args.hosts),
    )


def main(args: argparse.Namespace) -> int:
    try:
        options = options_of(args)
        life = state_of(args, options)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return USAGE
    except EvidenceError as exc:
        print(f"cannot read the decision log: {exc}", file=sys.stderr)
        return NO
    print(f"state:   {life.state} since {cycle.stamp(life.since)}")
    print(f"why:     {life.why}")
    print(f"next:    {life.allowed}")
    if life.broken:
        print(f"chain:   BROKEN: {life.broken}")
    print(f"decision log (runbook s.7), {options.reports_dir}, unit {options.target.unit}:")
    section = None
    for heading, line in life.story:
        if heading != section:
            print(f"  {heading}")
            section = heading
        print(f"    - {line}")
    if not life.story:
        print("    (nothing recorded yet)")
    return NO if life.broken else OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add `shadowgate status` to the CLI's subcommands."""
    parser = commands.add_parser(
        "status",
        help="the activation's state, what is allowed next, and the decision log as one story",
        description="Where the activation stands (SHADOW, ARMED, ACTIVE, STOPPED, ROLLED_BACK, "
        "AWAITING_DECISION, CONCLUDED), since when, what is allowed next and why, and the "
        "decision log (runbook s.7) as one story, read from the verified decision log. Give the "
        "suite's target and thresholds options: a GO arms only the target and thresholds it "
        "judged.",
        epilog=epilog(
            "the state and the story were printed",
            "the decision log does not verify (the state then rests on the records before the "
            "first bad one)",
        ),
    )
    settings.add_arguments(parser, OPTIONS)
    parser.add_argument("--hosts", default="local://", metavar="SPEC", help=HOSTS_HELP)
    parser.set_defaults(handler=main)
