"""The activation checks (A0-A4) on hand-made unit samples, journals (plain, JSON msg, [QSC]),
model facts and intents since T+0: each condition failing alone, each edge just inside and
just outside, what cannot be proven INCONCLUSIVE. Status and value are asserted."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from shadowgate.checks import activation
from shadowgate.checks.activation import ObservedModel
from shadowgate.checks.hostfacts import MODEL_FACT
from shadowgate.config import Thresholds
from shadowgate.intents import ModelVote
from shadowgate.verdict import Status
from tests.support import envchains
from tests.support.activation_scenes import (
    CHOSEN,
    FILE,
    INV,
    LOADED,
    MANUAL,
    MODEL,
    NAME,
    OBSERVED,
    OK10,
    READ,
    RECORDED,
    SHA,
    SHADOW_PLAIN,
    T0,
    TARGET,
    TH,
    US,
    VOTING,
    S,
    a1,
    journal,
    samples,
    unit,
)
from tests.support.evidence_data import make_record
from tests.support.handmade import HOUR, MINUTE, NOW, intent, shadow, timed, vote, voting

FLAG = TARGET.shadow_flag
OLD_INV = "f" * 32


# -- A0 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "anchor", "status", "value", "shown"),
    [
        (samples(), RECORDED, Status.PASS, 5.0, "(5.0 s after T+0)"),
        (samples(unit(T0 + 30 * S)), RECORDED, Status.PASS, 30.0, ""),  # the edge: inside
        (samples(unit(T0 + 30 * S + US)), RECORDED, Status.FAIL, 30.000001, "active 30.0 s after"),
        # the action recorded the restart after systemctl returned: the same run, no delay
        (samples(unit(T0 - S)), RECORDED, Status.PASS, 0.0, ""),
        (samples(unit(T0 + 2 * S, OLD_INV)), RECORDED, Status.FAIL, None,
         f"restarted since T+0: InvocationID {INV} after the activation's restart, {OLD_INV}"),
        (samples(unit(state=("activating", "start"))), RECORDED, Status.FAIL, None,
         "is activating (start), not active (running)"),
        (samples(unit(state=("failed", "failed"))), RECORDED, Status.FAIL, None, "not active"),
        # --activated-at: no InvocationID, the start time decides
        (samples(unit(T0 + 3 * S, None)), MANUAL, Status.PASS, 3.0, ""),
        (samples(unit(T0 - US, OLD_INV)), MANUAL, Status.INCONCLUSIVE, None,
         "no restart since, or the time given is later than the restart"),
        (samples(unit(None)), RECORDED, Status.INCONCLUSIVE, None, "no start time: delay unknown"),
        (samples(unit(None, None)), MANUAL, Status.INCONCLUSIVE, None, "cannot tell it restarted"),
        # staying up: each condition failing alone
        (samples(second=unit(state=("deactivating", "stop-sigterm"))), RECORDED, Status.FAIL, 5.0,
         "at the second sample: not staying up"),
        (samples(second=unit(pid=4343)), RECORDED, Status.FAIL, 5.0, "MainPID 4242 -> 4343"),
        (samples(second=unit(invocation=OLD_INV)), RECORDED, Status.FAIL, 5.0,
         f"InvocationID {INV} -> {OLD_INV}"),
        (samples(unit(pid=None)), RECORDED, Status.INCONCLUSIVE, 5.0, "shows no MainPID"),
        (samples(after=timedelta(seconds=10) - US), RECORDED, Status.INCONCLUSIVE, 5.0,
         "second sample 10.0 s after the start, before 10 s"),
    ],
)  # fmt: skip
def test_a0_active_within_30_s_of_t0_and_the_same_process_later(
    given, anchor, status, value, shown
):
    v = activation.a0_service_active(given, anchor, TH)
    assert (v.status, v.value) == (status, pytest.approx(value) if value else value), v.message()
    assert shown in v.message()
    assert v.threshold == (
        "active (running) within 30 s of T+0; same MainPID and InvocationID at a second sample "
        ">= 10 s after the start"
    )


def test_a0_thresholds_come_from_the_keys():
    th = Thresholds.load(sets=["service.active_within_seconds=60", "activation.stable_seconds=2"])
    late = samples(unit(T0 + 45 * S), after=timedelta(seconds=2))
    assert activation.a0_service_active(late, RECORDED, th).status is Status.PASS
    default = activation.a0_service_active(late, RECORDED, TH)
    assert (default.status, default.value) == (Status.FAIL, 45.0)
    assert "second sample 2.0 s after the start, before 10 s" in default.detail


# -- A1 ---------------------------------------------------------------------------------------

QSC = "[QSC] patchtst INACTIVE: shadow mode - excluded from voting"


@pytest.mark.parametrize(
    ("chain", "process", "status", "shown"),
    [
        (VOTING, envchains.process({FLAG: "true"}), Status.FAIL,
         f"MainPID 4242 has {FLAG}='true' (/proc/4242/environ): the engine is still in shadow"),
        (envchains.sole(f"{FLAG}=1\n"), envchains.process({FLAG: "1"}), Status.INCONCLUSIVE,
         "cannot tell how the engine"),
        (envchains.sole(f"{FLAG}=true\n"), envchains.process({}), Status.FAIL,
         "the files changed since the restart"),
        (VOTING, envchains.process(None, "not readable"), Status.INCONCLUSIVE,
         "the engine's real environment is unknown: not readable"),
    ],
)  # fmt: skip
def test_a1_judges_the_flag_the_engines_process_really_has(chain, process, status, shown):
    v = activation.a1_model_loaded_voting(
        LOADED, unit(), RECORDED, OBSERVED, FILE, TARGET, 10.0, chain, process
    )
    assert v.status is status and shown in v.detail, v.message()


@pytest.mark.parametrize(
    ("kwargs", "status", "value", "shown"),
    [
        ({}, Status.PASS, 0, f"weights loaded from {NAME}; 0 load failure line(s)"),
        ({"lines": journal(CHOSEN, READ, OK10, level="INFO")}, Status.PASS, 0, "weight 10%"),
        ({"weight": None}, Status.PASS, 0, "vs requested not recorded"),
        # weight: equal passes, a mismatch or no line to compare is a WARN
        ({"lines": journal(CHOSEN, READ, OK10.replace("10.0", "10.000000000000002"))},
         Status.PASS, 0, ""),
        ({"lines": journal(CHOSEN, READ, OK10.replace("10.0", "20.0"))}, Status.WARN, 1,
         "weight 20% is not the requested 10%; the engine may hard-code it"),
        ({"lines": journal(CHOSEN, READ)}, Status.WARN, 1, "no `(weight: X%)` line"),
        # each condition failing alone
        ({"lines": [*LOADED, *journal(SHADOW_PLAIN)]}, Status.FAIL, 1, "1 shadow line(s) since"),
        ({"lines": [*LOADED, *journal(QSC, level="INFO")]}, Status.FAIL, 1, "[QSC] patchtst"),
        ({"lines": journal(CHOSEN, READ, "[PatchTST] Using uninitialized model with random "
          "weights", OK10)}, Status.FAIL, 1, "load failure (random weights)"),
        ({"lines": journal(CHOSEN.replace(MODEL, "/app/m.pth"), READ, OK10)}, Status.FAIL, 1,
         f"the agent chose /app/m.pth, not {MODEL}"),
        ({"facts": replace(FILE, sha256="ab" * 32)}, Status.FAIL, 1, f"not {SHA} as observed"),
        ({"facts": replace(FILE, changed=T0 + 5 * S + US)}, Status.FAIL, 1, "changed at"),
        ({"facts": replace(FILE, exists=False, is_file=False, sha256=None)}, Status.FAIL, 1,
         "does not exist"),
        # unproven
        ({"lines": journal(OK10)}, Status.INCONCLUSIVE, 2, "cannot prove the weights were read"),
        ({"lines": []}, Status.INCONCLUSIVE, 3, "no `(weight: X%)` line"),
        ({"observed": None}, Status.INCONCLUSIVE, 1, "no preactivation record of this target"),
        ({"observed": replace(OBSERVED, sha256=None)}, Status.INCONCLUSIVE, 1,
         "holds no model path and sha256"),
        ({"facts": None}, Status.INCONCLUSIVE, 1, "was not inspected"),
        ({"anchor": MANUAL, "state": unit(T0 - S)}, Status.INCONCLUSIVE, 1,
         "before 2026-11-26T12:00:00Z (--activated-at)"),
    ],
)  # fmt: skip
def test_a1_model_loaded_from_the_observed_file_voting(kwargs, status, value, shown):
    v = a1(**kwargs)
    assert (v.status, v.value) == (status, value), v.message()
    assert shown in v.message()


def test_observed_model_is_the_latest_preactivation_record_before_t0():
    def record(run_id: str, finished: datetime, facts: dict, phase="preactivation"):
        r = make_record(run_id, phase, finished=finished, target=TARGET.describe())
        return replace(r, facts=facts)

    fact = {MODEL_FACT: {"path": MODEL, "sha256": SHA}}
    before = record("a", T0 - timedelta(minutes=20), fact)
    after = record("b", T0 + S, {MODEL_FACT: {"path": "/other", "sha256": "00"}})
    window = record("c", T0 - S, {}, phase="window_30m")
    assert ObservedModel.latest([before, after, window], TARGET, T0) == ObservedModel(
        "a", MODEL, SHA
    )
    assert ObservedModel.latest([record("d", T0, {})], TARGET, T0) == ObservedModel("d", None, None)
    assert ObservedModel.latest([after], TARGET, T0) is None
    other = replace(before, target={**TARGET.describe(), "unit": "other.service"})
    assert ObservedModel.latest([other], TARGET, T0) is None


# -- A2-A4: intents since T+0 -----------------------------------------------------------------

START = NOW - 5 * MINUTE
ACTIVE = voting("BUY")  # PatchTST voting, under its own name


def since(*records, covered: bool = True, errors: int = 0):
    return timed(list(records), START, covered=covered, errors=errors)


FULL = intent(patchtst=ACTIVE, consensus=4)  # 4 of 4 with PatchTST voting
THREE = intent(patchtst=ACTIVE, consensus=3)
SHADOW_FULL = intent(consensus=3)  # the three others agree, PatchTST in shadow: proves nothing
LGBM_RULES = {
    "xgb": vote(),
    "lgbm": vote(model="lgbm_fallback_rules", inactive=True, inactive_reason="fallback_rules"),
    "nhits": vote(),
}
FULL_OF_THREE = intent(patchtst=ACTIVE, consensus=3, others=LGBM_RULES)  # 3 of 3 voters


@pytest.mark.parametrize(
    ("window", "status", "value"),
    [
        (since(THREE, FULL), Status.PASS, 1),
        (since(FULL_OF_THREE), Status.PASS, 1),  # full counted from active voters, not 4
        (since(THREE, THREE), Status.INCONCLUSIVE, 0),  # none yet: not proven
        (since(SHADOW_FULL, SHADOW_FULL), Status.INCONCLUSIVE, 0),
        (since(intent(patchtst=ACTIVE, consensus=2, others=LGBM_RULES)), Status.INCONCLUSIVE, 0),
        (since(), Status.INCONCLUSIVE, 0),  # guard: no intent since T+0
        (since(intent(NOW - 16 * MINUTE, patchtst=ACTIVE, consensus=4)), Status.INCONCLUSIVE,
         16.0),  # guard: engine silent
    ],
)  # fmt: skip
def test_a2_consensus_only_the_models_vote_explains(window, status, value):
    v = activation.a2_consensus_needing_the_model(window, TARGET, TH)
    assert (v.status, v.value) == (status, pytest.approx(value)), v.message()


TAGGED = ModelVote("BUY", 0.6, "patchtst", shadow=True)
INACTIVE_SHADOW = ModelVote(
    "BUY", 0.6, "patchtst_model", inactive=True, inactive_reason="shadow_mode"
)
INACTIVE_RULES = ModelVote("BUY", 0.6, "patchtst", inactive=True, inactive_reason="fallback_rules")
ERROR = ModelVote("HOLD", 0.5, "patchtst_error")


@pytest.mark.parametrize(
    ("window", "status", "value", "shown"),
    [
        (since(THREE, FULL), Status.PASS, 0, "0 of 2 intents with the patchtst vote excluded"),
        (since(THREE, intent(patchtst=ERROR)), Status.PASS, 0, "1x patchtst_error"),
        # each form of exclusion alone, a finding on any data (here: not covered, stale)
        (since(THREE, intent(patchtst=shadow())), Status.FAIL, 1, "1x shadow"),
        (since(THREE, intent(patchtst=TAGGED)), Status.FAIL, 1, "1x shadow"),
        (since(intent(patchtst=INACTIVE_SHADOW), covered=False), Status.FAIL, 1, "1x shadow"),
        (since(intent(NOW - HOUR, patchtst=INACTIVE_RULES)), Status.FAIL, 1,
         "1x inactive: fallback_rules"),
        # unproven
        (since(intent(patchtst=ERROR), intent(missing=True)), Status.INCONCLUSIVE, 0,
         "no patchtst prediction since the restart"),
        (since(THREE, covered=False), Status.INCONCLUSIVE, None, "no longer holds the whole"),
        (since(THREE, errors=1), Status.INCONCLUSIVE, 0.5, "unreadable"),
    ],
)  # fmt: skip
def test_a3_no_excluded_patchtst_vote_since_t0(window, status, value, shown):
    v = activation.a3_no_excluded_vote(window, TARGET, TH)
    assert (v.status, v.value) == (status, value), v.message()
    assert shown in v.message()


@pytest.mark.parametrize(
    ("window", "status", "value", "shown"),
    [
        (since(THREE, FULL), Status.PASS, 0, "2 of 2 intents carry a patchtst entry; model names "
         "{'patchtst': 2}"),
        (since(THREE, intent(missing=True)), Status.PASS, 0, "1x no patchtst vote"),
        (since(THREE, intent(patchtst=shadow())), Status.FAIL, 1, "'patchtst_shadow': 1"),
        (since(intent(missing=True), intent(missing=True)), Status.INCONCLUSIVE, 0,
         "2x no patchtst vote"),
        (since(), Status.INCONCLUSIVE, 0, "no intent of the engine in the window"),
    ],
)  # fmt: skip
def test_a4_model_in_breakdown_not_named_shadow(window, status, value, shown):
    v = activation.a4_model_in_breakdown(window, TARGET, TH)
    assert (v.status, v.value) == (status, value), v.message()
    assert shown in v.message()
