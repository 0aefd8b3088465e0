"""Hypothesis strategies for intents, outcomes and windows (the metrics' properties)."""

from __future__ import annotations

from hypothesis import strategies as st

from shadowgate.intents import ACTIONS, Intent, ModelVote
from shadowgate.outcomes import Outcome

MODELS = ("xgb", "lgbm", "nhits", "patchtst", "tft")


SYMBOLS = ("BTCUSDT", "ETHUSDT")


PT = "patchtst"


confidence = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


ts = st.integers(min_value=0, max_value=60 * 60_000)


@st.composite
def votes(draw: st.DrawFn, name: str) -> ModelVote:
    """Every real vote form: plain, `_shadow`, `_error`, `_model` (HOLD 0.0 is then failed),
    shadow-tagged, inactive for shadow mode or fallback rules (confidence up to 1.05)."""
    suffix = draw(st.sampled_from(["", "_shadow", "_error", "_model"]))
    inactive = draw(st.booleans())
    reason = draw(st.sampled_from([None, "shadow_mode", "fallback_rules"])) if inactive else None
    return ModelVote(
        draw(st.sampled_from(ACTIONS)),
        draw(st.one_of(confidence, st.sampled_from([0.0, 1.05]))),
        name + suffix,
        draw(st.booleans()),
        inactive,
        reason,
    )


@st.composite
def intents(draw: st.DrawFn, seq: int = 0) -> Intent:
    names = draw(st.lists(st.sampled_from(MODELS), unique=True, max_size=len(MODELS)))
    at = draw(ts)
    return Intent(
        entry_id=f"{at}-{seq}",
        ts_ms=at,
        symbol=draw(st.sampled_from(SYMBOLS)),
        side=draw(st.sampled_from(["BUY", "SELL"])),
        confidence=draw(confidence),
        consensus_count=draw(st.integers(0, 5)),
        total_models=draw(st.integers(0, 5)),
        breakdown={name: draw(votes(name)) for name in names},
        fallback=draw(st.booleans()),
        payload_bytes=draw(st.integers(0, 4000)),
    )


@st.composite
def windows(draw: st.DrawFn) -> list[Intent]:
    """Intents with distinct entry ids, as a stream guarantees."""
    return [draw(intents(seq)) for seq in range(draw(st.integers(0, 15)))]


@st.composite
def outcome_lists(draw: st.DrawFn) -> list[Outcome]:
    result = []
    for seq in range(draw(st.integers(0, 15))):
        at = draw(ts)
        pnl = draw(st.floats(-5, 5, allow_nan=False))
        side = draw(st.sampled_from(["LONG", "SHORT"]))
        result.append(
            Outcome(f"{at}-{seq}", at, draw(st.sampled_from(SYMBOLS)), side, 1.0, 1.0, pnl)
        )
    return result
