"""`shadowgate monitor`: the runbook's Monitoring Snapshot Script (s.5) as one terminal screen.

The runbook's script prints five sections (service status, consensus distribution, agreement
rate, hard disagreement, latest event) from `systemctl is-active` and `redis-cli XREVRANGE`.
This screen prints the same sections from the suite's own library, so it can never disagree
with a window run: the same readers (`stream.StreamReader` over the read-only client,
`host.unit_state`), the same T+0 (`evidence.anchors.resolve`: the activation record or
`--activated-at`) and the same rules by name (M1-M4, S1-S4); nothing is measured here twice.
S5 (PnL against the preactivation baseline) is left to the window_2h / window_6h runs.

Without T+0 nothing since the activation can be judged: the screen says so in one line and
shows the latest `window.snapshot_count` intents' figures, unjudged. A source that cannot be
read (Redis down, the unit unreadable, the decision log unreadable) is one line, never a
traceback. Exit code: 0 when every stop condition S1-S4 passed, 1 on a STOP (one of them
FAILed), 2 when it cannot be proven (INCONCLUSIVE, not judged, a source unread), 4 on a usage
error. `--watch [SECONDS]` redraws the screen until Ctrl-C and exits with the last screen's code.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import testinfra.host
from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from shadowgate import evidence, host, metrics, settings, stream
from shadowgate.checks import monitoring, stops
from shadowgate.config import ConfigError, Target
from shadowgate.evidence.anchors import ACTIVATE, Anchor, resolve
from shadowgate.host._base import utc_text
from shadowgate.intents import Intent
from shadowgate.outcome import SAID
from shadowgate.verdict import Status, Verdict
from shadowgate.window import span, utc

OK, STOP, INCONCLUSIVE, USAGE = 0, 1, 2, 4  # exit codes
DEFAULT_WATCH_SECONDS = 10.0
STOP_IDS = ("S1", "S2", "S3", "S4")
NOT_JUDGED = "NOT JUDGED"
OPTIONS = (
    "redis_url", "stream", "unit", "model", "config", "set", "reports_dir", "activated_at",
)  # fmt: skip
STYLES = {
    Status.PASS.value: "bold green",
    Status.WARN.value: "bold black on yellow",
    Status.FAIL.value: "bold white on red",
    Status.INCONCLUSIVE.value: "bold dark_orange",
    Status.DEFERRED.value: "bold grey50",
    NOT_JUDGED: "bold grey50",
}
DECISION_STYLES = {"OK": "bold white on green", "STOP": "bold white on red"}
SOURCE_ERRORS = (stream.StreamError, host.HostError, evidence.EvidenceError, OSError)


@dataclass(frozen=True)
class Snapshot:
    """One read of everything the screen shows, judged by the suite's rules."""

    taken_ms: int
    target: Target
    t0: Anchor | None
    unit: host.UnitState | None
    intents: stream.Window[Intent] | None  # since T+0; without T+0 the latest snapshot
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # M1-M4, S1-S4 as judged
    problems: tuple[str, ...] = ()  # one line per source that could not be read
    no_t0: str | None = None  # the line saying why there is no T+0

    @property
    def stops(self) -> dict[str, Verdict | None]:
        return {i: self.verdicts.get(i) for i in STOP_IDS}

    def _ids(self, *statuses: str) -> list[str]:
        return [
            i for i, v in self.stops.items() if (v.status.value if v else NOT_JUDGED) in statuses
        ]

    @property
    def decision(self) -> str:
        """STOP when a stop condition FAILed (it stands on any data); else OK only when every
        one of S1-S4 passed (PASS or WARN) and every source was read; else INCONCLUSIVE."""
        if self._ids(Status.FAIL.value):
            return "STOP"
        if self.problems or self.no_t0 or self._ids(Status.INCONCLUSIVE.value, NOT_JUDGED):
            return "INCONCLUSIVE"
        return "OK"

    @property
    def exit_code(self) -> int:
        return {"OK": OK, "STOP": STOP}.get(self.decision, INCONCLUSIVE)

    def headline(self) -> str:
        """The decision in the window runs' words (`outcome.SAID`), with the IDs behind it."""
        said = SAID[self.decision]
        if self.decision == "STOP":
            return f"{said}: {', '.join(self._ids(Status.FAIL.value))}"
        if self.decision == "INCONCLUSIVE":
            ids = self._ids(Status.INCONCLUSIVE.value, NOT_JUDGED)
            why = ["no T+0"] if self.no_t0 else []
            return f"{said}: {', '.join([*why, *ids])}" if why or ids else said
        flags = [i for i, v in sorted(self.verdicts.items()) if v.status is Status.WARN]
        return f"{said} (red flags: {', '.join(flags)})" if flags else said


