"""The run record (ARCHITECTURE.md "Evidence"): what a phase run gathers from configure to
sessionfinish, and its append to the decision log.

A run whose `-m` names a phase marker is evidence: it writes, under --reports-dir,
`<run_id>.html` (pytest-html, self-contained), `<run_id>.junit.xml` and, once both are final,
its record through `evidence.append_record`; whether it is complete is completeness.py's
judgement over what these hooks gathered. Hook order:

    pytest_configure (tryfirst)      run id; point pytest-html and junitxml at the reports dir
    pytest_collection_modifyitems    the phase's checks as collected (tryfirst: before -m/-k)
    pytest_deselected, pytest_make_collect_report   what was left out, what failed to collect
    pytest_runtest_makereport        outcomes, and which check bodies were called
    pytest_sessionfinish (outermost wrapper)
        before: the record is built (pytest-html's summary and the terminal summary show it)
        after:  pytest-html and junitxml have written their files: hash them, append the record
                and anchor it in the journal of the engine host (the first of --hosts)
"""

from __future__ import annotations

import html
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shadowgate import __version__, evidence, redact, settings
from shadowgate.config import ConfigError
from shadowgate.evidence import CheckEntry, RunRecord
from shadowgate.plugin.collection import check_of
from shadowgate.plugin.completeness import incomplete_reasons, unevaluated_checks
from shadowgate.plugin.judge import run_results
from shadowgate.plugin.options import (
    reports_dir_of,
    resolved_path,
    secrets_of,
    settings_of,
    strategy_of,
    target_of,
    thresholds_of,
    validate,
)
from shadowgate.plugin.phases import PHASES, named_phases, phase_of
from shadowgate.plugin.sources import engine_host_of, observed
from shadowgate.plugin.state import RUN_STATE, RunState, run_state
from shadowgate.replay import plugin as replay
from shadowgate.report.hooks import DecisionLogReport
from shadowgate.verdict import Verdict
from shadowgate.wording import cause_of, decision, failure_text

_WORSE = {"passed": 0, "skipped": 1, "failed": 2}


def _resolved(config_: pytest.Config, path: str | None) -> Path | None:
    """A report path as pytest-html / junitxml resolve it; None when not given."""
    return resolved_path(config_, path) if path else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before pytest-html and junitxml configure: a phase run gets its run id and its report
    paths in the reports dir (an --html / --junitxml the operator gave is kept)."""
    validate(config)
    markers = named_phases(config.getoption("markexpr") or "")
    if not markers or config.option.collectonly or config.option.help:
        return
    started = datetime.now(UTC)
    phase = phase_of(config)
    run_id = evidence.new_run_id(phase, started)
    try:
        reports_dir = settings.ensure_reports_dir(reports_dir_of(config))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    opt = config.option
    if hasattr(opt, "htmlpath"):
        opt.htmlpath = opt.htmlpath or str(reports_dir / f"{run_id}.html")
        opt.self_contained_html = True  # evidence is one file: its sha256 covers everything
    if hasattr(opt, "xmlpath"):
        opt.xmlpath = opt.xmlpath or str(reports_dir / f"{run_id}.junit.xml")
    config.stash[RUN_STATE] = RunState(
        run_id,
        phase,
        markers,
        started,
        reports_dir,
        _resolved(config, getattr(opt, "htmlpath", None)),
        _resolved(config, getattr(opt, "xmlpath", None)),
    )
    if config.pluginmanager.hasplugin("html"):
        report = DecisionLogReport(
            config.stash[RUN_STATE],
            lambda: observed(config),
            thresholds_of(config),
        )
        config.pluginmanager.register(report, "shadowgate-report")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The phase's checks as collected, before `-m` / `-k` deselect anything."""
    state = run_state(config)
    if state is None:
        return
    for item in items:
        row = check_of(item)
        if row is not None and state.carries(item):
            state.collected[item.nodeid] = row.id
            state.phases[item.nodeid] = tuple(p for p in PHASES if p in row.phases)


def pytest_deselected(items: list[pytest.Item]) -> None:
    state = run_state(items[0].config) if items else None
    if state is not None:
        state.deselected += [i.nodeid for i in items if state.carries(i)]


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    state = run_state(collector.config)
    if state is not None and report.failed:
        state.collect_errors.append(report.nodeid or str(collector.path))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    state = run_state(item.config)
    if state is not None and item.nodeid in state.collected:
        _note_outcome(state, report)
        if report.when == "call":
            state.called.add(item.nodeid)
    return report


def _note_outcome(state: RunState, report: pytest.TestReport) -> None:
    """The check's worst outcome over setup, call and teardown."""
    before = state.outcomes.get(report.nodeid, "passed")
    state.outcomes[report.nodeid] = max(before, report.outcome, key=_WORSE.__getitem__)
    if report.skipped:
        state.skip_reasons[report.nodeid] = failure_text(report)


def _check_entry(
    state: RunState, nodeid: str, verdict: Verdict | None, failure: str | None
) -> CheckEntry:
    outcome, phases = state.outcomes[nodeid], state.phases[nodeid]
    if verdict is not None:
        return CheckEntry.judged(nodeid, outcome, verdict, phases)
    cause = cause_of(failure) if failure else state.skip_reasons.get(nodeid, "no verdict judged")
    return CheckEntry.not_evaluated(nodeid, state.collected[nodeid], outcome, cause, phases)


