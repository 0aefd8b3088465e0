"""The phase markers a run can select, and which one this run checks."""

from __future__ import annotations

import re

import pytest

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


def phase_of(config_: pytest.Config) -> str | None:
    """The phase this run checks, when `-m` names exactly one phase marker."""
    expr = (config_.getoption("markexpr") or "").strip()
    return expr if expr in PHASES else None


def named_phases(markexpr: str) -> tuple[str, ...]:
    return tuple(p for p in PHASES if re.search(rf"(?<![\w.]){p}(?![\w.])", markexpr))
