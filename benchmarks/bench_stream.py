"""How fast and how lean is reading the engine's stream, next to the runbook's shell pipeline?

Fills a throwaway Redis (never the shared one) with a full, capped stream: 10,000 entries of
about 1.2 KB spread over 24 h, the engine's form plus a few foreign ones. Then times (median of
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
import json
import random
import shutil
import statistics
import subprocess
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

from shadowgate import throwaway_redis
from shadowgate.intents import Intent
from shadowgate.stream import StreamReader, connect

KEY = "quantum:stream:trade.intent"
DAY_MS = 24 * 3600 * 1000
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT")
AWK = r"""/^payload$/ {getline; if (match($0, /"consensus_count": ([0-9]+)/, m)) print m[1]}"""


def engine_entry(rng: random.Random, ms: int) -> dict[str, str]:
    """One trade.intent as the engine writes it (shadow mode), about 1.2 KB of payload."""
    side = rng.choice(("BUY", "SELL"))
    votes = {
        name: {
            "action": rng.choice((side, side, side, "HOLD", "SELL" if side == "BUY" else "BUY")),
            "confidence": round(rng.uniform(0.5, 0.95), 4),
            "model": f"{name}_v20260101",
        }
        for name in ("xgb", "lgbm", "nhits")
    }
    votes["patchtst"] = {
        "action": rng.choice(("BUY", "SELL", "HOLD")),
        "confidence": round(rng.uniform(0.5, 0.8), 4),
        "model": "patchtst_shadow",
        "shadow": True,
    }
    price = round(rng.uniform(0.1, 95000), 2)
    payload: dict[str, Any] = {
        "symbol": rng.choice(SYMBOLS),
        "side": side,
        "confidence": round(rng.uniform(0.55, 0.95), 4),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ms / 1000)),
        "model": "ensemble",
        "consensus_count": sum(v["action"] == side for k, v in votes.items() if k != "patchtst"),
        "total_models": 4,
        "model_breakdown": votes,
        "position_size_usd": round(rng.uniform(50, 500), 2),
        "leverage": rng.choice((3, 5, 10)),
        "entry_price": price,
        "stop_loss": round(price * 0.98, 2),
        "take_profit": round(price * 1.04, 2),
        "regime": rng.choice(("trending_up", "trending_down", "ranging", "volatile")),
        "volatility": round(rng.uniform(0.005, 0.05), 5),
        "indicators": {
            n: round(rng.uniform(-100, 100), 3)
            for n in (
                "rsi_14",
                "macd",
                "macd_signal",
                "ema_50",
                "ema_200",
                "bb_width",
                "volume_z",
                "funding",
                "oi_change",
                "atr",
            )
        },
        "meta": {
            "features": 48,
            "lookback": 512,
            "exchange": "binance",
            "interval": "5m",
            "engine_version": "2.14.3",
            "host": "vps-fra-1",
            "features_sha256": f"{rng.getrandbits(256):064x}",
        },
        "reason": f"ensemble {side} by vote; patchtst shadow vote excluded",
    }
    return {
        "event_type": "trade.intent",
        "payload": json.dumps(payload),
        "trace_id": f"{rng.getrandbits(128):032x}",
        "correlation_id": f"c-{ms}",
        "timestamp": str(ms),
        "source": "ai-engine",
    }


def fill(server: throwaway_redis.ThrowawayRedis, entries: int, start_ms: int) -> float:
    """Write `entries` entries over the day from start_ms; 1 in 50 foreign. Mean payload bytes."""
    rng = random.Random(20260109)
    client = server.client()
    sizes = []
    pipe = client.pipeline(transaction=False)
    for i in range(entries):
        ms = start_ms + i * DAY_MS // entries
        if i % 50 == 49:
            fields = {"data": json.dumps({"event_type": "position.update", "qty": i})}
        else:
            fields = engine_entry(rng, ms)
            sizes.append(len(fields["payload"]))
        pipe.xadd(KEY, fields, id=f"{ms}-0")
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()
    client.close()
    return statistics.mean(sizes)


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
        mean_bytes = fill(server, args.entries, start_ms)
        print(f"{args.entries} entries over 24 h in a throwaway {server.kind} on port "
              f"{server.port}; mean payload {mean_bytes:.0f} bytes\n")  # fmt: skip
        reader = StreamReader(connect(server.url), KEY, server.url)

        def snapshot() -> Counter:
            return Counter(i.consensus_count for i in reader.latest(100).records)

        def streamed() -> int:
            return sum(isinstance(r, Intent) for r in reader.iter_range(start_ms))

        rows = [
            ("latest(100) + consensus counts", snapshot, 100),
            ("window(24 h) -> Window", lambda: reader.window(start_ms), args.entries),
            ("iter_range(24 h), counted only", streamed, args.entries),
        ]
        if shutil.which("redis-cli") and shutil.which("awk"):
            rows += [
                ("runbook: redis-cli COUNT 100 | awk", shell_pipeline(server, 100), 100),
                (
                    f"runbook: redis-cli COUNT {args.entries} | awk",
                    shell_pipeline(server, args.entries),
                    args.entries,
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
