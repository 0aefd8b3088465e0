"""The pytest plugin: options, target and threshold fixtures, verdicts, and the run record.

Options can also be given as environment variables SHADOWGATE_<NAME> (e.g.
SHADOWGATE_REDIS_URL), so a systemd timer or a wrapper script need not repeat them.

A run whose `-m` names a phase marker is evidence (DESIGN "Evidence"): it writes, under
--reports-dir, `<run_id>.html` (pytest-html, self-contained), `<run_id>.junit.xml` and, once
both are final, its record through `evidence.append_record`. Hook order:

    pytest_configure (tryfirst)      run id; point pytest-html and junitxml at the reports dir
    pytest_collection_modifyitems    the phase's checks as collected (tryfirst: before -m/-k)
    pytest_deselected, pytest_make_collect_report   what was left out, what failed to collect
    pytest_runtest_makereport        verdicts, outcomes; the Redis password scrubbed
    pytest_sessionfinish (outermost wrapper)
        before: the record is built (pytest-html's summary and the terminal summary show it)
        after:  pytest-html and junitxml have written their files: hash them, append the record
"""

from __future__ import annotations

import getpass
import html
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from testinfra.host import Host

from shadowgate import __version__, config, evidence, host, redact, stream
from shadowgate.checks import gates
from shadowgate.checks.preconditions import Backup
from shadowgate.config import ConfigError, Thresholds
from shadowgate.envfile import EnvFile, parse_env
from shadowgate.intents import Intent, Outcome, parse_outcome
from shadowgate.verdict import Status, Verdict

_OPTIONS = (
    ("redis_url", config.DEFAULT_REDIS_URL, "Redis of the engine (password never printed)"),
    ("stream", config.DEFAULT_STREAM, "the engine's trade.intent stream"),
    ("outcomes_stream", config.DEFAULT_OUTCOMES_STREAM, "the trade.closed outcomes stream"),
    ("unit", config.DEFAULT_UNIT, "systemd unit of the AI engine"),
    ("env_file", config.DEFAULT_ENV_FILE, "the engine's env file"),
    ("model", config.DEFAULT_MODEL, "model being activated (flag and breakdown key derive)"),
    ("config", None, "threshold TOML layered over the shipped defaults"),
    ("reports_dir", "reports", "where reports and records are written"),
    ("operator", None, "who runs this (default: $SUDO_USER or $USER)"),
    ("approved_by", None, "who approved the activation, name/role (runbook s.7)"),
    ("weight", None, "initial voting weight in percent (runbook s.3: 10)"),
    ("confidence_cap", None, "confidence cap in 0..1, or none (runbook s.3: 0.75)"),
    ("observation_hours", None, "critical observation window in hours (runbook s.3: 6)"),
)


def _env_name(dest: str) -> str:
    return f"SHADOWGATE_{dest.upper()}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shadowgate", "shadowgate target and thresholds")
    for dest, default, help_text in _OPTIONS:
        group.addoption(
            f"--{dest.replace('_', '-')}",
            dest=f"sg_{dest}",
            default=os.environ.get(_env_name(dest), default),
            help=f"{help_text} [env {_env_name(dest)}; default {default}]",
        )
    env_sets = [s for s in os.environ.get("SHADOWGATE_SET", "").split(",") if s.strip()]
    group.addoption(
        "--set",
        dest="sg_set",
        action="append",
        default=env_sets,
        metavar="KEY=VALUE",
        help="override one threshold for one run, repeatable [env SHADOWGATE_SET, comma-separated]",
    )


def option(config_: pytest.Config, dest: str) -> Any:
    """The value of a shadowgate option (CLI, then SHADOWGATE_<NAME>, then default)."""
    return config_.getoption(f"sg_{dest}")


def target_of(config_: pytest.Config) -> config.Target:
    """Where this run looks: Redis, streams, unit, env file, model."""
    return config.Target(
        **{
            name: option(config_, name)
            for name in ("redis_url", "stream", "outcomes_stream", "unit", "env_file", "model")
        }
    )


