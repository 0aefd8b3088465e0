"""The strategy lives in the activation record (ARCHITECTURE.md "The lifecycle"): the phases after
it read weight, confidence cap, observation hours and approver from there, never from their own
command line; a command line that disagrees is said in one line and the record wins. The
activation's headline names each red flag with its reason."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from shadowgate import evidence
from shadowgate.evidence.anchors import ACTIVATE, Anchor, latest_action
from shadowgate.report.render import run_block_html
from shadowgate.settings import Strategy
from shadowgate.strategy import FACT, in_force
from shadowgate.wording import headline
from tests.support.suite_runs import NO_HOST, fill_engine, run_phase

T0 = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
RECORDED = {"approved_by": "alice (risk)", "weight": 10.0, "confidence_cap": 0.75,
            "observation_hours": 6.0}  # fmt: skip
SOURCE = "activate record 20261127T140500Z-activate-abc123"
ANCHOR = Anchor(T0, SOURCE, "inv", T0, RECORDED)
A1_WARN = "weight 20% is not the requested 10%; the engine may hard-code it (runbook s.3, s.8)"


def activation(decision: str, *checks: tuple[str, str, str, str]) -> dict:
    return {
        "phase": "activation", "decision": decision, "complete": True,
        "checks": [{"id": i, "status": s, "outcome": o, "detail": d} for i, s, o, d in checks],
    }  # fmt: skip


def test_activation_headline_names_each_red_flag_with_its_reason():
    rec = activation("OK", ("A0", "PASS", "passed", ""), ("A1", "WARN", "passed", A1_WARN))
    assert headline(rec) == (
        "shadowgate activation: OK (red flags: A1 weight 20% is not the requested 10%)"
    )


def test_activation_headline_without_red_flags_and_on_a_stop_is_unchanged():
    assert headline(activation("OK", ("A1", "PASS", "passed", ""))) == "shadowgate activation: OK"
    stop = activation("STOP", ("A1", "FAIL", "failed", "1 shadow line(s) since the restart"))
    assert headline(stop) == "shadowgate activation: STOP"


def test_a_red_flag_without_a_detail_is_named_by_its_id():
    rec = activation("OK", ("A1", "WARN", "passed", ""))
    assert headline(rec) == "shadowgate activation: OK (red flags: A1)"


def test_the_anchor_of_an_activation_record_carries_its_strategy():
    record = {"run_id": "x", "action": ACTIVATE, "started_at": T0.isoformat(),
              "restarted_at": T0.isoformat(), "target": {"unit": "u"},
              "strategy": RECORDED}  # fmt: skip
    anchor = latest_action(None, ACTIVATE, among=[record])  # type: ignore[arg-type]
    assert anchor is not None and anchor.strategy == RECORDED


def test_the_record_wins_over_a_command_line_that_disagrees_said_in_one_line():
    found = in_force(Strategy(weight=15.0, confidence_cap=0.75), ANCHOR)
    assert found.strategy == Strategy("alice (risk)", 10.0, 0.75, 6.0)
    assert found.source == SOURCE
    assert found.overruled == (
        f"strategy: the command line's weight 15 disagrees with {SOURCE} (weight 10): the "
        "record wins (docs/ARCHITECTURE.md)"
    )


def test_a_command_line_that_agrees_or_gives_nothing_is_not_overruled():
    assert in_force(Strategy(weight=10), ANCHOR).overruled is None  # 10 is 10.0
    found = in_force(Strategy(), ANCHOR)  # `pytest -m activation` by hand, no --weight
    assert (found.strategy.weight, found.overruled) == (10.0, None)


def test_a_weight_the_record_does_not_hold_is_not_taken_from_the_command_line():
    anchor = Anchor(T0, SOURCE, strategy={**RECORDED, "weight": None})
    found = in_force(Strategy(weight=10.0), anchor)
    assert found.strategy.weight is None
    assert "weight 10 disagrees with" in (found.overruled or "")
    assert "(weight not recorded)" in (found.overruled or "")


def test_a_recorded_value_of_another_type_is_not_recorded():
    anchor = Anchor(T0, SOURCE, strategy={"weight": "ten", "observation_hours": True,
                                          "confidence_cap": "none", "approved_by": 7})  # fmt: skip
    assert in_force(Strategy(), anchor).strategy == Strategy(None, None, "none", None)


def test_an_activation_done_by_hand_takes_the_command_line():
    manual = Anchor(T0, "--activated-at", started_at=T0)
    found = in_force(Strategy(weight=10.0), manual)
    assert found.strategy == Strategy(weight=10.0) and found.overruled is None
    assert found.source == "the command line (T+0 from --activated-at)"
    assert in_force(Strategy(), None).source == "the command line (no activation record)"


def test_the_window_and_rollback_block_shows_the_recorded_weight_and_its_source():
    rec = {"finished_at": "2026-11-27T14:35:00Z", "phase": "window_30m", "markexpr": None,
           "decision": "OK", "operator": "bob", "strategy": RECORDED, "checks": [],
           "facts": {FACT: {"source": SOURCE, "overruled": None}}}  # fmt: skip
    block = run_block_html(rec)
    assert "Weight=10%, Conf Cap=0.75, Observation=6h (from " + SOURCE + ")" in block
    assert "Weight=___" not in block


def test_a_window_run_records_the_activation_records_strategy_not_its_own(redis_server, tmp_path):
    """`pytest -m window_30m --weight=15` after an activation recorded with weight 10: the run
    records weight 10, says the disagreement in one line, and its report shows Weight=10%."""
    reports = tmp_path / "reports"
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    evidence.append_record(reports, {
        "run_id": "20261127T140500Z-activate-abc123", "action": ACTIVATE,
        "started_at": t0.isoformat(), "restarted_at": t0.isoformat(),
        "target": {"unit": NO_HOST[0].removeprefix("--unit=")}, "strategy": RECORDED,
    })  # fmt: skip
    fill_engine(redis_server, hours=1)
    time.sleep(0.1)
    run = run_phase(redis_server.url, reports, "--weight=15", markexpr="window_30m")
    (window,) = evidence.run_records(reports)
    assert dict(window.strategy) == RECORDED, run.output
    assert window.facts[FACT] == {"source": SOURCE, "overruled": (
        f"strategy: the command line's weight 15 disagrees with {SOURCE} (weight 10): the "
        'record wins (docs/ARCHITECTURE.md)')}  # fmt: skip
    assert window.facts[FACT]["overruled"] in run.output
    page = (reports / f"{window.run_id}.html").read_text()
    assert "Weight=10%" in page and "Weight=15%" not in page and "Weight=___" not in page
    assert json.loads((reports / f"{window.run_id}.json").read_text())["strategy"]["weight"] == 10
