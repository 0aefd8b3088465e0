"""`./demo --drill`: the runbook rehearsed on the stand-in engine in a private systemd.

GO, activate, and either an operator's rollback or (`--scenario`, a model healthy in shadow
that misbehaves once voting) a window's STOP, the automatic `rollback.py --on-stop` and a
second one that must do nothing; `shadowgate status` after each step, then the timeline and
the measured rollback time (R4).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from shadowgate import evidence
from shadowgate.testbed import installer, sdbox, throwaway_redis
from shadowgate.testbed.demo_engine import engine_in_systemd, say
from shadowgate.testbed.suiterun import DRILL, Runner, run_suite
from shadowgate.wording import headline

# Scenarios the drill plays (`--drill --scenario=NAME`): healthy in shadow (the GO), they trip
# a window's stop condition within seconds of voting (the engine behaves as them from the
# activation's restart on: the simulator's --once-voting). The others cannot be rehearsed so:
# they fail the activation itself (crash_loop A0, silent A2), their STOP needs 30 min (redundant,
# S2 sustained) or an hour of outcomes (pnl_degraded, S5), or they never stop.
DRILL_SCENARIOS = ("contrarian", "collapse", "flatline")
DRILL_RATE = 10.0  # live decisions per second: monitor.min_intents since T+0 within seconds


@dataclass(frozen=True)
class Step:
    """One line of the drill's timeline."""

    began: datetime
    seconds: float
    what: str
    result: str
    output: str  # shown only when the step did not go as the runbook expects
    state: str = ""  # what `shadowgate status` said after it


class Drill:
    """The drill's commands, run in the box as an operator would, each timed into the timeline;
    `shadowgate status` shown after each step."""

    def __init__(self, runner: Runner, redis_url: str, reports_dir: Path) -> None:
        self.runner, self.redis_url, self.reports_dir = runner, redis_url, reports_dir
        self.options = [f"--redis-url={redis_url}", f"--reports-dir={reports_dir}", *DRILL]
        self.timeline: list[Step] = []

    def _timed(self, what: str, run: Callable[[], tuple[int, str, str]]) -> tuple[int, str]:
        began, clock = datetime.now(UTC), time.monotonic()
        code, result, output = run()
        step = Step(began, time.monotonic() - clock, what, result, output)
        self.timeline.append(step)
        say(f"{what}: {result} ({step.seconds:.1f} s, exit {code})")
        return code, result

    def suite(self, phase: str) -> tuple[int, str]:
        """`pytest -m PHASE`; its headline."""

        def run() -> tuple[int, str, str]:
            done = run_suite(self.runner, self.redis_url, self.reports_dir, phase, *DRILL)
            return done.exit_code, headline(done.record.to_dict()), done.output

        return self._timed(f"pytest -m {phase}", run)

    def action(self, name: str, *args: str) -> tuple[int, str]:
        """actions/NAME with the drill's options; its own step lines shown, its verdict line
        (or its last line) the result."""

        def run() -> tuple[int, str, str]:
            argv = [sys.executable, str(sdbox.repo_root() / "actions" / name), *self.options]
            done = self.runner([*argv, *args], str(sdbox.repo_root()))
            output = done.stdout + done.stderr
            lines = [line.strip() for line in output.splitlines()]
            for line in lines:
                if line.startswith("["):  # the action's steps: `  [OK] restart  1.234 s ...`
                    print(f"demo:   {line}", flush=True)
            said = [line for line in lines if ": verdict: " in line or "--on-stop: " in line]
            return done.returncode, (said or [line for line in lines if line] or ["-"])[-1], output

        return self._timed(" ".join((f"actions/{name}", *args)), run)

    def status(self) -> str:
        """`shadowgate status`, printed whole; the state it names."""
        argv = [sys.executable, "-m", "shadowgate.cli", "status", *self.options]
        done = self.runner(argv, str(sdbox.repo_root()))
        for line in (done.stdout + done.stderr).splitlines():
            print(f"    {line}", flush=True)
        words = done.stdout.partition("state:")[2].split(maxsplit=1)
        state = words[0] if words else "-"
        if self.timeline:
            self.timeline[-1] = replace(self.timeline[-1], state=state)
        return state

    def engine_run(self) -> str:
        """The engine's InvocationID: a restart changes it."""
        show = ["systemctl", "show", "-p", "InvocationID", "--value", installer.ENGINE_UNIT]
        return self.runner(show, "/").stdout.strip()

    def rollback_time(self) -> str:
        """R4 as the latest rollback record measured it, beside the action's own wall time (the
        last step)."""
        checks = evidence.run_records(self.reports_dir)[-1].checks
        r4 = next((c.verdict for c in checks if c.check_id == "R4" and c.verdict), None)
        measured = f"{r4.value:.1f} s (R4 {r4.status})" if r4 and r4.value is not None else "-"
        took = self.timeline[-1].seconds
        return f"rollback time: {measured} to shadow evidence; the action {took:.1f} s in all"

    def print_timeline(self) -> None:
        say("timeline (UTC start, wall time, step: result -> the state after it):")
        for step in self.timeline:
            then = f" -> {step.state}" if step.state else ""
            said = f"{step.seconds:6.1f} s  {step.what}: {step.result}{then}"
            print(f"demo:   {step.began:%H:%M:%S} {said}", flush=True)


