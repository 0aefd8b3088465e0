"""The rollback checks (R1-R5) on hand-made env files, journals (plain, JSON msg, [QSC]), unit
states and intents since the rollback's restart: each condition failing alone, the 45 s wait,
the 60 s limit and R5's 10 s second sample just inside and just outside, what cannot be
proven INCONCLUSIVE. Status and value are asserted."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shadowgate.checks import rollback
from shadowgate.checks.activation import UnitSamples
from shadowgate.config import Thresholds
from shadowgate.envfile import parse_env
from shadowgate.intents import ModelVote
from shadowgate.verdict import Status
from tests.support import envchains
from tests.support.handmade import MINUTE, NOW, SECOND, intent, shadow, timed, voting
from tests.support.rollback_scenes import (
    INV,
    MANUAL,
    RECORDED,
    RESTART,
    SHADOW_PLAIN,
    START,
    TARGET,
    TH,
    S,
    line,
    read,
    unit,
)

MODEL = "/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth"
ROLLED_BACK = f"PATCHTST_MODEL_PATH={MODEL}\nPATCHTST_SHADOW_ONLY=true\n"  # s.6's echo appended
FLAG = "PATCHTST_SHADOW_ONLY"
BACK = envchains.process({FLAG: "true"})  # the engine's process after the rollback's restart
US = timedelta(microseconds=1)


# -- R1 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status", "value", "shown"),
    [
        (ROLLED_BACK, Status.PASS, 1, f"systemd delivers {FLAG}='true' (line 2)"),
        # the activation's sed never ran, or the rollback ran twice: two lines
        (f"{FLAG}=true\n{ROLLED_BACK}", Status.FAIL, 2, "2 anchored"),
        (f"{FLAG}=false\n{ROLLED_BACK}", Status.FAIL, 2, "2 anchored"),
        (f"PATCHTST_MODEL_PATH={MODEL}\n", Status.FAIL, 0, f"systemd delivers no {FLAG}"),
        # glued onto a last line without a newline: grep finds nothing, systemd no flag
        (f"PATCHTST_MODEL_PATH={MODEL}{FLAG}=true\n", Status.FAIL, 0, "none"),
        (f"PATCHTST_MODEL_PATH={MODEL}\nA=x \\\n{FLAG}=true\n", Status.FAIL, 1, "disagree"),
        (f"PATCHTST_MODEL_PATH={MODEL}\n{FLAG}=true \r\n", Status.PASS, 1, ""),
    ],
)
def test_r1_shadow_flag_back_exactly_once(text, status, value, shown):
    v = rollback.r1_shadow_flag_back(parse_env(text), TARGET, envchains.sole(text), BACK)
    assert (v.status, v.value) == (status, value), v.message()
    assert shown in v.message()


@pytest.mark.parametrize(
    ("process", "status", "shown"),
    [
        (envchains.process({FLAG: "false"}), Status.FAIL,
         f"has {FLAG}='false' (/proc/4242/environ)"),
        (envchains.process({}), Status.FAIL, f"MainPID 4242 has no {FLAG}"),
        (envchains.process(None, "/proc/4242/environ is not readable"), Status.INCONCLUSIVE,
         "the engine's real environment is unknown: /proc/4242/environ is not readable"),
    ],
)  # fmt: skip
def test_r1_judges_the_flag_the_engines_process_really_has(process, status, shown):
    """The files say true; the process started before the echo (or cannot be read)."""
    v = rollback.r1_shadow_flag_back(ENV, TARGET, envchains.sole(ENV), process)
    assert v.status is status and shown in v.detail, v.message()


def test_r1_fails_when_a_drop_in_resets_the_env_files():
    """Issue 19 form 2: `EnvironmentFile=` then `Environment=FLAG=false` in a drop-in."""
    chain = replace(envchains.sole(ENV), files=(), environment=((FLAG, "false"),))
    v = rollback.r1_shadow_flag_back(ENV, TARGET, chain, envchains.process({FLAG: "false"}))
    assert v.status is Status.FAIL
    assert v.detail.startswith(f"systemd does not read {TARGET.env_file} for {TARGET.unit}")


# -- R2 ---------------------------------------------------------------------------------------

QSC = "[QSC] patchtst INACTIVE: shadow mode - excluded from voting"
QSC_RULES = "[QSC] patchtst INACTIVE: fallback rules"
OK = "[OK] PatchTST agent loaded (weight: 10.0%)"


@pytest.mark.parametrize(
    ("journal", "anchor", "status", "value", "shown"),
    [
        (read(line(S, OK), line(20 * S, SHADOW_PLAIN)), RECORDED, Status.PASS, 1,
         "1 shadow line(s) in 2 lines, the first at"),
        (read(line(3 * S, QSC, "INFO")), RECORDED, Status.PASS, 1, ""),  # JSON msg, [QSC]
        (read(line(3 * S, f"2026-11-26 12:00:03 INFO {SHADOW_PLAIN}")), MANUAL, Status.PASS, 1, ""),
        # none: a FAIL once 45 s after the restart were read, not before
        (read(line(S, OK)), RECORDED, Status.FAIL, 0, "no shadow line in the 45.0 s after"),
        (read(line(S, OK), waited=45 * S - US), RECORDED, Status.INCONCLUSIVE, 0,
         "fewer than 45 s: not yet judged"),
        (read(line(S, QSC_RULES)), RECORDED, Status.FAIL, 0, "no shadow line"),  # not shadow
        # the journal's run is not the rollback's restart
        (read(line(S, SHADOW_PLAIN), state=unit(START - S, "e" * 32)), MANUAL,
         Status.INCONCLUSIVE, 1, "before 2025-12-31T23:58:00Z (--rollback-started-at)"),
        (read(state=unit(None, None)), MANUAL, Status.INCONCLUSIVE, 0, "no start time"),
        # restarted again since the rollback's restart: its lines are still after the restart
        (read(line(S, SHADOW_PLAIN), state=unit(RESTART + 9 * S, "e" * 32)), RECORDED,
         Status.PASS, 1, ""),
    ],
)  # fmt: skip
def test_r2_shadow_lines_return_within_the_wait(journal, anchor, status, value, shown):
    v = rollback.r2_shadow_lines_returning(journal, anchor, TARGET, TH)
    assert (v.status, v.value) == (status, value), v.message()
    assert shown in v.message()


# -- R3 ---------------------------------------------------------------------------------------


def since(*records, covered=True):
    return timed(list(records), NOW - 2 * MINUTE, covered=covered)


SHADOWED = [intent(NOW - k * 10 * SECOND) for k in range(5)]  # consensus 3 of 3, PatchTST shadow
LEAK = intent(patchtst=voting(), consensus=4)


@pytest.mark.parametrize(
    ("window", "status", "value"),
    [
        (since(*SHADOWED), Status.PASS, 0),
        (since(*SHADOWED[:4]), Status.INCONCLUSIVE, None),  # 4 < COUNT 5
        (since(*SHADOWED[:4], LEAK), Status.FAIL, 1),
        (since(LEAK), Status.FAIL, 1),  # a finding on any data
        (since(*SHADOWED, covered=False), Status.INCONCLUSIVE, None),
        (since(), Status.INCONCLUSIVE, 0),
    ],
)
def test_r3_no_consensus_only_patchtst_explains(window, status, value):
    v = rollback.r3_no_consensus_needing_the_model(window, TARGET, TH)
    assert (v.status, v.value) == (status, value), v.message()


# -- R4 ---------------------------------------------------------------------------------------

ENV = parse_env(ROLLED_BACK)
# Failed predictions: no shadow evidence, so the journal's lines time R4; R3 holds on them.
FAILED = [intent(i.ts_ms, patchtst=ModelVote("HOLD", 0.5, "patchtst_error")) for i in SHADOWED]
INTENTS = since(*FAILED)


def r4(journal, intents=INTENTS, anchor=RECORDED, env=ENV):
    return rollback.r4_rollback_time(
        env, envchains.sole(env), BACK, journal, intents, anchor, TARGET, TH
    )


@pytest.mark.parametrize(
    ("kwargs", "status", "value", "shown"),
    [
        ({"journal": read(line(20 * S, SHADOW_PLAIN))}, Status.PASS, 24.0, ": 24.0 s"),
        # the limit: 60 s from the start is not < 60 s
        ({"journal": read(line(56 * S - US, QSC), waited=60 * S)}, Status.PASS, 60 - 1e-6, ""),
        ({"journal": read(line(56 * S, QSC), waited=60 * S)}, Status.FAIL, 60.0,
         "back in shadow 60.0 s after the start"),
        # no evidence: FAIL once 60 s have passed, unproven before
        ({"journal": read(waited=56 * S)}, Status.FAIL, None, "no shadow evidence 60.0 s after"),
        ({"journal": read(waited=40 * S)}, Status.INCONCLUSIVE, None,
         "no shadow evidence yet, 44.0 s"),
        # 59 s after the start, but R2 has waited its 45 s for nothing: not back in shadow
        ({"journal": read(waited=55 * S)}, Status.FAIL, None, "R2 FAIL"),
        # a shadow-tagged intent is evidence too, the earliest wins
        ({"journal": read(line(30 * S, SHADOW_PLAIN)), "intents": since(
            intent(int((RESTART + 5 * S).timestamp() * 1000), patchtst=shadow()), *FAILED)},
         Status.PASS, 9.0, ""),
        # R1-R3 must hold
        ({"journal": read(line(20 * S, SHADOW_PLAIN)), "env": parse_env(f"{FLAG}=true\n" * 2)},
         Status.FAIL, 24.0, "R1 FAIL: back in shadow not established"),
        ({"journal": read(line(20 * S, SHADOW_PLAIN)), "intents": since(*FAILED, LEAK)},
         Status.FAIL, 24.0, "R3 FAIL"),
        ({"journal": read(line(20 * S, SHADOW_PLAIN)), "intents": since(*FAILED[:3])},
         Status.INCONCLUSIVE, 24.0, "R3 INCONCLUSIVE"),
        ({"journal": read(line(20 * S, SHADOW_PLAIN)),
          "anchor": replace(RECORDED, started_at=None)},
         Status.INCONCLUSIVE, None, "holds no start time"),
    ],
)  # fmt: skip
def test_r4_rollback_under_60_s_from_its_start(kwargs, status, value, shown):
    v = r4(**kwargs)
    assert (v.status, v.value) == (status, pytest.approx(value) if value else value), v.message()
    assert shown in v.message()


# -- R5 ---------------------------------------------------------------------------------------

OTHER_INV = "f" * 32


def stays(second=None, after=10 * S, first=None, **changed) -> UnitSamples:
    """R5's samples: `first` (the run the restart began) and, `after` its start, `second`
    (the first with `changed` fields)."""
    first = first or unit()
    second = second or replace(first, **changed)
    return UnitSamples(first, second, (first.started or RESTART) + after)


@pytest.mark.parametrize(
    ("given", "anchor", "status", "value", "shown"),
    [
        (stays(), RECORDED, Status.PASS, 0, ""),
        # rollback.stable_seconds: the second sample at 10 s is late enough, 1 µs before is not
        (stays(after=10 * S - US), RECORDED, Status.INCONCLUSIVE, 0,
         "second sample 10.0 s after the start, before 10 s"),
        # the same MainPID or not
        (stays(main_pid=4343), RECORDED, Status.FAIL, 0, "MainPID 4242 -> 4343"),
        (stays(invocation_id=OTHER_INV), RECORDED, Status.FAIL, 0, f"{INV} -> {OTHER_INV}"),
        # NRestarts equal or one more, even with the engine running again at the second sample
        (stays(n_restarts=1), RECORDED, Status.FAIL, 1,
         "crash-looping: NRestarts 0 -> 1 in 10.0 s after the restart"),
        (stays(n_restarts=3, main_pid=4343, invocation_id=OTHER_INV), RECORDED, Status.FAIL, 3,
         "crash-looping: NRestarts 0 -> 3 in 10.0 s after the restart; MainPID 4242 -> 4343"),
        (stays(n_restarts=None), RECORDED, Status.INCONCLUSIVE, None, "shows no NRestarts"),
        # the second sample caught it between two runs
        (stays(active_state="activating", sub_state="auto-restart", main_pid=None, n_restarts=1),
         RECORDED, Status.FAIL, 1, "is activating (auto-restart) at the second sample"),
        # the first: not running by the restart + 30 s, or already a later run than the restart's
        (stays(first=replace(unit(), active_state="failed", sub_state="failed")), RECORDED,
         Status.FAIL, 0, "is failed (failed), not active (running) 30 s after the restart"),
        (stays(first=replace(unit(), invocation_id=OTHER_INV, n_restarts=1)), RECORDED,
         Status.FAIL, 0, f"restarted since the rollback's restart: InvocationID {INV} after it, "
         f"{OTHER_INV} now"),
        # --rollback-started-at: no InvocationID, the start time decides
        (stays(first=unit(START + S, None)), MANUAL, Status.PASS, 0, ""),
        (stays(first=unit(START - US, None)), MANUAL, Status.INCONCLUSIVE, 0, "no restart since"),
    ],
)  # fmt: skip
def test_r5_the_engine_stays_up_after_the_restart(given, anchor, status, value, shown):
    v = rollback.r5_engine_stays_up(given, anchor, TH)
    assert (v.status, v.value) == (status, value), v.message()
    assert shown in v.message()
    assert v.threshold == (
        "active (running) within 30 s of the restart; same MainPID and InvocationID, NRestarts "
        "not grown, at a second sample >= 10 s after the start"
    )


def test_r5_the_second_sample_waits_rollback_stable_seconds():
    early = stays(after=2 * S)
    assert rollback.r5_engine_stays_up(early, RECORDED, TH).status is Status.INCONCLUSIVE
    th = Thresholds.load(sets=["rollback.stable_seconds=2"])
    assert rollback.r5_engine_stays_up(early, RECORDED, th).status is Status.PASS
