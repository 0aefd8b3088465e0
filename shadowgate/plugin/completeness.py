"""Whether a phase run covered its whole phase (ARCHITECTURE.md "The lifecycle"): why it is
incomplete, and which checks have no verdict a test body judged.

Only a complete run arms anything, so every way a run can leave a catalog check of its phase
unjudged (a `-k`, a deselection, a collection error, `--setup-only`, a plugin that replaces
test bodies, a skip) ends up here as a reason the operator can read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pytest

from shadowgate.checks import catalog
from shadowgate.checks.row import INCONCLUSIVE_FAILS
from shadowgate.evidence import CheckEntry
from shadowgate.plugin.state import RunState
from shadowgate.verdict import Status


def _uncovered_testpaths(config_: pytest.Config) -> list[str]:
    """The configured test paths a run with explicit paths (or from a subdir) did not collect."""
    if config_.args_source is pytest.Config.ArgsSource.TESTPATHS:
        return []
    base = config_.invocation_params.dir
    given = [(base / arg).resolve() for arg in config_.args if "::" not in arg]
    root = config_.rootpath
    return [
        path
        for path in config_.getini("testpaths")
        if not any((root / path).resolve().is_relative_to(g) for g in given)
    ]


def _ids(state: RunState, nodeids: Iterable[str]) -> str:
    return ", ".join(state.collected.get(n, n) for n in nodeids)


def _may_skip(check: CheckEntry) -> bool:
    """A skip that leaves the run complete: G4 DEFERRED, or the INCONCLUSIVE of a check whose
    own threshold lets it pass a window (S5: `monitor.s5_inconclusive_fails`)."""
    if check.status == Status.DEFERRED.value:
        return True
    own_key = (
        check.check_id in catalog.ids()
        and catalog.get(check.check_id).inconclusive_key != INCONCLUSIVE_FAILS
    )
    return check.status == Status.INCONCLUSIVE.value and own_key


def _bodiless(config_: pytest.Config) -> str | None:
    """The option that runs no test body (`--setup-only`, `--setup-plan`), and where it came
    from when the operator may not have typed it; None without one."""
    plan, only = (getattr(config_.option, name, False) for name in ("setupplan", "setuponly"))
    given = "--setup-plan" if plan else "--setup-only" if only else None
    if given is None:
        return None
    addopts = os.environ.get("PYTEST_ADDOPTS", "")
    return f"{given} (set in PYTEST_ADDOPTS={addopts!r})" if given in addopts else given


def unevaluated_checks(
    config_: pytest.Config, state: RunState, checks: list[CheckEntry]
) -> dict[str, str]:
    """Each check of the phase (the catalog's, and any other collected) without a verdict its
    test body judged, and why: completeness is judged on what ran, not on what was collected
    (ARCHITECTURE.md "The lifecycle"); any pytest option or plugin that keeps a body from running
    ends here."""
    why: dict[str, str] = {}
    bodiless = _bodiless(config_)
    for check in checks:
        if check.evaluated:
            continue
        if check.nodeid not in state.called and check.outcome != "failed":
            said = f"{bodiless} runs no test body" if bodiless else "its test body never ran"
            reason = (check.cause or said) if check.outcome == "skipped" else said
        elif check.nodeid in state.called and check.outcome == "passed":
            reason = "its test body ran but judged no verdict (a plugin replaced it?)"
        else:
            reason = check.cause or "no verdict judged"
        why.setdefault(check.check_id, reason)
    ran = {c.check_id for c in checks}
    collected = set(state.collected.values())
    deselected = {state.collected.get(n, n) for n in state.deselected}
    for check_id in catalog.ids_of_phase(state.phase) if state.phase else ():
        if check_id in ran:
            continue
        if check_id not in collected:
            why[check_id] = "not collected"
        else:
            why[check_id] = "deselected" if check_id in deselected else "did not run"
    return why


def incomplete_reasons(
    config_: pytest.Config, state: RunState, checks: list[CheckEntry], exitstatus: int
) -> list[str]:
    """Why this run does not cover its whole phase; empty when it does (ARCHITECTURE.md
    "Evidence")."""
    reasons = []
    if state.phase is None:
        expr = config_.getoption("markexpr")
        reasons.append(f"-m {expr!r} is not exactly one phase marker: it decides nothing")
    if config_.getoption("keyword"):
        reasons.append(f"-k {config_.getoption('keyword')!r} selects a subset of the checks")
    if state.deselected:
        reasons.append(f"deselected: {_ids(state, state.deselected)}")
    missing = _uncovered_testpaths(config_)
    if missing:
        reasons.append(f"test paths not collected: {', '.join(missing)} (give no path arguments)")
    reasons += [f"collection error in {where}" for where in state.collect_errors]
    if state.phase is not None:
        collected = set(state.collected.values())
        absent = [i for i in catalog.ids_of_phase(state.phase) if i not in collected]
        if absent:
            reasons.append(f"catalog checks not collected: {', '.join(absent)}")
    if not state.collected:
        reasons.append("no check of the phase was collected")
    not_run = [n for n in state.collected if n not in state.outcomes and n not in state.deselected]
    if not_run:
        count = f"{len(not_run)} of {len(state.collected)}"
        reasons.append(f"{count} checks did not run: {_ids(state, not_run)}")
    for check in checks:
        if check.outcome == "skipped" and not _may_skip(check):
            verdict = check.verdict
            said = (verdict.measured or verdict.detail) if verdict else check.cause
            why = (said or "").splitlines()[:1]
            reasons.append(f"{check.check_id} skipped ({check.status}): {''.join(why)}")
    bodiless = _bodiless(config_)
    if bodiless:
        reasons.append(f"{bodiless}: no check's test body ran, nothing was judged")
    unjudged = [c for c in checks if not c.evaluated and c.outcome != "skipped"]
    if unjudged:
        ids = _ids(state, (c.nodeid for c in unjudged))
        count = f"{len(unjudged)} of {len(checks)}"
        reasons.append(f"{count} checks not evaluated (no verdict from their test body): {ids}")
    if state.html_path is None:
        reasons.append("no HTML report: pytest-html is not active (-p no:html?)")
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        reasons.append("the run was interrupted")
    return reasons
