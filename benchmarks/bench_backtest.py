"""How long does a week's backtest take, and does its memory stay flat as the history grows?

Builds histories of the stand-in engine (`shadowgate.testbed.examples.history`, the flatline
P0.4 model: 24 h in shadow, the rest voting, one decision every 8.5 s, so a week holds about
60,000 intents and 25,000 outcomes in the engine's real forms), writes each as one bundle, then
times `shadowgate backtest` end to end in-process: reading the bundle, the sweep (every M and S
rule the backtest judges, at a position every 5 min: about 2,000 in a week), the CSV and the
page, reading the history as one bundle and as one bundle per day. Peak Python memory
(tracemalloc) is measured in a separate run, split into reading the history and the sweep over
it. Building the histories is not timed.

Run: .venv/bin/python benchmarks/bench_backtest.py [--days 1 3 7] [--settings 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from shadowgate.backtest import history, page, sweep
from shadowgate.config import Target, Thresholds
from shadowgate.replay import bundle
from shadowgate.testbed import examples, scenarios
from shadowgate.window import HOUR_MS

SPACING_S = 8.5  # one decision per 8.5 s: 85% published, about 60,000 intents in 7 days
MIB = 1024 * 1024


def build(days: float) -> bundle.Bundle:
    """A history of `days` of the stand-in engine, captured at its end."""
    return examples.history(
        scenarios.get("flatline"), shadow_hours=24.0, voting_hours=days * 24 - 24,
        spacing_s=SPACING_S, maxlen=10_000_000,
    )  # fmt: skip


def write(captured: bundle.Bundle, where: Path, daily: bool) -> int:
    """One bundle at `where`, or (`daily`) one per day in the directory `where` (what the
    captures of a week's runs look like); the bytes written."""
    if not daily:
        bundle.write(where, captured)
        return where.stat().st_size
    where.mkdir()
    end_ms = captured.now_ms or 0
    first = min(int(e[0].partition("-")[0]) for v in captured.streams.values() for e in v[:1])
    day = 24 * HOUR_MS
    for k, lo in enumerate(range(first, end_ms, day)):
        hi = min(lo + day, end_ms + 1)
        part = replace(
            captured,
            redis_time=((hi - 1) // 1000, (hi - 1) % 1000 * 1000),
            streams={
                key: [e for e in v if lo <= int(e[0].partition("-")[0]) < hi]
                for key, v in captured.streams.items()
            },
        )
        bundle.write(where / f"day{k}{bundle.SUFFIX}", part)
    return sum(p.stat().st_size for p in where.iterdir())


def tried(n: int) -> list[sweep.Setting]:
    values = ("0.02", "0.005", "0.001", "0.05")
    return [sweep.Setting("shipped", Thresholds.load())] + [
        sweep.Setting(f"S4 {v}", Thresholds.load(sets=[f"stop.s4_min_p10_p90={v}"]))
        for v in values[: n - 1]
    ]


def peaks(path: Path, n_settings: int) -> tuple[float, float]:
    """Peak MiB while reading the history, and while sweeping it (the history held)."""
    tracemalloc.start()
    h = history.load(path, Target())
    read_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    held = tracemalloc.get_traced_memory()[0]
    result = sweep.run(h, tried(n_settings), sweep.Plan())
    sweep_peak = tracemalloc.get_traced_memory()[1] - held
    tracemalloc.stop()
    del result
    return read_peak / MIB, sweep_peak / MIB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, nargs="+", default=[1.0, 3.0, 7.0])
    parser.add_argument("--settings", type=int, default=2, help="threshold settings swept (1-5)")
    args = parser.parse_args()
    print(
        f"{'days':>5} {'bundles':>7} {'intents':>8} {'outcomes':>8} {'bundle MiB':>10} "
        f"{'positions':>9} "
        f"{'read s':>7} {'sweep s':>7} {'page s':>7} {'total s':>7} {'read MiB':>8} "
        f"{'sweep MiB':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for days in args.days:
            captured = build(days)
            for daily in (False, True):
                path = Path(tmp) / f"{days:g}d{'' if daily else bundle.SUFFIX}"
                size = write(captured, path, daily)
                t0 = time.perf_counter()
                h = history.load(path, Target())
                t1 = time.perf_counter()
                result = sweep.run(h, tried(args.settings), sweep.Plan())
                t2 = time.perf_counter()
                page.csv_text(result), page.html(result)
                t3 = time.perf_counter()
                read_mib, sweep_mib = peaks(path, args.settings)
                print(
                    f"{days:>5g} {'daily' if daily else 'one':>7} {h.intent_count:>8} "
                    f"{len(h.outcomes):>8} {size / MIB:>10.1f} "
                    f"{len(sweep.Plan().positions(h)):>9} {t1 - t0:>7.2f} {t2 - t1:>7.2f} "
                    f"{t3 - t2:>7.2f} {t3 - t0:>7.2f} {read_mib:>8.1f} {sweep_mib:>9.2f}"
                )


if __name__ == "__main__":
    main()