def _plain(value: Any) -> Any:
    """JSON types only, as the decision log demands: tuples become lists, NaN becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _build_record(config_: pytest.Config, state: RunState, exitstatus: int) -> RunRecord:
    """The run as the log will keep it, scrubbed of the password (in its JSON form: that is
    what gets written)."""
    results = run_results(config_)
    by_node = {nodeid: (verdict, failure) for nodeid, verdict, failure in results}
    checks = [_check_entry(state, n, *by_node.get(n, (None, None))) for n in state.outcomes]
    reasons = incomplete_reasons(config_, state, checks, exitstatus)
    unevaluated = unevaluated_checks(config_, state, checks)
    if unevaluated and not reasons:  # whatever left them so, such a run is never complete
        reasons.append(f"checks without an evaluated verdict: {', '.join(unevaluated)}")
    th = thresholds_of(config_)
    causes = dict.fromkeys(cause_of(f) for _, v, f in results if v is None and f)
    passed = exitstatus == pytest.ExitCode.OK and bool(checks)
    passed = passed and all(c.outcome != "failed" for c in checks)
    passed = passed and all(c.evaluated for c in checks)
    record = RunRecord(
        run_id=state.run_id,
        phase=state.phase,
        markexpr=config_.getoption("markexpr") or None,
        keyword=config_.getoption("keyword") or None,
        started_at=evidence.iso_utc(state.started),
        finished_at=evidence.iso_utc(datetime.now(UTC)),
        operator=settings_of(config_).operator,
        target=target_of(config_).describe(),
        thresholds_digest=th.digest(),
        overrides=dict(th.overrides),
        suite_version=__version__,
        strategy=strategy_of(config_) if state.strategy is None else state.strategy,
        checks=tuple(checks),
        complete=not reasons,
        incomplete_reasons=tuple(reasons),
        passed=passed,
        decision=decision(state.phase, passed and not reasons, checks) if state.phase else None,
        causes=tuple(causes),
        facts=state.facts,
        unevaluated=unevaluated,
    )
    return RunRecord.from_dict(redact.scrubbed(_plain(record.to_dict()), secrets_of(config_)))


def _say(config_: pytest.Config, text: str, **markup: bool) -> None:
    terminal = config_.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line(text, **markup)
    else:
        print(text, file=sys.stderr)


def _final_report(
    config_: pytest.Config, state: RunState, path: Path | None, suffix: str
) -> Path | None:
    """The report file as archived beside the record: None unless written completely; copied
    into the reports dir when the operator pointed it elsewhere; any secret that reached it
    replaced (a last line of defence) before its sha256 is taken."""
    if path is None or not path.is_file():
        return None
    data = path.read_bytes()
    if suffix == ".html" and not data.rstrip().endswith(b"</html>"):
        return None
    archived = path
    if not path.resolve().is_relative_to(state.reports_dir.resolve()):
        archived = state.reports_dir / f"{state.run_id}{suffix}"
    clean = data
    for secret in secrets_of(config_):
        for form in {secret, html.escape(secret)}:
            clean = clean.replace(form.encode(), redact.REDACTED.encode())
    if clean != data:
        _say(config_, f"shadowgate: the Redis password was removed from {path}", yellow=True)
    if clean != data or archived != path:
        archived.write_bytes(clean)
    return archived


def _journal(config_: pytest.Config) -> evidence.Journal:
    """The journal of the host the checks read (`engine_host`: the first of --hosts)."""
    return evidence.Journal(engine_host_of(config_))


def _append(config_: pytest.Config, state: RunState) -> bool:
    """Append the finished record to the decision log; False (said in red) if it failed."""
    record = state.run_record
    assert record is not None, "built at sessionfinish, before the append"
    html_file = _final_report(config_, state, state.html_path, ".html")
    if html_file is None and state.html_path is not None:
        record = record.incomplete(f"the HTML report {state.html_path} is incomplete")
        state.run_record = record
    junit_file = _final_report(config_, state, state.junit_path, ".junit.xml")
    try:
        evidence.append_record(
            state.reports_dir, record, html_file, junit_file, _journal(config_),
            bundle_path=replay.write_bundle(config_, state), replay=replay.replay_of(config_),
        )  # fmt: skip
    except evidence.AnchorError as exc:
        _say(config_, f"shadowgate: {exc}", red=True)
        return False
    except (OSError, ValueError, evidence.EvidenceError) as exc:
        _say(config_, f"shadowgate: this run was NOT recorded: {exc}", red=True)
        return False
    return True


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session):
    """Outermost: build the record before pytest-html's summary and the terminal summary show
    it; append it after pytest-html and junitxml have written their final files."""
    state = run_state(session.config)
    if state is not None:
        state.run_record = record = _build_record(session.config, state, session.exitstatus)
        said = record.decision
        if said is not None and said not in ("GO", "OK") and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # `-k B3` passing is no GO
    try:
        return (yield)
    finally:
        if state is not None:
            if _append(session.config, state):
                _say(session.config, f"record: {state.record_path}")
            else:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED  # nothing to act on; 3 is a bug
