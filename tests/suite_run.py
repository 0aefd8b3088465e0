"""Run the live suite the way an operator does, inside the systemd box, and read its verdicts."""

from __future__ import annotations

import ast
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from shadowgate.sdbox import SystemdBox, repo_root

# A freshly installed unit has no 24 h of uptime: the drill override DESIGN.md names.
DRILL = ("--set=service.min_uptime_hours=0",)


@dataclass(frozen=True)
class CheckResult:
    """One check test of a suite run: its pytest outcome, verdict status and message."""

    test: str
    outcome: str  # passed / failed / skipped / error
    status: str | None  # the Verdict status, None when no verdict was reached
    message: str


@dataclass(frozen=True)
class SuiteRun:
    exit_code: int
    output: str
    checks: dict[str, CheckResult]  # by check ID ("B3")

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
        status = None
        for prop in case.iter("property"):
            if prop.get("name") == "verdict":
                verdict = ast.literal_eval(prop.get("value", "{}"))
                status, message = verdict["status"], message or verdict["measured"]
        results[_check_id(name)] = CheckResult(name, outcome, status, message)
    return results


def run_suite(
    box: SystemdBox, redis_url: str, workdir: Path, phase: str = "preactivation", *args: str
) -> SuiteRun:
    """`pytest -m PHASE` from the repo, inside the box, against `redis_url`."""
    junit = workdir / f"{phase}.junit.xml"
    argv = [sys.executable, "-m", "pytest", "-m", phase, "-p", "no:cacheprovider",
            f"--rootdir={repo_root()}", f"--redis-url={redis_url}", f"--reports-dir={workdir}",
            f"--junitxml={junit}", *DRILL, *args]  # fmt: skip
    # `--opt=value`: before the plugin is loaded pytest cannot know --redis-url takes a value,
    # and would read a separate URL argument as a path to collect.
    done: subprocess.CompletedProcess[str] = box.exec(argv, cwd=str(repo_root()), timeout=300)
    output = done.stdout + done.stderr
    if not junit.exists():
        raise AssertionError(f"suite wrote no junit (exit {done.returncode}):\n{output}")
    return SuiteRun(done.returncode, output, _read_junit(junit))