def _fail(drill: Drill, why: str) -> int:
    """The drill ends at a step that did not go as the runbook expects: its output, why, and
    the timeline so far."""
    print(drill.timeline[-1].output, flush=True)
    say(f"drill stopped: {why}")
    drill.print_timeline()
    return 1


def _activated(drill: Drill) -> str | None:
    """Preactivation GO, then actions/activate.py OK; None, or what went otherwise."""
    code, _ = drill.suite("preactivation")
    if drill.status() != "ARMED" or code != 0:
        return "pytest -m preactivation: expected GO, the state ARMED"
    code, _ = drill.action("activate.py", "--approved-by=demo (drill)", "--weight=20")
    if drill.status() != "ACTIVE" or code != 0:
        return "actions/activate.py: expected OK, the state ACTIVE"
    return None


def _healthy_story(drill: Drill) -> int:
    """GO, activate, an operator's rollback, the rollback time."""
    if why := _activated(drill):
        return _fail(drill, why)
    code, _ = drill.action("rollback.py")
    if drill.status() != "ROLLED_BACK" or code != 0:
        return _fail(drill, "actions/rollback.py: expected OK, the state ROLLED_BACK")
    drill.print_timeline()
    say(drill.rollback_time())
    return 0


def _stop_story(drill: Drill, scenario: str) -> int:
    """GO, activate, the engine behaves as `scenario`: a window's STOP, the automatic
    rollback, verified, and a second --on-stop that does nothing."""
    if why := _activated(drill):
        return _fail(drill, why)
    code, said = drill.suite("window_30m")
    if drill.status() != "STOPPED" or code != 1 or "STOP: roll back now" not in said:
        return _fail(drill, f"pytest -m window_30m: expected STOP ({scenario}), the state STOPPED")
    code, _ = drill.action("rollback.py", "--on-stop")
    if drill.status() != "ROLLED_BACK" or code != 0:
        return _fail(drill, "actions/rollback.py --on-stop: expected OK, the state ROLLED_BACK")
    rollback_time = drill.rollback_time()
    engine_run = drill.engine_run()
    code, said = drill.action("rollback.py", "--on-stop")
    restarted = drill.engine_run() != engine_run
    say("the engine was " + ("RESTARTED again" if restarted else "not restarted again"))
    if drill.status() != "ROLLED_BACK" or code != 0 or "already rolled back" not in said:
        return _fail(drill, "a second --on-stop: expected exit 0, already rolled back")
    if restarted:
        return _fail(drill, "a second --on-stop: expected no restart, the engine restarted")
    drill.print_timeline()
    say(rollback_time)
    return 0


def run(scenario: str | None, hours: float, reports_dir: Path) -> int:
    """The whole runbook on the stand-in engine: preactivation GO, actions/activate.py, then
    an operator's actions/rollback.py (no scenario), or (a DRILL_SCENARIOS name) the engine
    misbehaving once voting: a window's STOP and the automatic rollback --on-stop, twice."""
    systemd, reason = sdbox.availability()
    if not systemd:
        say(f"--drill needs a private systemd, which cannot boot here: {reason}")
        return 1
    reports_dir = reports_dir.resolve()
    reports_dir.mkdir(parents=True, exist_ok=True)
    server = throwaway_redis.start()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="shadowgate-demo-") as tmp,
            engine_in_systemd(
                server.url, "healthy_shadow", hours, Path(tmp), reports_dir, scenario, DRILL_RATE
            ) as (runner, _),
        ):
            run = Drill(runner, server.url, reports_dir)
            say("shadowgate status before anything:")
            run.status()
            return _stop_story(run, scenario) if scenario else _healthy_story(run)
    finally:
        server.stop()
