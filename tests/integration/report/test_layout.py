"""Each phase's report as an operator opens it at 3 a.m. on a 1280 px laptop (issue 23): the
verdict in the first screen, above pytest-html's Environment block, and nothing wider than
the window or clipped in a cell; an activation's and a rollback's s.7 facts; a failure's
figures shown once. The reports are real (the plugin's, from a child pytest over hand-judged
checks, `report_pages`), so pytest-html's own layout is what is measured."""

from __future__ import annotations

import pytest

from tests.support.browser import chromium, layout
from tests.support.report_pages import PAGES, phase_page

LAPTOP = (1280, 800)


@pytest.fixture(scope="module")
def browser() -> str:
    return chromium()


@pytest.fixture(scope="module", params=sorted(PAGES))
def page(request, browser, tmp_path_factory):
    """(phase, report file, what it measured of itself at 1280 x 800, its DOM)."""
    phase = request.param
    work = tmp_path_factory.mktemp(phase)
    report = phase_page(work, phase)
    return phase, report, *layout(browser, report, work / "profile", *LAPTOP)


def test_the_verdict_is_in_the_first_screen_and_the_environment_below_the_results(page):
    phase, _, measured, _ = page
    assert measured["banner_bottom"] is not None, phase
    assert measured["banner_bottom"] <= measured["height"], measured
    assert measured["environment_top"] > measured["results_top"] > measured["banner_bottom"]


def test_nothing_is_wider_than_the_window_or_clipped(page):
    _, _, measured, _ = page
    assert measured["width"] == LAPTOP[0]
    assert measured["scroll_width"] <= measured["width"], measured
    assert measured["clipped"] == [], measured


def test_a_failures_figures_are_shown_once_in_the_results_table(page):
    phase, _, _, dom = page
    results = dom[dom.index('<table id="results-table"') : dom.index("<footer>")]
    for check_id, status, measured in PAGES[phase][0]:
        if status == "FAIL":  # in its row; not again under it, nor as pytest's failure text
            assert results.count(measured) == 1, f"{check_id}: {results.count(measured)} times"
            assert "No other output: the verdict is the row above." in results


def test_action_reports_carry_the_runbook_s7_facts(page):
    phase, _, _, dom = page
    said = {
        "activation": ("Decision log: Activation (runbook s.7)", "Jane Doe (desk lead)",
                       "Weight=10%, Conf Cap=0.75, Observation=6h", "T+0 (the restart)",
                       "wait until active", "0.022 s"),
        "rollback": ("Decision log: Rollback (runbook s.7)", "automatic: window_30m: STOP: S4",
                     "R4 PASS: back in shadow 1.1 s after the start (limit 60 s)", "0.289 s"),
    }.get(phase, ())  # fmt: skip
    for text in said:
        assert text in dom, text
