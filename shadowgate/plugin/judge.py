"""Verdicts: the `judge` fixture that turns a Verdict into a test outcome, the per-run list of
results, and the terminal summary with the run's decision."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pytest

from shadowgate import config, redact
from shadowgate.checks import catalog
from shadowgate.outcome import decision, failure_text, headline
from shadowgate.plugin.options import secrets_of
from shadowgate.plugin.phases import PHASES, phase_of
from shadowgate.plugin.state import run_state
from shadowgate.strategy import FACT as STRATEGY_FACT
from shadowgate.verdict import Status, Verdict

_VERDICT = pytest.StashKey[Verdict]()

_RESULTS = pytest.StashKey[list]()

UNPROVEN_FAILS = ("preactivation", "activation")  # phases where INCONCLUSIVE always fails

_CHECK_ID = re.compile(r"test_([A-Z]+\d+)(?![0-9A-Za-z])")


def verdict_of(item: pytest.Item) -> Verdict | None:
    """The verdict a check test judged, None if it never got that far (source failed)."""
    return item.stash.get(_VERDICT, None)


def run_results(config_: pytest.Config) -> list[tuple[str, Verdict | None, str | None]]:
    """(nodeid, verdict, failure text) of every phase-marked test run so far, in run order."""
    return config_.stash.get(_RESULTS, [])


def check_id_of(test_name: str) -> str:
    """The check ID a test name carries (`test_B3_payload_p95` -> `B3`); else the name."""
    found = _CHECK_ID.match(test_name)
    return found.group(1) if found else test_name


def inconclusive_fails(
    run_phase: str | None, test_phases: Iterable[str], monitor_fails: bool
) -> bool:
    """Whether INCONCLUSIVE fails (DESIGN "Verdicts"): always before and at activation (not
    proven safe); in any other phase as `monitor.inconclusive_fails` says (a silent engine is
    itself an incident). Without a single run phase, the test's own phase markers decide."""
    if run_phase is not None:
        return run_phase in UNPROVEN_FAILS or monitor_fails
    return any(phase in UNPROVEN_FAILS for phase in test_phases) or monitor_fails


@pytest.fixture
def judge(
    request: pytest.FixtureRequest, thresholds: config.Thresholds
) -> Callable[[Verdict], None]:
    """Assert a Verdict: FAIL fails, INCONCLUSIVE fails as the run's phase decides, DEFERRED
    skips with its reason, WARN passes and is shown in the summary. A check with a key of its
    own (S5: `monitor.s5_inconclusive_fails`) follows it instead of `monitor.inconclusive_fails`."""
    node = request.node
    check_id = check_id_of(node.name)
    known = check_id in catalog.ids()
    key = catalog.get(check_id).inconclusive_key if known else catalog.INCONCLUSIVE_FAILS
    fails = inconclusive_fails(
        phase_of(request.config),
        (m.name for m in node.iter_markers() if m.name in PHASES),
        bool(thresholds[key]),
    )

    def _judge(verdict: Verdict) -> None:
        node.stash[_VERDICT] = verdict
        if verdict.status is Status.DEFERRED:
            pytest.skip(verdict.message())
        if verdict.status is Status.FAIL or (verdict.status is Status.INCONCLUSIVE and fails):
            pytest.fail(verdict.message(), pytrace=False)
        if verdict.status is Status.INCONCLUSIVE:
            pytest.skip(verdict.message())

    return _judge


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    secrets = secrets_of(item.config)
    if secrets:
        report.longrepr = redact.scrubbed(report.longrepr, secrets)
        report.sections = redact.scrubbed(report.sections, secrets)
        report.user_properties = redact.scrubbed(report.user_properties, secrets)
    if not any(item.get_closest_marker(phase) for phase in PHASES):
        return report
    verdict = item.stash.get(_VERDICT, None)
    results = item.config.stash.setdefault(_RESULTS, [])
    if verdict is not None and report.when == "call":
        # The item's list too: junitxml reads the teardown report's copy of it.
        for properties in (report.user_properties, item.user_properties):
            properties.append(("verdict", redact.scrubbed(verdict.as_record(), secrets)))
        results.append((item.nodeid, verdict, None))
    elif report.failed and verdict is None:
        results.append((item.nodeid, None, failure_text(report)))
    return report


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = run_state(config)
    record = state.record if state is not None else None
    results = run_results(config)
    if not results and record is None:
        return
    tr = terminalreporter
    phase = phase_of(config)
    title = f"shadowgate {phase or '(no single phase)'}: {decision(phase, exitstatus == 0)}"
    tr.section(headline(record) if record else title, sep="=")
    causes: list[str] = []
    for nodeid, verdict, failure in results:
        if verdict is not None:
            line = f"{verdict.check_id:<3} {verdict.status.value:<12} {verdict.title}: "
            tr.write_line(line + f"{verdict.measured} [threshold {verdict.threshold}]")
        elif failure:
            cause = failure.removeprefix("Failed: ")
            if cause not in causes:
                causes.append(cause)
            tr.write_line(f"{nodeid.rpartition('::')[2]}: not evaluated")
    for cause in causes:
        tr.write_line(cause, red=True)
    if record is None:
        if phase is None:
            tr.write_line(
                "not a single-phase run (-m PHASE): this run decides nothing", yellow=True
            )
        return
    if overruled := record["facts"].get(STRATEGY_FACT, {}).get("overruled"):
        tr.write_line(overruled, yellow=True)
    for reason in record["incomplete_reasons"]:
        tr.write_line(f"incomplete: {reason}", yellow=True)