def strategy_of(config_: pytest.Config) -> dict[str, Any]:
    """The activation parameters given for this run (runbook s.3, s.7), None where not given:
    shown in the report and recorded. A value out of range is refused with the option's name."""
    cap = option(config_, "confidence_cap")
    no_cap = cap is not None and str(cap).strip().lower() == "none"
    return {
        "approved_by": option(config_, "approved_by") or None,
        "weight": _positive(config_, "weight", 100.0),
        "confidence_cap": "none" if no_cap else _positive(config_, "confidence_cap", 1.0),
        "observation_hours": _positive(config_, "observation_hours", math.inf),
    }


def _positive(config_: pytest.Config, dest: str, top: float) -> float | None:
    text = option(config_, dest)
    if text is None or not str(text).strip():
        return None
    try:
        value = float(str(text).strip().removesuffix("%"))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= top):
        bound = f"a number > 0 and <= {top:g}" if math.isfinite(top) else "a number > 0"
        raise pytest.UsageError(
            f"--{dest.replace('_', '-')} (env {_env_name(dest)}) must be {bound}, got {text!r}"
        )
    return value


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> config.Target:
    """Where this run looks: Redis, streams, unit, env file, model."""
    return target_of(pytestconfig)


_THRESHOLDS = pytest.StashKey[config.Thresholds]()


def thresholds_of(config_: pytest.Config) -> config.Thresholds:
    """The effective thresholds of this run (defaults, --config, --set), loaded and validated
    once, when pytest configures."""
    return config_.stash[_THRESHOLDS]


@pytest.fixture(scope="session")
def thresholds(pytestconfig: pytest.Config) -> config.Thresholds:
    """The effective thresholds of this run (defaults, --config, --set)."""
    return thresholds_of(pytestconfig)


# -- verdicts ----------------------------------------------------------------------------------

PHASES = (
    "preactivation",
    "activation",
    "window_30m",
    "window_2h",
    "window_6h",
    "window_24h",
    "rollback_ready",
    "rollback",
)
NO_GO_PREFIX = "NO-GO cause: "
NOT_EVALUATED = "NOT EVALUATED"  # record status of a check whose data source failed
T = TypeVar("T")
IntentReader = stream.StreamReader[Intent]
IntentWindow = stream.Window[Intent]
_VERDICT = pytest.StashKey[Verdict]()
_RESULTS = pytest.StashKey[list]()
_CHECK_ID = re.compile(r"test_([A-Z]+\d+)(?![0-9A-Za-z])")
_WORSE = {"passed": 0, "skipped": 1, "failed": 2}


def verdict_of(item: pytest.Item) -> Verdict | None:
    """The verdict a check test judged, None if it never got that far (source failed)."""
    return item.stash.get(_VERDICT, None)


def run_results(config_: pytest.Config) -> list[tuple[str, Verdict | None, str | None]]:
    """(nodeid, verdict, failure text) of every phase-marked test run so far, in run order."""
    return config_.stash.get(_RESULTS, [])


def phase_of(config_: pytest.Config) -> str | None:
    """The phase this run checks, when `-m` names exactly one phase marker."""
    expr = (config_.getoption("markexpr") or "").strip()
    return expr if expr in PHASES else None


def check_id_of(test_name: str) -> str:
    """The check ID a test name carries (`test_B3_payload_p95` -> `B3`); else the name."""
    found = _CHECK_ID.match(test_name)
    return found.group(1) if found else test_name


def read_source(action: Callable[[], T]) -> T:
    """Run one read of a data source; an unusable source fails the test with one operator line
    (the cause), never a traceback or an exception chain."""
    try:
        return action()
    except (stream.StreamError, host.HostError) as exc:
        cause = str(exc)
    pytest.fail(f"{NO_GO_PREFIX}{cause}", pytrace=False)


