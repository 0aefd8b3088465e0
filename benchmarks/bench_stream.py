"""How fast and how lean is reading the engine's stream, next to the runbook's shell pipeline?

Fills a throwaway Redis (never the shared one) with a day of the stand-in engine: 10,000
decision slots over 24 h (HOLDs are not published), payloads of about 1.2 KB, with the garbage
scenario's foreign and malformed entries mixed in. Then times (median of
--repeat runs) and measures peak Python memory (tracemalloc, one separate run) of:

- StreamReader.latest(100) + consensus distribution (the runbook's COUNT 100 snapshot)
- StreamReader.window(24 h), parsed into a Window (what the 24 h checks read)
- StreamReader.iter_range(24 h), streamed and only counted (memory independent of the window)
- the runbook's `redis-cli XREVRANGE ... COUNT 100 | awk ... | sort | uniq -c` pipeline, and
  the same pipeline over the whole stream (the shell's only way to look at a whole day)

Run: .venv/bin/python benchmarks/bench_stream.py [--entries 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

from shadowgate.intents import Intent
from shadowgate.stream import StreamReader, connect
from shadowgate.testbed import scenarios, throwaway_redis
from shadowgate.testbed.engine import Engine

KEY = "quantum:stream:trade.intent"
DAY_MS = 24 * 3600 * 1000
AWK = r"""/^payload$/ {getline; if (match($0, /"consensus_count": ([0-9]+)/, m)) print m[1]}"""


def fill(server: throwaway_redis.ThrowawayRedis, slots: int, start_ms: int) -> tuple[int, float]:
    """A day of the stand-in engine in `slots` decision slots (HOLDs are not published; the
    garbage scenario mixes in foreign and malformed entries). Entries written, mean bytes."""
    engine = Engine(
        server.client(), scenarios.get("garbage"), True, KEY, "bench:trade.closed",
        maxlen=slots, rng=random.Random(20260109), history_spacing_s=DAY_MS / slots / 1000,
    )  # fmt: skip
    engine.history(start_ms, start_ms + DAY_MS)
    sizes = [len(f[b"payload"]) for _, f in server.client().xrange(KEY) if b"payload" in f]
    return server.client().xlen(KEY), statistics.mean(sizes)


def measure(run: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall time (ms) over `repeat` runs, peak traced memory (MiB) of one more run."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak, result


def shell_pipeline(server: throwaway_redis.ThrowawayRedis, count: int) -> Callable[[], str]:
    command = (
        f"redis-cli -h 127.0.0.1 -p {server.port} XREVRANGE {KEY} + - COUNT {count}"
        f" | awk '{AWK}' | sort | uniq -c | sort -rn"
    )

    def run() -> str:
        return subprocess.run(
            command, shell=True, check=True, capture_output=True, text=True
        ).stdout

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with throwaway_redis.start() as server:
        start_ms = int(time.time() * 1000) - DAY_MS
        entries, mean_bytes = fill(server, args.entries, start_ms)
        print(f"{entries} entries over 24 h in a throwaway {server.kind} on port "
              f"{server.port}; mean payload {mean_bytes:.0f} bytes\n")  # fmt: skip
        reader = StreamReader(connect(server.url), KEY, server.url)

        def snapshot() -> Counter:
            return Counter(i.consensus_count for i in reader.latest(100).records)

        def streamed() -> int:
            return sum(isinstance(r, Intent) for r in reader.iter_range(start_ms))

        rows = [
            ("latest(100) + consensus counts", snapshot, 100),
            ("window(24 h) -> Window", lambda: reader.window(start_ms), entries),
            ("iter_range(24 h), counted only", streamed, entries),
        ]
        if shutil.which("redis-cli") and shutil.which("awk"):
            rows += [
                ("runbook: redis-cli COUNT 100 | awk", shell_pipeline(server, 100), 100),
                (
                    f"runbook: redis-cli COUNT {entries} | awk",
                    shell_pipeline(server, entries),
                    entries,
                ),
            ]
        else:
            print("redis-cli or awk not found: runbook pipeline rows skipped\n")

        print(f"{'operation':<40} {'entries':>8} {'median ms':>10} {'peak MiB':>9}")
        for name, run, entries in rows:
            median_ms, peak, _ = measure(run, args.repeat)
            shell = name.startswith("runbook")
            memory = "   (child)" if shell else f"{peak:9.2f}"
            print(f"{name:<40} {entries:>8} {median_ms:>10.1f} {memory}")
        window = reader.window(start_ms)
        print(f"\n{window.describe()}")
        reader.client.close()


if __name__ == "__main__":
    main()
