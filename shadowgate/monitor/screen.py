"""The monitor's screen: the runbook's five sections (s.5) drawn with rich from a Snapshot."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from shadowgate import metrics
from shadowgate.host._base import utc_text
from shadowgate.intents import Intent
from shadowgate.monitor.snapshot import NOT_JUDGED, STOP_IDS, Snapshot
from shadowgate.verdict import Status
from shadowgate.window import span, utc

STYLES = {
    Status.PASS.value: "bold green",
    Status.WARN.value: "bold black on yellow",
    Status.FAIL.value: "bold white on red",
    Status.INCONCLUSIVE.value: "bold dark_orange",
    Status.DEFERRED.value: "bold grey50",
    NOT_JUDGED: "bold grey50",
}
DECISION_STYLES = {"OK": "bold white on green", "STOP": "bold white on red"}


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
    if snap.rolled_back:  # nothing to monitor: the service, and why nothing else
        decision = Text(f" {snap.headline()} ", style="bold white on green")
        decision.append(f"  exit {snap.exit_code}", style="grey50")
        problems = [Text(line, style="bold dark_orange") for line in snap.problems]
        return Group(*parts, *problems, _heading(1, "Service Status"), _service(snap),
                     Panel(decision, box=box.HEAVY))  # fmt: skip
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