@pytest.fixture
def judge(
    request: pytest.FixtureRequest, thresholds: config.Thresholds
) -> Callable[[Verdict], None]:
    """Assert a Verdict: FAIL fails, INCONCLUSIVE fails (preactivation, or when configured),
    DEFERRED skips with its reason, WARN passes and is shown in the summary."""

    def _judge(verdict: Verdict) -> None:
        request.node.stash[_VERDICT] = verdict
        if verdict.status is Status.DEFERRED:
            pytest.skip(verdict.message())
        inconclusive_fails = request.node.get_closest_marker("preactivation") is not None or bool(
            thresholds["monitor.inconclusive_fails"]
        )
        if verdict.status is Status.FAIL or (
            verdict.status is Status.INCONCLUSIVE and inconclusive_fails
        ):
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
    state = run_state(item.config)
    if state is not None and item.nodeid in state.collected:
        _note_outcome(state, report)
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


def failure_text(report: pytest.TestReport) -> str:
    """The one-paragraph reason of a failed or skipped report (no traceback)."""
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[2])
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message if crash is not None else report.longreprtext


def _decision(phase: str | None, ok: bool) -> str:
    if phase == "preactivation":
        return "GO" if ok else "NO-GO"
    return "OK" if ok else "STOP"


def headline(record: dict[str, Any]) -> str:
    """`shadowgate preactivation: NO-GO`: the run's verdict as the terminal and report title
    say it; a partial run says so, because it can never arm an action."""
    phase = record["phase"] or "(no single phase)"
    suffix = "" if record["complete"] else " (incomplete run)"
    return f"shadowgate {phase}: {record['decision'] or 'no decision'}{suffix}"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = run_state(config)
    record = state.record if state is not None else None
    results = run_results(config)
    if not results and record is None:
        return
    tr = terminalreporter
    phase = phase_of(config)
    title = f"shadowgate {phase or '(no single phase)'}: {_decision(phase, exitstatus == 0)}"
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
    for reason in record["incomplete_reasons"]:
        tr.write_line(f"incomplete: {reason}", yellow=True)
    tr.write_line(f"record: {state.record_path}")


# -- the run record (DESIGN "Evidence") ---------------------------------------------------------

_RUN = pytest.StashKey["RunState"]()
_OBSERVED = pytest.StashKey[dict]()


@dataclass
class RunState:
    """What a recorded run gathers from configure to sessionfinish; `record` is set when the
    session finishes, before pytest-html renders its summary."""

    run_id: str
    phase: str | None  # the single phase -m selects; None when -m is more than one marker
    markers: tuple[str, ...]  # every phase marker -m names
    started: datetime
    reports_dir: Path
    html_path: Path | None  # None: pytest-html is not active
    junit_path: Path | None  # None: junitxml is disabled
    collected: dict[str, str] = field(default_factory=dict)  # nodeid -> check ID, as collected
    deselected: list[str] = field(default_factory=list)
    collect_errors: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)  # nodeid -> outcome, in run order
    skip_reasons: dict[str, str] = field(default_factory=dict)
    record: dict[str, Any] | None = None

    @property
    def record_path(self) -> Path:
        return self.reports_dir / f"{self.run_id}.json"

    def carries(self, item: pytest.Item) -> bool:
        return any(item.get_closest_marker(marker) for marker in self.markers)


def run_state(config_: pytest.Config) -> RunState | None:
    """This run's recording state; None when `-m` names no phase marker (nothing recorded)."""
    return config_.stash.get(_RUN, None)


def observed(config_: pytest.Config) -> dict[str, stream.Window]:
    """The intent windows the checks read ("snapshot", "day"), for the report's plots."""
    return config_.stash.get(_OBSERVED, {})


def _observe(config_: pytest.Config, name: str, window: stream.Window) -> stream.Window:
    config_.stash.setdefault(_OBSERVED, {})[name] = window
    return window


def _named_phases(markexpr: str) -> tuple[str, ...]:
    return tuple(p for p in PHASES if re.search(rf"(?<![\w.]){p}(?![\w.])", markexpr))


def secrets_of(config_: pytest.Config) -> tuple[str, ...]:
    """The Redis password as given and decoded: never shown, never recorded."""
    return redact.url_secrets(option(config_, "redis_url") or "")


