"""The HTML report as an auditor sees it: opened in a real headless Chromium, after
pytest-html's JavaScript has rendered the results table (`--dump-dom`), it shows the verdict,
the runbook's decision log and checklist filled in, the per-check columns, WARN rows in yellow,
both plots, and the target without its password.

Without Chromium these tests skip, except under SHADOWGATE_REQUIRE_SYSTEMD=1 (CI), where
.ci/run installs it (SHADOWGATE_EXTRA_APT=chromium) and its absence is a failure.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from shadowgate.evidence import CheckEntry
from shadowgate.report import render, windows
from shadowgate.testbed import throwaway_redis
from shadowgate.verdict import Status, Verdict
from tests.support import browser
from tests.support.browser import browse
from tests.support.evidence_data import TARGET, make_record
from tests.support.suite_runs import DRILL, REPO, STRATEGY, fill_engine, run_phase

PASSWORD = "Rp-" + os.urandom(6).hex()
WARN_YELLOW = (255, 224, 131)  # #ffe083, the WARN status cell
WARN_ROW = (255, 246, 213)  # #fff6d5, the rest of a WARN row
CONSENSUS_BARS = (74, 126, 187)  # #4a7ebb, drawing.BAR
HISTOGRAM_BARS = (106, 159, 88)  # #6a9f58, drawing.HISTOGRAM
SYNTHETIC_CHECKS = """
import pytest

from shadowgate.verdict import Status, Verdict


def verdict(check_id, status):
    return Verdict(check_id, "consensus distribution", status, measured="84% at full consensus",
                   threshold="healthy 40..70%, warn above 80%", section="s.5 metric 1",
                   window="latest 100 intents", sample=100, value=0.84, evidence=("1-0", "2-0"))


@pytest.mark.check("M1")
def test_M1_consensus_distribution(judge):
    judge(verdict("M1", Status.WARN))


@pytest.mark.check("M2")
def test_M2_agreement(judge):
    judge(verdict("M2", Status.PASS))
"""


@dataclass(frozen=True)
class Cell:
    text: str
    css: str


class Rows(HTMLParser):
    """Every table row of a document as its cells' texts and classes; every image source."""

    def __init__(self, document: str) -> None:
        super().__init__()
        self.rows: list[list[Cell]] = []
        self.images: list[str] = []
        self._open_rows: list[list[Cell]] = []
        self._open_cells: list[tuple[list[str], str]] = []
        self.feed(document)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._open_rows.append([])
        elif tag in ("td", "th"):
            self._open_cells.append(([], dict(attrs).get("class") or ""))
        elif tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        elif tag == "br" and self._open_cells:
            self._open_cells[-1][0].append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._open_cells:
            parts, css = self._open_cells.pop()
            if self._open_rows:
                self._open_rows[-1].append(Cell(" ".join("".join(parts).split()), css))
        elif tag == "tr" and self._open_rows:
            self.rows.append(self._open_rows.pop())

    def handle_data(self, data):
        if self._open_cells:
            self._open_cells[-1][0].append(data)

    def pairs(self) -> dict[str, str]:
        """Two-cell rows (decision log, run facts) as header -> value."""
        return {r[0].text: r[1].text for r in self.rows if len(r) == 2}

    def checklist(self) -> dict[str, tuple[str, str]]:
        """Checklist rows as text -> (box, note)."""
        boxes = ("[x]", "[ ]", "[?]")
        return {r[1].text: (r[0].text, r[2].text) for r in self.rows if r and r[0].text in boxes}

    def result_row(self, check_id: str) -> dict[str, Cell]:
        """The results table row of a check, by column (after JavaScript rendered it)."""
        for row in self.rows:
            columns = {c.css.split()[0].removeprefix("col-"): c for c in row if "col-" in c.css}
            if columns.get("checkid", Cell("", "")).text == check_id:
                return columns
        raise AssertionError(f"no results row for {check_id}")


@pytest.fixture(scope="module")
def chromium() -> str:
    return browser.chromium()


@dataclass(frozen=True)
class Rendered:
    page: Path
    raw: str  # the file as written
    dom: str  # the document after pytest-html's JavaScript ran
    rows: Rows


@pytest.fixture(scope="module")
def preactivation(chromium, tmp_path_factory) -> Rendered:
    """The real suite against a password-protected Redis holding a healthy shadow engine."""
    reports = tmp_path_factory.mktemp("reports")
    server = throwaway_redis.start(password=PASSWORD)
    try:
        fill_engine(server)
        run = run_phase(server.url, reports, DRILL, *STRATEGY)
    finally:
        server.stop()
    page = run.file(".html")
    dom = browse(chromium, page, tmp_path_factory.mktemp("profile"), "--dump-dom")
    return Rendered(page, page.read_text("utf-8"), dom, Rows(dom))


