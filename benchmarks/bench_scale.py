"""How does `pytest -m preactivation` scale with the 24 h window, next to the floor of reading
the same stream raw and the runbook's own shell pipelines? Writes benchmarks/results.md.

For each size it seeds a throwaway redis-server (never the shared one) with the stand-in
engine's healthy shadow history (realistic ~1.2 KB intents, no intent stream cap; trade.closed
capped at 2,000 as its real publishers cap it, ARCHITECTURE.md "The data"), its timeline
compressed into the last 25 h (so the 24 h window is held, with about N intents in it, for the
hour after seeding), then times, alternating the rows in each of --repeat rounds:

- floor: `redis-cli XRANGE KEY - +` to /dev/null, and a bare redis-py read in batches;
- the runbook's own s.2 and s.5 pipelines, as it writes them, over the whole window (COUNT N),
  and their sum (s.5 metric 4's bubble sort is O(n^2): run up to M4_MAX entries only);
- the full `pytest -m preactivation` run as a subprocess with the drill overrides, and its
  peak RSS (os.wait4: the largest of that process and its children), after the bytecode
  warm-up bootstrap does; and the peak of the RSS summed over that process and its children,
  sampled every 10 ms (the day's scan of a long stream forks a second process, and both hold
  memory at once; shared pages count twice, so the sum is an upper bound);
- with --baseline REF, the same run of that git ref's code (`git archive` into a temporary
  directory), side by side on the same data: before and after in one run, on one load.

It also draws the pytest rows' time and peak RSS against the entries (results.png).

Outside the systemd box the checks of the env file, unit and journal (P1, P2, P4, P6, P7, B2,
B4) are NOT EVALUATED (NO-GO cause: ...): they fail fast, so the run's time is the stream work,
the report and pytest itself, which is what this measures.

Run: .venv/bin/python benchmarks/bench_scale.py [--sizes 10000 100000] [--repeat 3]
     [--million] [--baseline REF] [--label "after"]
--million adds 1e6 (seeding alone takes minutes; its rounds are --million-repeat, and the
baseline, which holds the whole day as objects, is not run at that size).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import redis

from shadowgate.testbed import scenarios, throwaway_redis
from shadowgate.testbed.engine import Engine
from shadowgate.testbed.sdbox import repo_root
from shadowgate.testbed.suiterun import DRILL

KEY = "quantum:stream:trade.intent"
OUTCOMES = "quantum:stream:trade.closed"
SPAN_MS = 25 * 3_600_000  # the seeded history: the suite's 24 h window and an hour before it
SPACING_S = 10.0  # engine time between decision slots; ~86% of slots publish an intent
RESULTS = Path(__file__).with_name("results.md")
OUTCOMES_CAP = 2_000  # trade.closed's real cap (1,000 to 2,000 entries)
PYTEST_ROW = "pytest -m preactivation (subprocess)"
M4_MAX = 20_000  # s.5 metric 4 sorts with a bubble sort in awk: O(n^2), ~12 min at 1e5
# The runbook's s.2 and s.5 pipelines, as it writes them, each after
# `redis-cli XREVRANGE KEY + - COUNT N |` (B3's "measure sizes" gives no command).
RUNBOOK = {
    "s.2 B1: grep -c consensus_count 4": "grep -c '\"consensus_count\": 4' || true",
    "s.2 B2: grep consensus_count": "grep consensus_count",
    "s.5 metric 1: consensus distribution": (
        'awk \'/^payload$/ {getline; if (match($0, /"consensus_count": ([0-9]+)/, m))'
        " print m[1]}' | sort | uniq -c | sort -rn"
    ),
    "s.5 metric 2: agreement": """awk '
    BEGIN {total=0; agree=0}
    /^payload$/ {
      getline payload
      if (match(payload, /"side": "([^"]+)"/, ens) && \\
          match(payload, /"patchtst": \\{[^}]*"action": "([^"]+)"/, pt)) {
        total++
        if (ens[1] == pt[1]) agree++
      }
    }
    END {
      if (total > 0) {
        rate = int(agree*100/total)
        print "Agreement:", agree "/" total, "(" rate "%)"
        if (rate < 40 || rate > 90) print "⚠️WARNING: Rate outside 40-90% range"
        else print "✅ OK"
      }
    }'""",
    "s.5 metric 3: hard disagreement": """awk '
    BEGIN {total=0; opposite=0}
    /^payload$/ {
      getline payload
      if (match(payload, /"side": "([^"]+)"/, ens) && \\
          match(payload, /"patchtst": \\{[^}]*"action": "([^"]+)"/, pt)) {
        total++
        ensemble = ens[1]
        patchtst = pt[1]
        if ((ensemble == "BUY" && patchtst == "SELL") || \\
            (ensemble == "SELL" && patchtst == "BUY")) {
          opposite++
        }
      }
    }
    END {
      if (total > 0) {
        rate = int(opposite*100/total)
        print "Hard Disagree:", opposite "/" total, "(" rate "%)"
        if (rate > 25) print "⚠️WARNING: High contention"
        else print "✅ OK"
      }
    }'""",
    "s.5 metric 4: confidence distribution": """awk '
    BEGIN {n=0}
    /^payload$/ {
      getline payload
      if (match(payload, /"patchtst": \\{[^}]*"confidence": ([0-9.]+)/, conf)) {
        n++
        vals[n] = conf[1]
        sum += conf[1]
      }
    }
    END {
      if (n > 0) {
        for (i=1; i<=n; i++) {
          for (j=i+1; j<=n; j++) {
            if (vals[i] > vals[j]) {tmp = vals[i]; vals[i] = vals[j]; vals[j] = tmp}
          }
        }
        mean = sum / n
        p10 = vals[int(n * 0.10)]
        p50 = vals[int(n * 0.50)]
        p90 = vals[int(n * 0.90)]
        range_p10_p90 = p90 - p10
        printf "Mean: %.4f | P10: %.4f | P50: %.4f | P90: %.4f | Range: %.4f\\n", \\
          mean, p10, p50, p90, range_p10_p90
        if (range_p10_p90 < 0.02) print "⚠️WARNING: Confidence flatlined"
        else print "✅ OK"
      }
    }'""",
}
RUNBOOK_SUM = "runbook s.2 + s.5, every pipeline above (sum of medians)"


