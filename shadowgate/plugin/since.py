"""T+0 and what happened since: the data sources of the post-activation phases.

T+0 is the activation's restart, from the latest activation record of this unit in the
verified chain (plugin/lifecycle.py) or the operator's `--activated-at` (the later wins:
`evidence.anchors.resolve`). Without either,
nothing after the activation can be measured: every check that needs T+0 ends with one line
saying so and the window is INCONCLUSIVE, never a traceback. The record keeps which T+0 the run
used, so an auditor sees what "since T+0" meant.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from shadowgate import config, evidence, stream
from shadowgate.checks.stops import PNL_FACT, PnlBaseline
from shadowgate.evidence.anchors import ACTIVATE, T0_FACT, Anchor, resolve
from shadowgate.evidence.record import latest_before
from shadowgate.outcomes import Outcome
from shadowgate.plugin.lifecycle import verified_records
from shadowgate.plugin.options import reports_dir_of, settings_of
from shadowgate.plugin.sources import (
    IntentReader,
    IntentWindow,
    observe,
    outcomes_from,
    read_source,
)
from shadowgate.plugin.state import note_fact, run_state
from shadowgate.settings import Strategy
from shadowgate.strategy import FACT as STRATEGY_FACT
from shadowgate.strategy import in_force

NO_T0 = (
    "no T+0: no activation record in {reports} and no --activated-at=ISO8601 "
    "(an activation done by hand)"
)


def anchored(
    pytestconfig: pytest.Config,
    target: config.Target,
    kind: str,
    given: datetime | None,
    option: str,
    fact: tuple[str, tuple[str, ...]],
    missing: str,
) -> Anchor:
    """The anchor of `kind` (its record or the operator's `option`, the later), noted in the
    record's facts as `fact` (name, fields); without either, the test ends with the one line
    `missing` (formatted with the reports dir), never a traceback."""
    anchor = _latest(pytestconfig, target, kind, given, option)
    name, fields = fact
    known = {} if anchor is None else anchor.fact()
    note_fact(pytestconfig, name, {field: known.get(field) for field in fields})
    if anchor is None:
        pytest.fail(missing.format(reports=reports_dir_of(pytestconfig)), pytrace=False)
    return anchor


def _latest(
    pytestconfig: pytest.Config,
    target: config.Target,
    kind: str,
    given: datetime | None,
    option: str,
) -> Anchor | None:
    """The later of the latest verified record of `kind` and the operator's `option`; None
    without either."""
    reports = reports_dir_of(pytestconfig)
    among = verified_records(pytestconfig)  # never a raw line (ARCHITECTURE.md "The lifecycle")
    return read_source(lambda: resolve(reports, kind, given, option, target.describe(), among))


@pytest.fixture(scope="session")
def t0(pytestconfig: pytest.Config, target: config.Target) -> Anchor:
    """T+0: the activation record's restart or `--activated-at`, whichever is later."""
    given = settings_of(pytestconfig).activated_at
    fact = (T0_FACT, ("at", "source", "invocation_id"))
    anchor = anchored(pytestconfig, target, ACTIVATE, given, "--activated-at", fact, NO_T0)
    strategy_in_force(pytestconfig, anchor)
    return anchor


@pytest.fixture(scope="session")
def strategy(pytestconfig: pytest.Config, t0: Anchor) -> Strategy:
    """The strategy T+0's activation record holds (A1 compares `weight`), never this run's
    own command line: `pytest -m activation` run by hand judges what was activated."""
    return strategy_in_force(pytestconfig, t0)


def strategy_in_force(pytestconfig: pytest.Config, anchor: Anchor | None) -> Strategy:
    """The strategy of the activation `anchor` is T+0 of (shadowgate.strategy), kept as this
    run's recorded strategy, where it came from and any overruled command line in its facts."""
    found = in_force(settings_of(pytestconfig).strategy, anchor)
    note_fact(pytestconfig, STRATEGY_FACT, {"source": found.source, "overruled": found.overruled})
    state = run_state(pytestconfig)
    if state is not None:
        state.strategy = dataclasses.asdict(found.strategy)
    return found.strategy


def t0_strategy(pytestconfig: pytest.Config, target: config.Target) -> Strategy:
    """For a phase that judges without T+0 (rollback): the strategy in force all the same, for
    its decision log; T+0 resolved as the `t0` fixture does, none being no failure."""
    given = settings_of(pytestconfig).activated_at
    anchor = _latest(pytestconfig, target, ACTIVATE, given, "--activated-at")
    return strategy_in_force(pytestconfig, anchor)


@pytest.fixture(scope="session")
def intents_since_t0(
    pytestconfig: pytest.Config, intent_reader: IntentReader, t0: Anchor
) -> IntentWindow:
    """The engine's own intents from T+0 to now (kept for the report's plots)."""
    window = read_source(lambda: intent_reader.window(t0.ms))
    return observe(pytestconfig, "since_t0", window)


@pytest.fixture(scope="session")
def outcomes_since_t0(
    pytestconfig: pytest.Config, outcome_reader: stream.StreamReader[Outcome], t0: Anchor
) -> stream.Window[Outcome] | None:
    """Outcomes closed since T+0; None when the outcomes stream does not exist (kept for the
    report's S5 plot)."""
    return observe(pytestconfig, "outcomes_since_t0", outcomes_from(outcome_reader, t0.ms))


@pytest.fixture(scope="session")
def pnl_baseline(
    pytestconfig: pytest.Config, target: config.Target, t0: Anchor
) -> PnlBaseline | None:
    """S5's baseline as the latest preactivation record of this target before T+0 keeps it;
    None when there is no such record or it holds no baseline."""
    records = read_source(lambda: evidence.run_records(reports_dir_of(pytestconfig)))
    record = latest_before(records, "preactivation", target.describe(), t0.at)
    if record is None:
        return None
    baseline = PnlBaseline.from_fact(record.facts.get(PNL_FACT), record.run_id)
    return observe(pytestconfig, "pnl_baseline", baseline)  # for the report's S5 plot