@pytest.fixture(scope="module")
def warn_report(chromium, tmp_path_factory) -> tuple[Rendered, Path]:
    """A monitoring run with one WARN and one PASS verdict, and its screenshot."""
    work = tmp_path_factory.mktemp("warn")
    (work / "test_window.py").write_text(SYNTHETIC_CHECKS)
    argv = [sys.executable, "-m", "pytest", "-m", "window_2h", "-p", "no:cacheprovider",
            "-p", "shadowgate.plugin",
            "-c", str(REPO / "pyproject.toml"), f"--rootdir={work}",
            f"--reports-dir={work / 'reports'}", "test_window.py"]  # fmt: skip
    done = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=120, check=False)
    (page,) = (work / "reports").glob("*.html")
    profile = tmp_path_factory.mktemp("profile")
    dom = browse(chromium, page, profile, "--dump-dom")
    shot = work / "shot.png"
    browse(chromium, page, profile, f"--screenshot={shot}")
    assert "M1  WARN" in done.stdout, done.stdout + done.stderr
    return Rendered(page, page.read_text("utf-8"), dom, Rows(dom)), shot


def test_title_states_phase_and_verdict(preactivation):
    """The env file is missing here: the checks that read it were not evaluated, so the run is
    incomplete and the title says so."""
    title = "shadowgate preactivation: NO-GO (incomplete run)"
    assert f'<title id="head-title">{title}</title>' in preactivation.dom
    assert f'<h1 id="title">{title}</h1>' in preactivation.dom
    assert "not evaluated: /nonexistent/shadowgate/engine.env" in preactivation.dom


def test_results_table_has_the_verdict_columns_rendered_by_javascript(preactivation):
    row = '<td class="col-checkid">B3</td>'
    assert row not in preactivation.raw  # only in pytest-html's JSON until its script runs
    assert row in preactivation.dom
    headers = [c.text for r in preactivation.rows.rows for c in r if c.text == "Entries"]
    assert headers, "no Entries column"
    b3 = preactivation.rows.result_row("B3")
    assert b3["status"].text == "PASS" and "sg-PASS" in b3["status"].css
    assert re.fullmatch(r"p95 \d+ bytes \(max \d+\) \(n=100\)", b3["measured"].text)
    assert b3["threshold"].text == "p95 < 1500 bytes"
    assert b3["window"].text.startswith("quantum:stream:trade.intent entries")
    assert len(b3["entries"].text.split()) == 3
    assert 'class="extraHTML"><div><table class="sg-table">' in preactivation.dom  # verdicts
    p1 = preactivation.rows.result_row("P1")
    assert p1["status"].text == "NOT EVALUATED"
    assert p1["measured"].text == (
        "/nonexistent/shadowgate/engine.env on local does not exist: its directory "
        "/nonexistent/shadowgate does not exist"
    )


def test_decision_log_pre_activation_block_is_filled_in(preactivation):
    log = preactivation.rows.pairs()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", log["Date/Time"])
    assert re.match(r"24\.0 hours \(P5 PASS: 24\.0 h .*at least", log["Shadow Mode Duration"])
    for gate in ("Gate 1 (Action Diversity)", "Gate 2 (Confidence Spread)",
                 "Gate 3 (Agreement)", "Gate 4 (Calibration)"):  # fmt: skip
        assert log[gate] == "PASS"
    assert log["Total"] == "4/4"
    assert log["Hard Blockers"] == "B2 NOT EVALUATED, B4 NOT EVALUATED"
    assert log["Approved By"] == "Jane Doe (desk lead)"
    assert log["Strategy"] == "Weight=10%, Conf Cap=0.75, Observation=6h"


def test_go_no_go_checklist_rows_follow_their_checks(preactivation):
    rows = preactivation.rows.checklist()
    assert rows["Zero consensus=4 events in last 24h"] == ("[x]", "P3 PASS")
    assert rows["Payload p95 <1500 bytes"] == ("[x]", "B3 PASS")
    shadow = rows["Shadow mode active and verified (PATCHTST_SHADOW_ONLY=true)"]
    assert shadow[0] == "[?]" and shadow[1].startswith("P1 NOT EVALUATED, P2 ")
    assert rows["Gate evaluation completed (≥3/4 or ≥2/3 passed)"][0] == "[x]"
    assert rows["Team approval obtained"] == ("[x]", "approved by Jane Doe (desk lead)")
    assert rows["Monitoring scripts ready"] == ("[ ]", "manual: not checked by shadowgate")
    assert rows["Consensus=4 found in shadow mode?"] == ("[ ]", "NO (B1 PASS)")
    assert rows["Service in restart loop?"] == ("[?]", "UNKNOWN (B4 NOT EVALUATED)")
    assert rows["Initial weight: 10%"][0] == "[x]"
    assert rows["Confidence cap: 0.75"][0] == "[x]"
    assert rows["Observation window: 6h"][0] == "[x]"
    assert rows["Rollback threshold: 60s"][0] == "[x]"
    assert rows["GO — All checks passed, activate PatchTST"][0] == "[ ]"
    assert rows["NO-GO — Blockers present, extend shadow or re-train"][0] == "[x]"


