"""`shadowgate monitor`: the runbook's Monitoring Snapshot Script (s.5) as one terminal screen.

The runbook's script prints five sections (service status, consensus distribution, agreement
rate, hard disagreement, latest event) from `systemctl is-active` and `redis-cli XREVRANGE`.
This screen prints the same sections from the suite's own library, so it can never disagree
with a window run: the same readers (`stream.StreamReader` over the read-only client,
`host.unit_state`), the same T+0 (the lifecycle's, over the verified chain: the activation
record or `--activated-at`) and the same rules by name (M1-M4, S1-S4); nothing is measured
here twice. After a rollback of that T+0 it says "rolled back at X (trigger S3); nothing to
monitor" and exits 0.
S5 (PnL against the preactivation baseline) is left to the window_2h / window_6h runs.

Without T+0 nothing since the activation can be judged: the screen says so in one line and
shows the latest `window.snapshot_count` intents' figures, unjudged. A source that cannot be
read (Redis down, the unit unreadable, the decision log unreadable) is one line, never a
traceback. Exit code: 0 when every stop condition S1-S4 passed, 1 on a STOP (one of them
FAILed) and when it cannot be proven (INCONCLUSIVE, not judged, a source unread): the screen
says which; 4 on a usage error. `--watch [SECONDS]` redraws the screen until Ctrl-C and exits
with the last screen's code.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.live import Live

from shadowgate import host, settings, stream
from shadowgate.config import ConfigError
from shadowgate.exitcodes import NO, USAGE, UsageParser, epilog
from shadowgate.monitor.screen import render
from shadowgate.monitor.snapshot import DEFAULT_WATCH_SECONDS, OPTIONS, Snapshot, take


class _Parser(UsageParser):
    """The monitor's parser: arguments it does not know are its own error (its usage shown),
    not the top-level parser's."""

    def parse_known_args(self, args=None, namespace=None):
        parsed, extra = super().parse_known_args(args, namespace)
        if extra:
            self.error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed, extra


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"SECONDS must be a number > 0, got {text!r}")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    """Add `shadowgate monitor` to the CLI's subcommands."""
    parser = commands.add_parser(
        "monitor",
        help="the runbook's monitoring snapshot (s.5) as one screen; --watch refreshes it",
        description="The runbook's Monitoring Snapshot Script (s.5) as one screen: the engine's "
        "service, the consensus distribution, agreement, hard disagreement and confidence since "
        "T+0, the stop conditions S1-S4 and the latest event, judged by the same rules as the "
        "window runs (S5 needs a window_2h or window_6h run). T+0 is the latest verified "
        "activation record's restart, or --activated-at. It only reads, and says in one line "
        "each source it cannot read. After a rollback of T+0's activation there is nothing to "
        "monitor: it says so.",
        epilog=epilog(
            "every stop condition passed, or T+0 was rolled back",
            "a STOP, or it cannot tell (INCONCLUSIVE, no T+0, a source unread): the screen says "
            "which",
        ),
    )
    parser.__class__ = _Parser  # its own usage errors (argparse builds subparsers itself)
    settings.add_arguments(parser, OPTIONS)
    parser.add_argument(
        "--hosts",
        default="local://",
        metavar="SPEC",
        help="where the engine's unit runs: local:// (default, this machine) or "
        "ssh://root@vps, as pytest's --hosts",
    )
    parser.add_argument(
        "--watch",
        nargs="?",
        type=_seconds,
        const=DEFAULT_WATCH_SECONDS,
        metavar="SECONDS",
        help=f"redraw every SECONDS (default {DEFAULT_WATCH_SECONDS:g}) until Ctrl-C",
    )
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace, console: Console | None = None) -> int:
    """`shadowgate monitor`: one screen, or (--watch) one every SECONDS until Ctrl-C."""
    console = console or Console(highlight=False)
    try:
        options = settings.resolve(args)
        settings.readable_reports_dir(options.reports_dir)  # T+0 is read from its records
        engine_host = host.first_of(args.hosts)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return USAGE
    with stream.connect(options.target.redis_url) as client:
        if args.watch is None:
            snap = take(options, engine_host, client)
            console.print(render(snap), crop=False)
            return snap.exit_code
        return watch(lambda: take(options, engine_host, client), args.watch, console)


def watch(
    snapshot: Callable[[], Snapshot],
    seconds: float,
    console: Console,
    rounds: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Redraw every `seconds` (`rounds` times, or until Ctrl-C); the last screen stays on the
    terminal and its exit code is returned. Off a terminal each screen is printed in turn."""
    last: Snapshot | None = None
    done = 0
    live = Live(console=console, screen=True, auto_refresh=False) if console.is_terminal else None
    try:
        if live is not None:
            live.start()
        while rounds is None or done < rounds:
            last = snapshot()
            screen = render(last)
            if live is not None:
                live.update(screen, refresh=True)
            else:
                console.print(screen, crop=False)
            done += 1
            if rounds is None or done < rounds:
                sleep(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        if live is not None:
            live.stop()
    if last is None:
        return NO
    if live is not None:
        console.print(render(last), crop=False)
    return last.exit_code
