"""Hand-made intents, outcomes and windows for table-driven rule tests: each test states the
few facts it varies, everything else is a healthy shadow engine read a moment ago."""

from __future__ import annotations

from collections.abc import Sequence

from shadowgate.intents import Intent, ModelVote, ParseError
from shadowgate.outcomes import Outcome
from shadowgate.window import Window

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z, the read time of every window here
SECOND, MINUTE, HOUR = 1000, 60_000, 3_600_000
KEY = "quantum:stream:trade.intent"


def vote(action: str = "BUY", confidence: float = 0.7, model: str = "", **flags) -> ModelVote:
    return ModelVote(action, confidence, model or "m", **flags)


def shadow(action: str = "BUY", confidence: float = 0.6, **flags) -> ModelVote:
    """PatchTST's vote in shadow, earlier engine's form (tagged)."""
    return ModelVote(action, confidence, "patchtst_shadow", shadow=True, **flags)


def voting(action: str = "BUY", confidence: float = 0.6) -> ModelVote:
    """PatchTST voting: no shadow evidence."""
    return ModelVote(action, confidence, "patchtst")


def intent(
    ts: int = NOW - 10 * SECOND,
    *,
    patchtst: ModelVote | None = None,
    side: str = "BUY",
    consensus: int = 3,
    others: dict[str, ModelVote] | None = None,
    symbol: str = "BTCUSDT",
    payload_bytes: int = 1200,
    missing: bool = False,
    **extra,
) -> Intent:
    """One intent: three other models voting `side`, PatchTST in shadow unless told (`missing`:
    no patchtst entry at all)."""
    others = others if others is not None else {m: vote(side) for m in ("xgb", "lgbm", "nhits")}
    breakdown = dict(others)
    if not missing:
        breakdown["patchtst"] = patchtst if patchtst is not None else shadow(side)
    return Intent(
        entry_id=f"{ts}-0", ts_ms=ts, symbol=symbol, side=side, confidence=0.8,
        consensus_count=consensus, total_models=4, breakdown=breakdown,
        payload_bytes=payload_bytes, **extra,
    )  # fmt: skip


def series(n: int, newest: int = NOW - 10 * SECOND, step: int = 10 * SECOND, **kw) -> list[Intent]:
    """n intents `step` apart, the newest at `newest`, oldest first."""
    return [intent(newest - (n - 1 - k) * step, **kw) for k in range(n)]


def _window(records: Sequence, errors: int, read_at: int, **span) -> Window:
    bad = tuple(ParseError(f"{NOW - k}-7", "payload: not JSON") for k in range(errors))
    ids = sorted([r.entry_id for r in records] + [e.entry_id for e in bad])
    ms = [int(i.split("-")[0]) for i in ids]
    return Window(
        key=KEY, records=tuple(records), errors=bad, foreign=0,
        first_id=ids[0] if ids else None, last_id=ids[-1] if ids else None,
        first_ms=ms[0] if ms else None, last_ms=ms[-1] if ms else None,
        noun="outcome" if records and isinstance(records[0], Outcome) else "intent",
        read_at_ms=read_at, **span,
    )  # fmt: skip


def snapshot(records: Sequence[Intent], errors: int = 0, read_at: int = NOW) -> Window[Intent]:
    """The latest-100 snapshot as `latest` reads it (found all it asked for, or not)."""
    return _window(
        records, errors, read_at, start_ms=None, end_ms=None, requested_count=100,
        covered=None, oldest_ms=records[0].ts_ms if records else None,
        reached_end=len(records) < 100,
    )  # fmt: skip


def timed(
    records: Sequence, start_ms: int, covered: bool = True, errors: int = 0, read_at: int = NOW
) -> Window:
    """A time window from start_ms to now; `covered` says whether the stream reaches start_ms."""
    oldest = start_ms - MINUTE if covered else start_ms + HOUR
    return _window(
        records, errors, read_at, start_ms=start_ms, end_ms=None, requested_count=None,
        covered=covered, oldest_ms=oldest,
    )  # fmt: skip


def outcome(ts: int, symbol: str, hit: bool) -> Outcome:
    """A closed LONG (opened by a BUY) that made money iff `hit`."""
    return Outcome(f"{ts}-0", ts, symbol, "LONG", 100.0, 101.0, 1.0 if hit else -1.0)