def test_both_plots_are_svg_images_that_chromium_draws(preactivation, chromium, tmp_path):
    prefix = "data:image/svg+xml;base64,"
    svgs = [src.removeprefix(prefix) for src in preactivation.rows.images if src.startswith(prefix)]
    assert len(svgs) == 2
    for data in svgs:
        root = ElementTree.fromstring(base64.b64decode(data, validate=True))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert int(root.get("width")) > 300 and int(root.get("height")) > 200
    assert "Consensus distribution of the snapshot" in preactivation.dom
    assert "patchtst confidence distribution over the precondition (24 h) window" in (
        preactivation.dom
    )
    shot = tmp_path / "shot.png"
    tall = "--window-size=1400,6000"  # the plots are below the first 2400 px; the last size wins
    browse(chromium, preactivation.page, tmp_path / "profile", tall, f"--screenshot={shot}")
    colours = {rgb for _, rgb in Image.open(shot).convert("RGB").getcolors(1 << 20)}
    assert CONSENSUS_BARS in colours and HISTOGRAM_BARS in colours


def test_environment_shows_the_target_but_never_the_password(preactivation):
    assert "shadowgate target" in preactivation.dom
    assert "redis_url: redis://:***@127.0.0.1:" in preactivation.dom
    assert PASSWORD not in preactivation.dom and PASSWORD not in preactivation.raw


def test_warn_rows_are_visibly_distinct_from_pass(warn_report):
    rendered, shot = warn_report
    m1, m2 = rendered.rows.result_row("M1"), rendered.rows.result_row("M2")
    assert m1["status"].text == "WARN" and "sg-WARN" in m1["status"].css
    assert m2["status"].text == "PASS" and "sg-PASS" in m2["status"].css
    title = "shadowgate window_2h: INCONCLUSIVE: cannot prove healthy (incomplete run)"
    assert f'<title id="head-title">{title}</title>' in rendered.dom
    assert rendered.rows.pairs()["T+0"] == "T+0 unknown"  # the window block, no `activation`
    colours = {rgb for _, rgb in Image.open(shot).convert("RGB").getcolors(1 << 20)}
    assert WARN_YELLOW in colours and WARN_ROW in colours


# -- post-activation: window block, s.7 observations and s.9 rows, from records alone --


def judged(check_id: str, status: Status, measured: str, phase: str) -> CheckEntry:
    verdict = Verdict(check_id, "t", status, measured, "thr", "s.5", sample=100)
    return CheckEntry.judged(f"p/test.py::test_{check_id}", "passed", verdict, (phase,))


def window_run(phase: str, statuses: dict[str, Status], t0: dict | None = None, **fields):
    checks = [judged(i, s, f"{i} figure", phase) for i, s in statuses.items()]
    record = make_record(f"run-{phase}", phase, checks=checks, **fields).to_dict()
    if t0 is not None:
        record["facts"]["t0"] = t0
    return record


T0_FACT = {"at": "2026-11-26T05:00:00Z", "source": "activation record 20261126T045900Z-act"}
HEALTHY_2H = dict.fromkeys(("M1", "M2", "M3", "M4", "S1", "S2", "S3", "S4", "S5"), Status.PASS)


def test_window_block_states_t0_the_window_stops_and_slices():
    statuses = HEALTHY_2H | {"S2": Status.WARN}
    block = Rows(windows.window_html(window_run("window_2h", statuses, T0_FACT)))
    facts = block.pairs()
    assert facts["T+0"] == (
        "2026-11-26T05:00:00Z (activation record 20261126T045900Z-act); run finished T+1 h 30 min"
    )
    assert facts["Window"] == "window_2h: every 15 min during T+30 min..2 h (runbook s.5)"
    stops = {r[0].text: (r[2].text, r[2].css, r[3].text) for r in block.rows if len(r) == 4}
    assert stops["S2"] == ("WARN", "sg-WARN", "S2 figure")  # per-slice figures, twice
    assert stops["S5"] == ("PASS", "sg-PASS", "S5 figure")
    assert [r[0].text for r in block.rows if len(r) == 4] == [
        "ID",
        "S1",
        "S2",
        "S3",
        "S4",
        "S5",
        "ID",
        "S2",
    ]


def test_window_block_without_t0_says_so_and_names_stops_not_run():
    block = Rows(windows.window_html(window_run("window_30m", {"M1": Status.PASS})))
    assert block.pairs()["T+0"] == "T+0 unknown"
    stops = {r[0].text: r[2].text for r in block.rows if len(r) == 4 and r[0].text != "ID"}
    assert stops == dict.fromkeys(("S1", "S2", "S3", "S4"), "NOT RUN")  # S5: from T+30 min


