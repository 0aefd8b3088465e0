"""The runbook's s.7 "Activation" and "Rollback (If Applicable)" blocks, without pytest.

An activation or rollback run is verified against the action record it measured from (its
`facts` name it, as evidence.anchors wrote it): who ran and approved it, the strategy, T+0 (the
restart), the trigger, each step with its wall time, and for a rollback R4's time against the
runbook's 60 s. Without such a record (T+0 given by hand) the block says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from html import escape
from typing import Any

from shadowgate.evidence.anchors import ACTIVATE, ROLLBACK, ROLLBACK_FACT, T0_FACT, source_of
from shadowgate.report.render import _cell, _checks, _status, _strategy_text, _table, _when

Record = Mapping[str, Any]
# phase -> (the facts name of the anchor it measured from, the action record kind)
ACTION_OF_PHASE = {"activation": (T0_FACT, ACTIVATE), "rollback": (ROLLBACK_FACT, ROLLBACK)}


def action_of(record: Record, logged: Iterable[Record]) -> Record | None:
    """The action record `record` measured from, among the log's records; None when its
    anchor is no action record (given by hand) or the log does not hold it."""
    fact_name, kind = ACTION_OF_PHASE[record["phase"]]
    fact = record.get("facts", {}).get(fact_name)
    source = fact.get("source") if isinstance(fact, Mapping) else None
    return next(
        (r for r in logged if r.get("action") == kind and source == source_of(kind, r["run_id"])),
        None,
    )


def _moment(iso: str | None) -> datetime | None:
    return None if not iso else datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _clock(iso: str | None) -> str:
    """2026-12-07T04:42:05.238857Z -> 04:42:05.238 UTC."""
    moment = _moment(iso)
    return (
        "unknown" if moment is None else f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d} UTC"
    )


def _done_after(action: Record) -> str:
    """How long after the action's start its last step ended."""
    start, steps = _moment(action.get("started_at")), action.get("steps") or []
    if start is None or not steps:
        return "no step recorded"
    last = steps[-1]
    end = _moment(last["started_at"])
    took = (end - start).total_seconds() + float(last["seconds"]) if end else None
    return "unknown" if took is None else f"{took:.3f} s after the start"


def _step_row(step: Mapping[str, Any]) -> str:
    ok = bool(step["ok"])
    cells = (
        _cell(_clock(step["started_at"])),
        _cell(f"{float(step['seconds']):.3f} s"),
        _cell("ok" if ok else "FAILED", "PASS" if ok else "FAIL"),
        _cell(step["detail"]),
    )
    return f"<tr><th>{escape(str(step['step']))}</th>{''.join(cells)}</tr>"


def steps_html(action: Record) -> str:
    """Each step of the action as it ran: when, its wall time, its result (runbook s.4/s.6)."""
    head = ("step", "started", "wall time", "result", "detail")
    rows = [_step_row(step) for step in action.get("steps") or []]
    rows.append(f"<tr><th>all steps</th>{_cell(_done_after(action))}</tr>")
    return _table(f"Commands run: {action['run_id']}", rows, head)


def _pairs(title: str, pairs: Iterable[tuple[str, str, str | None]]) -> str:
    rows = [
        f"<tr><th>{escape(name)}</th>{_cell(text, status)}</tr>" for name, text, status in pairs
    ]
    return _table(title, rows)


def _missing(record: Record, kind: str) -> str:
    fact_name, _ = ACTION_OF_PHASE[record["phase"]]
    fact = record.get("facts", {}).get(fact_name) or {}
    said = fact.get("source") if isinstance(fact, Mapping) else None
    why = f"the run measured from {said}" if said else "the run found no anchor"
    return _pairs(
        f"Decision log: {kind} (runbook s.7)",
        [("Action record", f"none in the log: {why}; its steps are not known", "UNKNOWN")],
    )


def activation_html(record: Record, action: Record | None) -> str:
    """Runbook s.7 "Activation", filled in from the activate record and this run."""
    if action is None:
        return _missing(record, "Activation")
    decision = record["decision"]
    pairs = [
        ("Executed At", _when(action["started_at"]), None),
        ("Executed By", action.get("operator") or "unknown", None),
        ("Approved By", action.get("approved_by") or "___ (--approved-by)", None),
        ("Strategy", _strategy_text(action["strategy"]) if action.get("strategy") else "___", None),
        ("Armed by", f"preactivation run {action.get('armed_by') or 'unknown'}", None),
        ("T+0 (the restart)", f"{action.get('restarted_at') or 'not restarted'}, InvocationID "
         f"{action.get('invocation_id') or 'unknown'}", None),
        ("Backup", action.get("backup") or "none made", None),
        ("Initial Verification", f"{decision or 'undecided'} ({record['run_id']})",
         "PASS" if decision == "OK" else "FAIL"),
    ]  # fmt: skip
    return _pairs("Decision log: Activation (runbook s.7)", pairs) + steps_html(action)


def rollback_html(record: Record, action: Record | None, limit_s: float) -> str:
    """Runbook s.7 "Rollback (If Applicable)", filled in from the rollback record and this
    run: the trigger, and R4's time from the start to shadow against `limit_s`."""
    if action is None:
        return _missing(record, "Rollback")
    decision, r4 = record["decision"], _checks(record).get("R4")
    trigger = action.get("trigger") or "unknown"
    reason = action.get("reason")
    window = action.get("window")
    said = (
        trigger + (f": {reason}" if reason else "") + (f" (window run {window})" if window else "")
    )
    took = f"R4 {_status(r4)}: {r4['measured'] if r4 else 'not run'} (limit {limit_s:g} s)"
    pairs = [
        ("Rollback Executed", f"YES ({action['run_id']})", None),
        ("Rollback Time", f"{_when(action['started_at'])}; restart at "
         f"{_clock(action.get('restarted_at'))}", None),
        ("Trigger", said, None),
        ("Executed By", action.get("operator") or "unknown", None),
        ("Armed by", action.get("armed_by") or "break-glass: not armed", None),
        ("Back in shadow", took, _status(r4)),
        ("Verification", f"{decision or 'undecided'} ({record['run_id']})",
         "PASS" if decision == "OK" else "FAIL"),
    ]  # fmt: skip
    return _pairs("Decision log: Rollback (runbook s.7)", pairs) + steps_html(action)
