"""Data-source fixtures: each source read once per run; an unusable source is one line
(`NO-GO cause: ...` before activation, `cannot judge: ...` after it).

The checks read the engine's Redis (intents, outcomes), its systemd unit, journal and files
through these fixtures only; every read goes through `read_source`, which turns a
StreamError, HostError or unreadable earlier record into the test's one-line cause, never a
traceback. What later phases compare against (the model file's sha256, the unit's
InvocationID) is noted for the run's record as it is read.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TypeVar

import pytest
from testinfra.host import Host

from shadowgate import config, envchain, evidence, host, stream
from shadowgate.checks import catalog, gate_rules
from shadowgate.checks.hostfacts import (
    CHAIN_FACT,
    MODEL_FACT,
    UNIT_FACT,
    PreviousUnit,
    chain_fact,
    model_fact,
    unit_fact,
)
from shadowgate.checks.preconditions import Backup
from shadowgate.checks.stops import PNL_FACT, PnlBaseline
from shadowgate.dayscan import DayScan, scan_stream
from shadowgate.envfile import EnvFile, parse_env
from shadowgate.intents import Intent
from shadowgate.outcomes import Outcome, parse_outcome
from shadowgate.plugin.options import reports_dir_of
from shadowgate.plugin.phases import phase_of
from shadowgate.plugin.state import note_fact
from shadowgate.replay import plugin as replay
from shadowgate.wording import NO_GO_PREFIX, cause_prefix

T = TypeVar("T")
K = TypeVar("K")  # whatever the report keeps

IntentReader = stream.StreamReader[Intent]

IntentWindow = stream.Window[Intent]

_OBSERVED = pytest.StashKey[dict]()
_PREFIX = [NO_GO_PREFIX]  # this run's source-failure word (wording.cause_prefix), at configure


def pytest_configure(config: pytest.Config) -> None:
    """`NO-GO cause: ` before activation; `cannot judge: ` in the later phases, which decide no
    GO / NO-GO."""
    _PREFIX[0] = cause_prefix(phase_of(config))


def read_source(action: Callable[[], T]) -> T:
    """Run one read of a data source; an unusable source fails the test with one operator line
    (the cause, prefixed as the run's phase says it), never a traceback or an exception chain."""
    try:
        return action()
    except (stream.StreamError, host.HostError, evidence.EvidenceError, OSError) as exc:
        cause = str(exc)
    pytest.fail(f"{_PREFIX[0]}{cause}", pytrace=False)


def observed(config_: pytest.Config) -> dict[str, object]:
    """What the checks read ("snapshot", "day", "since_t0", "outcomes_since_t0",
    "pnl_baseline"), for the report's plots."""
    return config_.stash.get(_OBSERVED, {})


def observe(config_: pytest.Config, name: str, window: K) -> K:
    """Keep `window` (a read, or S5's baseline) for the report. It lives until the session
    ends, so it is frozen out of the cyclic GC: every later collection (pytest's at exit too)
    would otherwise walk each of its records again, a quarter of a second per 100,000 intents."""
    config_.stash.setdefault(_OBSERVED, {})[name] = window
    gc.freeze()
    return window


@pytest.fixture(scope="session")
def now_ms(intent_reader: IntentReader) -> int:
    """The run's reference time, Redis's TIME (stream ids are its clock, not this machine's):
    every time window ends here."""
    return read_source(intent_reader.clock)


@pytest.fixture(scope="session")
def engine_host(pytestconfig: pytest.Config) -> Host:
    """The engine's machine through testinfra: local, or the first of `--hosts` (a replay's
    bundle in its place; recorded when the run captures one)."""
    return replay.engine_host(pytestconfig, engine_host_of(pytestconfig))


def engine_host_of(config_: pytest.Config) -> Host:
    """The first of `--hosts` (default this machine): the checks read it, the record's anchor
    goes to its journal."""
    return host.first_of(config_.getoption("hosts", None))


@pytest.fixture(scope="session")
def redis_client(
    pytestconfig: pytest.Config, target: config.Target
) -> Iterator[stream.ReadOnlyRedis]:
    """The engine's Redis, read only (a replay's bundle in its place; recorded when the run
    captures one)."""
    client = replay.redis_client(pytestconfig, target)
    yield client
    client.close()


@pytest.fixture(scope="session")
def intent_reader(
    redis_client: stream.ReadOnlyRedis,
    target: config.Target,
    thresholds: config.Thresholds,
) -> IntentReader:
    """The intents' reader."""
    return stream.StreamReader(
        redis_client, target.stream, target.redis_url, **stream.reader_options(thresholds)
    )


@pytest.fixture(scope="session")
def intent_snapshot(
    pytestconfig: pytest.Config, intent_reader: IntentReader, thresholds: config.Thresholds
) -> IntentWindow:
    """The runbook's `XREVRANGE ... COUNT 100` snapshot: the engine's latest 100 own intents,
    read back past other publishers (kept for the report's plots)."""
    count = int(thresholds["window.snapshot_count"])
    return observe(pytestconfig, "snapshot", read_source(lambda: intent_reader.latest(count)))


def _scan(
    reader: IntentReader,
    hours: float,
    now: int,
    target: config.Target,
    thresholds: config.Thresholds,
    outcomes: stream.Window[Outcome] | None = None,
    join_ms: float = 0.0,
) -> DayScan:
    start = now - int(hours * stream.HOUR_MS)
    model, split = target.breakdown_key, int(thresholds["window.split_scan_entries"])
    return read_source(lambda: scan_stream(reader, start, model, outcomes, join_ms, split))


@pytest.fixture(scope="session")
def intent_day(
    request: pytest.FixtureRequest,
    intent_reader: IntentReader,
    target: config.Target,
    thresholds: config.Thresholds,
    now_ms: int,
) -> DayScan:
    """The precondition window (24 h), read once into what P3, P5 and the gates measure (G4's
    join against the outcomes, read first) and the report's confidence plot."""
    try:
        outcomes = request.getfixturevalue("outcomes_day")
    except pytest.fail.Exception:  # G4 fails with that cause itself; P3 and P5 still judge
        outcomes = None
    hours = thresholds.number("window.precondition_hours")
    join_ms = gate_rules.join_window_ms(thresholds)
    day = _scan(intent_reader, hours, now_ms, target, thresholds, outcomes, join_ms)
    return observe(request.config, "day", day)


@pytest.fixture(scope="session")
def shadow_history(
    intent_reader: IntentReader,
    intent_day: DayScan,
    target: config.Target,
    thresholds: config.Thresholds,
    now_ms: int,
) -> DayScan:
    """Long enough to prove the shadow observation period (P5); the day window when it is."""
    hours = thresholds.number("shadow.min_observation_hours")
    if hours <= thresholds.number("window.precondition_hours"):
        return intent_day
    return _scan(intent_reader, hours, now_ms, target, thresholds)


@pytest.fixture(scope="session")
def outcome_reader(
    redis_client: stream.ReadOnlyRedis, target: config.Target, thresholds: config.Thresholds
) -> stream.StreamReader[Outcome]:
    return stream.StreamReader(
        redis_client,
        target.outcomes_stream,
        target.redis_url,
        parser=parse_outcome,
        **stream.reader_options(thresholds),
    )


def outcomes_from(
    reader: stream.StreamReader[Outcome], start_ms: int
) -> stream.Window[Outcome] | None:
    """Outcomes from `start_ms` to now; None when the outcomes stream does not exist."""

    def window_or_none() -> stream.Window[Outcome] | None:
        try:
            return reader.window(start_ms)
        except stream.StreamMissing:
            return None

    return read_source(window_or_none)


@pytest.fixture(scope="session")
def outcomes_day(
    pytestconfig: pytest.Config,
    outcome_reader: stream.StreamReader[Outcome],
    thresholds: config.Thresholds,
    now_ms: int,
) -> stream.Window[Outcome] | None:
    """Outcomes of the precondition window; None when the outcomes stream does not exist. Its
    win rate and mean loss go into the record: S5's baseline of the 24 h before activation."""
    start = now_ms - int(thresholds.number("window.precondition_hours") * stream.HOUR_MS)
    window = outcomes_from(outcome_reader, start)
    note_fact(pytestconfig, PNL_FACT, PnlBaseline.measure(window, start, now_ms).to_fact())
    return window


@pytest.fixture(scope="session")
def gate_verdicts(
    intent_day: DayScan,
    outcomes_day: stream.Window[Outcome] | None,
    target: config.Target,
    thresholds: config.Thresholds,
) -> gate_rules.GateVerdicts:
    """G1-G4, each computed once per run and judged with the quorum: the gate tests and B5
    read the same verdicts."""
    return gate_rules.GateVerdicts(intent_day, outcomes_day, target, thresholds)


@pytest.fixture(scope="session")
def unit_at_start(
    pytestconfig: pytest.Config, engine_host: Host, target: config.Target
) -> host.UnitState:
    """The unit as first seen in this run: B4 compares it with a later sample, and the record
    keeps its InvocationID and NRestarts for later phases."""
    state = read_source(lambda: host.unit_state(engine_host, target.unit))
    note_fact(pytestconfig, UNIT_FACT, unit_fact(state))
    return state


@pytest.fixture
def unit_now(
    engine_host: Host, target: config.Target, unit_at_start: host.UnitState
) -> host.UnitState:
    """A second sample, always taken after `unit_at_start` (hence that argument)."""
    return read_source(lambda: host.unit_state(engine_host, target.unit))


@pytest.fixture
def recent_auto_restart(
    request: pytest.FixtureRequest,
    engine_host: Host,
    unit_now: host.UnitState,
    host_clock: datetime,
    thresholds: config.Thresholds,
) -> host.AutoRestart:
    """Whether systemd restarted the unit automatically within the B4 window, if provable. In a
    monitoring window the window starts at T+0 at the earliest: a crash in shadow, before the
    activation's restart, is no restart loop of the activated engine."""
    since = host_clock - timedelta(hours=thresholds.number("service.auto_restart_window_hours"))
    if phase_of(request.config) in catalog.MONITORING:
        since = max(since, request.getfixturevalue("t0").at)
    return read_source(lambda: host.auto_restart_since(engine_host, unit_now, since))


@pytest.fixture(scope="session")
def previous_unit(pytestconfig: pytest.Config, target: config.Target) -> PreviousUnit | None:
    """The unit as the previous preactivation record of this target saw it (B4); None when
    there is no such record."""
    records = read_source(lambda: evidence.run_records(reports_dir_of(pytestconfig)))
    return PreviousUnit.latest(records, target)


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
def journal_since_start(engine_host: Host, unit_at_start: host.UnitState) -> list[host.JournalLine]:
    """What the unit wrote since its last start (its InvocationID): the model's load (P7)."""
    return read_source(lambda: host.journal_since_start(engine_host, unit_at_start))


@pytest.fixture(scope="session")
def env_file(engine_host: Host, target: config.Target) -> EnvFile:
    """The engine's env file as stored (read only)."""
    return parse_env(read_source(lambda: host.read_text(engine_host, target.env_file)))


@pytest.fixture(scope="session")
def env_chain(
    pytestconfig: pytest.Config, engine_host: Host, target: config.Target
) -> envchain.EnvChain:
    """What systemd delivers to the unit: unit file, drop-ins, every env file (read only)."""
    chain = read_source(lambda: host.env_chain(engine_host, target.unit))
    note_fact(pytestconfig, CHAIN_FACT, chain_fact(chain, target))
    return chain


@pytest.fixture(scope="session")
def env_file_facts(engine_host: Host, target: config.Target) -> host.FileFacts:
    """The env file's facts: may the operator write it (the rollback appends to it, P6)?"""
    return read_source(lambda: host.file_facts(engine_host, target.env_file))


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
    pytestconfig: pytest.Config, engine_host: Host, env_file: EnvFile, target: config.Target
) -> host.FileFacts | None:
    """Facts about the file PATCHTST_MODEL_PATH names as systemd delivers it (what the engine
    loads), kept in the record (its sha256 for A1); None when systemd sets no path."""
    path = env_file.systemd_value(target.model_path_key)
    if not path:
        return None
    facts = read_source(lambda: host.file_facts(engine_host, path))
    note_fact(pytestconfig, MODEL_FACT, model_fact(facts))
    return facts
