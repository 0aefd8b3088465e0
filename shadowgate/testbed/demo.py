"""The demo: a stand-in engine, a throwaway Redis and `pytest -m preactivation` against them.

It shows on any machine what an operator sees on the VPS: the GO / NO-GO of the preactivation
suite and where its report is. Where this machine can boot a real systemd (root, namespaces),
the engine runs as `quantum-ai-engine.service` inside it and every row is evaluated. Elsewhere
the engine runs as a plain process; the rows that need systemd (unit state, journal) cannot be
evaluated, the demo names them, and the verdict is then never GO.

`--drill` rehearses the runbook in that systemd (drill.py); the engine it runs against is
demo_engine.py's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from pathlib import Path

from shadowgate import exitcodes
from shadowgate.exitcodes import USAGE, UsageParser
from shadowgate.testbed import drill, scenarios, sdbox, throwaway_redis
from shadowgate.testbed.demo_engine import engine_as_process, engine_in_systemd, say
from shadowgate.testbed.drill import DRILL_SCENARIOS
from shadowgate.testbed.suiterun import DRILL, SuiteRun, run_suite

NO_SYSTEMD_ROWS = ("P1", "P2", "P4", "P6", "P7", "B4")  # need the unit, its env chain or journal


def _report(run: SuiteRun, reports_dir: Path, systemd: bool) -> int:
    failing = sorted(run.failing())
    if not systemd:
        missing = [cid for cid in NO_SYSTEMD_ROWS if cid in failing]
        rows = ", ".join(missing)
        say(f"no systemd here: could not evaluate {rows} (unit state, env chain, journal)")
    verdict = run.record.decision or "NO-GO"
    say(f"verdict: {verdict}" + (f" (failing: {', '.join(failing)})" if failing else ""))
    html = run.record.files and run.record.files["html"]
    assert html, "a recorded run names its report"
    say(f"report: {reports_dir / html}")
    say(f"record: {reports_dir / (run.record.run_id + '.json')} (decision-log.jsonl)")
    return 0 if verdict == "GO" else 1


def run(scenario: str, hours: float, reports_dir: Path) -> int:
    """Set up, run the preactivation suite once, print its output, verdict and report path."""
    scenarios.get(scenario)  # unknown names fail before anything starts
    reports_dir = reports_dir.resolve()
    reports_dir.mkdir(parents=True, exist_ok=True)
    systemd, reason = sdbox.availability()
    server = throwaway_redis.start()
    note = "" if server.kind == "redis-server" else " (no redis-server binary: fakeredis's server)"
    say(f"throwaway Redis at {server.url}{note}; the shared one is never touched")
    if not systemd:
        say(f"cannot boot a private systemd here: {reason}")
    engine = engine_in_systemd if systemd else engine_as_process
    try:
        with tempfile.TemporaryDirectory(prefix="shadowgate-demo-") as tmp:
            with engine(server.url, scenario, hours, Path(tmp), reports_dir) as (runner, extra):
                say("running: pytest -m preactivation " + " ".join((*DRILL, *extra)))
                result = run_suite(runner, server.url, reports_dir, "preactivation", *DRILL, *extra)
            print(result.output, flush=True)
            return _report(result, reports_dir, systemd)
    finally:
        server.stop()


HELP_WIDTH = 100  # the scenario list is laid out by hand (argparse would run it together)


def scenario_lines() -> list[str]:
    """Every scenario with its summary, for --help: one entry each."""
    names = sorted(scenarios.SCENARIOS)
    pad = max(map(len, names)) + 2
    lines = []
    for name in names:
        drilled = " [--drill plays it]" if name in DRILL_SCENARIOS else ""
        text = f"  {name:<{pad}}{scenarios.SCENARIOS[name].summary}{drilled}"
        indent = " " * (pad + 2)
        lines += textwrap.wrap(text, HELP_WIDTH, subsequent_indent=indent, break_on_hyphens=False)
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="./demo",
        description=textwrap.fill(
            "Set this machine up (scripts/bootstrap.sh), then run the preactivation suite "
            "against a stand-in engine with a shadow history, in a throwaway Redis and (where "
            "it can boot one) a private systemd, and say GO or NO-GO and where the report is.",
            HELP_WIDTH,
        ),
        epilog="\n".join(
            [
                "scenarios (--scenario NAME):",
                *scenario_lines(),
                "",
                textwrap.fill(
                    exitcodes.epilog(
                        "GO (--drill: every step as the runbook expects)",
                        "NO-GO, or a drill step went otherwise",
                    ),
                    HELP_WIDTH,
                ),
            ]
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenario",
        metavar="NAME",
        help="how the stand-in engine behaves (default healthy_shadow; try flatline: a "
        "NO-GO); with --drill, how it behaves once voting, so that a window says STOP and "
        f"rollback.py --on-stop answers it: {', '.join(DRILL_SCENARIOS)}",
    )
    parser.add_argument(
        "--backfill-hours",
        type=float,
        default=26.0,
        metavar="H",
        help="hours of shadow history the engine writes before the run (default 26: the 24 h "
        "window and a margin)",
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
        return drill.run(args.scenario, args.backfill_hours, args.reports_dir)
    return run(args.scenario or "healthy_shadow", args.backfill_hours, args.reports_dir)


if __name__ == "__main__":
    sys.exit(main())
