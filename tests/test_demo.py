"""The demo, README's first command: GO on the healthy default, NO-GO on flatline, and never GO
where no systemd can be booted (it names the rows it could not evaluate)."""

from __future__ import annotations

import pytest

from shadowgate.testbed import demo, sdbox


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
