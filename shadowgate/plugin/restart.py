"""Sources after a restart (activation A0-A4, rollback R1-R5), read by waiting against a
deadline (shadowgate.waiting), never by a blind sleep: the unit until active, the journal until
a shadow line, the stream until the first intents, each bounded by its threshold key.

"Since the restart" of the activation is the `t0` fixture (plugin.since); the
rollback's is the `rollback` anchor here. Deadlines on the host's side (unit, journal) are
counted on the host's clock, the stream's on Redis's (TIME), as the stream windows are. A wait
longer than a few seconds says on the terminal what it waits for and how long is left (`told`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from testinfra.host import Host

from shadowgate import config, evidence, host, waiting
from shadowgate.checks.activation import ObservedModel, UnitSamples
from shadowgate.checks.rollback import JournalSince
from shadowgate.evidence.anchors import ROLLBACK, ROLLBACK_FACT, Anchor
from shadowgate.plugin.options import reports_dir_of, settings_of
from shadowgate.plugin.since import anchored, t0_strategy
from shadowgate.plugin.sources import IntentReader, IntentWindow, read_source

T = TypeVar("T")
NO_ROLLBACK = (
    "no rollback start: no rollback record in {reports} and no --rollback-started-at=ISO8601 "
    "(a rollback done by hand)"
)


def seconds_until(moment: datetime, now: datetime) -> float:
    """The budget left before `moment` (negative once it has passed)."""
    return (moment - now).total_seconds()


def _host_budget(engine_host: Host, moment: datetime) -> float:
    return seconds_until(moment, host.host_now(engine_host))


@pytest.fixture(scope="session")
def told(pytestconfig: pytest.Config) -> waiting.Telling:
    """Where a long wait says what it waits for: the terminal, past pytest's capture of a
    fixture's output (which would show it only after a failure)."""
    plugins = pytestconfig.pluginmanager
    terminal = plugins.getplugin("terminalreporter")
    capture = plugins.getplugin("capturemanager")
    if terminal is None:  # -p no:terminal
        return waiting.to_stderr()

    def say(line: str) -> None:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            terminal.write_line(line)

    return waiting.Telling(say, waiting.every_s(terminal.isatty()))


def _unit_running_by(
    engine_host: Host, unit: str, deadline: datetime, told: waiting.Telling
) -> host.UnitState:
    """The unit once active (running), or as it is at `deadline`."""
    polled = read_source(
        lambda: waiting.poll(
            lambda: host.unit_state(engine_host, unit),
            lambda state: state.running,
            _host_budget(engine_host, deadline),
            what=f"{unit} to be active after the restart (service.active_within_seconds)",
            tell=told,
        )
    )
    return polled.value


def _timed(engine_host: Host, read: Callable[[], T]) -> Callable[[], tuple[datetime, T]]:
    """`read` paired with the host's clock just before it: what it returns was there by then."""
    return lambda: (host.host_now(engine_host), read())


def _intents_by(
    reader: IntentReader,
    since: datetime,
    needed: int,
    deadline: datetime,
    told: waiting.Telling,
    what: str,
) -> IntentWindow:
    """The engine's intents since `since`, once `needed` are in or as they are at `deadline`."""
    since_ms = int(since.timestamp() * 1000)
    now = datetime.fromtimestamp(read_source(reader.clock) / 1000, UTC)
    polled = read_source(
        lambda: waiting.poll(
            lambda: reader.window(since_ms),
            lambda window: len(window.records) >= needed,
            seconds_until(deadline, now),
            what=what,
            tell=told,
        )
    )
    return polled.value


# -- activation ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def unit_after_restart(
    engine_host: Host,
    target: config.Target,
    thresholds: config.Thresholds,
    t0: Anchor,
    told: waiting.Telling,
) -> UnitSamples:
    """A0's two samples: until active or T+0 + `service.active_within_seconds`; then until
    `activation.stable_seconds` after the start, ending early when the process changes."""
    within = timedelta(seconds=thresholds.number("service.active_within_seconds"))
    first = _unit_running_by(engine_host, target.unit, t0.at + within, told)
    stable = timedelta(seconds=thresholds.number("activation.stable_seconds"))
    return _stays_up(
        engine_host, first, t0.at, stable, told, early=True, key="activation.stable_seconds"
    )


def _stays_up(
    engine_host: Host,
    first: host.UnitState,
    at: datetime,
    stable: timedelta,
    told: waiting.Telling,
    *,
    early: bool,
    key: str,
) -> UnitSamples:
    """A second sample after `first`, `stable` after its start (or `at`); `early`: taken as
    soon as the process changes (A0), else at the end, so NRestarts counts a loop (R5)."""
    same = (first.running, first.main_pid, first.invocation_id)
    polled = read_source(
        lambda: waiting.poll(
            _timed(engine_host, lambda: host.unit_state(engine_host, first.unit)),
            lambda sample: (
                early and (sample[1].running, sample[1].main_pid, sample[1].invocation_id) != same
            ),
            _host_budget(engine_host, (first.started or at) + stable) if first.running else 0,
            what=f"{first.unit} to stay up {stable.total_seconds():g} s after its start ({key})",
            tell=told,
        )
    )
    second_at, second = polled.value
    return UnitSamples(first, second, second_at)


@pytest.fixture(scope="session")
def journal_after_restart(
    engine_host: Host, unit_after_restart: UnitSamples
) -> list[host.JournalLine]:
    """What the unit's current run wrote since its start (its InvocationID): A1's load."""
    return read_source(lambda: host.journal_since_start(engine_host, unit_after_restart.second))


