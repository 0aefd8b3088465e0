"""The real preactivation suite, run inside a real systemd against the stand-in engine: for each
engine state, exactly the expected check IDs fail, with value and threshold in the message."""

from __future__ import annotations

import re
from itertools import takewhile

import pytest

from shadowgate.checks import catalog
from shadowgate.testbed import installer
from shadowgate.testbed.suiterun import DRILL, box_runner, run_suite
from tests.support.matrix_support import start_engine, wait_for_restart
from tests.support.replays import assert_replays_alike

pytestmark = pytest.mark.systemd

ALL_IDS = set(catalog.ids_of_phase("preactivation"))
FLAGLESS_ENV = f"PATCHTST_MODEL_PATH={installer.MODEL_PATH}\n"


@pytest.fixture
def suite(suite, tmp_path):
    """The box's preactivation run, its bundle replayed here and held to it (same verdicts,
    values, decision) for every engine state of the matrix."""

    def run(*args: str):
        done = suite(*args)
        into = tmp_path.with_name(f"{tmp_path.name}-replay-{done.record.run_id}")
        assert_replays_alike(tmp_path, done.record.run_id, into, *DRILL, *args)
        return done

    return run


def test_healthy_shadow_is_go_every_check_passes(engine_unit, suite):
    start_engine(engine_unit)
    run = suite()
    assert run.exit_code == 0, run.output
    assert set(run.checks) == ALL_IDS
    assert all(c.outcome == "passed" for c in run.checks.values()), run.output
    assert "shadowgate preactivation: GO" in run.output


EXPECTED = {
    # scenario -> (failing IDs, {ID: text its failure message must carry})
    "flatline": ({"G1", "G2", "G3", "G4", "B5"}, {
        "G1": "largest BUY 100.0%", "G2": "P10..P90 >= 0.12", "B5": "0/4 gates passed"}),
    "shadow_leak": ({"B1", "B2", "P3"}, {
        "B1": "<= 0 events", "B2": "intents count the patchtst vote", "P3": "<= 0 events"}),
    "bloat": ({"B3"}, {"B3": "threshold: p95 < 1500 bytes"}),
    "crash_loop": ({"P4", "B4"}, {"B4": "restarted automatically"}),
    "contrarian": ({"B6"}, {"B6": "<= 30%"}),  # G3 fails too: a WARN while the quorum holds
}  # fmt: skip


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_bad_engine_fails_exactly_the_expected_ids(engine_unit, box, suite, scenario):
    failing, texts = EXPECTED[scenario]
    start_engine(engine_unit, scenario)
    args: tuple[str, ...] = ()
    if scenario == "crash_loop":  # judged on the hour it crashes in, a few seconds of uptime
        wait_for_restart(box)
        args = ("--set=service.min_uptime_hours=0.01", "--set=service.auto_restart_window_hours=1")
    run = suite(*args)
    assert run.exit_code == 1
    assert run.failing() == failing, run.output
    for check_id, text in texts.items():
        message = run.checks[check_id].message
        assert text in message and "measured:" in message, message
    assert "shadowgate preactivation: NO-GO" in run.output


def test_flag_removed_from_env_file_fails_p1_only(engine_unit, box, suite):
    start_engine(engine_unit)
    box.write_file(installer.ENV_FILE, FLAGLESS_ENV, mode=0o600)  # edited, engine not restarted
    run = suite()
    assert run.failing() == {"P1"}, run.output
    assert "0 anchored PATCHTST_SHADOW_ONLY= line(s): none" in run.checks["P1"].message


def test_engine_ignoring_the_flag_is_caught_by_behaviour(engine_unit, box, suite):
    """The historical bug: the flag says shadow, the engine votes (here: started without it)."""
    start_engine(engine_unit, env_text=FLAGLESS_ENV)
    box.write_file(installer.ENV_FILE, installer.DEFAULT_ENV_TEXT, mode=0o600)
    run = suite()
    assert run.failing() == {"P2", "P3", "P5", "B1", "B2"}, run.output  # P5: 0 h of shadow
    assert "voting" in run.checks["P2"].message


def test_missing_backup_and_model_file_fail_p6_and_p7(engine_unit, suite):
    start_engine(engine_unit, backup_text=None, model=None)
    run = suite()
    assert run.failing() == {"P6", "P7"}, run.output
    assert "no backup found" in run.checks["P6"].message
    assert "exists=False" in run.checks["P7"].message


STREAM_IDS = {"P2", "P3", "P5", "B1", "B2", "B3", "B6", "G1", "G2", "G3", "G4"}


def test_unreadable_engine_entries_above_two_percent_make_stream_checks_inconclusive(
    engine_unit, suite
):
    """What cannot be read cannot be proven safe: the garbage engine writes about 5%."""
    start_engine(engine_unit, "garbage")
    run = suite()
    assert run.failing() >= STREAM_IDS, run.output
    for check_id in STREAM_IDS - {"G1", "G2", "G3", "G4"}:  # gates: WARN or FAIL by quorum
        assert run.checks[check_id].status == "INCONCLUSIVE", run.checks[check_id].message
        assert "unreadable" in run.checks[check_id].message, run.checks[check_id].message


def test_garbage_is_counted_and_reported_verdicts_unchanged(engine_unit, suite):
    """Below the allowed unreadable share, garbage changes no verdict and is reported."""
    start_engine(engine_unit, "garbage")
    run = suite("--set=window.max_unreadable_share=0.10")
    assert run.failing() == set(), run.output
    assert run.exit_code == 0
    for check_id in ("B1", "B3", "P3", "G1"):  # snapshot and day windows both say so
        window = run.checks[check_id].window
        assert re.search(r"intents, [1-9]\d* parse errors?, [1-9]\d* foreign entr", window), window
    assert "first parse error" in run.checks["B3"].window


def test_stream_capped_short_of_24h_makes_p3_inconclusive(engine_unit, suite):
    start_engine(engine_unit, extra_args=("--maxlen", "3000"))
    run = suite()
    assert run.failing() == {"P3", "P5"}, run.output
    assert "P3 INCONCLUSIVE" in run.checks["P3"].message
    assert "the capped stream no longer holds the whole window" in run.checks["P3"].message


def test_unreachable_redis_is_no_go_with_one_line_per_cause(engine_unit, box, tmp_path):
    from shadowgate.testbed.throwaway_redis import free_port

    start_engine(engine_unit)
    url = f"redis://127.0.0.1:{free_port()}/0"
    run = run_suite(box_runner(box), url, tmp_path, "preactivation", *DRILL)
    assert run.exit_code == 1
    stream_ids = {"P2", "P3", "P5", "B1", "B2", "B3", "B5", "B6", "G1", "G2", "G3", "G4"}
    assert stream_ids <= run.failing(), run.output
    assert "Traceback" not in run.output
    lines = run.output.splitlines()
    causes = {  # the summary wraps a long cause onto indented lines
        " ".join([line, *(more.strip() for more in takewhile(is_wrapped, lines[at + 1 :]))])
        for at, line in enumerate(lines)
        if line.startswith("NO-GO cause:")
    }
    assert len(causes) == 1 and "connection refused" in causes.pop(), run.output


def is_wrapped(line: str) -> bool:
    return line.startswith("    ")
