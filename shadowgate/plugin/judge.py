"""Verdicts: the `judge` fixture that turns a Verdict into a test outcome, the per-run list of
results, and the terminal summary with the run's decision."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable

import pytest

from shadowgate import config, redact
from shadowgate.plugin.collection import check_of
from shadowgate.plugin.options import secrets_of
from shadowgate.plugin.phases import phase_of
from shadowgate.plugin.state import run_state
from shadowgate.strategy import FACT as STRATEGY_FACT
from shadowgate.verdict import Status, Verdict
from shadowgate.wording import decision, failure_text, headline

_VERDICT = pytest.StashKey[Verdict]()

_RESULTS = pytest.StashKey[list]()

UNPROVEN_FAILS = ("preactivation", "activation")  # phases where INCONCLUSIVE always fails


def run_results(config_: pytest.Config) -> list[tuple[str, Verdict | None, str | None]]:
    """(nodeid, verdict, failure text) of every phase-marked test run so far, in run order."""
    return config_.stash.get(_RESULTS, [])


def inconclusive_fails(
    run_phase: str | None, check_phases: Iterable[str], monitor_fails: bool
) -> bool:
    """Whether INCONCLUSIVE fails (ARCHITECTURE.md "Verdicts"): always before and at activation (not
    proven safe); in any other phase as `monitor.inconclusive_fails` says (a silent engine is
    itself an incident). Without a single run phase, the check's own phases decide."""
    if run_phase is not None:
        return run_phase in UNPROVEN_FAILS or monitor_fails
    return any(phase in UNPROVEN_FAILS for phase in check_phases) or monitor_fails


@pytest.fixture
def judge(
    request: pytest.FixtureRequest, thresholds: config.Thresholds
) -> Callable[[Verdict], None]:
    """Assert a Verdict: FAIL fails, INCONCLUSIVE fails as the run's phase decides, DEFERRED
    skips with its reason, WARN passes and is shown in the summary. A check with a key of its
    own (S5: `monitor.s5_inconclusive_fails`) follows it instead of `monitor.inconclusive_fails`."""
    node = request.node
    check = check_of(node)
    if check is None:
        said = f'{node.name} judges a verdict but names no check: @pytest.mark.check("ID")'
        pytest.fail(said, pytrace=False)
    fails = inconclusive_fails(
        phase_of(request.config), check.phases, thresholds.flag(check.inconclusive_key)
    )

    def _judge(verdict: Verdict) -> None:
        if verdict.check_id != check.id:
            said = f"{node.name} runs check {check.id} but judged a {verdict.check_id} verdict"
            pytest.fail(said, pytrace=False)
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
    if check_of(item) is None:
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
    cut = False
    for nodeid, verdict, failure in results:
        if verdict is not None:
            head = f"{verdict.check_id:<3} {verdict.status.value:<12} {verdict.title}: "
            line = _one_line(head, f"{verdict.measured} [threshold {verdict.threshold}]")
            cut = cut or line.endswith(CUT)
            tr.write_line(line)
        elif failure:
            cause = failure.removeprefix("Failed: ")
            if cause not in causes:
                causes.append(cause)
            tr.write_line(f"{nodeid.rpartition('::')[2]}: not evaluated")
    if cut:
        tr.write_line(
            f"(lines ending in {CUT.strip()} are cut at {SUMMARY_WIDTH} characters: every value "
            "and threshold is in the report)"
        )
    for cause in causes:
        _wrapped(tr, cause, red=True)
    if record is None:
        if phase is None:
            tr.write_line(
                "not a single-phase run (-m PHASE): this run decides nothing", yellow=True
            )
        return
    if overruled := record["facts"].get(STRATEGY_FACT, {}).get("overruled"):
        _wrapped(tr, overruled, yellow=True)
    for reason in record["incomplete_reasons"]:
        _wrapped(tr, f"incomplete: {reason}", yellow=True)


SUMMARY_WIDTH = 160  # one check per line, in a terminal or a timer's log: the rest is in the report
CUT = " ..."


def _one_line(head: str, detail: str) -> str:
    """`head` and as much of `detail` (its whitespace made single blanks) as fits, cut with CUT."""
    line = head + " ".join(detail.split())
    if len(line) <= SUMMARY_WIDTH:
        return line
    return line[: SUMMARY_WIDTH - len(CUT)].rstrip() + CUT


def _wrapped(tr, text: str, **markup: bool) -> None:
    """A cause or reason whole, on as many lines of SUMMARY_WIDTH as it takes: what to fix."""
    for line in textwrap.wrap(text, SUMMARY_WIDTH, subsequent_indent="    ") or [""]:
        tr.write_line(line, **markup)