def test_latest_windows_start_again_at_each_preactivation_of_the_target():
    other = {**TARGET, "unit": "other.service"}
    runs = [
        window_run("window_6h", HEALTHY_2H),  # an earlier attempt
        make_record("pre-2").to_dict(),
        window_run("window_30m", {"M1": Status.PASS}),
        window_run("window_30m", {"M1": Status.WARN}),
        window_run("window_2h", HEALTHY_2H, target=other),
    ]
    latest = windows.latest_windows(runs, TARGET)
    assert list(latest) == ["window_30m"] and latest["window_30m"]["checks"][0]["status"] == "WARN"


def test_observations_are_filled_from_the_latest_windows_else_manual():
    latest = {
        "window_2h": window_run("window_2h", HEALTHY_2H | {"M3": Status.WARN}, T0_FACT),
        "window_24h": window_run(
            "window_24h", dict.fromkeys(("W1", "W2", "W3", "W4"), Status.PASS), passed=False
        )
        | {"decision": "HOLD WEIGHT"},
    }
    page = Rows(windows.observations_html(latest))
    rows = [(r[0].text, r[1].text, r[1].css) for r in page.rows if len(r) == 2]
    assert ("Agreement Rate (M2)", "PASS: M2 figure", "sg-PASS") in rows
    assert ("Hard Disagreement (M3)", "WARN: M3 figure", "sg-WARN") in rows
    assert ("Issues", "M3 WARN", "") in rows
    assert ("Action / Decision", "Continue", "sg-PASS") in rows
    assert ("all rows", "manual: not checked by shadowgate (no window_6h run yet)", "") in rows
    # the 24 h run's criteria were not met: the weight stays, nothing says roll back
    assert ("Action / Decision", "Hold the weight (s.8): criteria not met", "sg-UNKNOWN") in rows
    headers = [r[0].text for r in page.rows if len(r) == 1]
    assert headers[0].startswith("T+1 Hour: run-window_2h (2026-11-26 06:30 UTC, 2026-11-26T05")
    assert headers[1] == "T+6 Hours"


def test_checklist_post_activation_rows_follow_the_latest_windows():
    pre = make_record("pre").to_dict()
    latest = {
        "window_30m": window_run("window_30m", {"M1": Status.PASS}),
        "window_2h": window_run(
            "window_2h", HEALTHY_2H | {"M3": Status.WARN, "S5": Status.INCONCLUSIVE}
        ),
    }
    rows = Rows(render.checklist_html(pre, 60.0, latest)).checklist()
    assert rows["T+30min: Consensus distribution healthy (40-70% at 4)"] == (
        "[x]",
        "run-window_30m OK: M1 PASS",
    )
    assert rows["T+1h: Agreement rate 50-80%, hard disagree <25%"][0] == "[ ]"
    assert rows["T+2h: No stop conditions triggered"][0] == "[?]"
    assert rows["T+5min: Service active, consensus=4 appearing"] == (
        "[ ]",
        "manual: not checked by shadowgate until pytest -m activation has run",
    )


def _banner_css(html: str) -> tuple[str, str]:
    """(css class, background) of the decision's banner in `verdict_html`."""
    css = re.search(r'<div class="sg-verdict (sg-[a-z]+)">', html).group(1)
    background = re.search(rf"\.{css} {{ background: (#[0-9a-f]+);", render.STYLE).group(1)
    return css, background


@pytest.mark.parametrize(
    ("phase", "decision", "css"),
    [
        ("window_30m", "OK", "sg-go"),
        ("window_30m", "STOP", "sg-stop"),
        ("window_30m", "NOT OK", "sg-notok"),
        ("window_30m", "INCONCLUSIVE", "sg-unproven"),
        ("window_24h", "HOLD WEIGHT", "sg-notok"),
        ("preactivation", "NO-GO", "sg-stop"),
    ],
)
def test_only_stop_and_no_go_banners_are_red(phase, decision, css):
    record = window_run(phase, {"S1": Status.PASS}) | {"decision": decision}
    got, background = _banner_css(render.verdict_html(record))
    assert got == css
    assert (background == "#c62828") is (decision in ("STOP", "NO-GO"))


def test_inconclusive_cells_are_amber_not_the_fail_red():
    fail = re.search(r"td\.sg-FAIL[^{]*\{ color: (#[0-9a-f]+)", render.STYLE).group(1)
    unproven = re.search(r"td\.sg-INCONCLUSIVE \{ color: (#[0-9a-f]+)", render.STYLE).group(1)
    assert fail == "#c62828" and unproven not in (fail, "#2e7d32")
