"""The Python half of deploy/shadowgate-window (the timers' wrapper): when is now, relative to
T+0, and what did the window run just recorded.

    window_record.py when PHASE [--textfile DIR]
                                          where PHASE stands: "run", "early" or "over" (exit 0),
                                          one line saying why; no T+0 exits 3. With DIR, also
                                          rewrites the textfiles as the state now stands (see
                                          below): every timer firing refreshes them
    window_record.py mark                 the decision log's line count before a run
    window_record.py report PHASE MARK [--textfile DIR]
                                          the run's decision and headline on the first line
                                          ("STOP<TAB>shadowgate window_30m: STOP: roll back now
                                          ..."), read from the first record of PHASE after line
                                          MARK; none exits 3. With DIR, also the textfiles,
                                          and a line saying whether they were written

The textfiles, for node_exporter's textfile collector (prometheus_client's write_to_textfile:
atomic), alerted on by deploy/shadowgate.rules.yml: DIR/shadowgate_PHASE.prom, each window's
latest run (its STOP gauge cleared once the lifecycle answers the STOP: a rollback, a
conclusion, a newer activation), and DIR/shadowgate_lifecycle.prom, the lifecycle's state,
when it was evaluated, and by when the next window run is due while ACTIVE.

Both `when` and `report` add a line "broken<TAB>..." when the decision log does not verify,
saying from which line: the wrapper says it at priority err and exits non-zero.

Settings (reports dir, --activated-at, the unit) come from the SHADOWGATE_* environment, as
the suite reads them (`shadowgate.settings.resolve`). T+0 is the later of the latest
activation record and SHADOWGATE_ACTIVATED_AT, and whether a window is on at all, come from
the lifecycle's state (`evidence.lifecycle`, the one function every consumer uses): a rollback
recorded after T+0, a recorded conclusion, or T+6 h (s.10, AWAITING_DECISION) end every
window. Records are read from the verified chain
(`evidence.chain`, cross-checked with this host's journal), never from raw lines: a forged
line changes nothing, and a broken chain is judged against the last verified activation.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowgate import host, settings
from shadowgate.checks import catalog
from shadowgate.config import ConfigError
from shadowgate.evidence import lifecycle
from shadowgate.evidence.anchors import parse_moment
from shadowgate.evidence.chain import Chain, verified_chain
from shadowgate.evidence.disk import EvidenceError
from shadowgate.evidence.lifecycle import Lifecycle, State
from shadowgate.evidence.log import parse_line, snapshot
from shadowgate.window import span
from shadowgate.wording import headline

NO_RECORD = 3
# Runbook s.5 schedule (DECISIONS.md "Ambiguities"): each window's span after T+0, in seconds.
WINDOWS = {
    "window_30m": (0, 30 * 60),
    "window_2h": (30 * 60, 2 * 3600),
    "window_6h": (2 * 3600, 6 * 3600),
}
# How often each window runs: the timers' OnUnitActiveSec (deploy/shadowgate-PHASE.timer).
INTERVALS = {"window_30m": 5 * 60, "window_2h": 15 * 60, "window_6h": 30 * 60}
GRACE_S = 60  # a timer firing a little late at the end still runs its last check
DECISIONS = ("OK", "STOP", "NOT OK", "INCONCLUSIVE")
STATUSES = ("PASS", "WARN", "FAIL", "INCONCLUSIVE", "DEFERRED", "NOT EVALUATED")


def chain_of(reports_dir: Path) -> Chain:
    """The verified chain, cross-checked with this host's journal (the timers run on the
    engine's host, where the actions anchor their records)."""
    return verified_chain(reports_dir, host.connect("local://"))


def life_at(chain: Chain, now_s: float) -> Lifecycle:
    """The lifecycle's state over `chain` at `now_s`, for the unit and T+0 of the settings."""
    options = settings.resolve()
    return lifecycle.derive(
        chain.records, now=datetime.fromtimestamp(now_s, UTC), go=None,
        unit=options.target.unit, activated_at=options.activated_at, broken=chain.broken(),
    )  # fmt: skip


def when(phase: str, now_s: float | None = None, chain: Chain | None = None) -> tuple[str, str]:
    """("run" | "early" | "over", the line that says why), from the lifecycle's state over the
    verified records of `chain` (default: the reports dir's) at `now_s` (this machine's clock:
    the timers fire by it); ValueError without a T+0. A rolled-back T+0, a recorded
    conclusion, or T+6 h (s.10: AWAITING_DECISION, after the last window's grace) end every
    window."""
    options = settings.resolve()
    chain = chain or chain_of(options.reports_dir)
    now_s = time.time() if now_s is None else now_s
    life = life_at(chain, now_s)
    t0 = life.t0
    if t0 is None:
        raise ValueError(
            f"no T+0: no verified activation record in {options.reports_dir} and no "
            "SHADOWGATE_ACTIVATED_AT=ISO8601 in the env file: nothing to measure from"
            + (f"; {chain.broken()}" if chain.broken() else "")
        )
    elapsed = now_s - t0.at.timestamp()
    start, end = WINDOWS[phase]
    at = f"T+{span(int(max(0.0, elapsed) * 1000))} (T+0 {t0.describe()})"
    if life.rollback is not None:
        return "over", (
            f"{phase} is over: rolled back at {life.rollback.describe()}, trigger "
            f"{life.trigger}: nothing to monitor; now {at}"
        )
    decided = life.state is State.CONCLUDED
    waiting = life.state is State.AWAITING_DECISION and life.since is not None
    if decided or (waiting and now_s > life.since.timestamp() + GRACE_S):
        return "over", f"{phase} is over: {life.headline()}; now {at}"
    if elapsed < start:
        return "early", f"{phase} starts at T+{span(start * 1000)}; now {at}: nothing to run yet"
    if elapsed > end + GRACE_S:
        return "over", f"{phase} is over (it ends at T+{span(end * 1000)}); now {at}"
    return "run", f"{phase}: {at}"


