"""Inputs shared by tests/unit/checks' rule tests and their edge tests (activation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shadowgate.checks import activation
from shadowgate.checks.activation import ObservedModel, UnitSamples
from shadowgate.config import Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.host import FileFacts, JournalLine, UnitState
from tests.support import envchains

TARGET = Target()


TH = Thresholds.load()


T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


INV = "0123456789abcdef0123456789abcdef"


US = timedelta(microseconds=1)


S = timedelta(seconds=1)


RECORDED = Anchor(T0, "activate record 20261126T120000Z-activate-1a2b3c", INV, T0 - 2 * S)


MANUAL = Anchor(T0, "--activated-at", started_at=T0)


def unit(
    started: datetime | None = T0 + 5 * S,
    invocation: str | None = INV,
    pid: int | None = 4242,
    state: tuple[str, str] = ("active", "running"),
) -> UnitState:
    return UnitState(
        TARGET.unit, "loaded", *state, "success", 0, pid, started, invocation, started,
    )  # fmt: skip


def samples(first=None, second=None, after=timedelta(seconds=10)) -> UnitSamples:
    first = first or unit()
    started = first.started or T0
    return UnitSamples(first, second or first, started + after)


MODEL = "/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth"


NAME = "patchtst_v20260109_233444.pth"


SHA = "cd" * 32


CHOSEN = f"[PatchTST] Using PATCHTST_MODEL_PATH env var: {MODEL}"


READ = f"[PatchTST] ✅ Model weights loaded from {NAME}"


OK10 = "[OK] PatchTST agent loaded (weight: 10.0%)"


SHADOW_PLAIN = (
    "2026-11-26 12:00:40 INFO [SHADOW] PatchTST | BTCUSDT | action=BUY conf=0.6150 | "
    "prob=0.6150 logit=0.4685 | mode=SHADOW_ONLY"
)


def journal(*texts: str, level: str | None = None) -> list[JournalLine]:
    """Plain lines (`level` None) or the msg of the engine's JSON lines (`level` set)."""
    ts = T0 + 6 * S
    return [JournalLine(ts + k * S, t, level) for k, t in enumerate(texts)]


LOADED = journal(CHOSEN, READ, OK10)


VOTING = envchains.sole("")  # after the activation: nothing delivers the flag


NO_FLAG = envchains.process({})  # the engine's process after the activation's restart


OBSERVED = ObservedModel("20261126T113000Z-preactivation-1a2b3c", MODEL, SHA)


FILE = FileFacts(MODEL, True, True, True, 1024, SHA, T0 - timedelta(days=2), T0 - timedelta(1))


def a1(lines=LOADED, state=None, anchor=RECORDED, observed=OBSERVED, facts=FILE, weight=10.0):
    return activation.a1_model_loaded_voting(
        lines, state or unit(), anchor, observed, facts, TARGET, weight, VOTING, NO_FLAG
    )
