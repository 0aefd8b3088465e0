"""The s.9 checklist never contradicts the verdict (issue 23): a row is ticked exactly when
its checks allow the decision the run took, and its colour follows; [?] (amber) where a
check proved nothing either way. The hard blockers answer from the same rule."""

from __future__ import annotations

import re
from html import unescape

from shadowgate.report import render
from shadowgate.verdict import Status
from tests.support.evidence_data import entry, every_check_passed, make_record

GATES_ROW = "Gate evaluation completed (≥3/4 or ≥2/3 passed)"
ROW = re.compile(r'<tr><td class="sg-box">(\[.\])</td><td>(.*?)</td><td(?: class="(.*?)")?>')


def rows(record) -> dict[str, tuple[str, str | None]]:
    """Checklist text -> (box, colour class of its note)."""
    html = render.checklist_html(record.to_dict(), 60.0)
    return {unescape(text): (box, css) for box, text, css in ROW.findall(html)}


def with_checks(*changed, passed: bool = True):
    """Every preactivation check passed, except `changed`."""
    ids = {c.check_id for c in changed}
    kept = [c for c in every_check_passed("preactivation") if c.check_id not in ids]
    return make_record("pre", checks=[*kept, *changed], passed=passed)


def test_a_go_with_g4_deferred_ticks_the_gate_row_green():
    """Quorum 3/3 holds with G4 DEFERRED: the run is GO, so the row says so."""
    record = with_checks(entry("G4", status=Status.DEFERRED, outcome="skipped"))
    assert record.decision == "GO"
    assert rows(record)[GATES_ROW] == ("[x]", "sg-PASS")


def test_on_a_go_every_row_proven_by_checks_is_ticked_green():
    shown = rows(with_checks())
    for text, ids in render.PRE_ACTIVATION_ROWS:
        if ids:
            assert shown[text] == ("[x]", "sg-PASS"), text


def test_a_gate_warn_with_the_quorum_held_allows_the_go():
    record = with_checks(entry("G2", status=Status.WARN, outcome="passed"))
    assert rows(record)[GATES_ROW] == ("[x]", "sg-PASS")


def test_a_failed_check_unticks_its_row_red():
    record = with_checks(entry("B3", status=Status.FAIL), passed=False)
    assert record.decision == "NO-GO"
    shown = rows(record)
    assert shown["Payload p95 <1500 bytes"] == ("[ ]", "sg-FAIL")
    assert shown["Payload bloat detected?"] == ("[x]", "sg-YES")
    assert shown["Zero consensus=4 events in last 24h"] == ("[x]", "sg-PASS")


def test_an_inconclusive_that_failed_the_run_is_neither_ticked_nor_red():
    record = with_checks(entry("P5", status=Status.INCONCLUSIVE, outcome="failed"), passed=False)
    assert rows(record)["Shadow observation long enough, ≥24h (s.1)"] == ("[?]", "sg-UNKNOWN")


def test_a_pass_whose_test_failed_later_does_not_allow_the_go():
    """A teardown error after a PASS verdict fails the test: the row cannot be ticked."""
    record = with_checks(entry("B4", status=Status.PASS, outcome="failed"), passed=False)
    shown = rows(record)
    assert shown["Service stable (no restart loops, uptime ≥24h)"] == ("[?]", "sg-UNKNOWN")
    assert shown["Service in restart loop?"] == ("[?]", "sg-UNKNOWN")