@pytest.fixture(scope="session")
def process_after_restart(engine_host: Host, unit_after_restart: UnitSamples) -> host.ProcessEnv:
    """The environment the engine's process since the restart really has (A1's flag)."""
    return read_source(lambda: host.process_environment(engine_host, unit_after_restart.second))


@pytest.fixture(scope="session")
def observed_model(
    pytestconfig: pytest.Config, target: config.Target, t0: Anchor
) -> ObservedModel | None:
    """The model file the latest preactivation record before T+0 observed in shadow."""
    records = read_source(lambda: evidence.run_records(reports_dir_of(pytestconfig)))
    return ObservedModel.latest(records, target, t0.at)


@pytest.fixture(scope="session")
def observed_model_file(
    engine_host: Host, observed_model: ObservedModel | None
) -> host.FileFacts | None:
    """The observed file as it is now (its sha256 against the record's); None without one."""
    if observed_model is None or observed_model.path is None:
        return None
    path = observed_model.path
    return read_source(lambda: host.file_facts(engine_host, path))


@pytest.fixture(scope="session")
def intents_after_restart(
    intent_reader: IntentReader, thresholds: config.Thresholds, t0: Anchor, told: waiting.Telling
) -> IntentWindow:
    """The intents since T+0, once `activation.min_intents` are in (the runbook's COUNT 5) or
    at T+0 + `activation.first_intent_wait_seconds`, whichever comes first."""
    wait = timedelta(seconds=thresholds.number("activation.first_intent_wait_seconds"))
    needed = int(thresholds["activation.min_intents"])
    what = f"{needed} intents of the engine since T+0 (activation.min_intents)"
    return _intents_by(intent_reader, t0.at, needed, t0.at + wait, told, what)


# -- rollback -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rollback(pytestconfig: pytest.Config, target: config.Target) -> Anchor:
    """The rollback's start and restart: its record or `--rollback-started-at`, the later
    (and the strategy it rolls back, for its decision log)."""
    given = settings_of(pytestconfig).rollback_started_at
    fact = (ROLLBACK_FACT, ("at", "started_at", "source", "invocation_id"))
    t0_strategy(pytestconfig, target)
    return anchored(
        pytestconfig, target, ROLLBACK, given, "--rollback-started-at", fact, NO_ROLLBACK
    )


@pytest.fixture(scope="session")
def unit_after_rollback(
    engine_host: Host,
    target: config.Target,
    thresholds: config.Thresholds,
    rollback: Anchor,
    told: waiting.Telling,
) -> host.UnitState:
    """The unit once active after the rollback's restart, or as it is at the restart +
    `service.active_within_seconds`."""
    within = timedelta(seconds=thresholds.number("service.active_within_seconds"))
    return _unit_running_by(engine_host, target.unit, rollback.at + within, told)


@pytest.fixture(scope="session")
def unit_stays_up_after_rollback(
    engine_host: Host,
    thresholds: config.Thresholds,
    rollback: Anchor,
    unit_after_rollback: host.UnitState,
    told: waiting.Telling,
) -> UnitSamples:
    """R5's second sample, `rollback.stable_seconds` after the start of the run the rollback's
    restart began (A0's, never taken early: R5 counts the restarts of a loop)."""
    stable = timedelta(seconds=thresholds.number("rollback.stable_seconds"))
    return _stays_up(
        engine_host,
        unit_after_rollback,
        rollback.at,
        stable,
        told,
        early=False,
        key="rollback.stable_seconds",
    )


@pytest.fixture(scope="session")
def process_after_rollback(
    engine_host: Host, unit_after_rollback: host.UnitState
) -> host.ProcessEnv:
    """The environment the engine's process since the rollback's restart really has (R1)."""
    return read_source(lambda: host.process_environment(engine_host, unit_after_rollback))


@pytest.fixture(scope="session")
def journal_since_rollback(
    engine_host: Host,
    target: config.Target,
    thresholds: config.Thresholds,
    rollback: Anchor,
    unit_after_rollback: host.UnitState,
    told: waiting.Telling,
) -> JournalSince:
    """The current run's journal, until a shadow line shows or the restart +
    `rollback.shadow_wait_seconds` has passed (one read more at the deadline)."""
    unit = unit_after_rollback
    wait = timedelta(seconds=thresholds.number("rollback.shadow_wait_seconds"))
    polled = read_source(
        lambda: waiting.poll(
            _timed(engine_host, lambda: host.journal_since_start(engine_host, unit)),
            lambda read: any(host.is_shadow_line(line.text, target.model) for line in read[1]),
            _host_budget(engine_host, (unit.started or rollback.at) + wait),
            what=f"a shadow mode line in the journal of {unit.unit} (rollback.shadow_wait_seconds)",
            tell=told,
        )
    )
    read_at, lines = polled.value
    return JournalSince(tuple(lines), unit, read_at)


@pytest.fixture(scope="session")
def intents_since_rollback(
    intent_reader: IntentReader,
    thresholds: config.Thresholds,
    rollback: Anchor,
    unit_after_rollback: host.UnitState,
    told: waiting.Telling,
) -> IntentWindow:
    """The intents since the rollback's restart (the unit's start, when it is after the
    anchor: a start time given by hand is the rollback's start, before its restart), once
    `rollback.min_intents` are in or at the restart + `rollback.intent_wait_seconds`."""
    restart = max(rollback.at, unit_after_rollback.started or rollback.at)
    wait = timedelta(seconds=thresholds.number("rollback.intent_wait_seconds"))
    needed = int(thresholds["rollback.min_intents"])
    what = f"{needed} intents of the engine since the rollback's restart (rollback.min_intents)"
    return _intents_by(intent_reader, restart, needed, restart + wait, told, what)
