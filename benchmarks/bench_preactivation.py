"""Wall time of one `pytest -m preactivation` run against 26 h of engine history, and of one
systemd box bring-up: the numbers an operator waits for. A script, not a test.

    .venv/bin/python benchmarks/bench_preactivation.py [--repeat 5] [--hours 26]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from shadowgate.testbed import installer, sdbox, throwaway_redis
from shadowgate.testbed.suiterun import DRILL, box_runner, run_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--hours", type=float, default=26.0)
    args = parser.parse_args()
    ok, reason = sdbox.availability()
    if not ok:
        raise SystemExit(f"needs the systemd box: {reason}")
    server = throwaway_redis.start()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        box = sdbox.SystemdBox(tempfile.mkdtemp(), sdbox.default_binds(work)).up()
        boot = time.perf_counter() - started
        try:
            installer.install_engine(box, server.url, backfill_hours=args.hours, rate=2.0)
            time.sleep(3)
            entries = server.client().xlen("quantum:stream:trade.intent")
            times = []
            for i in range(args.repeat):
                run_dir = work / f"run{i}"
                run_dir.mkdir()
                t0 = time.perf_counter()
                run = run_suite(box_runner(box), server.url, run_dir, "preactivation", *DRILL)
                times.append(time.perf_counter() - t0)
                assert run.exit_code == 0, run.output
        finally:
            box.down()
            server.stop()
    print(f"box bring-up                         {boot:6.2f} s")
    print(f"stream entries                       {entries:6d}")
    print(f"preactivation run, median of {args.repeat}     {statistics.median(times):6.2f} s")
    print(f"preactivation run, min .. max        {min(times):.2f} .. {max(times):.2f} s")


if __name__ == "__main__":
    main()