def take(
    options: settings.Settings,
    engine_host: testinfra.host.Host,
    client: stream.ReadOnlyRedis,
    clock: Callable[[], int] | None = None,
) -> Snapshot:
    """Read T+0, the unit and the intents once, and judge them with the rules by name."""
    target, th = options.target, options.thresholds
    clock = clock or (lambda: int(time.time() * 1000))
    problems: list[str] = []

    def read(what: str, action: Callable[[], object]) -> object | None:
        try:
            return action()
        except SOURCE_ERRORS as exc:
            problems.append(f"{what}: {' '.join(str(exc).split())}")  # one line
            return None

    t0 = read(
        "decision log",
        lambda: resolve(
            options.reports_dir, ACTIVATE, options.activated_at, "--activated-at", target.describe()
        ),
    )
    no_t0 = None
    if t0 is None and not problems:
        no_t0 = (
            f"no T+0: no activation record in {options.reports_dir} and no "
            "--activated-at=ISO8601 (an activation done by hand): nothing since the activation "
            "is judged"
        )
    unit = read("unit", lambda: host.unit_state(engine_host, target.unit))
    reader = stream.StreamReader(
        client, target.stream, target.redis_url, batch=int(th["window.read_batch"]), clock=clock
    )
    if t0 is not None:
        intents = read("Redis", lambda: reader.window(t0.ms))
    else:
        intents = read("Redis", lambda: reader.latest(int(th["window.snapshot_count"])))
    verdicts: dict[str, Verdict] = {}
    if t0 is not None and intents is not None:
        for verdict in (
            monitoring.m1_consensus_distribution(intents, t0, th),
            monitoring.m2_agreement(intents, t0, target, th),
            monitoring.m3_hard_disagreement(intents, t0, target, th),
            monitoring.m4_confidence_distribution(intents, t0, target, th),
            stops.s2_full_consensus_sustained(intents, t0, th),
            stops.s3_hard_disagreement(intents, t0, target, th),
            stops.s4_confidence_collapse(intents, t0, target, th),
        ):
            verdicts[verdict.check_id] = verdict
        if unit is not None:
            verdicts["S1"] = stops.s1_service_crashed(unit, intents, t0, th)
    return Snapshot(clock(), target, t0, unit, intents, verdicts, tuple(problems), no_t0)


# --- the screen ---------------------------------------------------------------------------------


def _status(status: str) -> Text:
    return Text(f" {status} ", style=STYLES.get(status, "bold"))


def _verdict_rows(snap: Snapshot, ids: Sequence[str]) -> Table:
    """One row per check: ID, status, what was measured (and why, when it is not a PASS)."""
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column(width=3, no_wrap=True)
    table.add_column(width=14, no_wrap=True)
    table.add_column(ratio=1)
    for check_id in ids:
        verdict = snap.verdicts.get(check_id)
        if verdict is None:
            why = _why_not(snap, needs_unit=check_id == "S1")
            table.add_row(check_id, _status(NOT_JUDGED), Text(why, style="grey50"))
            continue
        text = Text(verdict.measured)
        if verdict.status is not Status.PASS and verdict.detail:
            text.append(f"  ({verdict.detail})", style="italic")
        table.add_row(check_id, _status(verdict.status.value), text)
    return table


def _why_not(snap: Snapshot, needs_unit: bool = False) -> str:
    if snap.no_t0:
        return "no T+0"
    if snap.intents is None:
        return "the stream was not read"
    if needs_unit and snap.unit is None:
        return "the unit was not read"
    return "not judged"


def _heading(number: int, title: str, note: str = "") -> Text:
    text = Text(f"{number}. {title}", style="bold cyan")
    if note:
        text.append(f"  {note}", style="grey50")
    return text


def _header(snap: Snapshot) -> Panel:
    now = utc(snap.taken_ms).replace("Z", " UTC")
    title = "PATCHTST ACTIVATION MONITOR"
    if snap.t0 is not None:
        title += f"  T+{span(max(0, snap.taken_ms - snap.t0.ms))}"
    lines = [Text(f"{now}   T+0: " + (snap.t0.describe() if snap.t0 else "unknown"))]
    target = snap.target
    lines.append(
        Text(
            f"{target.safe_redis_url} {target.stream} · {target.unit} · model {target.model}",
            style="grey50",
        )
    )
    if snap.intents is not None:
        lines.append(Text(f"{snap.intents.describe()}; {snap.intents.freshness()}", style="grey50"))
    return Panel(
        Group(*lines), title=Text(title, style="bold"), title_align="left", box=box.ROUNDED
    )


def _service(snap: Snapshot) -> RenderableType:
    if snap.unit is None:
        return Text(f"   {snap.target.unit}: not read", style="grey50")
    unit = snap.unit
    state = Text(f"   {unit.active_state} ({unit.sub_state})", style="bold")
    state.append(
        f"  NRestarts={unit.n_restarts} MainPID={unit.main_pid or '-'} "
        f"InvocationID={unit.invocation_id or '-'} since {utc_text(unit.started)}",
        style="grey50",
    )
    return state  # S1 judges it, with the engine's silence, under "Stop Conditions"


def _distribution(intents: Sequence[Intent]) -> Table:
    """The runbook's `sort | uniq -c` of consensus_count, with each count's share."""
    counts = metrics.consensus_distribution(intents)
    total = sum(counts.values())
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    table.add_column("consensus_count", justify="right")
    table.add_column("events", justify="right")
    table.add_column("share", justify="right")
    table.add_column("", min_width=20)
    for count, n in sorted(counts.items(), key=lambda kv: -kv[0]):
        table.add_row(str(count), str(n), f"{n / total:.1%}", "█" * round(20 * n / total))
    return table


