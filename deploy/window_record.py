"""The Python half of deploy/shadowgate-window (the timers' wrapper): when is now, relative to
T+0, and what did the window run just recorded.

    window_record.py when PHASE           where PHASE stands: "run", "early" or "over" (exit 0),
                                          one line saying why; no T+0 exits 3
    window_record.py mark                 the decision log's line count before a run
    window_record.py report PHASE MARK [--textfile DIR]
                                          the run's decision and headline on the first line
                                          ("STOP<TAB>shadowgate window_30m: STOP: roll back now
                                          ..."), read from the first record of PHASE after line
                                          MARK; none exits 3. With DIR, also
                                          DIR/shadowgate_PHASE.prom for node_exporter's textfile
                                          collector (prometheus_client's write_to_textfile:
                                          atomic), and a line saying whether it was written

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
from shadowgate.config import ConfigError
from shadowgate.evidence import lifecycle
from shadowgate.evidence.chain import Chain, verified_chain
from shadowgate.evidence.disk import EvidenceError
from shadowgate.evidence.lifecycle import State
from shadowgate.evidence.log import parse_line, snapshot
from shadowgate.outcome import headline
from shadowgate.window import span

NO_RECORD = 3
# Runbook s.5 schedule (DESIGN "Decisions" s.5): each window's span after T+0, in seconds.
WINDOWS = {
    "window_30m": (0, 30 * 60),
    "window_2h": (30 * 60, 2 * 3600),
    "window_6h": (2 * 3600, 6 * 3600),
}
GRACE_S = 60  # a timer firing a little late at the end still runs its last check
DECISIONS = ("OK", "STOP", "NOT OK", "INCONCLUSIVE")
STATUSES = ("PASS", "WARN", "FAIL", "INCONCLUSIVE", "DEFERRED", "NOT EVALUATED")


def chain_of(reports_dir: Path) -> Chain:
    """The verified chain, cross-checked with this host's journal (the timers run on the
    engine's host, where the actions anchor their records)."""
    return verified_chain(reports_dir, host.connect("local://"))


def when(phase: str, now_s: float | None = None, chain: Chain | None = None) -> tuple[str, str]:
    """("run" | "early" | "over", the line that says why), from the lifecycle's state over the
    verified records of `chain` (default: the reports dir's) at `now_s` (this machine's clock:
    the timers fire by it); ValueError without a T+0. A rolled-back T+0, a recorded
    conclusion, or T+6 h (s.10: AWAITING_DECISION, after the last window's grace) end every
    window."""
    options = settings.resolve()
    chain = chain or chain_of(options.reports_dir)
    now_s = time.time() if now_s is None else now_s
    life = lifecycle.derive(
        chain.records, now=datetime.fromtimestamp(now_s, UTC), go=None,
        unit=options.target.unit, activated_at=options.activated_at, broken=chain.broken(),
    )  # fmt: skip
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


def write_textfile(record: Mapping[str, Any], directory: Path, verified: bool = True) -> Path:
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
        "shadowgate_window_stop", "1 when a stop condition failed: roll back now (runbook s.6)",
        ["phase"], registry=registry,
    ).labels(phase).set(1 if record.get("decision") == "STOP" else 0)  # fmt: skip
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
    if record.get("finished_at"):
        from shadowgate.evidence.anchors import parse_moment

        finished.labels(phase).set(parse_moment(str(record["finished_at"])).timestamp())
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
        if isinstance(check.get("value"), int | float) and not isinstance(check["value"], bool):
            value.labels(phase, check["id"]).set(check["value"])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"shadowgate_{phase}.prom"
    write_to_textfile(str(path), registry)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="window_record.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    where = commands.add_parser("when")
    where.add_argument("phase", choices=sorted(WINDOWS))
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
        if args.command == "when":
            state, line = when(args.phase, chain=chain)
            print(f"{state}\t{line}")
        else:
            record = run_record(args.phase, args.mark, chain)
            if record is None:
                print(f"no {args.phase} record after line {args.mark} of the decision log"
                      + (f"; {chain.broken()}" if chain.broken() else ""))  # fmt: skip
                return NO_RECORD
            print(f"{record.get('decision')}\t{headline(record)}")
            if args.textfile is not None:  # never in the way of the decision's line above
                try:
                    written = write_textfile(record, args.textfile, chain.verification.ok)
                    print(f"textfile: {written}")
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
