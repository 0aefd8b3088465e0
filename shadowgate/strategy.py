"""The strategy in force (runbook s.3, s.7): weight, confidence cap, observation hours and
approver as the activation record holds them. The phases after the activation read it from
there, never from their own command line (ARCHITECTURE.md "The lifecycle"): a window started by a
timer, or `pytest -m activation` run by hand, would otherwise judge A1 and fill the decision
log with whatever it was given, or with nothing. A command line that disagrees is said in one
line and the record wins; only an activation done by hand (`--activated-at`, no record) takes
the command line's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from shadowgate.evidence.anchors import Anchor
from shadowgate.settings import Strategy
from shadowgate.verdict import EPSILON

FACT = "strategy"  # a record's `facts` name: where its strategy came from, what it overruled
_SHOWN = {"approved_by": "approver", "weight": "weight", "confidence_cap": "confidence cap",
          "observation_hours": "observation hours"}  # fmt: skip


@dataclass(frozen=True)
class InForce:
    """The strategy a post-activation run uses, where it comes from, and the one line that
    says the command line was overruled (None when it agreed or gave nothing)."""

    strategy: Strategy
    source: str
    overruled: str | None = None


def _same(given: Any, recorded: Any) -> bool:
    if isinstance(given, float) and isinstance(recorded, int | float):
        return math.isclose(given, recorded, rel_tol=EPSILON, abs_tol=EPSILON)
    return given == recorded


def _shown(value: Any) -> str:
    if value is None:
        return "not recorded"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _recorded(name: str, value: Any) -> Any:
    """A recorded value as Strategy holds it; None for one of another type, which A1 cannot
    compare with (said as "not recorded", never a traceback)."""
    if name == "approved_by":
        return value if isinstance(value, str) else None
    if name == "confidence_cap" and value == "none":
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def in_force(given: Strategy, anchor: Anchor | None) -> InForce:
    """The activation record's strategy (the record wins over `given`, the command line's), or
    `given` when T+0 has no record holding one (an activation done by hand, or none)."""
    if anchor is None or anchor.strategy is None:
        why = "no activation record" if anchor is None else f"T+0 from {anchor.source}"
        return InForce(given, f"the command line ({why})")
    recorded = anchor.strategy
    kept = Strategy(**{f.name: _recorded(f.name, recorded.get(f.name)) for f in fields(Strategy)})
    differing = [
        (f.name, getattr(given, f.name), getattr(kept, f.name))
        for f in fields(Strategy)
        if getattr(given, f.name) is not None
        and not _same(getattr(given, f.name), getattr(kept, f.name))
    ]
    overruled = None
    if differing:
        said = ", ".join(f"{_SHOWN[n]} {_shown(g)}" for n, g, _ in differing)
        kept_said = ", ".join(f"{_SHOWN[n]} {_shown(k)}" for n, _, k in differing)
        overruled = (
            f"strategy: the command line's {said} disagrees with {anchor.source} ({kept_said}): "
            "the record wins (docs/ARCHITECTURE.md)"
        )
    return InForce(kept, anchor.source, overruled)
