"""The lifecycle in the suite: the verified chain the post-activation phases read their anchors
from, and the monitoring windows' "nothing to monitor" after a rollback.

T+0 and the rollback's start come from the verified chain only (`evidence.chain`: the lines
that verify and, where the engine host's journal was read, are anchored there): a line
appended by hand never moves them. A chain that does not verify is said in red at the start
and the run judges against the last verified activation (ARCHITECTURE.md "The lifecycle").

A monitoring window (window_30m, window_2h, window_6h) whose T+0 was rolled back judges
nothing: it says "rolled back at X (trigger S3); nothing to monitor" and exits 0, records
nothing (no check ran), rather than judging the shadow engine against the old T+0 and saying
STOP. window_24h and the activation suite are left to judge (an exit 0 there would read as
"raise the weight" or "activation verified").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from shadowgate.checks import catalog
from shadowgate.evidence import lifecycle
from shadowgate.evidence.chain import Chain, verified_chain
from shadowgate.plugin.options import reports_dir_of, settings_of
from shadowgate.plugin.phases import phase_of
from shadowgate.plugin.sources import engine_host_of, read_source

_CHAIN = pytest.StashKey[Chain]()


def chain_of(config_: pytest.Config) -> Chain:
    """The verified chain of this run's reports dir, read once (the journal of the first of
    --hosts is where the records are anchored); a reports dir that cannot be read fails the
    check asking, as any source does."""
    if _CHAIN not in config_.stash:
        reports = reports_dir_of(config_)
        config_.stash[_CHAIN] = read_source(
            lambda: verified_chain(reports, engine_host_of(config_))
        )
    return config_.stash[_CHAIN]


def verified_records(config_: pytest.Config) -> Sequence[Mapping[str, Any]]:
    """The records T+0 and the rollback's start may come from."""
    return chain_of(config_).records


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config_ = session.config
    if phase_of(config_) not in catalog.MONITORING:
        return
    try:
        chain = chain_of(config_)
    except pytest.fail.Exception:
        return  # the checks needing T+0 say why, one line each
    terminal = config_.pluginmanager.get_plugin("terminalreporter")
    if chain.broken() and terminal is not None:
        terminal.write_line(f"shadowgate: {chain.broken()}", red=True, bold=True)
    options = settings_of(config_)
    life = lifecycle.derive(
        chain.records,
        now=datetime.now(UTC),  # T+6 h is not asked here: only the rollback after T+0
        go=None,
        unit=options.target.unit,
        activated_at=options.activated_at,
        broken=chain.broken(),
    )
    if life.rollback is not None:
        pytest.exit(f"shadowgate {phase_of(config_)}: {life.rolled_back()}", returncode=0)
