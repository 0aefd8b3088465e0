"""Real-engine fidelity, in a real systemd: the stand-in engine writes each form the real
engine's later versions write (ARCHITECTURE.md "The data"), and the preactivation suite fails
exactly the IDs the runbook demands, or stays GO where the form is healthy. One row per finding of
the fidelity issue; each healthy variant must stay GO."""

from __future__ import annotations

import pytest

from shadowgate.checks import catalog
from shadowgate.testbed import installer
from tests.support.matrix_support import start_engine

pytestmark = pytest.mark.systemd

MODEL_LINE = "PATCHTST_MODEL_PATH=/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth\n"
OVERRIDDEN_FLAG = "PATCHTST_SHADOW_ONLY=true\n  PATCHTST_SHADOW_ONLY=false\n" + MODEL_LINE
SWALLOWED_FLAG = "# shadow until the gates pass \\\nPATCHTST_SHADOW_ONLY=true\n" + MODEL_LINE
ALL_FAILURE_FORMS = 'error_forms=["error","hold_zero","missing","fallback_only"]'
STREAM_IDS = {"P2", "P3", "P5", "B1", "B2", "B3", "B6", "G1", "G2", "G3", "G4"}

HEALTHY = {
    # variant -> engine_unit options: every one of them must stay GO
    "later engine (inactive shadow, lgbm on fallback rules, failure forms, JSON journal)": {
        "scenario": "later_engine"
    },
    "QSC shadow lines only": {"options": ("shadow_lines=qsc",)},
    "JSON journal": {"options": ("journal_form=json",)},
    "foreign publisher, 6 entries per engine entry": {
        "options": ("foreign_ratio=6",),
        "extra_args": ("--maxlen", "80000"),
    },
    "outcomes in all three real forms": {"options": ("outcome_form=mixed",)},
    "every failed-prediction form at 5%": {
        "options": (
            'error_forms=["error","hold_zero","missing","fallback_only"]',
            "error_rate=0.05",
        )
    },
    "trailing blanks after true (systemd delivers true)": {
        "env_text": "PATCHTST_SHADOW_ONLY=true  \n" + MODEL_LINE
    },
}


@pytest.mark.parametrize("variant", sorted(HEALTHY))
def test_healthy_variant_stays_go(engine_unit, suite, variant):
    start_engine(engine_unit, **{"scenario": "healthy_shadow", **HEALTHY[variant]})
    run = suite()
    assert run.exit_code == 0, run.output
    assert set(run.checks) == set(catalog.ids_of_phase("preactivation"))
    assert "shadowgate preactivation: GO" in run.output


FAILING = {
    # finding -> (engine_unit options, failing IDs, {ID: text its message must carry})
    "1. leak while lgbm runs on fallback rules (active voters, odd 1.05 kept)": (
        {"scenario": "shadow_leak_lgbm_fallback"},
        {"B1", "B2", "P3"},
        {"B1": "other active voters", "P3": "<= 0 events"},
    ),
    "3. near-constant BUY model behind HOLD placeholders": (
        {"scenario": "dead_zone"},
        {"G2", "G4", "B5"},
        {"G2": "BUY/SELL", "B5": "needs 3/4"},
    ),
    "4. leak judged on 100 own intents past a foreign publisher": (
        {"scenario": "shadow_leak", "options": ("foreign_ratio=6",),
         "extra_args": ("--maxlen", "80000")},
        {"B1", "B2", "P3"},
        {"B1": "of 100 intents"},
    ),
    "6. flag true then an indented false (systemd delivers false)": (
        {"edited_env": OVERRIDDEN_FLAG},
        {"P1", "P6"},
        {"P1": "line 2"},
    ),
    "7. model loaded with random weights, [OK] printed anyway": (
        {"options": ("model_load=random_weights",)},
        {"P7"},
        {"P7": "random weights"},
    ),
    "11. leak beside a \"fallback\": null key": (
        {"scenario": "shadow_leak_fallback_null"},
        {"B1", "B2", "P3"},
        {"B1": "<= 0 events"},
    ),
    "12. a comment ending in a backslash swallows the flag line": (
        {"edited_env": SWALLOWED_FLAG},
        {"P1", "P6"},
        {"P1": "comment"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("finding", sorted(FAILING))
def test_forbidden_state_fails_exactly_the_expected_ids(engine_unit, box, suite, finding):
    engine, failing, texts = FAILING[finding]
    engine = dict(engine)
    edited = engine.pop("edited_env", None)
    start_engine(engine_unit, **{"scenario": "healthy_shadow", **engine})
    if edited is not None:  # the env file and its backup as an editor left them after the start
        for path in (installer.ENV_FILE, installer.BACKUP_FILE):
            box.write_file(path, edited, mode=0o600)
    run = suite()
    assert run.exit_code == 1
    assert run.failing() == failing, run.output
    for check_id, text in texts.items():
        assert text in run.checks[check_id].message, run.checks[check_id].message
    assert "shadowgate preactivation: NO-GO" in run.output


def test_silent_engine_with_running_unit_is_inconclusive_never_go(engine_unit, suite):
    """5. The unit runs, the engine stopped publishing two hours ago: no check passes on the
    old entries."""
    start_engine(engine_unit, "stale")
    run = suite()
    assert run.exit_code == 1
    assert run.failing() >= STREAM_IDS, run.output
    for check_id in STREAM_IDS:
        assert "silent since" in run.checks[check_id].message, run.checks[check_id].message


def test_failed_gate_while_quorum_holds_is_a_warn_and_go(engine_unit, suite):
    """9. G4 fails (confidence carries no signal), G1-G3 pass: the runbook allows GO."""
    start_engine(engine_unit, options=("calibration=0",))
    run = suite()
    assert run.exit_code == 0, run.output
    assert run.checks["G4"].status == "WARN", run.checks["G4"].message
    assert "quorum 3/4 holds" in run.checks["G4"].message
    assert "shadowgate preactivation: GO" in run.output


def test_failure_forms_are_named_in_p2(engine_unit, suite):
    """3. Every failed-prediction form is recognised, counted and named."""
    start_engine(
        engine_unit,
        options=(ALL_FAILURE_FORMS, "error_rate=0.2"),
    )
    message = suite().checks["P2"].message
    for form in ("patchtst_error", "HOLD 0.0 as patchtst_model", "no patchtst vote"):
        assert form in message, message
