"""The stand-in engine as a systemd unit in the box: its scenario options reach it through the
unit's environment, as the installer passes them."""

from __future__ import annotations

import json
import time

import pytest

from shadowgate import host
from shadowgate import votes as vt
from shadowgate.testbed import installer
from tests.support.simulated_entries import intents
from tests.support.simulator_runs import STREAM


@pytest.mark.systemd
def test_unit_passes_options_through_systemd(engine_unit, box, redis_server):
    """installer options reach the process intact (a JSON list through ExecStart quoting)."""
    options = ("journal_form=json", 'error_forms=["missing", "hold_zero"]', "error_rate=0.5",
               "shadow_form=inactive", "shadow_lines=both")  # fmt: skip
    engine_unit(rate=10, seed=3, options=options)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and redis_server.client().xlen(STREAM) < 20:
        time.sleep(0.2)
    shown = box.exec(["journalctl", "-u", installer.ENGINE_UNIT, "--no-pager", "-o", "cat"])
    lines = shown.stdout.splitlines()  # the engine's records, and systemd's own lines
    msgs = [json.loads(line)["msg"] for line in lines if line.startswith("{")]
    assert host.model_path_used(msgs[1], "PatchTST") == installer.MODEL_PATH
    assert host.weights_loaded_from(msgs[2], "PatchTST") == installer.MODEL_PATH.rsplit("/")[-1]
    assert host.loaded_weight(msgs[3], "PatchTST") == 20.0
    assert any(m.startswith("[QSC] patchtst INACTIVE: shadow mode") for m in msgs)
    found = intents(redis_server)
    assert set(vt.failure_forms(found, "patchtst")) == {
        "no patchtst vote", "HOLD 0.0 as patchtst_model"}  # fmt: skip