def _of_phase(record: object, phase: str) -> bool:
    return isinstance(record, dict) and record.get("phase") == phase and "action" not in record


def run_record(phase: str, mark: int, chain: Chain) -> dict[str, Any] | None:
    """The first `phase` run record after line `mark`, of the verified chain; when the chain
    is broken, of the raw lines after `mark` (the run just made, whose decision must still be
    said: the wrapper says it with the break, at priority err)."""
    found = [link.record for link in chain.links if link.number > mark]
    if not chain.verification.ok:
        lines, _, _ = snapshot(settings.reports_dir_of())
        found = []
        for raw in lines[mark:]:
            with contextlib.suppress(ValueError):
                found.append(parse_line(raw))
    return next((dict(r) for r in found if _of_phase(r, phase)), None)


def _finished(record: Mapping[str, Any]) -> float | None:
    try:
        return parse_moment(str(record.get("finished_at"))).timestamp()
    except ValueError:
        return None


def stop_stands(record: Mapping[str, Any], life: Lifecycle) -> bool:
    """A window's STOP stands until the lifecycle answers it: a rollback or a conclusion of
    its cycle, or a newer activation. While it is unknown whether it was answered (a broken
    chain: the verified part shows no rollback), it stands."""
    if record.get("decision") != "STOP":
        return False
    finished = _finished(record)
    if life.t0 is not None and finished is not None and finished < life.t0.at.timestamp():
        return False  # an older cycle's
    return life.state not in (State.ROLLED_BACK, State.CONCLUDED)  # (never ARMED: go=None)


def _measured(check: Mapping[str, Any]) -> bool:
    """A check's value is a measurement: a number, and its catalog row says it measures."""
    number = check.get("value")
    if not isinstance(number, int | float) or isinstance(number, bool):
        return False
    try:
        return catalog.get(str(check.get("id"))).measured
    except KeyError:
        return True  # a check of another catalog version: its number is all there is


def write_textfile(
    record: Mapping[str, Any], directory: Path, verified: bool, life: Lifecycle
) -> Path:
    """The run's decision and every check's verdict and value as Prometheus metrics, in
    DIR/shadowgate_PHASE.prom (one file per window, so the windows never overwrite each
    other), and whether the decision log verified. Needs the `prometheus` extra."""
    from prometheus_client import CollectorRegistry, Enum, Gauge, write_to_textfile

    phase = str(record["phase"])
    registry = CollectorRegistry()
    decision = Enum(
        "shadowgate_window_decision",
        "the window run's decision (runbook s.5; STOP: roll back now)",
        ["phase"], states=list(DECISIONS), registry=registry,
    )  # fmt: skip
    if record.get("decision") in DECISIONS:
        decision.labels(phase).state(record["decision"])
    Gauge(
        "shadowgate_window_stop",
        "1 while the run's STOP is not answered by a rollback: roll back now (runbook s.6)",
        ["phase"], registry=registry,
    ).labels(phase).set(1 if stop_stands(record, life) else 0)  # fmt: skip
    Gauge(
        "shadowgate_window_complete", "1 when every check of the window ran",
        ["phase"], registry=registry,
    ).labels(phase).set(1 if record.get("complete") else 0)  # fmt: skip
    Gauge(
        "shadowgate_window_chain_verified",
        "1 when the decision log verified; 0: it does not, the journal says from which line",
        ["phase"], registry=registry,
    ).labels(phase).set(1 if verified else 0)  # fmt: skip
    finished = Gauge(
        "shadowgate_window_last_run_timestamp_seconds", "when the window run finished",
        ["phase"], registry=registry,
    )  # fmt: skip
    if _finished(record) is not None:
        finished.labels(phase).set(_finished(record))
    status = Enum(
        "shadowgate_window_check_status", "each check's verdict in the latest window run",
        ["phase", "check"], states=list(STATUSES), registry=registry,
    )  # fmt: skip
    value = Gauge(
        "shadowgate_window_check_value",
        "each check's measured value (a share, a P10..P90 range, minutes of silence, ...)",
        ["phase", "check"], registry=registry,
    )  # fmt: skip
    for check in record.get("checks", []):
        if check.get("status") in STATUSES:
            status.labels(phase, check["id"]).state(check["status"])
        if _measured(check):
            value.labels(phase, check["id"]).set(check["value"])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"shadowgate_{phase}.prom"
    write_to_textfile(str(path), registry)
    return path