def _unjudged_figures(snap: Snapshot, model: str) -> dict[str, str]:
    """Without T+0: the latest snapshot's figures from the same metric functions, unjudged."""
    records = snap.intents.records if snap.intents else ()
    return {
        "consensus": f"full consensus (all active voters agree) "
        f"{metrics.full_consensus_share(records)}",
        "agreement": f"{model} action equals the ensemble side: "
        f"{metrics.agreement(records, model)}",
        "hard": f"{model} opposite the ensemble side: {metrics.hard_disagreement(records, model)}",
        "confidence": f"{model} BUY/SELL confidence: "
        f"{metrics.confidence_spread(metrics.model_confidences(records, model)) or 'no votes'}",
    }


def _figures(snap: Snapshot, ids: Sequence[str], unjudged: Sequence[str]) -> RenderableType:
    if snap.no_t0 is None or snap.intents is None:
        return _verdict_rows(snap, ids)
    figures = _unjudged_figures(snap, snap.target.breakdown_key)
    return Group(
        *(Text(f"   {figures[k]}  (not judged: no T+0)", style="grey50") for k in unjudged)
    )


def _latest(snap: Snapshot) -> RenderableType:
    if snap.intents is None:
        return Text("   the stream was not read", style="grey50")
    if not snap.intents.records:
        where = "since T+0" if snap.t0 else "in the stream"
        return Text(f"   no intent of the engine {where}", style="grey50")
    last = snap.intents.records[-1]
    text = Text(f"   {last.entry_id}  {utc(last.ts_ms)}  ")
    text.append(f"{last.symbol} {last.side}", style="bold")
    text.append(
        f"  confidence {last.confidence:.4f}  consensus_count {last.consensus_count}  "
        f"total_models {last.total_models}"
    )
    vote = last.breakdown.get(snap.target.breakdown_key)
    model = snap.target.breakdown_key
    if vote is None:
        text.append(f"\n   {model}: no vote in model_breakdown", style="dark_orange")
    else:
        excluded = " shadow" if vote.shadow else ""
        excluded += f" inactive ({vote.inactive_reason})" if vote.inactive else ""
        text.append(
            f"\n   {model}: {vote.action} {vote.confidence:.4f} (model {vote.model}){excluded}"
        )
    return text


def render(snap: Snapshot) -> RenderableType:
    """The whole screen: header, the runbook's sections, the stop conditions, the decision."""
    parts: list[RenderableType] = [_header(snap)]
    # One line per problem, never wrapped by rich (a narrow terminal folds it by itself).
    for line in [*snap.problems, *([snap.no_t0] if snap.no_t0 else [])]:
        parts.append(Text(line, style="bold dark_orange", no_wrap=True, overflow="ignore"))
    parts += [_heading(1, "Service Status"), _service(snap)]
    records = snap.intents.records if snap.intents else ()
    what = f"{len(records)} intents since T+0" if snap.t0 else f"latest {len(records)} intents"
    parts.append(_heading(2, "Consensus Distribution", f"({what})"))
    if records:
        parts.append(_distribution(records))
    parts.append(_figures(snap, ["M1"], ["consensus"]))
    parts += [_heading(3, "Agreement Rate"), _figures(snap, ["M2"], ["agreement"])]
    parts += [
        _heading(4, "Hard Disagreement / Confidence"),
        _figures(snap, ["M3", "M4"], ["hard", "confidence"]),
    ]
    parts += [
        _heading(5, "Stop Conditions", "(runbook s.5; S5 PnL: the window_2h / window_6h runs)"),
        _verdict_rows(snap, STOP_IDS),
    ]
    parts += [_heading(6, "Latest Event"), _latest(snap)]
    style = DECISION_STYLES.get(snap.decision, "bold black on dark_orange")
    decision = Text(f" {snap.headline()} ", style=style)
    decision.append(f"  exit {snap.exit_code}", style="grey50")
    parts.append(Panel(decision, box=box.HEAVY))
    return Group(*parts)


# --- the command --------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """The monitor's parser: a usage error exits 4 (pytest's usage exit code, as the suite's),
    and arguments it does not know are its own error, not the top-level parser's."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(USAGE, f"{self.prog}: error: {message}\n")

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
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
        description=__doc__.split("\n\n")[1].replace("\n", " ") if __doc__ else None,
    )
    parser.__class__ = _Parser  # usage errors exit 4 (argparse builds subparsers itself)
    settings.add_arguments(parser, OPTIONS)
    parser.add_argument(
        "--hosts",
        default="local://",
        metavar="SPEC",
        help="testinfra host of the engine's unit, e.g. ssh://root@vps (default local://)",
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
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return USAGE
    engine_host = host.connect(args.hosts.split(",")[0])
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
        return INCONCLUSIVE
    if live is not None:
        console.print(render(last), crop=False)
    return last.exit_code