class CompressedEngine(Engine):
    """The stand-in engine with its ids squeezed into [end_ms - SPAN_MS, end_ms]: its
    publishing filter (6 intents a minute) allows about 8,600 a day, so N intents need N / 6
    minutes of engine time, replayed faster. Order, and so every outcome's join, is kept."""

    def __init__(self, *args: object, origin_ms: int, engine_span_ms: int, end_ms: int,
                 **kwargs: object) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self._intents_cap = self.maxlen
        self._origin = origin_ms
        self._factor = SPAN_MS / engine_span_ms
        self._end = end_ms

    def _next_id(self, key: str, ms: int) -> str:
        return super()._next_id(key, self._end - SPAN_MS + int((ms - self._origin) * self._factor))

    def _xadd(self, target: object, key: str, fields: dict, ms: int | None) -> object:
        self.maxlen = OUTCOMES_CAP if key == self.outcomes_stream else self._intents_cap
        return super()._xadd(target, key, fields, ms)


def seed(client: redis.Redis, intents: int) -> tuple[int, float]:
    """25 h of healthy shadow intents (and outcomes) ending now, about `intents` of them in the
    last 24 h. Returns the stream's length and the seconds seeding took."""
    started = time.perf_counter()
    slots = round(intents * 25 / 24 / 0.86)
    engine_span = int(slots * SPACING_S * 1000)
    origin = 1_700_000_000_000
    engine = CompressedEngine(
        client, scenarios.get("healthy_shadow"), True, KEY, OUTCOMES,
        maxlen=10 * intents, rng=random.Random(20260109), start_ms=origin + engine_span,
        history_spacing_s=SPACING_S, origin_ms=origin, engine_span_ms=engine_span,
        end_ms=int(time.time() * 1000),
    )  # fmt: skip
    engine.history(origin, origin + engine_span)
    return client.xlen(KEY), time.perf_counter() - started


