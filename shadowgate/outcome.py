"""How a check's outcome is said to the operator, without pytest: the words of a decision, the
one-line cause of a check that could not be evaluated, and the run's headline. The plugin, the
report and the evidence tools all speak these words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NO_GO_PREFIX = "NO-GO cause: "
NOT_EVALUATED = "NOT EVALUATED"  # record status of a check whose data source failed


def failure_text(report: Any) -> str:
    """The one-paragraph reason of a failed or skipped test report (no traceback)."""
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[2])
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message if crash is not None else report.longreprtext


def cause_of(failure: str) -> str:
    """The operator's sentence in a source failure (`Failed: NO-GO cause: ...`)."""
    return failure.removeprefix("Failed: ").removeprefix(NO_GO_PREFIX).strip()


def decision(phase: str | None, ok: bool) -> str:
    """GO / NO-GO before activation; OK / STOP in every later phase."""
    if phase == "preactivation":
        return "GO" if ok else "NO-GO"
    return "OK" if ok else "STOP"


def headline(record: Mapping[str, Any]) -> str:
    """`shadowgate preactivation: NO-GO`: the run's verdict as the terminal and report title
    say it; a partial run says so, because it can never arm an action."""
    phase = record["phase"] or "(no single phase)"
    suffix = "" if record["complete"] else " (incomplete run)"
    return f"shadowgate {phase}: {record['decision'] or 'no decision'}{suffix}"
