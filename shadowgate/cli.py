"""The `shadowgate` command: entry point for the operator's subcommands (`evidence`, `monitor`,
`status`, `conclude`).

Each subcommand registers a handler with `set_defaults(handler=...)`; the handler returns the
exit code. `shadowgate evidence verify|last` answer, from the shell, the questions the actions
ask before they act: does the decision log hold up, cross-checked with the anchors in the
journal of the engine host (`--hosts`, as pytest-testinfra's; default this machine), and has
PHASE just passed?
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import UTC, datetime

import testinfra.host

from shadowgate import __version__, conclude, evidence, host, monitor, settings, status
from shadowgate.backtest import command as backtest_command
from shadowgate.config import ConfigError, Thresholds
from shadowgate.evidence import lifecycle
from shadowgate.exitcodes import USAGE, UsageParser, epilog


def _engine_host(args: argparse.Namespace) -> testinfra.host.Host:
    return host.first_of(args.hosts)


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def evidence_verify(args: argparse.Namespace) -> int:
    """Exit 0 only if the whole decision log verifies; no records is exit 1 (nothing to trust)."""
    result = evidence.verify(settings.reports_dir_of(args), _engine_host(args))
    print(result.describe(), file=sys.stdout if result.ok else sys.stderr)
    for note in result.notes:
        print(note)
    return 0 if result.ok else 1


def evidence_last(args: argparse.Namespace) -> int:
    """Exit 0 only if the latest PHASE record is fresh, complete, passing and chain-verified."""
    reports_dir = settings.reports_dir_of(args)
    try:
        run = evidence.last(
            reports_dir,
            args.phase,
            fresh_minutes=args.fresh_minutes,
            engine_host=_engine_host(args),
        )
    except evidence.EvidenceError as exc:
        print(f"cannot read the decision log: {exc}", file=sys.stderr)
        return 1
    if run is None:
        recorded = sorted({str(r.phase) for r in evidence.run_records(reports_dir)})
        known = f" (phases recorded: {', '.join(recorded)})" if recorded else ""
        print(f"no {args.phase} record in {reports_dir}{known}", file=sys.stderr)
        return 1
    rec = run.record
    age = "unknown" if math.isinf(run.age_s) else f"{run.age_s:.0f} s"
    print(f"run:       {rec.run_id}  ({run.path})")
    print(f"finished:  {rec.finished_at}  (age {age})")
    print(f"decision:  {rec.decision}")
    print(f"complete:  {_yes(run.complete)}")
    print(f"passed:    {_yes(run.passed)}")
    print(f"fresh:     {_yes(run.fresh)}  (limit {args.fresh_minutes:g} min)")
    print(f"chain:     {'verified' if run.chain_ok else 'BROKEN'}")
    print(f"report:    {rec.files.get('html') if run.reported and rec.files else 'NONE named'}")
    anchored = {True: "anchored", False: "NOT anchored", None: "not checked"}[run.anchored]
    print(f"journal:   {anchored}  ({run.journal or 'no cross-check'})")
    print("target and thresholds are not compared here; the actions compare them")
    if run.armed and args.phase == "preactivation":  # and the lifecycle lets it arm
        life = lifecycle.current(
            reports_dir, now=datetime.now(UTC), fresh_minutes=args.fresh_minutes,
            engine_host=_engine_host(args),
        )  # fmt: skip
        if life.state is not lifecycle.State.ARMED:
            print(f"NOT ARMED: the state is {life.headline()}; next: {life.allowed}")
            return 1
    if run.armed:
        print(f"ARMED: {run.describe()}")
        return 0
    print(f"NOT ARMED: {run.describe()}")
    return 1


def _add_evidence(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evidence",
        help="check the decision log and the latest record of a phase",
        description="The run records and hash-chained decision log under the reports dir.",
    )
    parser.set_defaults(handler=lambda _args: _usage(parser))
    actions = parser.add_subparsers(dest="evidence_command", metavar="ACTION")
    reports = argparse.ArgumentParser(add_help=False)
    settings.add_arguments(reports, ["reports_dir"])
    reports.add_argument(
        "--hosts",
        default="local://",
        metavar="SPEC",
        help=status.HOSTS_HELP,
    )
    verify = actions.add_parser(
        "verify",
        parents=[reports],
        help="verify the whole decision log (exit 1 if broken or empty)",
        description="Walk the hash chain and every record and report it names, and cross-check "
        "it with the anchors in the engine host's journal; exit 0 only if all hold up. A "
        "missing or empty log exits 1: there is nothing to trust. Records anchored in a "
        "journal that cannot be read here (another host, the demo's private systemd) cannot be "
        "proven: exit 1, saying where to verify them.",
        epilog=epilog(
            "the chain, every report and every anchor hold up",
            "broken, empty, or anchored in a journal that cannot be read here",
        ),
    )
    verify.set_defaults(handler=evidence_verify)
    latest = actions.add_parser(
        "last",
        parents=[reports],
        help="the latest record of PHASE (exit 0 only if it would arm an action)",
        description="Show the latest record of PHASE; exit 0 only if it is fresh, complete, "
        "passed, names its report, is anchored where the journal can be read, and the "
        "decision log verifies.",
        epilog=epilog("its record would arm an action", "it would not, or there is none"),
    )
    latest.add_argument("phase", metavar="PHASE", help="e.g. preactivation, window_30m")
    fresh = Thresholds.load().number("evidence.fresh_minutes")
    latest.add_argument(
        "--fresh-minutes",
        type=float,
        default=fresh,
        metavar="M",
        help=f"how old the record may be (default {fresh:g}, evidence.fresh_minutes)",
    )
    latest.set_defaults(handler=evidence_last)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="shadowgate",
        description="The PatchTST activation runbook as a live pytest suite: the operator's "
        "commands beside it. The checks run as `pytest -m PHASE`, the actions as "
        "actions/activate.py and actions/rollback.py; each command's --help says its exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"shadowgate {__version__}")
    parser.set_defaults(handler=lambda _args: _usage(parser))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_evidence(commands)
    monitor.register(commands)
    status.register(commands)
    conclude.register(commands)
    backtest_command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:  # e.g. a --hosts testinfra cannot use
        print(f"ERROR: {exc}", file=sys.stderr)
        return USAGE


if __name__ == "__main__":
    sys.exit(main())
