"""Run the live suite as an operator does, as a subprocess (in the systemd box or on this
machine), and read back each check's outcome from the run's record: what the demo and the
self-tests judge."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shadowgate import evidence
from shadowgate.evidence import CheckEntry, RunRecord
from shadowgate.testbed.sdbox import SystemdBox, repo_root

# A freshly installed unit has no 24 h of uptime, and its emptied journal cannot prove the
# hour before its start: the drill overrides the README names.
DRILL = ("--set=service.min_uptime_hours=0", "--set=service.auto_restart_window_hours=0")


@dataclass(frozen=True)
class CheckResult:
    """One check test of a suite run: its pytest outcome, verdict status and message."""

    test: str
    outcome: str  # passed / failed / skipped (the worst over setup, call and teardown)
    status: str | None  # the Verdict status, None when no verdict was reached
    message: str  # the verdict's message, or why there is none
    window: str = ""  # what the verdict was measured over (counts of parse errors, coverage)

    @classmethod
    def of(cls, check: CheckEntry) -> CheckResult:
        verdict = check.verdict
        test = check.nodeid.rpartition("::")[2]
        if verdict is None:
            return cls(test, check.outcome, None, check.cause or "")
        return cls(test, check.outcome, verdict.status.value, verdict.message(), verdict.window)


@dataclass(frozen=True)
class SuiteRun:
    exit_code: int
    output: str
    checks: dict[str, CheckResult]  # by check ID ("B3")
    record: RunRecord

    def failing(self) -> set[str]:
        return {cid for cid, c in self.checks.items() if c.outcome == "failed"}


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
    results are read back from the run's record."""
    before = len(evidence.run_records(reports_dir))
    # `--opt=value` throughout: pytest picks its rootdir before it knows these options (README).
    argv = [sys.executable, "-m", "pytest", "-m", phase, "-p", "no:cacheprovider",
            f"--rootdir={repo_root()}", f"--redis-url={redis_url}",
            f"--reports-dir={reports_dir}", *args]  # fmt: skip
    done = runner(argv, str(repo_root()))
    output = done.stdout + done.stderr
    recorded = evidence.run_records(reports_dir)[before:]
    if not recorded:
        raise RuntimeError(f"the suite recorded no run (exit {done.returncode}):\n{output}")
    record = recorded[-1]
    checks = {check.check_id: CheckResult.of(check) for check in record.checks}
    return SuiteRun(done.returncode, output, checks, record)
