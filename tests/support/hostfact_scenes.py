"""Inputs shared by tests/unit/checks' rule tests and their edge tests (host)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from shadowgate.checks import preconditions
from shadowgate.checks.preconditions import Backup
from shadowgate.config import Target
from shadowgate.envfile import parse_env
from shadowgate.host import FileFacts, JournalLine, UnitState
from tests.support import envchains

TARGET = Target()


MODEL = "/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth"


NAME = "patchtst_v20260109_233444.pth"


HEALTHY_ENV = f"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH={MODEL}\n"


STARTED = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


BACKUP = "/etc/quantum/ai-engine.env.bak.activation.20261125_060000"


FLAG = "PATCHTST_SHADOW_ONLY"


GOOD = Backup(BACKUP, parse_env(HEALTHY_ENV))


def unit(started: datetime | None = STARTED) -> UnitState:
    return UnitState(
        TARGET.unit, "loaded", "active", "running", "success", 0, 4242, started,
        "0123456789abcdef0123456789abcdef", started,
    )  # fmt: skip


def model(**changes) -> FileFacts:
    facts = FileFacts(MODEL, True, True, True, 1024, "cd" * 32, STARTED, STARTED - timedelta(1))
    return replace(facts, **changes)


def journal(*texts: str, exception: str | None = None) -> list[JournalLine]:
    ts = STARTED + timedelta(seconds=1)
    lines = [JournalLine(ts + timedelta(milliseconds=i), t) for i, t in enumerate(texts)]
    return lines + ([JournalLine(ts, "agent init", "ERROR", exception)] if exception else [])


CHOSEN = f"[PatchTST] Using PATCHTST_MODEL_PATH env var: {MODEL}"


READ = f"[PatchTST] ✅ Model weights loaded from {NAME}"


OK = "[OK] PatchTST agent loaded (weight: 20.0%)"


RANDOM = "[PatchTST] Using uninitialized model with random weights"


def live_facts(writable: bool = True) -> FileFacts:
    return FileFacts(TARGET.env_file, True, True, True, 90, "ab" * 32, writable=writable)


def p6(backups, live_text=HEALTHY_ENV, writable=True):
    return preconditions.p6_rollback_plan(
        backups, parse_env(live_text), live_facts(writable), TARGET, envchains.sole(live_text)
    )


LOADED = journal(CHOSEN, f"[PatchTST] Loading model from {MODEL}", READ, OK)


def p7(env_text=HEALTHY_ENV, facts=None, state=None, lines=LOADED, chain=None):
    facts = model() if facts is None else facts
    chain = envchains.sole(env_text) if chain is None else chain
    return preconditions.p7_model_observed(
        parse_env(env_text), facts, state or unit(), lines, TARGET, chain
    )
