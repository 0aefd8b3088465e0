"""Build the shipped example bundles (shadowgate/examples/): activation histories for the
backtest and preactivation captures for the replay, so a newcomer can run each in one command.

Each history is `shadow_hours` of the model in shadow, then T+0 (the activation) and
`voting_hours` of it voting, written by `testbed.engine.Engine` (the real entry forms, ids,
outcomes) into a fakeredis server and captured as a bundle with Redis TIME at the end:

- p04_flatline: the P0.4 model of the engine's published gate simulation
  (ops/runbooks/PATCHTST_P0_4_GATE_SIMULATION.md: every vote BUY at about 0.615, gates 1/4),
  the `flatline` scenario;
- healthy: the `healthy_shadow` model, which passes.

The replay examples are the bundles two preactivation runs captured, made as the demo makes
its run: the stand-in engine as a systemd unit in the private systemd box (root and namespaces
needed), a throwaway Redis, `pytest -m preactivation` with the drill's overrides:

- p04_preactivation: the P0.4 model (`flatline`), NO-GO;
- healthy_preactivation: the `healthy_shadow` model, GO.

    sudo .venv/bin/python -m shadowgate.testbed.examples  # rewrites shadowgate/examples/*.gz
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import fakeredis

from shadowgate.config import DEFAULT_OUTCOMES_STREAM, DEFAULT_STREAM, Target
from shadowgate.replay import bundle
from shadowgate.testbed import demo_engine, scenarios, sdbox, throwaway_redis
from shadowgate.testbed.engine import Engine
from shadowgate.testbed.suiterun import DRILL, run_suite
from shadowgate.window import HOUR_MS

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
T0_MS = 1_765_094_400_000  # 2025-12-07 08:00:00Z: T+0 of every example


@dataclass(frozen=True)
class Example:
    name: str
    scenario: str
    summary: str
    decision: str = ""  # a replay example's: what its capture must have decided


EXAMPLES = (
    Example(
        "p04_flatline",
        "flatline",
        "the P0.4 model: every vote BUY at 0.615 (gates 1/4), 26 h in shadow, 6 h voting",
    ),
    Example("healthy", "healthy_shadow", "a healthy model: 26 h in shadow, 6 h voting"),
)
REPLAYS = (
    Example("p04_preactivation", "flatline", "the P0.4 model's preactivation run", "NO-GO"),
    Example("healthy_preactivation", "healthy_shadow", "a healthy model's preactivation", "GO"),
)
SHADOW_HOURS = 26.0  # the demo's: the 24 h window and a margin
SPACING_S = 60.0  # a decision a minute in the history (the engine's 10 s: a 1.6 MB bundle)


def history(
    scenario: scenarios.Scenario,
    *,
    t0_ms: int = T0_MS,
    shadow_hours: float = 26.0,
    voting_hours: float = 6.0,
    spacing_s: float = 60.0,
    seed: int = 4,
    maxlen: int = 10_000,
) -> bundle.Bundle:
    """The bundle of one activation's history: shadow before `t0_ms`, voting after, captured
    at the end (phase window_6h, the strategy naming T+0)."""
    client = fakeredis.FakeRedis()  # bytes in, bytes out
    rng = random.Random(seed)
    start_ms, end_ms = t0_ms - int(shadow_hours * HOUR_MS), t0_ms + int(voting_hours * HOUR_MS)
    for shadow, lo, hi in ((True, start_ms, t0_ms - 1), (False, t0_ms, end_ms)):
        engine = Engine(
            client, scenario, shadow, maxlen=maxlen, rng=rng, start_ms=t0_ms,
            history_spacing_s=spacing_s,
        )  # fmt: skip
        engine.history(lo, hi)
    streams = {key: _entries(client, key) for key in (DEFAULT_STREAM, DEFAULT_OUTCOMES_STREAM)}
    return bundle.Bundle(
        phase="window_6h",
        redis_time=(end_ms // 1000, end_ms % 1000 * 1000),
        streams=streams,
        strategy={"activated_at_ms": t0_ms, "scenario": scenario.name},
        target=Target().describe(),
    )


def _entries(client: fakeredis.FakeRedis, key: str) -> list[bundle.Entry]:
    """A stream's entries as a capture keeps them (text, odd bytes preserved)."""
    raw: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(key)  # type: ignore[assignment]
    return [
        (bundle.text_of(i), {bundle.text_of(k): bundle.text_of(v) for k, v in f.items()})
        for i, f in raw
    ]


def preactivation(scenario: str, workdir: Path) -> tuple[bundle.Bundle, str | None]:
    """The bundle and decision of a preactivation run of the stand-in engine (`scenario`) in
    the systemd box, run as the demo runs it."""
    reports = workdir / "reports"
    reports.mkdir()
    server = throwaway_redis.start()
    try:
        with demo_engine.engine_in_systemd(
            server.url, scenario, SHADOW_HOURS, workdir, reports, spacing_s=SPACING_S
        ) as (runner, _):
            run = run_suite(runner, server.url, reports, "preactivation", *DRILL)
    finally:
        server.stop()
    captured = run.record.bundle or {}
    return bundle.read(reports / str(captured.get("file"))), run.record.decision


def _write(path: Path, captured: bundle.Bundle, example: Example) -> None:
    sha = bundle.write(path, captured)
    said = f"{example.summary}: {example.decision}" if example.decision else example.summary
    print(f"{path} ({path.stat().st_size:,} bytes, sha256 {sha[:12]}): {said}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="The replay examples (*_preactivation) need a private systemd: run as root on a "
        "machine that can boot one (the demo's test bed); elsewhere only the histories are "
        "written and the exit status is 1.",
    )
    parser.add_argument("--out", type=Path, default=EXAMPLES_DIR, help="where the bundles go")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for example in EXAMPLES:
        _write(
            args.out / f"{example.name}{bundle.SUFFIX}",
            history(scenarios.get(example.scenario)),
            example,
        )
    systemd, reason = sdbox.availability()
    if not systemd:
        print(
            f"cannot build the replay examples: no private systemd here: {reason}", file=sys.stderr
        )
        return 1
    for example in REPLAYS:
        with tempfile.TemporaryDirectory(prefix="shadowgate-example-") as tmp:
            captured, decision = preactivation(example.scenario, Path(tmp))
        if decision != example.decision:  # the stand-in engine is random: a healthy run may miss
            print(f"{example.name}: the run said {decision}, not {example.decision}: run again "
                  "(nothing written)", file=sys.stderr)  # fmt: skip
            return 1
        _write(args.out / f"{example.name}{bundle.SUFFIX}", captured, example)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