def _resolved(config_: pytest.Config, path: str | None) -> Path | None:
    """A report path as pytest-html / junitxml resolve it (from the invocation dir)."""
    if not path:
        return None
    return config_.invocation_params.dir / Path(os.path.expandvars(path)).expanduser()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before pytest-html and junitxml configure: a phase run gets its run id and its report
    paths in the reports dir (an --html / --junitxml the operator gave is kept)."""
    strategy_of(config)  # a bad --weight is refused before anything runs
    try:  # so is a misspelt threshold key or a bad value: one line
        config.stash[_THRESHOLDS] = Thresholds.load(option(config, "config"), option(config, "set"))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    markers = _named_phases(config.getoption("markexpr") or "")
    if not markers or config.option.collectonly or config.option.help:
        return
    started = datetime.now(UTC)
    phase = phase_of(config)
    run_id = evidence.new_run_id(phase, started)
    reports_dir = _resolved(config, option(config, "reports_dir"))
    reports_dir.mkdir(parents=True, exist_ok=True)
    opt = config.option
    if hasattr(opt, "htmlpath"):
        opt.htmlpath = opt.htmlpath or str(reports_dir / f"{run_id}.html")
        opt.self_contained_html = True  # evidence is one file: its sha256 covers everything
    if hasattr(opt, "xmlpath"):
        opt.xmlpath = opt.xmlpath or str(reports_dir / f"{run_id}.junit.xml")
    config.stash[_RUN] = RunState(
        run_id,
        phase,
        markers,
        started,
        reports_dir,
        _resolved(config, getattr(opt, "htmlpath", None)),
        _resolved(config, getattr(opt, "xmlpath", None)),
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The phase's checks as collected, before `-m` / `-k` deselect anything."""
    state = run_state(config)
    if state is not None:
        state.collected.update((i.nodeid, check_id_of(i.name)) for i in items if state.carries(i))


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


def _note_outcome(state: RunState, report: pytest.TestReport) -> None:
    """The check's worst outcome over setup, call and teardown."""
    before = state.outcomes.get(report.nodeid, "passed")
    state.outcomes[report.nodeid] = max(before, report.outcome, key=_WORSE.__getitem__)
    if report.skipped:
        state.skip_reasons[report.nodeid] = failure_text(report)


def cause_of(failure: str) -> str:
    """The operator's sentence in a source failure (`Failed: NO-GO cause: ...`)."""
    return failure.removeprefix("Failed: ").removeprefix(NO_GO_PREFIX).strip()


def _check_entry(
    state: RunState, nodeid: str, verdict: Verdict | None, failure: str | None
) -> dict[str, Any]:
    entry = {"nodeid": nodeid, "id": state.collected[nodeid], "outcome": state.outcomes[nodeid]}
    if verdict is not None:
        return entry | verdict.as_record()
    cause = cause_of(failure) if failure else state.skip_reasons.get(nodeid, "no verdict judged")
    return entry | {
        "title": None,
        "status": NOT_EVALUATED,
        "measured": None,
        "value": None,
        "threshold": None,
        "sample": None,
        "window": None,
        "section": None,
        "detail": cause,
        "evidence": [],
    }


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


def _incomplete_reasons(
    config_: pytest.Config, state: RunState, checks: list[dict[str, Any]], exitstatus: int
) -> list[str]:
    """Why this run does not cover its whole phase; empty when it does (DESIGN "Evidence")."""
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
    if not state.collected:
        reasons.append("no check of the phase was collected")
    not_run = [n for n in state.collected if n not in state.outcomes and n not in state.deselected]
    if not_run:
        count = f"{len(not_run)} of {len(state.collected)}"
        reasons.append(f"{count} checks did not run: {_ids(state, not_run)}")
    for check in checks:
        if check["outcome"] == "skipped" and check["status"] != Status.DEFERRED.value:
            why = (check["measured"] or check["detail"] or "").splitlines()[:1]
            reasons.append(f"{check['id']} skipped ({check['status']}): {''.join(why)}")
    if state.html_path is None:
        reasons.append("no HTML report: pytest-html is not active (-p no:html?)")
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        reasons.append("the run was interrupted")
    return reasons


