"""The post-activation part of the decision log, rendered from records without pytest.

A window run's block says from when it measured (T+0, from the record's facts, or "T+0
unknown"), which window of the runbook's schedule it is, the stop conditions S1-S5 with their
status and the per-slice figures of the checks that judge slices. The runbook's s.7
"Post-Activation Observations" are filled in from the latest record of each window since the
target's last preactivation run, and left to the operator where there is none yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from shadowgate.checks import catalog, row
from shadowgate.evidence.anchors import T0_FACT
from shadowgate.report.render import MANUAL, Check, _cell, _checks, _status, _table, _when
from shadowgate.verdict import Status
from shadowgate.window import span
from shadowgate.wording import SAID

Record = Mapping[str, Any]
POST_PHASES = ("activation", "window_30m", "window_2h", "window_6h", "window_24h")
STOPS = catalog.ids_of_kind("S")
SLICED = ("S2", "W2", "W3")  # checks whose measured text carries per-slice figures
# Runbook s.7 "Post-Activation Observations": block, the windows to fill it from (first found
# wins), and its rows as (runbook label, check ID whose status and figure answer it).
OBSERVATIONS: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("T+1 Hour", ("window_2h", "window_30m"), (
        ("Service Status", "S1"), ("Consensus Distribution", "M1"), ("Agreement Rate", "M2"),
        ("Hard Disagreement", "M3"), ("Confidence Range", "M4"))),
    ("T+6 Hours", ("window_6h",), (
        ("Service Uptime", "S1"), ("Consensus 4%", "M1"), ("Agreement Rate", "M2"),
        ("PnL Impact", "S5"))),
    ("T+24 Hours (Optional)", ("window_24h",), (
        ("Service Uptime", "W1"), ("Long-term Stability (hourly consensus)", "W2"),
        ("Long-term Stability (hourly agreement)", "W3"), ("Ensemble Impact (PnL)", "W4"))),
)  # fmt: skip


def latest_windows(records: Iterable[Record], target: Mapping[str, Any]) -> dict[str, Record]:
    """The latest record of each post-activation phase for `target` since its last
    preactivation run (a new preactivation starts a new attempt), from records oldest first."""
    latest: dict[str, Record] = {}
    for record in records:
        if record.get("target") != target:
            continue
        if record.get("phase") == "preactivation":
            latest.clear()
        elif record.get("phase") in POST_PHASES:
            latest[record["phase"]] = record
    return latest


def t0_text(record: Record) -> str:
    """T+0 as the run recorded it, and how far the run reached past it."""
    fact = record.get("facts", {}).get(T0_FACT)
    if not isinstance(fact, Mapping) or not fact.get("at"):
        return "T+0 unknown"
    text = f"{fact['at']} ({fact.get('source') or 'source not recorded'})"
    try:
        start = datetime.fromisoformat(str(fact["at"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(record["finished_at"].replace("Z", "+00:00"))
    except ValueError:
        return text
    return f"{text}; run finished T+{span(int((end - start).total_seconds() * 1000))}"


def _figure(check: Check | None) -> str:
    if check is None:
        return "not run"
    return check["measured"] or check["detail"] or ""


def _check_rows(checks: Mapping[str, Check], ids: Sequence[str]) -> list[str]:
    rows = []
    for check_id in ids:
        check, status = checks.get(check_id), _status(checks.get(check_id))
        title = catalog.get(check_id).title
        cells = f"{_cell(title)}{_cell(status, status)}{_cell(_figure(check))}"
        rows.append(f"<tr><th>{check_id}</th>{cells}</tr>")
    return rows


def window_html(record: Record) -> str:
    """A window run: T+0, the window, the stop conditions and the per-slice figures."""
    checks = _checks(record)
    phase = record["phase"] or record["markexpr"] or ""
    facts = (
        ("T+0", t0_text(record)),
        ("Window", f"{phase}: {row.PHASES.get(phase, 'not a phase of the schedule')}"),
        ("Run", f"{record['started_at']} .. {record['finished_at']}"),
    )
    rows = [f"<tr><th>{name}</th>{_cell(text)}</tr>" for name, text in facts]
    parts = [_table("Window since T+0 (runbook s.5)", rows)]
    stops = [i for i in STOPS if i in checks or phase in catalog.get(i).phases]
    if stops:
        head = ("ID", "stop condition (s.5)", "status", "measured")
        rows = _check_rows(checks, stops)
        parts.append(_table("Stop conditions (any FAIL: roll back, s.6)", rows, head))
    sliced = [i for i in SLICED if i in checks]
    if sliced:
        head = ("ID", "check", "status", "per-slice figures")
        parts.append(_table("Per-slice figures", _check_rows(checks, sliced), head))
    return "".join(parts)


def _answer(check: Check | None) -> tuple[str, str | None]:
    if check is None:
        return "not run in that window", None
    return f"{check['status']}: {_figure(check)}", check["status"]


def _issues(record: Record) -> str:
    found = [f"{c['id']} {c['status']}" for c in record["checks"] if c["status"] != Status.PASS]
    return ", ".join(found) or "None"


def _action(record: Record) -> tuple[str, str | None]:
    """The runbook's Continue / Rollback from the window's decision, and its colour."""
    decision = record["decision"]
    if decision in ("OK", "STOP"):
        return ("Continue", "PASS") if decision == "OK" else ("Rollback (s.6)", "FAIL")
    if decision == "HOLD WEIGHT":  # window_24h: the weight stays, nothing is rolled back
        return "Hold the weight (s.8): criteria not met", "UNKNOWN"
    return SAID.get(decision, "undecided: not a single phase"), "UNKNOWN"


def _section(title: str) -> str:
    return f'<tr class="sg-section"><th colspan="2">{escape(title)}</th></tr>'


def observations_html(latest: Mapping[str, Record]) -> str:
    """Runbook s.7 "Post-Activation Observations", each block from its window's latest
    record; a block without one is the operator's to fill in."""
    rows: list[str] = []
    for block, phases, answers in OBSERVATIONS:
        record = next((latest[p] for p in phases if p in latest), None)
        if record is None:
            rows.append(_section(block))
            rows.append(f"<tr><th>all rows</th>{_cell(f'{MANUAL} (no {phases[0]} run yet)')}</tr>")
            continue
        when = f"{_when(record['finished_at'])}, {t0_text(record)}"
        rows.append(_section(f"{block}: {record['run_id']} ({when})"))
        checks = _checks(record)
        for label, check_id in answers:
            text, status = _answer(checks.get(check_id))
            rows.append(f"<tr><th>{label} ({check_id})</th>{_cell(text, status)}</tr>")
        rows.append(f"<tr><th>Issues</th>{_cell(_issues(record))}</tr>")
        rows.append(f"<tr><th>Action / Decision</th>{_cell(*_action(record))}</tr>")
    return _table("Decision log: Post-Activation Observations (runbook s.7)", rows)
