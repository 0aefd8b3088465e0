"""What the backtest hands the operator: the CSV, the page and the command's exit codes
(`--compare`: tests/integration/backtest)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from shadowgate import cli
from shadowgate.backtest import history, page, sweep
from shadowgate.backtest.judge import BACKTESTED
from shadowgate.config import Target, Thresholds
from shadowgate.replay import bundle
from shadowgate.testbed import examples, scenarios

TARGET = Target()
S4_OFF = "stop.s4_min_p10_p90=0"  # no P10..P90 is below 0: S4 can no longer stop


def small(scenario: str) -> bundle.Bundle:
    return examples.history(scenarios.get(scenario), shadow_hours=1.5, voting_hours=1.0)


def result(captured: bundle.Bundle, *sets: str) -> sweep.Result:
    h = history.from_streams(dict(captured.streams), TARGET, captured.now_ms)
    tried = [sweep.Setting("shipped", Thresholds.load())]
    tried += [sweep.Setting(s, Thresholds.load(sets=[s])) for s in sets]
    return sweep.run(h, tried, sweep.Plan(since_minutes=30, step_minutes=10))


def test_the_csv_has_one_row_per_position_setting_and_check_in_its_columns() -> None:
    done = result(small("flatline"), S4_OFF)
    rows = list(csv.DictReader(io.StringIO(page.csv_text(done))))
    positions = len(done.plan.positions(done.history))
    assert tuple(rows[0]) == page.CSV_COLUMNS
    assert len(rows) == positions * 2 * len(BACKTESTED)
    s4 = {r["setting"]: r for r in rows if r["check"] == "S4"}
    assert (s4["shipped"]["status"], s4["shipped"]["fired"]) == ("FAIL", "1")
    assert (s4[S4_OFF]["status"], s4[S4_OFF]["fired"]) == ("PASS", "0")
    assert float(s4["shipped"]["value"]) == 0.0  # every vote at 0.615: no spread at all


def test_the_page_shows_each_setting_and_says_what_it_cannot_tell() -> None:
    text = page.html(result(small("flatline"), S4_OFF))
    assert text.count("<img ") == len(BACKTESTED)
    assert f"<th>{S4_OFF}</th>" in text
    assert "S1 is not backtested" in text
    assert "fired at" in text and "never fired" in text


def test_the_command_writes_the_page_and_csv_of_the_shipped_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(examples.EXAMPLES_DIR) / f"p04_flatline{bundle.SUFFIX}"
    code = cli.main(["backtest", f"--history={example}", "--vary", S4_OFF, "--out", str(tmp_path)])
    assert code == 0
    said = capsys.readouterr().out
    assert "S4  shipped" in said and "fired at" in said
    assert (tmp_path / "backtest.html").stat().st_size > 0
    assert (tmp_path / "backtest.csv").read_text().startswith(",".join(page.CSV_COLUMNS))


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["backtest"], 4),  # neither --history nor --compare
        (["backtest", "--history=x", "--set", "no.such_key=1"], 4),
        (["backtest", "--history=x", "--vary", "stop.s4_min_p10_p90"], 4),
        (["backtest", "--compare"], 4),  # no change to try
        (["backtest", "--history=/nonexistent/history.bundle.json.gz"], 1),
    ],
)
def test_the_command_exit_codes(tmp_path: Path, argv: list[str], code: int) -> None:
    assert cli.main([*argv, "--out", str(tmp_path), "--reports-dir", str(tmp_path)]) == code
