"""`shadowgate conclude --decision=continue|adjust|rollback --by=NAME [--note=TEXT]`: the
decision at T+6 h (runbook s.7 "Decision", s.10) recorded in the decision log.

Only at AWAITING_DECISION (T+6 h reached with no STOP; ARCHITECTURE.md "The lifecycle"):
anywhere else it is refused (exit 2), saying the state. The record is appended to the chain as
the actions append theirs (`evidence.append_record`, anchored in this machine's journal: run it
on the engine's host) and ends the cycle (CONCLUDED). `--decision=rollback` records the decision
and says to run actions/rollback.py: it does not roll back itself.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from shadowgate import evidence, settings
from shadowgate.actions.steps import iso_us
from shadowgate.config import ConfigError
from shadowgate.evidence import cycle, lifecycle
from shadowgate.evidence.trust import check_reports_dir
from shadowgate.exitcodes import NO, OK, REFUSED, USAGE, epilog
from shadowgate.status import HOSTS_HELP, OPTIONS, options_of, state_of


def _refused(why: str) -> int:
    print(f"conclude: REFUSED, nothing recorded: {why}")
    return REFUSED


def main(args: argparse.Namespace) -> int:
    by = (args.by or "").strip()
    if not by:
        print("ERROR: --by=NAME must name who decides (runbook s.7)", file=sys.stderr)
        return USAGE
    try:
        options = options_of(args)
        check_reports_dir(options.reports_dir)
        life = state_of(args, options)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return USAGE
    except evidence.EvidenceError as exc:
        return _refused(f"decision log: {exc}")
    if life.state is not lifecycle.State.AWAITING_DECISION:
        return _refused(
            f"the state is {life.headline()}; a decision is recorded only at "
            f"AWAITING_DECISION (T+6 h with no STOP, runbook s.10); next: {life.allowed}"
        )
    now = datetime.now(UTC)
    run_id = evidence.new_run_id(cycle.CONCLUDE, now)
    record = {
        "run_id": run_id,
        "action": cycle.CONCLUDE,
        "started_at": iso_us(now),
        "finished_at": iso_us(now),
        "decision": args.decision,
        "by": by,
        "note": args.note,
        "operator": options.operator,
        "t0": life.t0.describe() if life.t0 else None,
        "target": options.target.describe(),
    }
    try:
        evidence.append_record(options.reports_dir, record)
    except evidence.AnchorError as exc:
        print(f"conclude: {exc}")
        return NO
    except (OSError, ValueError, evidence.EvidenceError) as exc:
        return _refused(f"cannot record it in {options.reports_dir}: {exc}")
    print(f"conclude: decision {args.decision} by {by} recorded as {run_id}: CONCLUDED")
    if args.decision == "rollback":
        print("conclude: now roll back: python actions/rollback.py (runbook s.6); "
              "this command does not roll back")  # fmt: skip
    return OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add `shadowgate conclude` to the CLI's subcommands."""
    parser = commands.add_parser(
        "conclude",
        help="record the T+6 h decision (continue, adjust, rollback) at AWAITING_DECISION",
        description='Record the decision at T+6 h (runbook s.7 "Decision", s.10) in the '
        "decision log, anchored in this machine's journal: run it on the engine's host. Only at "
        "AWAITING_DECISION (T+6 h, or the activation's --observation-hours, with no STOP). "
        "--decision=rollback records the decision only: run actions/rollback.py next.",
        epilog=epilog(
            "the decision was recorded",
            "it was recorded but could not be anchored in the journal",
            "refused, nothing recorded: the state is not AWAITING_DECISION, or the decision log "
            "cannot be read or written",
        ),
    )
    parser.add_argument(
        "--decision",
        required=True,
        choices=lifecycle.DECISIONS,
        help="the s.7 decision: continue, adjust (the weight, runbook s.8) or rollback (then run "
        "actions/rollback.py)",
    )
    parser.add_argument("--by", required=True, metavar="NAME", help="who decides (s.7)")
    parser.add_argument("--note", metavar="TEXT", help="what the decision rests on")
    settings.add_arguments(parser, [*OPTIONS, "operator"])
    parser.add_argument("--hosts", default="local://", metavar="SPEC", help=HOSTS_HELP)
    parser.set_defaults(handler=main)
