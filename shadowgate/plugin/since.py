"""T+0 and what happened since: the data sources of the post-activation phases.

T+0 is the activation's restart, from the latest activation record of this unit or the
operator's `--activated-at` (the later wins: `evidence.anchors.resolve`). Without either,
nothing after the activation can be measured: every check that needs T+0 ends with one line
saying so and the window is INCONCLUSIVE, never a traceback. The record keeps which T+0 the run
used, so an auditor sees what "since T+0" meant.
"""

from __future__ import annotations

import pytest
from testinfra.host import Host

from shadowgate import config, evidence, host, stream
from shadowgate.checks.stops import PNL_FACT, PnlBaseline
from shadowgate.evidence.anchors import ACTIVATE, Anchor, resolve
from shadowgate.intents import Outcome
from shadowgate.plugin.options import reports_dir_of, settings_of
from shadowgate.plugin.sources import (
    IntentReader,
    IntentWindow,
    observe,
    outcomes_from,
    read_source,
)
from shadowgate.plugin.state import note_fact

T0_FACT = "t0"  # the record's `facts` name of the T+0 the run measured from
NO_T0 = (
    "no T+0: no activation record in {reports} and no --activated-at=ISO8601 "
    "(an activation done by hand)"
)


@pytest.fixture(scope="session")
def activation(pytestconfig: pytest.Config, target: config.Target) -> Anchor:
    """T+0: the activation record's restart or `--activated-at`, whichever is later."""
    reports = reports_dir_of(pytestconfig)
    given = settings_of(pytestconfig).activated_at
    anchor = read_source(
        lambda: resolve(reports, ACTIVATE, given, "--activated-at", target.describe())
    )
    if anchor is None:
        note_fact(pytestconfig, T0_FACT, {"at": None, "source": None, "invocation_id": None})
        pytest.fail(NO_T0.format(reports=reports), pytrace=False)
    used = {"at": anchor.at.isoformat(), "source": anchor.source}
    note_fact(pytestconfig, T0_FACT, used | {"invocation_id": anchor.invocation_id})
    return anchor


@pytest.fixture(scope="session")
def intents_since_t0(
    pytestconfig: pytest.Config, intent_reader: IntentReader, activation: Anchor
) -> IntentWindow:
    """The engine's own intents from T+0 to now (kept for the report's plots)."""
    window = read_source(lambda: intent_reader.window(activation.ms))
    return observe(pytestconfig, "since_t0", window)


@pytest.fixture(scope="session")
def outcomes_since_t0(
    outcome_reader: stream.StreamReader[Outcome], activation: Anchor
) -> stream.Window[Outcome] | None:
    """Outcomes closed since T+0; None when the outcomes stream does not exist."""
    return outcomes_from(outcome_reader, activation.ms)


@pytest.fixture(scope="session")
def journal_since_t0(
    engine_host: Host, target: config.Target, activation: Anchor
) -> list[host.JournalLine]:
    """What the unit wrote since T+0: by the activation's InvocationID when its record names
    one (lines from the restart on, whatever the clocks say), else by time."""
    invocation = activation.invocation_id
    since = None if invocation else activation.at
    return read_source(
        lambda: host.journal_lines(engine_host, target.unit, since, invocation=invocation)
    )


@pytest.fixture(scope="session")
def pnl_baseline(
    pytestconfig: pytest.Config, target: config.Target, activation: Anchor
) -> PnlBaseline | None:
    """S5's baseline as the latest preactivation record of this target before T+0 keeps it;
    None when there is no such record or it holds no baseline."""
    records = read_source(lambda: evidence.run_records(reports_dir_of(pytestconfig)))
    before = [
        r
        for r in records
        if r.phase == "preactivation"
        and dict(r.target) == target.describe()
        and (finished := r.finished()) is not None
        and finished <= activation.at
    ]
    if not before:
        return None
    return PnlBaseline.from_fact(before[-1].facts.get(PNL_FACT), before[-1].run_id)
