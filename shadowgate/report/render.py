"""The run record rendered as the runbook's decision log, in HTML, without pytest.

Everything here is a pure function of a record (ARCHITECTURE.md "Evidence"): the verdict banner, the
runbook's section 7 pre-activation decision log and section 9 GO / NO-GO checklist, the run's
block for later phases and the target facts. The pytest-html hook class (`hooks`) places these
in the report; an auditor's tool can call them on a record read back from the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from shadowgate.checks import catalog, gate_rules
from shadowgate.strategy import FACT as STRATEGY_FACT
from shadowgate.verdict import Status
from shadowgate.wording import NOT_EVALUATED, headline

Check = Mapping[str, Any]
GATES = catalog.ids_of_kind("G")
BLOCKERS = catalog.ids_of_kind("B")
MANUAL = "manual: not checked by shadowgate"
# Runbook s.9, row by row: the text, then the check IDs that prove it (None: not a check).
PRE_ACTIVATION_ROWS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("Shadow mode active and verified (PATCHTST_SHADOW_ONLY=true)", ("P1", "P2")),
    ("Gate evaluation completed (≥3/4 or ≥2/3 passed)", (*GATES, "B5")),
    ("Zero consensus=4 events in last 24h", ("P3",)),
    ("Service stable (no restart loops, uptime ≥24h)", ("P4", "B4")),
    ("Payload p95 <1500 bytes", ("B3",)),
    ("Rollback procedure validated", ("P6",)),
    ("Backup env file created", ("P6",)),
    ("Monitoring scripts ready", None),
    ("Team approval obtained", None),
    ("Emergency contacts available", None),
    ("Shadow observation long enough, ≥24h (s.1)", ("P5",)),
    ("PATCHTST_MODEL_PATH set, the model loaded is the one observed (s.4 step 4)", ("P7",)),
)
HARD_BLOCKER_ROWS = (
    ("Consensus=4 found in shadow mode?", ("B1",)),
    ("PatchTST voting while the shadow flag is on? (s.2)", ("B2",)),
    ("Service in restart loop?", ("B4",)),
    ("<3/4 gates passed?", ("B5",)),
    ("Payload bloat detected?", ("B3",)),
    ("High hard disagreement (>30%) in shadow?", ("B6",)),
)
STOPS = catalog.ids_of_kind("S")
# Runbook s.9 "POST-ACTIVATION MONITORING": the text, the phase whose latest run answers it,
# and the checks that must PASS there.
POST_ACTIVATION_ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("T+5min: Service active, consensus=4 appearing", "activation", ("A0", "A2")),
    ("T+30min: Consensus distribution healthy (40-70% at 4)", "window_30m", ("M1",)),
    ("T+1h: Agreement rate 50-80%, hard disagree <25%", "window_2h", ("M2", "M3")),
    ("T+2h: No stop conditions triggered", "window_2h", STOPS),
    ("T+6h: Stable operation, no rollback needed", "window_6h", STOPS),
)
# The decision's banner: green to go on, red only to stop (NO-GO, STOP: roll back now); amber
# where something failed that is no stop (NOT OK, HOLD WEIGHT), slate where nothing is proven.
DECISION_CSS = {
    "GO": "sg-go", "OK": "sg-go", None: "sg-undecided",
    "NOT OK": "sg-notok", "HOLD WEIGHT": "sg-notok", "INCONCLUSIVE": "sg-unproven",
}  # fmt: skip
STYLE = """<style>
.sg-verdict { padding: 8px 14px; margin: 8px 0; border-radius: 4px; color: #fff; }
.sg-verdict h2 { margin: 4px 0; }
.sg-go { background: #2e7d32; } .sg-stop { background: #c62828; }
.sg-undecided { background: #616161; }
.sg-notok { background: #ef8f00; color: #1a1a1a; }
.sg-unproven { background: #546e7a; }
.sg-incomplete { background: #fff3cd; color: #5c4400; padding: 6px 12px; border-radius: 4px; }
table.sg-table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
table.sg-table th, table.sg-table td { border: 1px solid #ccc; padding: 4px 8px;
  text-align: left; vertical-align: top; }
table.sg-table th { background: #f2f2f2; }
table.sg-table tr.sg-section th { background: #dde4ee; }
.sg-box { font-family: monospace; white-space: pre; }
td.sg-PASS, td.sg-DEFERRED, td.sg-DEFER, td.sg-NO { color: #2e7d32; font-weight: bold; }
td.sg-WARN { background: #ffe083; color: #5c4400; font-weight: bold; }
td.sg-FAIL, td.sg-YES { color: #c62828; font-weight: bold; }
td.sg-INCONCLUSIVE { color: #b25e00; font-weight: bold; }
td.sg-NOT-EVALUATED, td.sg-NOT-RUN, td.sg-UNKNOWN { color: #8a6d00; font-weight: bold; }
#results-table tbody:has(td.sg-WARN) > tr.collapsible > td { background: #fff6d5; }
#results-table td.col-entries { white-space: nowrap; font-family: monospace; }
/* the verdict first: pytest-html's Environment block goes to the bottom of the page */
body { display: flex; flex-direction: column; }
#environment-header, #environment { order: 1; }
#environment { align-self: flex-start; }
/* nothing wider than the window: fixed columns, long ids and paths break anywhere */
#results-table { table-layout: fixed; }
#results-table td, table.sg-table td { overflow-wrap: anywhere; }
#results-table th[data-column-type="result"], #results-table th.col-checkid,
#results-table th[data-column-type="duration"] { width: 56px; }
#results-table th[data-column-type="testId"] { width: 16%; }
#results-table th.col-status { width: 100px; }
#results-table th.col-entries { width: 132px; }
#results-table th:last-child { width: 40px; }
.sg-plots { display: flex; flex-wrap: wrap; gap: 16px; }
.sg-plots figure { margin: 0; }
.sg-plots figcaption { font-size: 12px; color: #444; max-width: 560px; }
</style>"""


def _cls(status: str) -> str:
    return "sg-" + status.replace(" ", "-")


def _cell(text: object, status: str | None = None) -> str:
    css = f' class="{_cls(status)}"' if status else ""
    return f"<td{css}>{escape(str(text))}</td>"


def _table(caption: str, rows: Iterable[str], head: Sequence[str] = ()) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    header_row = f"<tr>{header}</tr>" if head else ""
    return f'<h2>{escape(caption)}</h2><table class="sg-table">{header_row}{"".join(rows)}</table>'


def _status(check: Check | None) -> str:
    return "NOT RUN" if check is None else str(check["status"])


def _checks(record: Mapping[str, Any]) -> dict[str, Check]:
    return {c["id"]: c for c in record["checks"]}


def _number(value: float | None, unit: str = "") -> str:
    return "___" if value is None else f"{value:g}{unit}"


def _strategy_text(strategy: Mapping[str, Any]) -> str:
    return (
        f"Weight={_number(strategy['weight'], '%')}, "
        f"Conf Cap={strategy['confidence_cap'] or '___'}, "
        f"Observation={_number(strategy['observation_hours'], 'h')}"
    )


def _source(record: Mapping[str, Any]) -> str:
    """Where a later phase's strategy came from (its activation record), when it says."""
    source = record.get("facts", {}).get(STRATEGY_FACT, {}).get("source")
    return f" (from {source})" if source else ""


def _when(iso: str) -> str:
    """2026-11-26T06:30:00Z -> 2026-11-26 06:30 UTC (the runbook's format)."""
    return f"{iso[:10]} {iso[11:16]} UTC"


def verdict_html(record: Mapping[str, Any]) -> str:
    """The decision in large type, what caused it, and why a partial run cannot count."""
    decision = record["decision"]
    css = DECISION_CSS.get(decision, "sg-stop")
    failing = [
        f"{c['id']} {c['status']}: {c['title'] or c['detail']}"
        for c in record["checks"]
        if c["outcome"] == "failed" and c["status"] != NOT_EVALUATED
    ]
    lines = [*failing, *(f"not evaluated: {cause}" for cause in record["causes"])]
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    parts = [f'<div class="sg-verdict {css}"><h2>{escape(headline(record))}</h2>']
    if items:
        parts.append(f"<ul>{items}</ul>")
    parts.append("</div>")
    if not record["complete"]:
        reasons = "".join(f"<li>{escape(r)}</li>" for r in record["incomplete_reasons"])
        parts.append(
            '<div class="sg-incomplete"><b>Incomplete run: it can never arm an action.</b>'
            f"<ul>{reasons}</ul></div>"
        )
    return "".join(parts)


def _gate_status(check: Check | None) -> str:
    """The runbook's PASS / FAIL / DEFER: a gate's WARN did not pass (the quorum held)."""
    status = _status(check)
    return {"WARN": "FAIL", "INCONCLUSIVE": "FAIL", "DEFERRED": "DEFER"}.get(status, status)


def _hard_blockers(checks: Mapping[str, Check]) -> str:
    present = [f"{b} {_status(checks.get(b))}" for b in BLOCKERS if not _allows(checks.get(b))]
    return ", ".join(present) or "None"


def decision_log_html(record: Mapping[str, Any]) -> str:
    """Runbook s.7 "Pre-Activation", filled in from the run."""
    checks = _checks(record)
    p5 = checks.get("P5")
    if p5 is not None and p5["value"] is not None:
        duration = f"{p5['value']:.1f} hours (P5 {p5['status']}: {p5['measured']})"
    else:
        duration = f"unknown (P5 {_status(p5)})"
    strategy = record["strategy"]
    rows = [
        f"<tr><th>Date/Time</th>{_cell(_when(record['finished_at']))}</tr>",
        f"<tr><th>Shadow Mode Duration</th>{_cell(duration)}</tr>",
        '<tr class="sg-section"><th colspan="2">Gate Status</th></tr>',
    ]
    for gate in GATES:
        status = _gate_status(checks.get(gate))
        name = f"Gate {gate[1:]} ({catalog.get(gate).runbook_name})"
        rows.append(f"<tr><th>{escape(name)}</th>{_cell(status, status)}</tr>")
    total = gate_rules.gate_total(_status(checks.get(gate)) for gate in GATES)
    rows += [
        f"<tr><th>Total</th>{_cell(total)}</tr>",
        f"<tr><th>Hard Blockers</th>{_cell(_hard_blockers(checks))}</tr>",
        f"<tr><th>Operator</th>{_cell(record['operator'] or 'unknown')}</tr>",
        f"<tr><th>Approved By</th>{_cell(strategy['approved_by'] or '___ (--approved-by)')}</tr>",
        f"<tr><th>Strategy</th>{_cell(_strategy_text(strategy))}</tr>",
    ]
    return _table("Decision log: Pre-Activation (runbook s.7)", rows)


def _box(ticked: bool | None) -> str:
    return {True: "[x]", False: "[ ]", None: "[?]"}[ticked]


def _row(box: bool | None, text: str, note: str, status: str | None = None) -> str:
    return f'<tr><td class="sg-box">{_box(box)}</td>{_cell(text)}{_cell(note, status)}</tr>'


def _section(title: str) -> str:
    return f'<tr class="sg-section"><th colspan="3">{escape(title)}</th></tr>'


def _proof(checks: Mapping[str, Check], ids: Sequence[str]) -> str:
    return ", ".join(f"{i} {_status(checks.get(i))}" for i in ids)


def _allows(check: Check | None) -> bool | None:
    """Whether a check let the run go on as the judge decided it (its test did not fail: a
    gate's WARN or G4's DEFERRED with the quorum held does); None when it proved nothing either
    way (not run, not evaluated, or an INCONCLUSIVE that failed the run)."""
    if check is None or check["status"] == NOT_EVALUATED:
        return None
    if check["outcome"] != "failed":
        return True
    return False if check["status"] == Status.FAIL.value else None


def _row_allows(checks: Mapping[str, Check], ids: Sequence[str]) -> bool | None:
    """A checklist row's box: ticked exactly when all its checks allow a GO, [ ] when one
    blocks it, [?] when one proved nothing (and none blocks)."""
    allowed = [_allows(checks.get(i)) for i in ids]
    return False if False in allowed else None if None in allowed else True


def _pre_activation(record: Mapping[str, Any], checks: Mapping[str, Check]) -> list[str]:
    rows = [_section("PRE-ACTIVATION CHECKLIST")]
    approved = record["strategy"]["approved_by"]
    for text, ids in PRE_ACTIVATION_ROWS:
        if ids:
            box = _row_allows(checks, ids)
            colour = {True: "PASS", False: "FAIL", None: "UNKNOWN"}[box]
            rows.append(_row(box, text, _proof(checks, ids), colour))
        elif text == "Team approval obtained":
            note = f"approved by {approved}" if approved else "not given (--approved-by)"
            rows.append(_row(bool(approved), text, note))
        else:
            rows.append(_row(False, text, MANUAL))
    return rows


def _blocker_answer(check: Check | None) -> str:
    return {True: "NO", False: "YES", None: "UNKNOWN"}[_allows(check)]


def _hard_blocker_rows(checks: Mapping[str, Check]) -> list[str]:
    rows = [_section("HARD BLOCKERS (Any YES = STOP; UNKNOWN stops too: it is not proven safe)")]
    for text, ids in HARD_BLOCKER_ROWS:
        answers = [_blocker_answer(checks.get(i)) for i in ids]
        answer = next((a for a in ("YES", "UNKNOWN") if a in answers), "NO")
        box = {"YES": True, "NO": False, "UNKNOWN": None}[answer]
        rows.append(_row(box, text, f"{answer} ({_proof(checks, ids)})", answer))
    return rows


def _parameter_rows(strategy: Mapping[str, Any], rollback_s: float) -> list[str]:
    cap = strategy["confidence_cap"]
    given = (
        ("Initial weight", strategy["weight"], _number(strategy["weight"], "%"), "10%"),
        ("Confidence cap", cap, str(cap or "___"), "0.75 or none"),
        ("Observation window", strategy["observation_hours"],
         _number(strategy["observation_hours"], "h"), "6h"),
        ("Rollback threshold", rollback_s, _number(rollback_s, "s"), "60s"),
    )  # fmt: skip
    rows = [_section("ACTIVATION PARAMETERS")]
    for name, value, shown, recommended in given:
        rows.append(_row(value is not None, f"{name}: {shown}", f"recommended: {recommended}"))
    return rows


def _post_activation_rows(later: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Each row ticked when every check it names passed in its phase's latest run, [?] when
    one was not proven; without such a run it is the operator's."""
    rows = [_section("POST-ACTIVATION MONITORING")]
    for text, phase, ids in POST_ACTIVATION_ROWS:
        record = later.get(phase)
        if record is None:
            rows.append(_row(False, text, f"{MANUAL} until pytest -m {phase} has run"))
            continue
        checks = _checks(record)
        statuses = {_status(checks.get(i)) for i in ids}
        bad = statuses & {Status.FAIL.value, Status.WARN.value}
        box = False if bad else (True if statuses == {Status.PASS.value} else None)
        note = f"{record['run_id']} {record['decision'] or 'undecided'}: {_proof(checks, ids)}"
        rows.append(_row(box, text, note, {True: "PASS", False: "FAIL", None: "UNKNOWN"}[box]))
    return rows


def checklist_html(
    record: Mapping[str, Any],
    rollback_s: float,
    later: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """Runbook s.9, the one-page GO / NO-GO checklist, each row ticked from its checks; the
    post-activation rows from `later`, the latest record of each phase since this run."""
    checks = _checks(record)
    rows = _pre_activation(record, checks) + _hard_blocker_rows(checks)
    rows += _parameter_rows(record["strategy"], rollback_s)
    rows += _post_activation_rows(later or {})
    go = record["decision"] == "GO"
    notes = record["causes"] + record["incomplete_reasons"]
    rows += [
        _section("DECISION"),
        _row(go, "GO — All checks passed, activate PatchTST", "", "PASS" if go else None),
        _row(not go, "NO-GO — Blockers present, extend shadow or re-train", "",
             None if go else "FAIL"),
        _row(bool(record["strategy"]["approved_by"]),
             f"Approved By: {record['strategy']['approved_by'] or '________'}",
             f"Date: {_when(record['finished_at'])}"),
        f'<tr><td></td>{_cell("Notes")}{_cell("; ".join(notes) or "none")}</tr>',
    ]  # fmt: skip
    return _table(
        "GO / NO-GO checklist (runbook s.9)",
        rows,
        ("", "PATCHTST P0.5 ACTIVATION — GO/NO-GO", "this run"),
    )


def run_block_html(record: Mapping[str, Any]) -> str:
    """For phases other than preactivation: when, who, the decision and what it rests on."""
    by_status: dict[str, list[str]] = {}
    for check in record["checks"]:
        by_status.setdefault(check["status"], []).append(check["id"])
    rows = [
        f"<tr><th>Date/Time</th>{_cell(_when(record['finished_at']))}</tr>",
        f"<tr><th>Phase</th>{_cell(record['phase'] or record['markexpr'])}</tr>",
        f"<tr><th>Decision</th>{_cell(record['decision'] or 'none')}</tr>",
        f"<tr><th>Operator</th>{_cell(record['operator'] or 'unknown')}</tr>",
        f"<tr><th>Strategy</th>{_cell(_strategy_text(record['strategy']) + _source(record))}</tr>",
    ]
    rows += [
        f"<tr><th>{escape(status)}</th>{_cell(', '.join(ids), status)}</tr>"
        for status, ids in by_status.items()
    ]
    return _table("Decision log (runbook s.7)", rows)


def facts_html(record: Mapping[str, Any]) -> str:
    """What the record pins this run to: id, selection, target, thresholds, suite."""
    target = "; ".join(f"{k}={v}" for k, v in record["target"].items())
    overrides = ", ".join(f"{k}={v}" for k, v in record["overrides"].items()) or "none"
    facts = (
        ("Run id", record["run_id"]),
        ("Record", f"{record['run_id']}.json (decision-log.jsonl)"),
        ("Marker expression", record["markexpr"]),
        ("Keyword (-k)", record["keyword"] or "none"),
        ("Started / finished", f"{record['started_at']} / {record['finished_at']}"),
        ("Target", target),
        ("Thresholds digest", record["thresholds_digest"]),
        ("Overrides (--set)", overrides),
        ("Suite version", record["suite_version"]),
        ("Complete", "yes" if record["complete"] else "NO"),
        ("Passed", "yes" if record["passed"] else "NO"),
    )
    rows = [f"<tr><th>{escape(k)}</th>{_cell(v)}</tr>" for k, v in facts]
    return _table("Run", rows)
