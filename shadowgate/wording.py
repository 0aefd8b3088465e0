"""How a check's outcome is said to the operator, without pytest: the words of a decision, the
one-line cause of a check that could not be evaluated, and the run's headline. The plugin, the
report and the evidence tools all speak these words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from shadowgate.checks import catalog
from shadowgate.verdict import Status

NO_GO_PREFIX = "NO-GO cause: "  # a source failure before activation: the run is NO-GO
CANNOT_JUDGE_PREFIX = "cannot judge: "  # after it (windows, activation, rollback): no NO-GO there
WEIGHT = "window_24h"  # runbook s.8: criteria for raising the weight, never a rollback
ACTIVATION = "activation"  # its OK names each red flag with its reason (a WARN may be s.3's)
NOT_EVALUATED = "NOT EVALUATED"  # record status of a check whose data source failed
# A monitoring window's decision (the record's `decision`) and how its headline says it.
SAID = {
    "STOP": "STOP: roll back now (runbook s.6)",
    "NOT OK": "NOT OK: no stop condition met, but a check failed: fix it, run the window again",
    "INCONCLUSIVE": "INCONCLUSIVE: cannot prove healthy",
    "OK": "OK",
    "HOLD WEIGHT": "HOLD WEIGHT: criteria not met",  # window_24h: do not raise the weight (s.8)
}


class Judged(Protocol):
    """A check as the record keeps it (evidence.CheckEntry, frozen: read-only here too)."""

    @property
    def check_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def outcome(self) -> str: ...


def failure_text(report: Any) -> str:
    """The one-paragraph reason of a failed or skipped test report (no traceback)."""
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[2])
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message if crash is not None else report.longreprtext


def cause_prefix(phase: str | None) -> str:
    """How a source failure's line starts: "NO-GO cause: " before activation (and in a run of
    no single phase), "cannot judge: " after it, where a run decides no GO / NO-GO."""
    return NO_GO_PREFIX if phase in (None, "preactivation") else CANNOT_JUDGE_PREFIX


def cause_of(failure: str) -> str:
    """The operator's sentence in a source failure (`Failed: NO-GO cause: ...`, `Failed:
    cannot judge: ...`)."""
    cause = failure.removeprefix("Failed: ")
    for prefix in (NO_GO_PREFIX, CANNOT_JUDGE_PREFIX):
        cause = cause.removeprefix(prefix)
    return cause.strip()


def stops(check_id: str) -> bool:
    """Is `check_id` a stop condition (its FAIL in a window means roll back now)?"""
    return check_id in catalog.ids() and catalog.get(check_id).stops


def decision(phase: str | None, ok: bool, checks: Iterable[Judged] = ()) -> str:
    """GO / NO-GO before activation. In a monitoring window: STOP when a stop condition
    failed; NOT OK when another check failed (P6: the rollback may not be armed, so no "roll
    back now"); INCONCLUSIVE when nothing failed outright yet the window is not proven healthy
    (an INCONCLUSIVE that fails, a source not read, an incomplete run); else OK. The weight
    increase (window_24h): OK / HOLD WEIGHT, never a rollback. Other phases: OK / STOP.
    `ok`: the run passed and was complete."""
    if phase == "preactivation":
        return "GO" if ok else "NO-GO"
    if phase == WEIGHT:
        return "OK" if ok else "HOLD WEIGHT"
    if phase not in catalog.MONITORING:
        return "OK" if ok else "STOP"
    failed = [c for c in checks if c.outcome == "failed" and c.status == Status.FAIL.value]
    if any(stops(c.check_id) for c in failed):
        return "STOP"
    if failed:
        return "NOT OK"
    return "OK" if ok else "INCONCLUSIVE"


def _ids(checks: Iterable[Mapping[str, Any]], status: str | None, outcome: str) -> list[str]:
    return list(
        dict.fromkeys(
            c["id"]
            for c in checks
            if c["outcome"] == outcome and (status is None or c["status"] == status)
        )
    )


def _window_words(record: Mapping[str, Any]) -> str:
    """A window's decision with the IDs behind it: the failing stop conditions, the failing
    checks, the unproven ones; for OK the red flags and the allowed INCONCLUSIVEs."""
    said, checks = SAID.get(record["decision"], record["decision"]), record["checks"]
    fail = Status.FAIL.value
    named = {
        "STOP": [i for i in _ids(checks, fail, "failed") if stops(i)],
        "NOT OK": _ids(checks, fail, "failed"),
        "INCONCLUSIVE": _ids(checks, None, "failed"),
    }.get(record["decision"])
    if named is not None:
        return f"{said}: {', '.join(named)}" if named else said
    notes = [
        f"{what}: {', '.join(ids)}"
        for what, ids in (
            ("red flags", _ids(checks, Status.WARN.value, "passed")),
            ("not proven, not failing", _ids(checks, Status.INCONCLUSIVE.value, "skipped")),
        )
        if ids
    ]
    return f"{said} ({'; '.join(notes)})" if notes else said


def _reasoned_flags(checks: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each red flag (a passing WARN) with its reason, the first clause of its detail: `A1
    weight 20% is not the requested 10%`."""
    warned = [c for c in checks if c["status"] == Status.WARN.value and c["outcome"] == "passed"]
    said = (f"{c['id']} {(c.get('detail') or '').split('; ')[0].split(' | ')[0]}" for c in warned)
    return list(dict.fromkeys(flag.strip() for flag in said))


def headline(record: Mapping[str, Any]) -> str:
    """`shadowgate preactivation: NO-GO`, `shadowgate window_30m: STOP: roll back now (runbook
    s.6): S2`: the run's verdict as the terminal and report title say it; a partial run says
    so, because it can never arm an action."""
    phase = record["phase"] or "(no single phase)"
    suffix = "" if record["complete"] else " (incomplete run)"
    said = record["decision"] or "no decision"
    if record["phase"] in catalog.MONITORING and record["decision"]:
        said = _window_words(record)
    elif record["phase"] == ACTIVATION and record["decision"] == "OK":
        flags = _reasoned_flags(record["checks"])
        said = f"OK (red flags: {'; '.join(flags)})" if flags else "OK"
    elif record["phase"] == WEIGHT and record["decision"] == "HOLD WEIGHT":
        unmet = _ids(record["checks"], None, "failed")
        said = f"{SAID['HOLD WEIGHT']}: {', '.join(unmet)}" if unmet else SAID["HOLD WEIGHT"]
    return f"shadowgate {phase}: {said}{suffix}"
