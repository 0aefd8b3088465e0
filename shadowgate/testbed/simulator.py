"""The stand-in AI engine as a process: reads its mode, logs like the real engine, publishes.

The suite's own tests and the demo need an engine whose behaviour is known (a scenario from
`shadowgate.testbed.scenarios`), that runs as `quantum-ai-engine.service` in a systemd test bed and
reads its mode once at start exactly as the real engine does, so that the runbook's env edit
plus `systemctl restart` switches it between shadow and voting. It is only ever pointed at a
throwaway Redis: it writes, so the production default address is refused unless forced.

    python -m shadowgate.testbed.simulator --redis-url URL --scenario NAME [--backfill-hours H] ...

What gets written is `engine.Engine` (usable in-process) and the journal's words are
`engine_journal`; this module adds the mode, the live loop at --rate, SIGTERM handling and
the scenario's way of dying. `--with FIELD=VALUE` sets any scenario field for this run (the
real engine's later forms: see `scenarios`). `--once-voting NAME` is a model healthy in shadow
that misbehaves once it votes: the run that starts voting (after the activation's restart)
behaves as NAME, so a drill gets a GO in shadow and a window's STOP after the activation.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import redis

from shadowgate.config import DEFAULT_OUTCOMES_STREAM, DEFAULT_STREAM
from shadowgate.envfile import parse_env
from shadowgate.redact import redact_url
from shadowgate.testbed import scenarios
from shadowgate.testbed.engine import DEFAULT_MAXLEN, DEFAULT_SPACING_S, Engine
from shadowgate.testbed.engine_journal import Journal
from shadowgate.testbed.production_guard import ProductionRedisRefused
from shadowgate.testbed.scenarios import Scenario

SHADOW_FLAG = "PATCHTST_SHADOW_ONLY"
MODEL_PATH_KEY = "PATCHTST_MODEL_PATH"


# --- mode ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mode:
    """How the engine runs this time: shadow or voting, why, and the model it loaded."""

    shadow: bool
    source: str  # "environment", "env file <path>", or "scenario default"
    model_path: str | None


def read_env_file(path: Path) -> dict[str, str]:
    """The variables systemd's EnvironmentFile= would give the engine from this file."""
    return parse_env(path.read_text(errors="replace")).systemd_env()


def resolve_mode(
    env: Mapping[str, str],
    env_file: Path | str | None,
    scenario: Scenario,
    from_systemd: bool = False,
) -> Mode:
    """Shadow or voting, read once at start like the real engine.

    `from_systemd` (a unit of the test bed): the process environment is what systemd delivered
    from the whole chain (unit, drop-ins, every env file), and only it decides, as for the real
    engine: "true", any case, is shadow; absent or anything else is voting. Otherwise the
    process environment wins, then the env file if it exists, where the flag decides the same
    way (absent is voting, as after the runbook's `sed -i '/^PATCHTST_SHADOW_ONLY=/d'`); only
    with neither does the scenario's default apply.
    """
    if from_systemd:
        shadow = env.get(SHADOW_FLAG, "").strip().lower() == "true"
        return Mode(shadow, "environment (systemd)", env.get(MODEL_PATH_KEY) or None)
    file_path = Path(env_file) if env_file is not None else None
    file_values = (
        read_env_file(file_path) if file_path is not None and file_path.is_file() else None
    )
    model_path = env.get(MODEL_PATH_KEY) or (file_values or {}).get(MODEL_PATH_KEY) or None
    if SHADOW_FLAG in env:
        return Mode(env[SHADOW_FLAG].strip().lower() == "true", "environment", model_path)
    if file_values is not None:
        flag = file_values.get(SHADOW_FLAG, "")
        return Mode(flag.strip().lower() == "true", f"env file {file_path}", model_path)
    return Mode(scenario.default_shadow, "scenario default", model_path)


