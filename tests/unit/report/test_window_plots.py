"""A window report's pictures (issue 23): what runbook s.5 asks the operator to watch, per
slice since T+0, each with its line: consensus (S2's sustained rule), agreement and hard
disagreement (S3), the confidence spread (S4), and S5's PnL against its baseline."""

from __future__ import annotations

import base64
import re
from xml.etree import ElementTree

from shadowgate.checks.stops import PnlBaseline
from shadowgate.report import plots
from tests.support.handmade import HOUR, MINUTE, NOW, SECOND, intent, outcome, timed, voting
from tests.support.monitoring_scenes import T0_MS, TH, since_t0

KINDS = [{"consensus": 4, "patchtst": voting("BUY", 0.55 + k % 10 / 100)} for k in range(300)]


def svgs(html: str) -> list[str]:
    """Each figure's SVG text, parsed once to prove it is well-formed."""
    found = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    texts = [base64.b64decode(data).decode("utf-8") for data in found]
    for text in texts:
        ElementTree.fromstring(text)
    return texts


def test_slices_end_at_the_read_as_s2_cuts_them():
    cut = plots.Slices.of(since_t0(KINDS), TH)
    assert cut.labels == ["T+10 min", "T+20 min", "T+30 min", "T+40 min", "T+50 min", "T+1 h"]
    # 10 s apart, the newest 10 s before the read, the oldest exactly 50 min before it
    assert [len(s) for s in cut.intents] == [1, 60, 60, 60, 60, 59]
    assert cut.thin == [True, False, False, False, False, False]


def test_early_in_a_window_s2s_slices_before_t0_are_shown_empty():
    window = timed([intent(NOW - 5 * SECOND)], NOW - 15 * SECOND)
    cut = plots.Slices.of(window, TH)
    assert cut.labels == ["before T+0", "before T+0", "T+15 s"]
    assert [len(s) for s in cut.intents] == [0, 0, 1] and all(cut.thin)


def test_each_s5_metric_is_drawn_with_its_stop_line():
    closed = [outcome(T0_MS + k * MINUTE, "BTC", k % 2 == 0) for k in range(1, 40)]
    baseline = PnlBaseline(T0_MS - 24 * HOUR, T0_MS, True, 100, 60, 40, 1.0, 0)
    observed = {
        "since_t0": since_t0(KINDS),
        "outcomes_since_t0": timed(closed, T0_MS),
        "pnl_baseline": baseline,
    }
    consensus, rates, spread, pnl = svgs(plots.window_plots_html(observed, "patchtst", TH))
    assert "S2 stop line: in each of the last 3" in consensus
    assert "S3 stop line" in rates and "agreement" in rates and "hard disagreement" in rates
    assert "S4 collapse line" in spread and "M4 healthy" in spread
    assert "stop below 50%" in pnl  # the baseline's 60% less 10 points
    assert "stop above 2%" in pnl  # twice the baseline's mean loss of 1%


def test_without_outcomes_or_baseline_the_s5_figure_says_why():
    html = plots.window_plots_html({"since_t0": since_t0(KINDS)}, "patchtst", TH)
    assert len(svgs(html)) == 3
    assert "no outcomes since T+0 or no baseline (S5 has not run)" in html


def test_without_the_intents_since_t0_nothing_is_drawn():
    html = plots.window_plots_html({}, "patchtst", TH)
    assert svgs(html) == [] and "the intents since T+0 were not read" in html