def seeded(server: throwaway_redis.ThrowawayRedis, intents: int) -> tuple[int, float]:
    """`seed` in a child process, so this one stays small: Linux carries a process's high-water
    RSS across exec into its child's ru_maxrss, and seeding 1e6 grows it to ~540 MiB, which
    every pytest run spawned afterwards would then report as its own peak."""
    argv = [sys.executable, __file__, "--seed-only", server.url, str(intents)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout.split()
    return int(out[0]), float(out[1])


def shell(command: str) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        subprocess.run(command, shell=True, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    return run


def redis_py_read(server: throwaway_redis.ThrowawayRedis, batch: int = 1000) -> Callable[[], float]:
    """The bare client read: XRANGE in batches, redis-py's own reply parsing, nothing else."""

    def run() -> float:
        client = server.client()
        started = time.perf_counter()
        lo = "-"
        while len(entries := client.xrange(KEY, min=lo, max="+", count=batch)) == batch:
            lo = "(" + entries[-1][0].decode()
        elapsed = time.perf_counter() - started
        client.close()
        return elapsed

    return run


class TreeRss:
    """The peak, sampled every `every` s, of the RSS summed over a process and its descendants,
    until `stop()`."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        self.pid, self.every, self.peak_kib = pid, every, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(self.every):
            self.peak_kib = max(self.peak_kib, sum(map(_rss_kib, _tree(self.pid))))

    def stop(self) -> float:
        """Stop sampling; the peak in MiB."""
        self._done.set()
        self._thread.join()
        return self.peak_kib / 1024


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (gone ones are skipped)."""
    found, todo = [], [pid]
    while todo:
        found.append(current := todo.pop())
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += map(int, children)
    return found


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else 0


def preactivation(
    server: throwaway_redis.ThrowawayRedis, peaks: list[tuple[float, float]], root: Path
) -> Callable[[], float]:
    """One `pytest -m preactivation` subprocess of the checkout at `root` (its own shadowgate
    comes first on sys.path: `python -m` puts the working directory there); its peak RSS
    (MiB: the largest process, and the sum over its processes) goes into `peaks`."""

    def run() -> float:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as reports:
            argv = [sys.executable, "-m", "pytest", "-m", "preactivation", "-q",
                    "-p", "no:cacheprovider", f"--rootdir={root}",
                    f"--redis-url={server.url}", f"--reports-dir={reports}", *DRILL]  # fmt: skip
            started = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=root, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            tree = TreeRss(proc.pid)
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - started
            summed = tree.stop()
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode not in (0, 1):  # 1: NO-GO (the NOT EVALUATED rows); else broken
                raise RuntimeError(f"pytest exited {proc.returncode}: {' '.join(argv)}")
        largest = usage.ru_maxrss / 1024  # KiB on Linux
        peaks.append((largest, max(largest, summed)))  # a sample may miss the largest's peak
        return elapsed

    return run


class Measured(NamedTuple):
    """One seeded size: its markdown rows, and per pytest row (median s, peak RSS MiB)."""

    entries: int
    lines: list[str]
    runs: dict[str, tuple[float, float]]


def runbook_rows(cli: str, entries: int, env_file: Path) -> dict[str, Callable[[], float]]:
    """Each RUNBOOK pipeline over the whole window (COUNT N); B2 greps the env file first."""
    rev = f"{cli} XREVRANGE {KEY} + - COUNT {entries}"
    flag = f'grep "^PATCHTST_SHADOW_ONLY=true" {env_file} && '
    return {
        f"runbook {name}": shell(f"{flag if 'B2' in name else ''}{rev} | {pipeline}")
        for name, pipeline in RUNBOOK.items()
        if entries <= M4_MAX or "metric 4" not in name
    }


def warm(root: Path) -> None:
    """What scripts/bootstrap.sh does once per change of the sources: write pytest's rewritten
    bytecode of the checkout at `root`, so every timed run starts as an installed one does."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    argv = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
            f"--rootdir={root}"]  # fmt: skip
    subprocess.run(argv, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)


def measure(size: int, repeat: int, baseline: tuple[str, Path] | None = None) -> Measured:
    """The table rows (markdown) for one seeded size; `baseline` is (label, checkout)."""
    with throwaway_redis.start() as server, tempfile.TemporaryDirectory() as tmp:
        entries, seconds = seeded(server, size)
        cli = f"redis-cli -h 127.0.0.1 -p {server.port}"
        env_file = Path(tmp, "ai-engine.env")
        env_file.write_text("PATCHTST_SHADOW_ONLY=true\n")
        rows: dict[str, Callable[[], float]] = {
            "floor: redis-cli XRANGE > /dev/null": shell(f"{cli} XRANGE {KEY} - + > /dev/null"),
            "floor: redis-py XRANGE, batches of 1000": redis_py_read(server),
            **runbook_rows(cli, entries, env_file),
        }
        trees = {PYTEST_ROW: repo_root()}
        if baseline is not None:
            trees[f"pytest -m preactivation, {baseline[0]} (subprocess)"] = baseline[1]
        peaks: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for name, root in trees.items():
            warm(root)
            rows[name] = preactivation(server, peaks[name], root)
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(repeat):  # alternating: drift on a shared box spreads over every row
            for name, run in rows.items():
                times[name].append(run())
    medians = {name: statistics.median(values) for name, values in times.items()}
    pipelines = [medians[f"runbook {name}"] for name in RUNBOOK if f"runbook {name}" in medians]
    runbook = sum(pipelines) if len(pipelines) == len(RUNBOOK) else None
    floor = medians["floor: redis-cli XRANGE > /dev/null"]
    lines = [
        f"### {entries:,} stream entries (seeded in {seconds:.1f} s), median of {repeat}\n",
        "| operation | median s | min .. max s | x redis-cli XRANGE | x runbook pipelines "
        "| peak RSS MiB | summed RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    runs: dict[str, tuple[float, float]] = {}
    for name, values in times.items():
        median = medians[name]
        cells = [name, f"{median:.3f}", f"{min(values):.3f} .. {max(values):.3f}",
                 f"{median / floor:.2f}", "", "", ""]  # fmt: skip
        if name in peaks:
            largest, summed = (max(column) for column in zip(*peaks[name], strict=True))
            cells[4] = f"{median / runbook:.2f}" if runbook else ""
            cells[5:] = f"{largest:.0f}", f"{summed:.0f}"
            runs[name] = (median, summed)
        lines.append(_row(cells))
    if runbook is not None:
        lines.append(_row([RUNBOOK_SUM, f"{runbook:.3f}", "", f"{runbook / floor:.2f}", "1.00",
                           "", ""]))  # fmt: skip
    else:
        lines.append(_row(["runbook s.5 metric 4", f"not run: O(n^2), over {M4_MAX:,} entries",
                           "", "", "", "", ""]))  # fmt: skip
    runs["floor: redis-cli XRANGE > /dev/null"] = (floor, 0.0)
    return Measured(entries, [*lines, ""], runs)


def _row(cells: list[str]) -> str:
    """One markdown table row."""
    return "| " + " | ".join(cells) + " |"


def checkout(ref: str, into: Path) -> Path:
    """The tree of git ref `ref` of this repository, extracted into `into`."""
    archive = subprocess.run(["git", "archive", ref], cwd=repo_root(), check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def plot(measured: list[Measured], path: Path) -> None:
    """Time and summed peak RSS of each pytest row (and the floor's time) against the entries."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6), layout="constrained")
    time_ax, rss_ax = fig.subplots(1, 2)
    names = dict.fromkeys(name for m in measured for name in m.runs)
    for name in names:
        points = [(m.entries, m.runs[name]) for m in measured if name in m.runs]
        xs = [x for x, _ in points]
        time_ax.plot(xs, [t for _, (t, _) in points], marker="o", label=name)
        if not name.startswith("floor"):
            rss_ax.plot(xs, [r for _, (_, r) in points], marker="o", label=name)
    for ax, label in ((time_ax, "median wall s"), (rss_ax, "peak RSS MiB, summed")):
        ax.set_xscale("log")
        ax.set_xlabel("stream entries in the 24 h window")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    time_ax.set_yscale("log")
    rss_ax.axhline(150 / 1.048576, color="#c62828", linestyle="--", label="150 MB")
    rss_ax.legend(fontsize=7)
    time_ax.legend(fontsize=7)
    fig.savefig(path, dpi=90)


def write_section(label: str, body: list[str], path: Path = RESULTS) -> None:
    """Replace (or add) the section `## label` of results.md, keeping the others, so a
    before/after pair can live side by side."""
    text = path.read_text() if path.exists() else "# bench_scale results\n\n"
    section = f"## {label}\n\n" + "\n".join(body) + "\n"
    pattern = re.compile(rf"^## {re.escape(label)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text + section
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="also 1,000,000 (slow to seed)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--million-repeat", type=int, default=1)
    parser.add_argument("--baseline", metavar="REF", help="also time this git ref's code")
    parser.add_argument("--label", default="current", help="results.md section to (re)write")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--seed-only", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if shutil.which("gawk") is None:  # the runbook's awk passes match() an array: gawk only
        parser.error("the runbook's pipelines need GNU awk (apt-get install gawk)")
    if args.seed_only:
        print(*seed(redis.Redis.from_url(args.seed_only[0]), int(args.seed_only[1])))
        return
    python = sys.version.split()[0]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    body = [
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, load average {load} at "
        f"start, Python {python}; P1 P2 P4 P6 P7 B2 B4 NOT EVALUATED (no systemd box)\n"
    ]
    measured = []
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tree:
        baseline = (args.baseline, checkout(args.baseline, Path(tree))) if args.baseline else None
        plan = [(size, args.repeat, baseline) for size in args.sizes]
        if args.million:
            plan.append((1_000_000, args.million_repeat, None))
        for size, repeat, against in plan:
            measured.append(m := measure(size, repeat, against))
            print("\n".join(m.lines), flush=True)
            body += m.lines
    image = args.out.with_suffix(".png")
    plot(measured, image)
    body.append(f"![time and peak RSS against entries]({image.name})\n")
    write_section(args.label, body, args.out)
    print(f"written: {args.out}, {image}")


if __name__ == "__main__":
    main()