# --- the process --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m shadowgate.testbed.simulator",
        description="Stand-in AI engine: writes trade.intent/trade.closed to a THROWAWAY Redis.",
    )
    p.add_argument("--redis-url", required=True, help="a throwaway Redis (this process writes)")
    p.add_argument(
        "--force-production-redis",
        action="store_true",
        help="write even to the production default Redis (port 6379 on this host)",
    )
    p.add_argument("--scenario", required=True, choices=list(scenarios.SCENARIOS))
    p.add_argument(
        "--once-voting",
        choices=list(scenarios.SCENARIOS),
        default=None,
        metavar="NAME",
        help="behave as this scenario when the mode is voting (the --scenario in shadow)",
    )
    p.add_argument("--backfill-hours", type=float, default=0.0)
    p.add_argument(
        "--history-spacing",
        type=float,
        default=DEFAULT_SPACING_S,
        metavar="S",
        help="seconds between backfilled decisions (default 10)",
    )
    p.add_argument("--rate", type=float, default=2.0, help="live decisions per second")
    p.add_argument("--env-file", type=Path, default=None)
    p.add_argument(
        "--env-from-systemd",
        action="store_true",
        help="only the environment systemd delivered decides, as for the real engine (an "
        "absent flag is voting); for a unit of the test bed",
    )
    p.add_argument("--stream", default=DEFAULT_STREAM)
    p.add_argument("--outcomes-stream", default=DEFAULT_OUTCOMES_STREAM)
    p.add_argument("--maxlen", type=int, default=DEFAULT_MAXLEN)
    p.add_argument("--shadow-log-interval", type=float, default=30.0, metavar="S")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="default: forever")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--with",
        dest="options",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="set a scenario field for this run, e.g. shadow_form=inactive (repeatable; "
        f"fields: {', '.join(scenarios.OPTIONS)})",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.rate <= 0:
        raise SystemExit("--rate must be > 0")
    try:
        scenario = scenarios.with_options(scenarios.get(args.scenario), args.options)
        voting = (
            scenarios.with_options(scenarios.get(args.once_voting), args.options)
            if args.once_voting
            else None
        )
    except ValueError as exc:
        raise SystemExit(f"simulator: --with: {exc}") from None
    mode = resolve_mode(os.environ, args.env_file, scenario, args.env_from_systemd)
    if voting is not None and not mode.shadow:
        scenario = voting
    # Bounded waits: a stalled Redis must not keep the engine from seeing SIGTERM for long.
    # Neither the client nor the Engine connects yet, so a refused address is never touched.
    client = redis.Redis.from_url(args.redis_url, socket_timeout=10, socket_connect_timeout=5)
    try:
        engine = Engine(
            client,
            scenario,
            mode.shadow,
            args.stream,
            args.outcomes_stream,
            args.maxlen,
            random.Random(args.seed),
            history_spacing_s=args.history_spacing,
            force=args.force_production_redis,
        )
    except ProductionRedisRefused as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    journal = Journal(sys.stdout, scenario, args.shadow_log_interval, time.monotonic)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    journal.json(
        "INFO",
        f"AI engine starting: scenario={scenario.name} "
        f"redis={redact_url(args.redis_url)} stream={args.stream}",
    )
    journal.model_load(mode.model_path, scenario)
    if mode.shadow:
        journal.line("[OK] PatchTST shadow mode: SHADOW_ONLY (excluded from voting)")
    else:
        journal.json("INFO", f"PatchTST voting mode: ACTIVE ({SHADOW_FLAG} not true)")
    journal.json("INFO", f"mode from {mode.source}: {'shadow' if mode.shadow else 'voting'}")
    try:
        if args.backfill_hours > 0:
            n = engine.backfill(args.backfill_hours)
            what = f"{n} intents" if n else "skipped, the stream already covers the window"
            journal.json("INFO", f"backfill {args.backfill_hours:g} h: {what}")
        return _live(engine, journal, mode, args, stop)
    except redis.RedisError as exc:
        journal.json("ERROR", f"Redis error, exiting: {exc}")
        return 1


def _live(
    engine: Engine, journal: Journal, mode: Mode, args: argparse.Namespace, stop: threading.Event
) -> int:
    started = time.monotonic()
    next_tick = started
    crash_after = engine.scenario.crash_after_s
    while not stop.is_set():
        elapsed = time.monotonic() - started
        if args.duration is not None and elapsed >= args.duration:
            break
        if crash_after is not None and elapsed >= crash_after:
            journal.json(
                "CRITICAL",
                "PatchTST inference failed: RuntimeError: CUDA error: "
                "device-side assert triggered; engine exiting",
                'Traceback (most recent call last):\n  File "ai_engine/agents/patchtst_agent.py"'
                ", in predict\nRuntimeError: CUDA error: device-side assert triggered",
            )
            return 1
        pub = engine.publish_one()
        if pub is not None:
            if mode.shadow:
                journal.shadow(pub)
            if pub.entry_id is not None and pub.kind != "foreign":
                journal.json(
                    "INFO",
                    f"[TELEMETRY] Publishing trade.intent: {pub.symbol} "
                    f"{pub.side} conf={pub.confidence:.2f}",
                )
        next_tick += 1.0 / args.rate
        stop.wait(max(0.0, next_tick - time.monotonic()))
    journal.json("INFO", "AI engine stopped" + (" (signal)" if stop.is_set() else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
