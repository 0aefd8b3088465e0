"""The demo: a stand-in engine, a throwaway Redis and `pytest -m preactivation` against them.

It shows on any machine what an operator sees on the VPS: the GO / NO-GO of the preactivation
suite and where its report is. Where this machine can boot a real systemd (root, namespaces),
the engine runs as `quantum-ai-engine.service` inside it and every row is evaluated. Elsewhere
the engine runs as a plain process; the rows that need systemd (unit state, journal) cannot be
evaluated, the demo names them, and the verdict is then never GO.

`--drill` rehearses the runbook in that systemd: GO, activate, and either an operator's
rollback or (`--scenario`, a model healthy in shadow that misbehaves once voting) a window's
STOP, the automatic `rollback.py --on-stop` and a second one that must do nothing; `shadowgate
status` after each step, then the timeline and the measured rollback time (R4).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from shadowgate import evidence
from shadowgate.exitcodes import USAGE, UsageParser
from shadowgate.outcome import headline
from shadowgate.testbed import installer, scenarios, sdbox, throwaway_redis
from shadowgate.testbed.suiterun import (
    DRILL,
    Runner,
    SuiteRun,
    box_runner,
    local_runner,
    run_suite,
)

SETTLE_S = 3.0  # live events and a [SHADOW] journal line after the engine starts
NO_SYSTEMD_ROWS = ("P1", "P2", "P4", "P6", "P7", "B4")  # need the unit, its env chain or journal


def _say(text: str) -> None:
    print(f"demo: {text}", flush=True)


@contextmanager
def _engine_in_systemd(
    redis_url: str,
    scenario: str,
    hours: float,
    workdir: Path,
    reports_dir: Path,
    once_voting: str | None = None,
    rate: float = 2.0,
) -> Iterator:
    """The stand-in engine as a real systemd unit (behaving as `once_voting`, if any, when it
    starts voting); yields the runner that reaches it."""
    state = tempfile.mkdtemp(prefix="shadowgate-demo-box-")
    voting = ("--once-voting", once_voting) if once_voting else ()
    with sdbox.SystemdBox(state, sdbox.default_binds(workdir, reports_dir)) as box:
        unit = installer.install_engine(
            box, redis_url, scenario, backfill_hours=hours, rate=rate, extra_args=voting
        )
        behaves = f"scenario {scenario}" + (f", {once_voting} once voting" if once_voting else "")
        _say(f"engine running as {installer.ENGINE_UNIT} in a private systemd ({behaves})")
        installer.settle(unit, SETTLE_S)
        yield box_runner(box), ()


@contextmanager
def _engine_as_process(
    redis_url: str, scenario: str, hours: float, workdir: Path, reports_dir: Path
) -> Iterator:
    """The stand-in engine as a plain child process, with its env file, backup and model file
    in a temporary folder standing in for /etc/quantum and /opt/quantum (reports_dir needs no
    binding here: the suite runs on this machine)."""
    env_file = workdir / "ai-engine.env"
    model = workdir / "patchtst_demo.pth"
    model.write_bytes(installer.MODEL_BYTES)
    env_text = f"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH={model}\n"
    env_file.write_text(env_text)
    Path(f"{env_file}.bak.activation.demo").write_text(env_text)
    argv = [sys.executable, "-m", "shadowgate.testbed.simulator", "--redis-url", redis_url,
            "--scenario", scenario, "--env-file", str(env_file), "--backfill-hours",
            f"{hours:g}", "--rate", "2", "--shadow-log-interval", "1"]  # fmt: skip
    log = (workdir / "engine.log").open("w")
    engine = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    _say(f"engine running as a plain process (scenario {scenario}), log {log.name}")
    try:
        time.sleep(SETTLE_S)
        yield local_runner, (f"--env-file={env_file}",)
    finally:
        engine.terminate()
        engine.wait(timeout=10)
        log.close()


def _report(run: SuiteRun, reports_dir: Path, systemd: bool) -> int:
    failing = sorted(run.failing())
    if not systemd:
        missing = [cid for cid in NO_SYSTEMD_ROWS if cid in failing]
        rows = ", ".join(missing)
        _say(f"no systemd here: could not evaluate {rows} (unit state, env chain, journal)")
    verdict = run.record.decision or "NO-GO"
    _say(f"verdict: {verdict}" + (f" (failing: {', '.join(failing)})" if failing else ""))
    _say(f"report: {reports_dir / run.record.files['html']}")
    _say(f"record: {reports_dir / (run.record.run_id + '.json')} (decision-log.jsonl)")
    return 0 if verdict == "GO" else 1


def run(scenario: str, hours: float, reports_dir: Path) -> int:
    """Set up, run the preactivation suite once, print its output, verdict and report path."""
    scenarios.get(scenario)  # unknown names fail before anything starts
    reports_dir = reports_dir.resolve()
    reports_dir.mkdir(parents=True, exist_ok=True)
    systemd, reason = sdbox.availability()
    server = throwaway_redis.start()
    note = "" if server.kind == "redis-server" else " (no redis-server binary: fakeredis's server)"
    _say(f"throwaway Redis at {server.url}{note}; the shared one is never touched")
    if not systemd:
        _say(f"cannot boot a private systemd here: {reason}")
    engine = _engine_in_systemd if systemd else _engine_as_process
    try:
        with tempfile.TemporaryDirectory(prefix="shadowgate-demo-") as tmp:
            with engine(server.url, scenario, hours, Path(tmp), reports_dir) as (runner, extra):
                _say("running: pytest -m preactivation " + " ".join((*DRILL, *extra)))
                result = run_suite(runner, server.url, reports_dir, "preactivation", *DRILL, *extra)
            print(result.output, flush=True)
            return _report(result, reports_dir, systemd)
    finally:
        server.stop()


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
        _say(f"{what}: {result} ({step.seconds:.1f} s, exit {code})")
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
        r4 = next((c for c in checks if c.check_id == "R4"), None)
        measured = f"{r4.value:.1f} s (R4 {r4.status})" if r4 and r4.value is not None else "-"
        took = self.timeline[-1].seconds
        return f"rollback time: {measured} to shadow evidence; the action {took:.1f} s in all"

    def print_timeline(self) -> None:
        _say("timeline (UTC start, wall time, step: result -> the state after it):")
        for step in self.timeline:
            then = f" -> {step.state}" if step.state else ""
            said = f"{step.seconds:6.1f} s  {step.what}: {step.result}{then}"
            print(f"demo:   {step.began:%H:%M:%S} {said}", flush=True)


def _fail(drill: Drill, why: str) -> int:
    """The drill ends at a step that did not go as the runbook expects: its output, why, and
    the timeline so far."""
    print(drill.timeline[-1].output, flush=True)
    _say(f"drill stopped: {why}")
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
    _say(drill.rollback_time())
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
    _say("the engine was " + ("RESTARTED again" if restarted else "not restarted again"))
    if drill.status() != "ROLLED_BACK" or code != 0 or "already rolled back" not in said:
        return _fail(drill, "a second --on-stop: expected exit 0, already rolled back")
    if restarted:
        return _fail(drill, "a second --on-stop: expected no restart, the engine restarted")
    drill.print_timeline()
    _say(rollback_time)
    return 0


def drill(scenario: str | None, hours: float, reports_dir: Path) -> int:
    """The whole runbook on the stand-in engine: preactivation GO, actions/activate.py, then
    an operator's actions/rollback.py (no scenario), or (a DRILL_SCENARIOS name) the engine
    misbehaving once voting: a window's STOP and the automatic rollback --on-stop, twice."""
    systemd, reason = sdbox.availability()
    if not systemd:
        _say(f"--drill needs a private systemd, which cannot boot here: {reason}")
        return 1
    reports_dir = reports_dir.resolve()
    reports_dir.mkdir(parents=True, exist_ok=True)
    server = throwaway_redis.start()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="shadowgate-demo-") as tmp,
            _engine_in_systemd(
                server.url, "healthy_shadow", hours, Path(tmp), reports_dir, scenario, DRILL_RATE
            ) as (runner, _),
        ):
            run = Drill(runner, server.url, reports_dir)
            _say("shadowgate status before anything:")
            run.status()
            return _stop_story(run, scenario) if scenario else _healthy_story(run)
    finally:
        server.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="shadowgate demo",
        description="Run the preactivation suite against a stand-in engine on this machine.",
    )
    parser.add_argument(
        "--scenario",
        metavar="NAME",
        help="how the stand-in engine behaves (default healthy_shadow; try flatline): "
        f"{', '.join(sorted(scenarios.SCENARIOS))}; with --drill, how it behaves once voting "
        f"(a window's STOP and the automatic rollback): {', '.join(DRILL_SCENARIOS)}",
    )
    parser.add_argument(
        "--backfill-hours", type=float, default=26.0, help="shadow history to write (26)"
    )
    parser.add_argument(
        "--drill",
        action="store_true",
        help="the whole runbook: preactivation, actions/activate.py, actions/rollback.py "
        "(with --scenario: a window's STOP, rollback.py --on-stop twice), `shadowgate status` "
        "after each step, a timeline of the steps and the measured rollback time",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports/demo"),
        help="where the report and record go (reports/demo/: a chain of its own, so demo runs "
        "never mix with a real engine's decision log)",
    )
    return parser


def refusal(scenario: str | None, drilled: bool) -> str | None:
    """Why `--scenario` cannot be played (one line naming the ones that can), or None."""
    if drilled and scenario is not None and scenario not in DRILL_SCENARIOS:
        return (
            f"--drill cannot play scenario {scenario!r}; it plays {', '.join(DRILL_SCENARIOS)} "
            "(healthy in shadow, a window's STOP once voting), or no --scenario (healthy)"
        )
    if scenario is not None and scenario not in scenarios.SCENARIOS:
        return f"unknown scenario {scenario!r}; known: {', '.join(sorted(scenarios.SCENARIOS))}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    refused = refusal(args.scenario, args.drill)
    if refused:
        print(f"demo: {refused}", file=sys.stderr)
        return USAGE
    if args.drill:
        return drill(args.scenario, args.backfill_hours, args.reports_dir)
    return run(args.scenario or "healthy_shadow", args.backfill_hours, args.reports_dir)


if __name__ == "__main__":
    sys.exit(main())
