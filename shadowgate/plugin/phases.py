"""The phase markers, registered from the check catalog's (checks/row.py), and which phase
this run checks."""

from __future__ import annotations

import re

import pytest

from shadowgate.checks import row

PHASES = tuple(row.PHASES)


def pytest_configure(config: pytest.Config) -> None:
    """Register each phase marker (its help from the catalog), so --strict-markers knows it."""
    for phase, meaning in row.PHASES.items():
        config.addinivalue_line("markers", f"{phase}: {meaning}")


def phase_of(config_: pytest.Config) -> str | None:
    """The phase this run checks, when `-m` names exactly one phase marker."""
    expr = (config_.getoption("markexpr") or "").strip()
    return expr if expr in PHASES else None


def named_phases(markexpr: str) -> tuple[str, ...]:
    return tuple(p for p in PHASES if re.search(rf"(?<![\w.]){p}(?![\w.])", markexpr))
