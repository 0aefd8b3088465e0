"""The pytest plugin: options, target and threshold fixtures.

Options can also be given as environment variables SHADOWGATE_<NAME> (e.g.
SHADOWGATE_REDIS_URL), so a systemd timer or a wrapper script need not repeat them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import pytest

from shadowgate import config, host, stream
from shadowgate.checks import gates
from shadowgate.checks.preconditions import Backup
from shadowgate.envfile import EnvFile, parse_env
from shadowgate.intents import parse_outcome
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


def option(config_: pytest.Config, dest: str):
    """The value of a shadowgate option (CLI, then SHADOWGATE_<NAME>, then default)."""
    return config_.getoption(f"sg_{dest}")


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> config.Target:
    """Where this run looks: Redis, streams, unit, env file, model."""
    return config.Target(
        **{
            name: option(pytestconfig, name)
            for name in ("redis_url", "stream", "outcomes_stream", "unit", "env_file", "model")
        }
    )


@pytest.fixture(scope="session")
def thresholds(pytestconfig: pytest.Config) -> config.Thresholds:
    """The effective thresholds of this run (defaults, --config, --set)."""
    return config.Thresholds.load(option(pytestconfig, "config"), option(pytestconfig, "set"))


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
T = TypeVar("T")
_VERDICT = pytest.StashKey[Verdict]()
_RESULTS = pytest.StashKey[list]()


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


def read_source(action: Callable[[], T]) -> T:
    """Run one read of a data source; an unusable source fails the test with one operator line
    (the cause), never a traceback or an exception chain."""
    try:
        return action()
    except (stream.StreamError, host.HostError) as exc:
        cause = str(exc)
    pytest.fail(f"{NO_GO_PREFIX}{cause}", pytrace=False)


@pytest.fixture
def judge(request: pytest.FixtureRequest, thresholds: config.Thresholds):
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
    if not any(item.get_closest_marker(phase) for phase in PHASES):
        return report
    verdict = item.stash.get(_VERDICT, None)
    results = item.config.stash.setdefault(_RESULTS, [])
    if verdict is not None and report.when == "call":
        report.user_properties.append(("verdict", verdict.as_record()))
        results.append((item.nodeid, verdict, None))
    elif report.failed and verdict is None:
        text = str(
            getattr(report.longrepr, "reprcrash", None) and report.longrepr.reprcrash.message
        )
        results.append((item.nodeid, None, text))
    return report


def _decision(phase: str | None, ok: bool) -> str:
    if phase == "preactivation":
        return "GO" if ok else "NO-GO"
    return "OK" if ok else "STOP"


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(_RESULTS, [])
    if not results:
        return
    tr = terminalreporter
    phase = phase_of(config)
    ok = exitstatus == 0
    tr.section(f"shadowgate {phase or '(no single phase)'}: {_decision(phase, ok)}", sep="=")
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
    if phase is None:
        tr.write_line("not a single-phase run (-m PHASE): this run decides nothing", yellow=True)


# -- data sources: each read once per run; an unusable source is one NO-GO line ---------------

HOUR_MS = 3_600_000


@pytest.fixture(scope="session")
def now_ms() -> int:
    """The run's reference time: every time window ends here."""
    return int(time.time() * 1000)


@pytest.fixture(scope="session")
def engine_host(pytestconfig: pytest.Config):
    """The engine's machine through testinfra: local, or the first of `--hosts`."""
    hosts = pytestconfig.getoption("hosts", None) or "local://"
    return host.connect(hosts.split(",")[0])


