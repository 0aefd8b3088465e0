"""Run the live suite as an operator does, as a subprocess (in the systemd box or on this
machine), and read back each check's outcome: what the demo and the self-tests judge."""

from __future__ import annotations

import ast
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shadowgate import evidence
from shadowgate.testbed.sdbox import SystemdBox, repo_root

# A freshly installed unit has no 24 h of uptime: the drill override DESIGN.md names.
DRILL = ("--set=service.min_uptime_hours=0",)


@dataclass(frozen=True)
class CheckResult:
    """One check test of a suite run: its pytest outcome, verdict status and message."""

    test: str
    outcome: str  # passed / failed / skipped / error
    status: str | None  # the Verdict status, None when no verdict was reached
    message: str
    window: str = ""  # what the verdict was measured over (counts of parse errors, coverage)


@dataclass(frozen=True)
class SuiteRun:
    exit_code: int
    output: str
    checks: dict[str, CheckResult]  # by check ID ("B3")
    record: dict  # the run's evidence record (shadowgate.evidence)

    def failing(self) -> set[str]:
        return {cid for cid, c in self.checks.items() if c.outcome in ("failed", "error")}


def _check_id(test_name: str) -> str:
    return test_name.removeprefix("test_").split("_", 1)[0]


def _read_junit(path: Path) -> dict[str, CheckResult]:
    results: dict[str, CheckResult] = {}
    for case in ET.parse(path).iter("testcase"):
        name = case.get("name", "")
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                message = (node.get("message") or "") + "\n" + (node.text or "")
        status, window = None, ""
        for prop in case.iter("property"):
            if prop.get("name") == "verdict":
                verdict = ast.literal_eval(prop.get("value", "{}"))
                status, window = verdict["status"], verdict["window"]
                message = message or verdict["measured"]
        results[_check_id(name)] = CheckResult(name, outcome, status, message, window)
    return results


Runner = Callable[[list[str], str], subprocess.CompletedProcess[str]]


def local_runner(argv: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
    """Run on this machine (no systemd box)."""
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)


def box_runner(box: SystemdBox) -> Runner:
    """Run inside the systemd box, where `systemctl` and `journalctl` reach a real systemd."""
    return lambda argv, cwd: box.exec(argv, cwd=cwd, timeout=300)


def run_suite(
    runner: Runner, redis_url: str, reports_dir: Path, phase: str = "preactivation", *args: str
) -> SuiteRun:
    """`pytest -m PHASE` from the repo against `redis_url`, recorded under reports_dir; the
    results are read back from the junit file the run's record names."""
    before = len(evidence.records(reports_dir))
    # `--opt=value` throughout: pytest picks its rootdir before it knows these options (README).
    argv = [sys.executable, "-m", "pytest", "-m", phase, "-p", "no:cacheprovider",
            f"--rootdir={repo_root()}", f"--redis-url={redis_url}",
            f"--reports-dir={reports_dir}", *args]  # fmt: skip
    done = runner(argv, str(repo_root()))
    output = done.stdout + done.stderr
    recorded = evidence.records(reports_dir)[before:]
    junit = recorded[-1]["files"]["junit"] if recorded else None
    if junit is None:
        raise RuntimeError(f"the suite recorded no run (exit {done.returncode}):\n{output}")
    return SuiteRun(done.returncode, output, _read_junit(reports_dir / junit), recorded[-1])
