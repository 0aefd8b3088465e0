"""deploy/shadowgate.rules.yml under `promtool test rules`, fed the series the real wrapper wrote.

Each scenario runs deploy/window_record.py as the timers do (`report` after a run, `when` at
a later firing), reads the .prom files it wrote at each stage, and turns them into promtool's
input_series: each stage's samples repeated for its minutes (node_exporter serves a file's
values until it is rewritten), the *_timestamp_seconds values moved onto promtool's clock (its
time 0 is the moment the first stage was written). Without promtool (Debian's `prometheus`
package) these tests skip, except under SHADOWGATE_REQUIRE_SYSTEMD=1 (CI), where .ci/run
installs it (SHADOWGATE_EXTRA_APT) and its absence is a failure.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from shadowgate.evidence import append_record
from tests.support import required
from tests.support.deploy_records import (
    DEPLOY,
    activated,
    recent,
    rolled_back,
    stop_record,
    window_record,
)

RULES = DEPLOY / "shadowgate.rules.yml"
Stage = tuple[dict[str, float], int]  # (series -> value, minutes it is served)


@pytest.fixture(scope="module")
def promtool() -> str:
    return required.program("promtool", install="apt-get install prometheus")


def served(directory: Path, origin: float) -> dict[str, float]:
    """Every sample of the .prom files in `directory`, as promtool series selectors."""
    series = {}
    for path in sorted(directory.glob("*.prom")):
        for family in text_string_to_metric_families(path.read_text()):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                shift = origin if sample.name.endswith("_timestamp_seconds") else 0.0
                series[f"{sample.name}{{{labels}}}"] = sample.value - shift
    return series


def input_series(stages: list[Stage]) -> list[dict[str, str]]:
    names = sorted({name for values, _ in stages for name in values})
    return [
        {
            "series": name,
            "values": " ".join(
                " ".join([repr(values[name]) if name in values else "_"] * minutes)
                for values, minutes in stages
            ),
        }
        for name in names
    ]


def expected(alert: str, **labels: str) -> dict:
    """The alert as the rules file says it fires: its labels and its summary."""
    rule = next(
        r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]
        if r.get("alert") == alert
    )  # fmt: skip
    summary = rule["annotations"]["summary"]
    for key, value in labels.items():
        summary = summary.replace(f"{{{{ $labels.{key} }}}}", value)
    return {"exp_labels": rule["labels"] | labels, "exp_annotations": {"summary": summary}}


def promtool_test(promtool: str, tmp_path: Path, stages: list[Stage], checks: list) -> None:
    """Run `promtool test rules` on the stages; `checks`: (minute, alert, [expected alerts])."""
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": input_series(stages),
                "alert_rule_test": [
                    {"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": alerts}
                    for minute, alert, alerts in checks
                ],
            }
        ],
    }
    path = tmp_path / "alerts.test.yml"
    path.write_text(json.dumps(test, indent=1))  # JSON is YAML
    done = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def written(command: list[str], prom: Path) -> None:
    assert window_record.main([*command, "--textfile", str(prom)]) == 0


def test_a_stop_pages_until_the_rollback_answers_it(promtool, tmp_path, monkeypatch):
    reports, t0 = activated(tmp_path, monkeypatch)
    append_record(reports, recent(stop_record(), t0, 8))
    prom = tmp_path / "textfile"
    origin = time.time()
    written(["report", "window_30m", "0"], prom)
    stopped = served(prom, origin)
    rolled_back(reports, t0, 9)
    written(["when", "window_30m"], prom)  # the next firing of a timer
    answered = served(prom, origin)
    stop = expected("ShadowgateStopUnanswered", phase="window_30m")
    stuck = expected("ShadowgateStuckStopped")
    promtool_test(
        promtool,
        tmp_path,
        [(stopped, 20), (answered, 20)],
        [
            (1, "ShadowgateStopUnanswered", []),
            (3, "ShadowgateStopUnanswered", [stop]),
            (16, "ShadowgateStuckStopped", [stuck]),
            (16, "ShadowgateWindowOverdue", []),  # STOPPED is not ACTIVE
            (25, "ShadowgateStopUnanswered", []),
            (25, "ShadowgateStuckStopped", []),
            (39, "ShadowgateWindowOverdue", []),
            (39, "ShadowgateChainBroken", []),
        ],
    )


@pytest.mark.parametrize("broken", [False, True])
def test_an_active_window_whose_timers_died_is_overdue(broken, promtool, tmp_path, monkeypatch):
    """An OK run at T+8 min, then nothing rewrites the files (the timers died): 5 min after
    T+13 (window_30m's next run), the window is overdue. A forged line breaks the chain."""
    reports, t0 = activated(tmp_path, monkeypatch)
    if broken:
        (reports / "decision-log.jsonl").write_text(json.dumps({"run_id": "forged"}) + "\n")
    ok = recent(stop_record(decision="OK"), t0, 8) | {"checks": []}
    append_record(reports, ok)
    prom = tmp_path / "textfile"
    origin = time.time()
    written(["report", "window_30m", "1" if broken else "0"], prom)
    chain = [expected("ShadowgateChainBroken")] if broken else []
    promtool_test(
        promtool,
        tmp_path,
        [(served(prom, origin), 30)],
        [
            (1, "ShadowgateChainBroken", chain),
            (6, "ShadowgateWindowOverdue", []),
            (12, "ShadowgateWindowOverdue", [expected("ShadowgateWindowOverdue")]),
            (12, "ShadowgateStopUnanswered", []),
            (12, "ShadowgateStuckStopped", []),
        ],
    )


def test_each_alert_names_its_runbook_section_and_what_to_do():
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    assert {r["alert"] for r in rules} == {
        "ShadowgateStopUnanswered", "ShadowgateStuckStopped", "ShadowgateWindowOverdue",
        "ShadowgateChainBroken",
    }  # fmt: skip
    for rule in rules:
        summary = rule["annotations"]["summary"]
        assert "runbook s.5" in summary or "runbook s.6" in summary, rule["alert"]
        assert "\n" not in summary, rule["alert"]  # one line
