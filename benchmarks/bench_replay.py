"""What capture costs and what a replay takes: one `pytest -m preactivation` over the stand-in
engine's real 10,000-entry stream, with and without `--capture-bundle`, the bundle's size, and
the replay of that bundle. A script, not a test.

    .venv/bin/python benchmarks/bench_replay.py [--repeat 5] [--hours 26]

No engine host here (as in tests/integration: the unit and env file are absent), so the host
checks fail to read their sources the same way in every run; the stream reads, which are what
capture records in bulk, are the engine's. "session" is pytest's own time of the run (what
capture and replay change, but not the bundle's write, which follows it, nor a replay's
load, which precedes it); "wall" is the whole command.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shadowgate.config import Target
from shadowgate.replay import bundle
from shadowgate.testbed import scenarios, throwaway_redis
from shadowgate.testbed.engine import Engine

REPO = Path(__file__).resolve().parents[1]
NO_HOST = ("--unit=shadowgate-absent.service", "--env-file=/nonexistent/shadowgate/engine.env")
DRILL = ("--set=service.min_uptime_hours=0", "--set=service.auto_restart_window_hours=0")
SESSION = re.compile(r" in (\d+\.\d+)s")


def run(reports: Path, *args: str) -> tuple[float, float]:
    """(wall s, pytest session s) of one preactivation run recorded under `reports`."""
    argv = [sys.executable, "-m", "pytest", "-m", "preactivation", "-p", "no:cacheprovider",
            f"--rootdir={REPO}", f"--reports-dir={reports}", *NO_HOST, *DRILL, *args]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    found = SESSION.findall(done.stdout)
    if not found:
        raise SystemExit(f"the run said no session time:\n{done.stdout}{done.stderr}")
    return wall, float(found[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--hours", type=float, default=26.0)
    args = parser.parse_args()
    server = throwaway_redis.start()
    try:
        now_ms = int(time.time() * 1000)
        target = Target()
        engine = Engine(server.client(), scenarios.get("healthy_shadow"), True, target.stream,
                        target.outcomes_stream, 10_000, random.Random(7),
                        start_ms=now_ms - 3_600_000)  # fmt: skip
        engine.backfill(args.hours, now_ms)
        entries = server.client().xlen(target.stream)
        url = f"--redis-url={server.url}"
        rows: dict[str, list[tuple[float, float]]] = {"live": [], "captured": [], "replay": []}
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.repeat):
                rows["live"].append(run(Path(tmp, f"live{i}"), url, "--no-capture-bundle"))
                reports = Path(tmp, f"cap{i}")
                rows["captured"].append(run(reports, url, "--capture-bundle"))
                (path,) = reports.glob("*" + bundle.SUFFIX)
                size = path.stat().st_size
                rows["replay"].append(run(Path(tmp, f"replay{i}"), url, f"--replay={path}"))
    finally:
        server.stop()
    print(f"stream entries                         {entries:8d}")
    print(f"bundle size                            {size / 1e6:8.2f} MB")
    print(f"run (median of {args.repeat})          wall s   session s")
    for name, times in rows.items():
        wall = statistics.median(t[0] for t in times)
        session = statistics.median(t[1] for t in times)
        print(f"{name:<24} {wall:9.2f} {session:11.2f}")
    for i, what in enumerate(("wall", "session")):
        live = statistics.median(t[i] for t in rows["live"])
        captured = statistics.median(t[i] for t in rows["captured"])
        label = f"capture adds ({what})"
        print(f"{label:<38}{100 * (captured / live - 1):8.1f} %")


if __name__ == "__main__":
    main()
