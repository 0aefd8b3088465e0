"""The demo, README's first command: GO on the healthy default, NO-GO on flatline, and never GO
where no systemd can be booted (it names the rows it could not evaluate). The drill: the
healthy story and a STOP's (`--scenario=contrarian`), `shadowgate status` after each step; a
scenario it cannot play refused with one line."""

from __future__ import annotations

import re

import pytest

from shadowgate.exitcodes import USAGE
from shadowgate.testbed import demo, drill, sdbox


@pytest.mark.systemd
@pytest.mark.parametrize(
    ("scenario", "rc", "verdict"),
    [("healthy_shadow", 0, "demo: verdict: GO"), ("flatline", 1, "failing: B5, G1, G2, G3, G4")],
)
def test_demo_in_systemd(systemd_box, tmp_path, capsys, scenario, rc, verdict):
    assert demo.run(scenario, 26.0, tmp_path) == rc
    out = capsys.readouterr().out
    assert "engine running as quantum-ai-engine.service in a private systemd" in out
    assert verdict in out


def test_demo_without_systemd_names_unevaluated_rows_and_is_not_go(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sdbox, "availability", lambda: (False, "no namespaces (test)"))
    assert demo.run("healthy_shadow", 26.0, tmp_path) == 1
    out = capsys.readouterr().out
    assert "cannot boot a private systemd here: no namespaces (test)" in out
    assert "could not evaluate P1, P2, P4, P6, P7, B4 (unit state, env chain, journal)" in out
    assert "demo: verdict: NO-GO" in out


def test_demo_refuses_an_unknown_scenario(tmp_path):
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        demo.run("nope", 1.0, tmp_path)


def in_order(out: str, steps: list[str]) -> int:
    """Assert each of `steps` is in `out`, in this order; where the last one ends."""
    at = 0
    for step in steps:
        found = out.find(step, at)
        assert found >= 0, f"{step!r} not after position {at}:\n{out}"
        at = found + len(step)
    return at


@pytest.mark.systemd
def test_drill_without_scenario_activates_and_rolls_back_with_status_after_each_step(
    systemd_box, tmp_path, capsys
):
    assert drill.run(None, 26.0, tmp_path) == 0
    out = capsys.readouterr().out
    steps = [
        "    state:   SHADOW since",
        "demo: pytest -m preactivation: shadowgate preactivation: GO (",
        "    state:   ARMED since",
        "activate: verdict: shadowgate activation: OK (",
        "    state:   ACTIVE since",
        "demo: actions/rollback.py: rollback: verdict: shadowgate rollback: OK (",
        "    state:   ROLLED_BACK since",
        "demo: timeline (UTC start, wall time, step: result -> the state after it):",
    ]
    at = in_order(out, steps)
    assert "activation: OK (red flags" not in out  # --weight=20: what the stand-in loads
    assert "window_30m" not in out and "--on-stop" not in out
    assert len(out[at:].splitlines()) == 5, out[at:]  # 3 steps and the rollback time
    assert re.search(r"demo: rollback time: \d+\.\d s \(R4 PASS\) to shadow evidence", out), out


@pytest.mark.systemd
def test_drill_contrarian_stops_rolls_back_once_and_prints_the_timeline(
    systemd_box, tmp_path, capsys
):
    """GO on the healthy shadow engine, activate, the engine turns contrarian once voting: the
    window says STOP (S3), rollback --on-stop rolls back (verified), a second does nothing."""
    assert drill.run("contrarian", 26.0, tmp_path) == 0
    out = capsys.readouterr().out
    steps = [
        "(scenario healthy_shadow, contrarian once voting)",
        "    state:   SHADOW since",
        "demo: pytest -m preactivation: shadowgate preactivation: GO (",
        "    state:   ARMED since",
        "activate: verdict: shadowgate activation: OK",
        "    state:   ACTIVE since",
        "demo: pytest -m window_30m: shadowgate window_30m: STOP: roll back now (runbook s.6): S3",
        "    state:   STOPPED since",
        "demo: actions/rollback.py --on-stop: rollback: verdict: shadowgate rollback: OK",
        "    state:   ROLLED_BACK since",
        "demo: actions/rollback.py --on-stop: rollback --on-stop: already rolled back at ",
        "demo: the engine was not restarted again",
        "    state:   ROLLED_BACK since",
        "demo: timeline (UTC start, wall time, step: result -> the state after it):",
    ]
    at = in_order(out, steps)
    timeline = out[at:].splitlines()[1:6]
    steps_states = [(line.split(" s  ", 1)[1].split(":")[0], line.rsplit(" -> ", 1)[1])
                    for line in timeline]  # fmt: skip
    assert steps_states == [
        ("pytest -m preactivation", "ARMED"),
        ("actions/activate.py --approved-by=demo (drill) --weight=20", "ACTIVE"),
        ("pytest -m window_30m", "STOPPED"),
        ("actions/rollback.py --on-stop", "ROLLED_BACK"),
        ("actions/rollback.py --on-stop", "ROLLED_BACK"),
    ], timeline
    assert re.search(r"demo: rollback time: \d+\.\d s \(R4 PASS\) to shadow evidence", out), out


@pytest.mark.parametrize("scenario", ["crash_loop", "healthy_shadow", "nope"])
def test_drill_refuses_a_scenario_it_cannot_play_with_one_line(scenario, capsys, monkeypatch):
    monkeypatch.setattr(drill, "run", lambda *a: pytest.fail("the drill started"))
    assert demo.main(["--drill", f"--scenario={scenario}"]) == USAGE
    said = capsys.readouterr()
    assert said.out == "" and len(said.err.splitlines()) == 1, said.err
    assert f"--drill cannot play scenario '{scenario}'; it plays contrarian, " in said.err


def test_an_unknown_scenario_without_drill_is_one_usage_line(capsys, monkeypatch):
    monkeypatch.setattr(demo, "run", lambda *a: pytest.fail("the demo started"))
    assert demo.main(["--scenario=nope"]) == USAGE
    said = capsys.readouterr().err
    assert len(said.splitlines()) == 1 and "unknown scenario 'nope'; known: bloat," in said