def _plain(value: Any) -> Any:
    """JSON types only, as the decision log demands: tuples become lists, NaN becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _operator(config_: pytest.Config) -> str | None:
    given = option(config_, "operator") or os.environ.get("SUDO_USER") or os.environ.get("USER")
    try:
        return given or getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return None


def _build_record(config_: pytest.Config, state: RunState, exitstatus: int) -> dict[str, Any]:
    results = run_results(config_)
    by_node = {nodeid: (verdict, failure) for nodeid, verdict, failure in results}
    checks = [_check_entry(state, n, *by_node.get(n, (None, None))) for n in state.outcomes]
    reasons = _incomplete_reasons(config_, state, checks, exitstatus)
    th = thresholds_of(config_)
    causes = dict.fromkeys(cause_of(f) for _, v, f in results if v is None and f)
    passed = exitstatus == pytest.ExitCode.OK and bool(checks)
    passed = passed and all(c["outcome"] != "failed" for c in checks)
    record = {
        "run_id": state.run_id,
        "phase": state.phase,
        "markexpr": config_.getoption("markexpr") or None,
        "keyword": config_.getoption("keyword") or None,
        "started_at": evidence.iso_utc(state.started),
        "finished_at": evidence.iso_utc(datetime.now(UTC)),
        "operator": _operator(config_),
        "target": target_of(config_).describe(),
        "thresholds_digest": th.digest(),
        "overrides": dict(th.overrides),
        "suite_version": __version__,
        "strategy": strategy_of(config_),
        "checks": checks,
        "complete": not reasons,
        "incomplete_reasons": reasons,
        "passed": passed,
        "decision": _decision(state.phase, passed and not reasons) if state.phase else None,
        "causes": list(causes),
    }
    return redact.scrubbed(_plain(record), secrets_of(config_))


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


def _append(config_: pytest.Config, state: RunState) -> bool:
    """Append the finished record to the decision log; False (said in red) if it failed."""
    record = state.record
    html_file = _final_report(config_, state, state.html_path, ".html")
    if html_file is None and state.html_path is not None:
        record["incomplete_reasons"].append(f"the HTML report {state.html_path} is incomplete")
        record["complete"] = False
        record["decision"] = _decision(record["phase"], False) if record["phase"] else None
    junit_file = _final_report(config_, state, state.junit_path, ".junit.xml")
    try:
        evidence.append_record(state.reports_dir, record, html_file, junit_file)
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
        state.record = _build_record(session.config, state, session.exitstatus)
    try:
        return (yield)
    finally:
        if state is not None and not _append(session.config, state):
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


# -- data sources: each read once per run; an unusable source is one NO-GO line ---------------

HOUR_MS = 3_600_000


@pytest.fixture(scope="session")
def now_ms() -> int:
    """The run's reference time: every time window ends here."""
    return int(time.time() * 1000)


@pytest.fixture(scope="session")
def engine_host(pytestconfig: pytest.Config) -> Host:
    """The engine's machine through testinfra: local, or the first of `--hosts`."""
    hosts = pytestconfig.getoption("hosts", None) or "local://"
    return host.connect(hosts.split(",")[0])


