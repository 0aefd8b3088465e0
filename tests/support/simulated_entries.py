"""The stand-in engine's entries as a throwaway Redis holds them, parsed."""

from __future__ import annotations

from shadowgate.intents import Foreign, Intent, parse_intent
from tests.support.simulator_runs import STREAM


def entries(server) -> list[Intent | Foreign]:
    parsed = [parse_intent(i, f) for i, f in server.client().xrange(STREAM)]
    assert all(isinstance(e, Intent | Foreign) for e in parsed), parsed[:3]
    return parsed  # type: ignore[return-value]


def intents(server) -> list[Intent]:
    return [e for e in entries(server) if isinstance(e, Intent)]