def due(life: Lifecycle, runs: Sequence[Mapping[str, Any]], now_s: float) -> float | None:
    """By when the next window run should have finished: the latest run since T+0 (or T+0)
    plus the interval of the window in force at `now_s`; None without a T+0."""
    if life.t0 is None:
        return None
    t0 = life.t0.at.timestamp()
    finished = [f for f in map(_finished, runs) if f is not None and f >= t0]
    elapsed = now_s - t0
    phase = next((p for p, (_, end) in WINDOWS.items() if elapsed <= end), "window_6h")
    return max([t0, *finished]) + INTERVALS[phase]


def write_lifecycle(
    life: Lifecycle, directory: Path, verified: bool, now_s: float, due_s: float | None
) -> Path:
    """DIR/shadowgate_lifecycle.prom: the state (one series per state, 0/1), since when,
    when it was evaluated, whether the decision log verified, and the next run's due time."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()
    state = Gauge(
        "shadowgate_lifecycle_state",
        "1 for the lifecycle's state (shadowgate status; docs/ARCHITECTURE.md), 0 for the others",
        ["state"], registry=registry,
    )  # fmt: skip
    for each in State:
        state.labels(each.value).set(1 if each is life.state else 0)
    if life.since is not None:
        Gauge(
            "shadowgate_lifecycle_since_timestamp_seconds", "when the state began",
            registry=registry,
        ).set(life.since.timestamp())  # fmt: skip
    Gauge(
        "shadowgate_lifecycle_evaluated_timestamp_seconds",
        "when the timers' wrapper last derived the state (each timer firing)", registry=registry,
    ).set(now_s)  # fmt: skip
    Gauge(
        "shadowgate_lifecycle_chain_verified",
        "1 when the decision log verified; 0: it does not, the journal says from which line",
        registry=registry,
    ).set(1 if verified else 0)  # fmt: skip
    if due_s is not None:
        Gauge(
            "shadowgate_window_next_run_due_timestamp_seconds",
            "by when the next window run should have finished: the latest since T+0, plus the "
            "interval of the window in force (runbook s.5)", registry=registry,
        ).set(due_s)  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "shadowgate_lifecycle.prom"
    write_to_textfile(str(path), registry)
    return path


def write_textfiles(
    directory: Path, chain: Chain, now_s: float, run: Mapping[str, Any] | None = None
) -> list[Path]:
    """The textfiles as the lifecycle stands at `now_s`: every window's latest verified run
    (so a STOP's gauge clears once answered, whichever timer fires next), the run just made
    (`run`, read from the raw line when the chain is broken), and the lifecycle's file. A
    broken chain rewrites only `run`'s: the verified part may be older than what it shows."""
    life = life_at(chain, now_s)
    verified = chain.verification.ok
    runs = [dict(r) for r in chain.records if any(_of_phase(r, phase) for phase in WINDOWS)]
    latest = {r["phase"]: r for r in runs} if verified else {}
    if run is not None:
        latest[str(run["phase"])] = run
        runs.append(dict(run))
    written = [write_textfile(r, directory, verified, life) for r in latest.values()]
    return [*written, write_lifecycle(life, directory, verified, now_s, due(life, runs, now_s))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="window_record.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    where = commands.add_parser("when")
    where.add_argument("phase", choices=sorted(WINDOWS))
    where.add_argument("--textfile", type=Path, metavar="DIR")
    commands.add_parser("mark")
    told = commands.add_parser("report")
    told.add_argument("phase", choices=sorted(WINDOWS))
    told.add_argument("mark", type=int)
    told.add_argument("--textfile", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    try:
        if args.command == "mark":
            print(len(snapshot(settings.reports_dir_of())[0]))
            return 0
        chain = chain_of(settings.reports_dir_of())
        now_s = time.time()
        if args.command == "when":
            state, line = when(args.phase, now_s, chain)
            print(f"{state}\t{line}")
            record = None
        else:
            record = run_record(args.phase, args.mark, chain)
            if record is None:
                print(f"no {args.phase} record after line {args.mark} of the decision log"
                      + (f"; {chain.broken()}" if chain.broken() else ""))  # fmt: skip
                return NO_RECORD
            print(f"{record.get('decision')}\t{headline(record)}")
        if args.textfile is not None:  # never in the way of the decision's line above
            try:
                written = write_textfiles(args.textfile, chain, now_s, record)
                print(f"textfile: {' '.join(map(str, written))}")
            except (ImportError, OSError, ValueError) as exc:
                print(f"textfile not written: {' '.join(str(exc).split())}")
        if chain.broken():
            print(f"broken\t{' '.join(str(chain.broken()).split())}")
    except (ValueError, ConfigError, OSError, ImportError, EvidenceError) as exc:
        print(" ".join(str(exc).split()))
        return NO_RECORD
    return 0


if __name__ == "__main__":
    sys.exit(main())
