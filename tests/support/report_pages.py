"""Real reports of each phase, fast: a child pytest with the plugin over a few hand-judged
checks (long, unbreakable figures as the engine gives them), with the action records an
activation or a rollback run measures from already in the log. The page, the record and the
s.7 blocks are the plugin's own; only the checks' bodies are hand-made."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shadowgate import evidence
from shadowgate.config import Target
from tests.support.paths import REPO

LONG_WINDOW = (
    "since T+0 2026-12-07T04:44:42Z (activate record 20261207T044441Z-activate-33e22a), read "
    "15 s after; quantum:stream:trade.intent entries 1796618682805-0 (2026-12-07 04:44:42Z) .. "
    "1796618697702-0 (04:44:57Z): 132 intents, 0 parse errors, 0 foreign entries skipped"
)
CHECKS = """
import pytest

from shadowgate.verdict import Status, Verdict

WINDOW = {window!r}
ENTRIES = ("1796618682805-0", "1796618690001-0", "1796618697702-0")


def judged(check_id, status, measured):
    return Verdict(check_id, "hand-judged", Status[status], measured=measured,
                   threshold="as the catalog row says", section="s.5", window=WINDOW,
                   sample=132, value=0.5, evidence=ENTRIES)
{tests}
"""
TEST = """

@pytest.mark.check("{id}")
def test_{id}_hand_judged(judge{fixtures}):
    judge(judged("{id}", "{status}", {measured!r}))
"""
PATH = "/etc/quantum/ai-engine.env.bak.activation.20261207_044442_with_a_long_unbroken_name"
# phase -> its checks as (ID, status, measured), and the anchor fixture its tests ask for
PAGES: dict[str, tuple[tuple[tuple[str, str, str], ...], str]] = {
    "preactivation": (
        (("B3", "PASS", "p95 1210 bytes (max 1490)"), ("P6", "PASS", f"newest backup {PATH}"),
         ("G4", "DEFERRED", "12 joined outcomes of 30 needed"), ("B5", "PASS", "3/3 gates"),
         ("B1", "FAIL", "2 of 100 intents at consensus=4 in shadow")),
        "",
    ),
    "activation": ((("A0", "PASS", "active (running), MainPID=315"),), ", t0"),
    "window_30m": (
        (("S1", "PASS", "active (running), InvocationID 3e6a23282cfe4edb8addc2e946384eac"),
         ("S4", "FAIL", "n=76 mean=0.6000 std=0.0019 P10=0.5979 P90=0.6024 P10..P90=0.0045"),
         ("M1", "PASS", "full consensus 66/132 (50.0%), within the healthy 40%..70%")),
        "",
    ),
    "rollback": ((("R4", "PASS", "back in shadow 1.1 s after the start"),), ", rollback"),
}  # fmt: skip


def action(kind: str, restarted: datetime, **fields: object) -> dict:
    """An action record as actions/activate.py and rollback.py append it, two steps long."""
    start = restarted - timedelta(seconds=0.3)
    steps = [
        {"step": "restart", "started_at": start.isoformat(), "seconds": 0.289, "ok": True,
         "detail": restarted.isoformat()},
        {"step": "wait until active", "started_at": restarted.isoformat(), "seconds": 0.022,
         "ok": True, "detail": "quantum-ai-engine.service: active (running)"},
    ]  # fmt: skip
    return {
        "run_id": evidence.new_run_id(kind, start),
        "action": kind,
        "started_at": start.isoformat(),
        "restarted_at": restarted.isoformat(),
        "invocation_id": "3e6a23282cfe4edb8addc2e946384eac",
        "target": Target().describe(),
        "operator": "oncall",
        "steps": steps,
        **fields,
    }


def log_actions(reports: Path, rolled_back: bool) -> None:
    """An activation a minute ago and, if `rolled_back`, its rollback just now by a STOP."""
    now = datetime.now(UTC)
    strategy = {"approved_by": "Jane Doe (desk lead)", "weight": 10.0, "confidence_cap": 0.75,
                "observation_hours": 6.0}  # fmt: skip
    evidence.append_record(reports, action("activate", now - timedelta(minutes=1),
                                           approved_by=strategy["approved_by"],
                                           strategy=strategy, backup=PATH))  # fmt: skip
    if rolled_back:
        evidence.append_record(reports, action("rollback", now, trigger="automatic",
                                               reason="window_30m: STOP: S4"))  # fmt: skip


def phase_page(work: Path, phase: str) -> Path:
    """Run the phase's hand-judged checks with the plugin; the HTML report it wrote."""
    checks, fixtures = PAGES[phase]
    tests = "".join(
        TEST.format(id=i, status=s, measured=m, fixtures=fixtures) for i, s, m in checks
    )
    (work / "test_page.py").write_text(CHECKS.format(window=LONG_WINDOW, tests=tests))
    reports = work / "reports"
    log_actions(reports, rolled_back=phase == "rollback")
    argv = [sys.executable, "-m", "pytest", "-m", phase, "-p", "no:cacheprovider",
            "-p", "shadowgate.plugin", "-c", str(REPO / "pyproject.toml"), f"--rootdir={work}",
            f"--reports-dir={reports}", "test_page.py"]  # fmt: skip
    done = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=120, check=False)
    pages = list(reports.glob("*.html"))
    assert len(pages) == 1, done.stdout[-3000:] + done.stderr[-3000:]
    return pages[0]