@pytest.fixture(scope="session")
def redis_client(target: config.Target) -> Iterator[stream.ReadOnlyRedis]:
    client = stream.connect(target.redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def intent_reader(redis_client: stream.ReadOnlyRedis, target: config.Target) -> IntentReader:
    return stream.StreamReader(redis_client, target.stream, target.redis_url)


@pytest.fixture(scope="session")
def intent_snapshot(
    pytestconfig: pytest.Config, intent_reader: IntentReader, thresholds: config.Thresholds
) -> IntentWindow:
    """The runbook's `XREVRANGE ... COUNT 100` snapshot (kept for the report's plots)."""
    count = int(thresholds["window.snapshot_count"])
    return _observe(pytestconfig, "snapshot", read_source(lambda: intent_reader.latest(count)))


def _hours_window(reader: stream.StreamReader, hours: float, now: int) -> stream.Window:
    return read_source(lambda: reader.window(now - int(hours * HOUR_MS)))


@pytest.fixture(scope="session")
def intent_day(
    pytestconfig: pytest.Config,
    intent_reader: IntentReader,
    thresholds: config.Thresholds,
    now_ms: int,
) -> IntentWindow:
    """The precondition window (24 h): P3, and the gates' shadow observation (kept for the
    report's plots)."""
    hours = thresholds.number("window.precondition_hours")
    return _observe(pytestconfig, "day", _hours_window(intent_reader, hours, now_ms))


@pytest.fixture(scope="session")
def shadow_history(
    intent_reader: IntentReader,
    intent_day: IntentWindow,
    thresholds: config.Thresholds,
    now_ms: int,
) -> IntentWindow:
    """Long enough to prove the shadow observation period (P5); the day window when it is."""
    hours = thresholds.number("shadow.min_observation_hours")
    if hours <= thresholds.number("window.precondition_hours"):
        return intent_day
    return _hours_window(intent_reader, hours, now_ms)


@pytest.fixture(scope="session")
def outcomes_day(
    redis_client: stream.ReadOnlyRedis,
    target: config.Target,
    thresholds: config.Thresholds,
    now_ms: int,
) -> stream.Window[Outcome] | None:
    """Outcomes of the precondition window; None when the outcomes stream does not exist."""
    reader = stream.StreamReader(
        redis_client, target.outcomes_stream, target.redis_url, parser=parse_outcome
    )
    start = now_ms - int(thresholds.number("window.precondition_hours") * HOUR_MS)

    def window_or_none() -> stream.Window[Outcome] | None:
        try:
            return reader.window(start)
        except stream.StreamMissing:
            return None

    return read_source(window_or_none)


@pytest.fixture(scope="session")
def gate_verdicts(
    intent_day: IntentWindow,
    outcomes_day: stream.Window[Outcome] | None,
    target: config.Target,
    thresholds: config.Thresholds,
) -> list[Verdict]:
    """G1-G4 computed once: the gate tests and the quorum (B5) read the same verdicts."""
    return gates.evaluate(intent_day, outcomes_day, target, thresholds)


@pytest.fixture(scope="session")
def unit_at_start(engine_host: Host, target: config.Target) -> host.UnitState:
    """The unit as first seen in this run: B4 compares it with a later sample."""
    return read_source(lambda: host.unit_state(engine_host, target.unit))


@pytest.fixture
def unit_now(
    engine_host: Host, target: config.Target, unit_at_start: host.UnitState
) -> host.UnitState:
    """A second sample, always taken after `unit_at_start` (hence that argument)."""
    return read_source(lambda: host.unit_state(engine_host, target.unit))


@pytest.fixture(scope="session")
def host_clock(engine_host: Host) -> datetime:
    """The engine host's clock: uptime and the journal window are measured against it."""
    return read_source(lambda: host.host_now(engine_host))


@pytest.fixture(scope="session")
def journal_recent(
    engine_host: Host, target: config.Target, thresholds: config.Thresholds, host_clock: datetime
) -> list[host.JournalLine]:
    """The unit's journal over the runbook's `--since "5 minutes ago"`."""
    since = host_clock - timedelta(minutes=thresholds.number("shadow.journal_minutes"))
    return read_source(lambda: host.journal_lines(engine_host, target.unit, since))


@pytest.fixture(scope="session")
def env_file(engine_host: Host, target: config.Target) -> EnvFile:
    """The engine's env file as stored (read only)."""
    return parse_env(read_source(lambda: host.read_text(engine_host, target.env_file)))


@pytest.fixture(scope="session")
def env_backups(engine_host: Host, target: config.Target) -> list[Backup]:
    """Backups of the env file, oldest first, each parsed or with the reason it cannot be."""
    found = []
    for path in read_source(lambda: host.backups(engine_host, target.env_file)):
        try:
            found.append(Backup(path, parse_env(host.read_text(engine_host, path))))
        except host.HostError as exc:
            found.append(Backup(path, None, str(exc)))
    return found


@pytest.fixture(scope="session")
def model_file(
    engine_host: Host, env_file: EnvFile, target: config.Target
) -> host.FileFacts | None:
    """Facts about the file PATCHTST_MODEL_PATH names; None unless it is set exactly once."""
    lines = env_file.occurrences(target.model_path_key)
    if len(lines) != 1:
        return None
    return read_source(lambda: host.file_facts(engine_host, lines[0].value))