@pytest.fixture(scope="session")
def redis_client(target: config.Target):
    client = stream.connect(target.redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def intent_reader(redis_client, target: config.Target) -> stream.StreamReader:
    return stream.StreamReader(redis_client, target.stream, target.redis_url)


@pytest.fixture(scope="session")
def intent_snapshot(intent_reader, thresholds: config.Thresholds) -> stream.Window:
    """The runbook's `XREVRANGE ... COUNT 100` snapshot."""
    return read_source(lambda: intent_reader.latest(int(thresholds["window.snapshot_count"])))


def _hours_window(reader, hours: float, now: int) -> stream.Window:
    return read_source(lambda: reader.window(now - int(hours * HOUR_MS)))


@pytest.fixture(scope="session")
def intent_day(intent_reader, thresholds: config.Thresholds, now_ms: int) -> stream.Window:
    """The precondition window (24 h): P3, and the gates' shadow observation."""
    return _hours_window(intent_reader, thresholds.number("window.precondition_hours"), now_ms)


@pytest.fixture(scope="session")
def shadow_history(
    intent_reader, intent_day, thresholds: config.Thresholds, now_ms: int
) -> stream.Window:
    """Long enough to prove the shadow observation period (P5); the day window when it is."""
    hours = thresholds.number("shadow.min_observation_hours")
    if hours <= thresholds.number("window.precondition_hours"):
        return intent_day
    return _hours_window(intent_reader, hours, now_ms)


@pytest.fixture(scope="session")
def outcomes_day(
    redis_client, target: config.Target, thresholds: config.Thresholds, now_ms: int
) -> stream.Window | None:
    """Outcomes of the precondition window; None when the outcomes stream does not exist."""
    reader = stream.StreamReader(
        redis_client, target.outcomes_stream, target.redis_url, parser=parse_outcome
    )
    start = now_ms - int(thresholds.number("window.precondition_hours") * HOUR_MS)

    def window_or_none() -> stream.Window | None:
        try:
            return reader.window(start)
        except stream.StreamMissing:
            return None

    return read_source(window_or_none)


@pytest.fixture(scope="session")
def gate_verdicts(intent_day, outcomes_day, target, thresholds) -> list[Verdict]:
    """G1-G4 computed once: the gate tests and the quorum (B5) read the same verdicts."""
    return gates.evaluate(intent_day, outcomes_day, target, thresholds)


@pytest.fixture(scope="session")
def unit_at_start(engine_host, target: config.Target) -> host.UnitState:
    """The unit as first seen in this run: B4 compares it with a later sample."""
    return read_source(lambda: host.unit_state(engine_host, target.unit))


@pytest.fixture
def unit_now(engine_host, target: config.Target, unit_at_start) -> host.UnitState:
    return read_source(lambda: host.unit_state(engine_host, target.unit))


@pytest.fixture(scope="session")
def host_clock(engine_host):
    return read_source(lambda: host.host_now(engine_host))


@pytest.fixture(scope="session")
def journal_recent(engine_host, target, thresholds, host_clock) -> list[host.JournalLine]:
    """The unit's journal over the runbook's `--since "5 minutes ago"`."""
    since = host_clock - timedelta(minutes=thresholds.number("shadow.journal_minutes"))
    return read_source(lambda: host.journal_lines(engine_host, target.unit, since))


@pytest.fixture(scope="session")
def env_file(engine_host, target: config.Target) -> EnvFile:
    """The engine's env file as stored (read only)."""
    return parse_env(read_source(lambda: host.read_text(engine_host, target.env_file)))


@pytest.fixture(scope="session")
def env_backups(engine_host, target: config.Target) -> list[Backup]:
    """Backups of the env file, oldest first, each parsed or with the reason it cannot be."""
    found = []
    for path in read_source(lambda: host.backups(engine_host, target.env_file)):
        try:
            found.append(Backup(path, parse_env(host.read_text(engine_host, path))))
        except host.HostError as exc:
            found.append(Backup(path, None, str(exc)))
    return found


@pytest.fixture(scope="session")
def model_file(engine_host, env_file: EnvFile, target: config.Target) -> host.FileFacts | None:
    """Facts about the file PATCHTST_MODEL_PATH names; None unless it is set exactly once."""
    lines = env_file.occurrences(target.model_path_key)
    if len(lines) != 1:
        return None
    return read_source(lambda: host.file_facts(engine_host, lines[0].value))
