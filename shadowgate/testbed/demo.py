"""The demo: a stand-in engine, a throwaway Redis and `pytest -m preactivation` against them.

It shows on any machine what an operator sees on the VPS: the GO / NO-GO of the preactivation
suite and where its report is. Where this machine can boot a real systemd (root, namespaces),
the engine runs as `quantum-ai-engine.service` inside it and every row is evaluated. Elsewhere
the engine runs as a plain process; the rows that need systemd (unit state, journal) cannot be
evaluated, the demo names them, and the verdict is then never GO.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shadowgate import evidence
from shadowgate.exitcodes import UsageParser
from shadowgate.testbed import installer, scenarios, sdbox, throwaway_redis
from shadowgate.testbed.suiterun import DRILL, SuiteRun, box_runner, local_runner, run_suite

SETTLE_S = 3.0  # live events and a [SHADOW] journal line after the engine starts
NO_SYSTEMD_ROWS = ("P1", "P2", "P4", "P6", "P7", "B4")  # need the unit, its env chain or journal


def _say(text: str) -> None:
    print(f"demo: {text}", flush=True)


@contextmanager
def _engine_in_systemd(
    redis_url: str, scenario: str, hours: float, workdir: Path, reports_dir: Path
) -> Iterator:
    """The stand-in engine as a real systemd unit; yields the runner that reaches it."""
    state = tempfile.mkdtemp(prefix="shadowgate-demo-box-")
    with sdbox.SystemdBox(state, sdbox.default_binds(workdir, reports_dir)) as box:
        unit = installer.install_engine(box, redis_url, scenario, backfill_hours=hours, rate=2.0)
        _say(
            f"engine running as {installer.ENGINE_UNIT} in a private systemd (scenario {scenario})"
        )
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


def _timed(what: str, runner, argv: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """One drill step run in the box, its wall time and the action's own step lines printed."""
    began = time.monotonic()
    done = runner(argv, str(sdbox.repo_root()))
    took = time.monotonic() - began
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith(("  [", "activate: verdict", "rollback: verdict", "STOP")):
            print(f"demo:   {line.strip()}", flush=True)
    _say(f"{what}: {took:.1f} s (exit {done.returncode})")
    return done, took


def drill(hours: float, reports_dir: Path) -> int:
    """The whole runbook on the stand-in engine: preactivation GO, actions/activate.py (the
    engine votes; the activation suite), actions/rollback.py (the rollback suite; R4)."""
    systemd, reason = sdbox.availability()
    if not systemd:
        _say(f"--drill needs a private systemd, which cannot boot here: {reason}")
        return 1
    reports_dir = reports_dir.resolve()
    reports_dir.mkdir(parents=True, exist_ok=True)
    server = throwaway_redis.start()
    actions = sdbox.repo_root() / "actions"
    options = [f"--redis-url={server.url}", f"--reports-dir={reports_dir}", *DRILL]
    try:
        with (
            tempfile.TemporaryDirectory(prefix="shadowgate-demo-") as tmp,
            _engine_in_systemd(server.url, "healthy_voting", hours, Path(tmp), reports_dir) as (
                runner,
                _,
            ),
        ):
            began = time.monotonic()
            pre = run_suite(runner, server.url, reports_dir, "preactivation", *DRILL)
            _say(
                f"pytest -m preactivation: {pre.record.decision} ({time.monotonic() - began:.1f} s)"
            )
            if pre.exit_code != 0:
                print(pre.output, flush=True)
                return 1
            python = [sys.executable]
            done, _ = _timed(
                "actions/activate.py",
                runner,
                [
                    *python,
                    str(actions / "activate.py"),
                    *options,
                    "--approved-by=demo (drill)",
                    "--weight=10",
                ],
            )
            if done.returncode != 0:
                return 1
            done, took = _timed(
                "actions/rollback.py", runner, [*python, str(actions / "rollback.py"), *options]
            )
            checks = evidence.run_records(reports_dir)[-1].checks
            r4 = next((c for c in checks if c.check_id == "R4"), None)
            measured = f"{r4.value:.1f} s (R4 {r4.status})" if r4 and r4.value is not None else "-"
            _say(f"rollback time: {measured} to shadow evidence; the action {took:.1f} s in all")
            return done.returncode
    finally:
        server.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="shadowgate demo",
        description="Run the preactivation suite against a stand-in engine on this machine.",
    )
    parser.add_argument(
        "--scenario",
        default="healthy_shadow",
        choices=sorted(scenarios.SCENARIOS),
        help="how the stand-in engine behaves (default healthy_shadow; try flatline)",
    )
    parser.add_argument(
        "--backfill-hours", type=float, default=26.0, help="shadow history to write (26)"
    )
    parser.add_argument(
        "--drill",
        action="store_true",
        help="the whole runbook: preactivation, actions/activate.py, actions/rollback.py, "
        "each step with its wall time, ending with the measured rollback time",
    )
    parser.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports/demo"),
        help="where the report and record go (reports/demo/: a chain of its own, so demo runs "
        "never mix with a real engine's decision log)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.drill:
        return drill(args.backfill_hours, args.reports_dir)
    return run(args.scenario, args.backfill_hours, args.reports_dir)


if __name__ == "__main__":
    sys.exit(main())
