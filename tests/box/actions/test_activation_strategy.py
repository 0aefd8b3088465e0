"""In a real systemd with the stand-in engine (its `[OK]` line always says weight 20%): the
operator activates with `--weight=10`. The strategy goes into the activation record; the
activation's headline, and activate.py's last line, name the red flag with its reason, and
activate.py exits 0 (runbook s.3: a weight mismatch is a red flag, the engine may hard-code
it, s.8). `pytest -m activation` run again by hand without `--weight` still compares the
recorded 10% and WARNs A1 (it used to PASS); the rollback's report shows Weight=10%, not
Weight=___."""

from __future__ import annotations

import pytest

from shadowgate import evidence
from shadowgate.testbed.suiterun import box_runner, run_suite
from tests.support.box_actions import SETS, action, activated

pytestmark = pytest.mark.systemd
HEADLINE = "shadowgate activation: OK (red flags: A1 weight 20% is not the requested 10%)"


def test_activate_with_weight_10_on_an_engine_at_20_names_the_red_flag(
    box, redis_server, engine_unit, tmp_path
):
    reports = tmp_path / "reports"
    with activated(box, redis_server, engine_unit, reports, "--weight=10") as done:
        said = done.stdout + done.stderr
        assert done.stdout.strip().splitlines()[-1] == f"activate: verdict: {HEADLINE}", said
        record = next(r for r in reversed(evidence.records(reports)) if r.get("action"))
        assert record["strategy"]["weight"] == 10.0
        verified = evidence.run_records(reports)[-1]
        a1 = next(c.verdict for c in verified.checks if c.check_id == "A1")
        assert a1.status == "WARN" and "weight 20% vs requested 10%" in a1.measured, a1.detail

        by_hand = run_suite(box_runner(box), redis_server.url, reports, "activation", *SETS)
        assert "--weight" not in " ".join(SETS)
        assert by_hand.checks["A1"].status == "WARN", by_hand.output
        assert dict(by_hand.record.strategy)["weight"] == 10.0
        assert HEADLINE in by_hand.output and by_hand.exit_code == 0, by_hand.output

        done, _ = action(box, "rollback.py", redis_server.url, reports)  # no strategy given
        rolled = evidence.run_records(reports)[-1]
        assert rolled.phase == "rollback", done.stdout + done.stderr
        assert dict(rolled.strategy)["weight"] == 10.0
        page = (reports / f"{rolled.run_id}.html").read_text()
        assert "Weight=10%" in page and "Weight=___" not in page
