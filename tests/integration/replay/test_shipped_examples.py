"""The shipped replay examples, replayed as the README says (no Redis, no systemd): the P0.4
model's preactivation is a NO-GO on its gates, the healthy model's a GO, each judged with the
thresholds and target its live run had."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shadowgate.actions.flow import suite_argv
from shadowgate.replay import bundle
from shadowgate.testbed import examples
from shadowgate.testbed.suiterun import DRILL
from tests.support import children

EXPECTED = [
    ("p04_preactivation", 1, "NO-GO", {"B5", "G1", "G2", "G3", "G4"}),
    ("healthy_preactivation", 0, "GO", set()),
]


@pytest.mark.parametrize(("name", "code", "decision", "failing"), EXPECTED)
def test_a_shipped_example_replays_to_its_decision(
    tmp_path: Path, name: str, code: int, decision: str, failing: set[str]
) -> None:
    path = examples.EXAMPLES_DIR / f"{name}{bundle.SUFFIX}"
    assert path.stat().st_size < 500_000
    argv = suite_argv("preactivation", [f"--replay={path}", f"--reports-dir={tmp_path}"])
    done = children.run(argv)
    assert done.returncode == code, done.stdout + done.stderr
    assert f"shadowgate preactivation: {decision} " in done.stdout
    (record,) = [json.loads(p.read_text()) for p in tmp_path.glob("*-preactivation-*.json")]
    assert record["decision"] == decision and record["replay"]["phase"] == "preactivation"
    assert {c["id"] for c in record["checks"] if c["status"] == "FAIL"} == failing
    assert {c["status"] for c in record["checks"] if c["id"] not in failing} == {"PASS"}
    drill = {s.removeprefix("--set=").partition("=")[0] for s in DRILL}
    assert drill <= set(record["overrides"]), "the live run's --set are the replay's"
