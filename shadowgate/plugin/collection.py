"""Each check test's catalog row, attached as it is collected: the test names its check with
one marker, `@pytest.mark.check("S3")`, and the catalog (shadowgate/checks/catalog.py) gives it
its phase markers. `-m window_30m` thus selects from the catalog, and the judge and the run
record read the ID from the row, never from the test's name.

A phase marker written by hand (on the test, its class or its module) must say exactly the
catalog's phases of the check, and one on a test that names no check is refused: a marker
written by hand can never make a check run in a phase it does not belong to. Done in
`pytest_itemcollected`, which pytest calls for each item before any
`pytest_collection_modifyitems` (its own `-m` deselection, the record's list of the phase's
checks) sees the items.
"""

from __future__ import annotations

import pytest

from shadowgate.checks import catalog
from shadowgate.checks.row import Check
from shadowgate.plugin.phases import PHASES

MARKER = "check"
_ROW = pytest.StashKey[Check]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(ID): the catalog check this test runs; its phase markers come from the catalog",
    )


def check_of(item: pytest.Item) -> Check | None:
    """The catalog row of a check test; None for a test that names no check."""
    return item.stash.get(_ROW, None)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Attach the row the `check` marker names and put the row's phase markers on the test;
    refuse (a UsageError naming the test and the check) anything that would let a phase
    marker disagree with the catalog."""
    written = tuple(phase for phase in PHASES if item.get_closest_marker(phase))
    row = _row_named(item)
    if row is None:
        if written:
            raise pytest.UsageError(
                f"{item.nodeid} is marked {', '.join(written)} but names no check: mark it "
                f'@pytest.mark.{MARKER}("ID") instead; its catalog row gives its phases'
            )
        return
    catalog_phases = tuple(phase for phase in PHASES if phase in row.phases)
    if written and written != catalog_phases:
        raise pytest.UsageError(
            f"{item.nodeid}: check {row.id} is marked {', '.join(written)} by hand, but the "
            f"catalog runs it in {', '.join(catalog_phases)}: remove the phase markers "
            "(the catalog gives them) or change its row in shadowgate/checks/catalog.py"
        )
    for phase in catalog_phases if not written else ():
        item.add_marker(phase)
    item.stash[_ROW] = row


def _row_named(item: pytest.Item) -> Check | None:
    """The row of the one check ID the test's `check` markers name; None without one."""
    named = {mark.args for mark in item.iter_markers(MARKER)}
    if not named:
        return None
    if len(named) > 1 or any(len(args) != 1 or not isinstance(args[0], str) for args in named):
        given = "; ".join(", ".join(map(repr, args)) or "nothing" for args in named)
        raise pytest.UsageError(
            f'{item.nodeid}: @pytest.mark.{MARKER}("ID") names one check ID, got {given}'
        )
    ((check_id,),) = named
    try:
        return catalog.get(check_id)
    except KeyError as exc:
        raise pytest.UsageError(
            f"{item.nodeid}: {exc.args[0]} (shadowgate/checks/catalog.py): add its row first"
        ) from None
