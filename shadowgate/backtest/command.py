"""`shadowgate backtest`: when would the monitoring rules have fired over a recorded history,
under the shipped thresholds and under changed ones; `--compare`: which archived decisions a
threshold change would flip.

    shadowgate backtest --history=BUNDLE_OR_DIR [--set KEY=VALUE ...] [--vary KEY=V1,V2]
    shadowgate backtest --compare --set KEY=VALUE [--reports-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shadowgate import settings
from shadowgate.backtest import compare, history, page, sweep
from shadowgate.backtest.judge import BACKTESTED
from shadowgate.config import ConfigError, Thresholds
from shadowgate.evidence.anchors import parse_moment
from shadowgate.evidence.disk import EvidenceError
from shadowgate.exitcodes import NO, OK, USAGE, epilog
from shadowgate.replay.bundle import BundleError

OPTIONS = ("stream", "outcomes_stream", "model", "config", "set", "reports_dir")
SET_ENV = "SHADOWGATE_SET"


def _shipped(args: argparse.Namespace) -> Thresholds:
    """The thresholds without any --set (shipped, or --config's): the setting compared against."""
    bare = argparse.Namespace(**{**vars(args), "sg_set": None})
    env = {k: v for k, v in os.environ.items() if k != SET_ENV}
    return settings.resolve(bare, env).thresholds


def settings_of(args: argparse.Namespace, options: settings.Settings) -> list[sweep.Setting]:
    """Shipped, then all --set together, then each --vary value on top of those."""
    tried = [sweep.Setting("shipped", _shipped(args))]
    if options.thresholds.overrides:
        label = ", ".join(f"{k}={v}" for k, v in options.thresholds.overrides.items())
        tried.append(sweep.Setting(label, options.thresholds))
    for item in args.vary or ():
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise ConfigError(f"--vary expects KEY=V1,V2,..., got {item!r}")
        for value in values.split(","):
            one = f"{key.strip()}={value.strip()}"
            more = argparse.Namespace(**{**vars(args), "sg_set": [*(args.sg_set or ()), one]})
            tried.append(sweep.Setting(one, settings.resolve(more).thresholds))
    return tried


def _backtest(args: argparse.Namespace, options: settings.Settings) -> int:
    tried = settings_of(args, options)  # bad options are usage errors before any reading
    first_t0 = None if args.first_t0 is None else parse_moment(args.first_t0)
    plan = sweep.Plan(
        args.since_t0, args.step, None if first_t0 is None else int(first_t0.timestamp() * 1000)
    )
    try:
        h = history.load(Path(args.history), options.target)
    except (BundleError, ValueError, OSError) as exc:
        print(f"backtest: cannot read the history: {exc}", file=sys.stderr)
        return NO
    result = sweep.run(h, tried, plan)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "backtest.csv").write_text(page.csv_text(result), encoding="utf-8")
    (out / "backtest.html").write_text(page.html(result), encoding="utf-8")
    print(f"backtest: {h.describe()}")
    print(f"backtest: {len(plan.positions(h))} positions, every {plan.step_minutes} min, "
          f"T+0 {plan.since_minutes} min before each")  # fmt: skip
    for check in BACKTESTED:
        for s in result.settings:
            tally = page.Tally.of(result.rows_of(s.label, check))
            print(f"  {check:<3} {s.label:<28} {tally.describe()}")
    print(f"backtest: wrote {out / 'backtest.html'} and {out / 'backtest.csv'}")
    return OK


def _compare(options: settings.Settings) -> int:
    sets = [f"{k}={v}" for k, v in options.thresholds.overrides.items()]
    if not sets:
        raise ConfigError("--compare needs the threshold change to try: --set KEY=VALUE")
    try:
        flips = compare.compare(options.reports_dir, sets)
    except (EvidenceError, OSError) as exc:
        print(f"backtest: cannot read the decision log: {exc}", file=sys.stderr)
        return NO
    for flip in flips:
        print(flip.describe())
    flipped = sum(f.flips for f in flips)
    print(f"backtest: {flipped} of {len(flips)} archived runs in {options.reports_dir} would "
          f"flip with {', '.join(sets)}")  # fmt: skip
    return OK


def main(args: argparse.Namespace) -> int:
    try:
        options = settings.resolve(args)
        if args.compare:
            return _compare(options)
        if not args.history:
            raise ConfigError("give --history=BUNDLE_OR_DIR (or --compare)")
        return _backtest(args, options)
    except (ConfigError, ValueError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return USAGE


def register(commands: argparse._SubParsersAction) -> None:
    """Add `shadowgate backtest` to the CLI's subcommands."""
    parser = commands.add_parser(
        "backtest",
        help="when the monitoring rules would have fired over a recorded history",
        description=__doc__.split("\n\n")[0].replace("\n", " ") if __doc__ else None,
        epilog=epilog(
            "the page (or the list) was written",
            "the history or the decision log could not be read",
        ),
    )
    parser.add_argument(
        "--history",
        metavar="BUNDLE_OR_DIR",
        help="a capture bundle (*.bundle.json.gz) or a directory of them, e.g. "
        "shadowgate/examples/p04_flatline.bundle.json.gz",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="instead: list the archived runs under --reports-dir whose decision the --set "
        "change would flip (each run with a bundle, of any phase, replayed with its own "
        "thresholds and the change on top)",
    )
    parser.add_argument(
        "--vary",
        action="append",
        metavar="KEY=V1,V2",
        help="also try each value of one threshold (on top of --set), one setting per value",
    )
    parser.add_argument(
        "--since-t0",
        type=int,
        default=sweep.Plan.since_minutes,
        metavar="MIN",
        help="how long before each position T+0 is placed (default %(default)s: the end of "
        "window_2h, where every M and S check runs)",
    )
    parser.add_argument(
        "--step",
        type=int,
        default=sweep.Plan.step_minutes,
        metavar="MIN",
        help="minutes between positions (default %(default)s, the window_30m timer's)",
    )
    parser.add_argument(
        "--first-t0",
        metavar="MOMENT",
        help="place no T+0 before this ISO-8601 moment (UTC if no zone), e.g. the real "
        "activation's, to judge only the history after it (default: from the history's start)",
    )
    parser.add_argument(
        "--out",
        default="backtest",
        metavar="DIR",
        help="where backtest.html and backtest.csv go (default ./backtest)",
    )
    settings.add_arguments(parser, OPTIONS)
    parser.set_defaults(handler=main)
