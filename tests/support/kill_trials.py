"""kill -9 of the actions, many times at every point: the evidence for "0 partial env files, 0
lost backups, the decision log still verifies" (issue 11), for scripts/kill_trials and, with
fewer trials, tests/unit/actions/test_kill.py.

Each trial runs activate or rollback as the operator does (a child process, a stand-in
`systemctl` first on PATH, the verification suite replaced by a no-op so nothing reads any
Redis) in a fresh tmp dir. The points are found, not listed: a first run reports every point
of tests/support/crash_points it passes (each step of StepLog, the temp file written, the
rename, a record's line written before its anchor: `recorded`), and each occurrence is a point
(`tmp-written#2`: the env file's, after the backup's). Trial 0 of a point kills exactly there
(the child kills itself); the others SIGKILL it after a random delay (a timer thread in the
child, so a child in the box is killed too), anywhere in what remains of the action.
Then: the env file must be the old or the new one, every backup whole, a changed env file
backed up, the decision log verifying, and the next action must finish the job (or, once the
killed activation was recorded, refuse to activate again: the state is ACTIVE).

With a box (`--box`, tests/box/actions/test_kill_trials.py), each action runs inside a booted
systemd (sdbox): a real unit reading the trial's env file, the real `systemctl`, and records
anchored in its real journal, so a kill between a record's line and its anchor ("recorded")
is tried too: the log then verifies after the next action, which marks that record never
anchored (counted), and before it fails only naming that kill.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import testinfra.host

from shadowgate import evidence
from shadowgate.actions import activate, flow, rollback
from shadowgate.config import Target
from shadowgate.evidence import Journal, lifecycle
from shadowgate.exitcodes import UsageParser
from shadowgate.testbed import sdbox
from tests.support.action_bed import FLAG, MODEL, Bed, FakeEngine

KINDS = ("activate", "rollback")
DEAD_REDIS = "redis://127.0.0.1:1/0"  # what the suite would read, were it ever run
SYSTEMCTL = """#!/bin/sh
case "$*" in
  *show*) printf '%s\\n' LoadState=loaded ActiveState=active SubState=running Result=success \\
      NRestarts=0 MainPID=4242 'ActiveEnterTimestamp=Thu 2026-11-26 06:30:00.000001 UTC' \\
      'ExecMainStartTimestamp=Thu 2026-11-26 06:30:00.000001 UTC' InvocationID=abc \\
      FragmentPath=/etc/systemd/system/quantum-ai-engine.service NeedDaemonReload=no \\
      "EnvironmentFiles=$(cd "$(dirname "$0")/.." && pwd)/ai-engine.env (ignore_errors=no)" ;;
esac
"""  # the unit reads the bed's env file (../ai-engine.env) and nothing else: it decides
CHILD = r"""
import os, signal, sys, threading
from shadowgate.actions import activate, flow, rollback
from tests.support import crash_points
fd, at, seen = int(os.environ["SG_TRIAL_FD"]), os.environ.get("SG_TRIAL_AT", ""), {}
delay = float(os.environ.get("SG_TRIAL_DELAY", "0"))
def reached(name):
    seen[name] = seen.get(name, 0) + 1
    os.write(fd, f"{name}#{seen[name]}\n".encode())
    if f"{name}#{seen[name]}" == at:
        timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL))
        timer.daemon = True  # an action that ends first exits: "finished before the kill"
        timer.start()
        if not delay:
            os.kill(os.getpid(), signal.SIGKILL)
crash_points.install(reached)
flow.run_suite = lambda argv, env: 0
sys.exit({"activate": activate.main, "rollback": rollback.main}[sys.argv[1]](sys.argv[2:]))
"""
BACKUP_BEFORE = "ai-engine.env.bak.activation.20261126_063000"  # rollback must keep it
UNIT = "quantum-ai-engine.service"
# In the box (--box): a real unit that reads the trial's env file, under the real systemd.
BOX_UNIT = "[Service]\nEnvironmentFile={env}\nExecStart=/bin/sleep infinity\n"


@dataclass
class Figures:
    """What the trials found, per action and in all."""

    points: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # one line per bad trial, to reproduce

    def bad(self, what: str, trial: str) -> None:
        self.counts[what] += 1
        self.problems.append(f"{what}: {trial}")

    def line(self, name: str) -> str:
        c = self.counts
        return (
            f"{name}: {len(self.points)} points, {c['trials']} trials ({c['killed']} killed, "
            f"{c['finished']} finished before the kill); partial env files {c['partial env']}, "
            f"partial backups {c['partial backup']}, lost backups {c['lost backup']}, log "
            f"verify failures {c['verify']}, temp files left by the kill {c['tmp left']} "
            f"({c['tmp after next']} after the next action), next action failed "
            f"{c['not recovered']}, records rolled forward as never anchored "
            f"{c['never anchored']}"
        )


@dataclass(frozen=True)
class Setup:
    """One trial's tmp bed and the two files the env file may be after the action."""

    bed: Bed
    tools: Path
    old: bytes
    new: bytes
    box: sdbox.SystemdBox | None = None  # the actions run there, under its systemd and journal

    def journal_host(self) -> testinfra.host.Host | None:
        """Where the records are anchored: the box's journal (None: no journal, the chain)."""
        return None if self.box is None else self.box.testinfra_host()

    def command(self, argv: list[str]) -> list[str]:
        """`argv` as run for this trial: here, or in the box (nsenter, this checkout's dir)."""
        if self.box is None:
            return argv
        enter = 'cd "$1" && shift && exec "$@"'
        return ["nsenter", "-t", str(self.box.pid), "-a", "sh", "-c", enter, "sh",
                str(flow.REPO), *argv]  # fmt: skip

    def argv(self, kind: str) -> list[str]:
        extra = ("--approved-by=alice",) if kind == "activate" else ("--break-glass", "--reason=x")
        return self.bed.options(*extra, f"--redis-url={DEAD_REDIS}")


def _setup(root: Path, kind: str, box: sdbox.SystemdBox | None = None) -> Setup:
    """A bed as the `bed` fixture makes it: for activate a preactivation record and the flag
    on; for rollback a window's record, the flag gone and the activation's backup beside it
    (it must survive). With `box`, the unit is real and the records anchored in its journal;
    else a stand-in `systemctl` answers and there is no journal."""
    made = _bed(root, kind, box)
    if box is None:
        (made.tools / "systemctl").write_text(SYSTEMCTL)  # journalctl stays real
        (made.tools / "systemctl").chmod(0o755)
    else:
        box.install_unit(UNIT, BOX_UNIT.format(env=made.bed.env))
        box.systemctl("restart", UNIT)
    return made


def _bed(root: Path, kind: str, box: sdbox.SystemdBox | None) -> Setup:
    tools = root / "bin"
    tools.mkdir()
    model = root / "patchtst.pth"
    model.write_bytes(b"weights")
    env = root / "ai-engine.env"
    shadow = f"# engine\r\n{FLAG}=true\n{MODEL}={model}\n".encode()
    active = f"# engine\r\n{MODEL}={model}\n".encode()
    bed = Bed(env, model, root / "reports", FakeEngine(env), [], [])
    journal = Journal(box.testinfra_host()) if box else Journal.local()
    with mock.patch.object(Journal, "local", lambda: journal):  # the records' anchors
        if kind == "activate":
            env.write_bytes(shadow)
            target = Target(env_file=str(env), redis_url=DEAD_REDIS).describe()
            bed.record(target=target)
            return Setup(bed, tools, shadow, active, box)
        env.write_bytes(active)
        (root / BACKUP_BEFORE).write_bytes(shadow)  # what activate left: rollback keeps it
        bed.record("window_30m")  # a log to keep verifying (break-glass needs no arming)
    return Setup(bed, tools, active, active + f"{FLAG}=true\n".encode(), box)


def _child(setup: Setup, kind: str, at: str = "", delay: float = 0.0) -> tuple[int, list]:
    """Run the action; it SIGKILLs itself `delay` s after it reaches `at` (0: right there).
    The exit status and the points it reported, each with its monotonic time."""
    read, write = os.pipe()
    env = {
        **os.environ,
        "PATH": f"{setup.tools}:{os.environ['PATH']}",
        "SG_TRIAL_FD": str(write),
        "SG_TRIAL_AT": at,
        "SG_TRIAL_DELAY": str(delay),
    }
    argv = setup.command([sys.executable, "-c", CHILD, kind, *setup.argv(kind)])
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            argv, cwd=flow.REPO, env=env, pass_fds=(write,), stdout=out, stderr=out
        )
        os.close(write)
        with os.fdopen(read) as markers:
            reached = [(line.strip(), time.monotonic()) for line in markers]
        code = proc.wait(timeout=60)
        if code not in (0, -signal.SIGKILL):
            out.seek(0)
            raise RuntimeError(f"{kind} exited {code}: {out.read().decode(errors='replace')}")
    return code, reached


def find_points(
    kind: str, box: sdbox.SystemdBox | None = None, workdir: Path | None = None
) -> tuple[list[str], dict[str, float]]:
    """Every point one whole run of `kind` passes, in order, and the time left after each."""
    with tempfile.TemporaryDirectory(prefix="sg-kill-", dir=workdir) as tmp:
        setup = _setup(Path(tmp), kind, box)
        code, reached = _child(setup, kind)
        ended = time.monotonic()
    if code != 0 or not reached:
        raise RuntimeError(f"{kind} did not run to the end without a kill (exit {code})")
    return [p for p, _ in reached], {p: ended - t for p, t in reached}


def _judge(setup: Setup, kind: str, trial: str, figures: Figures) -> None:
    """The files and the log after a kill, then the next action run to the end."""
    env = setup.bed.env
    if env.read_bytes() not in (setup.old, setup.new):
        figures.bad("partial env", trial)
    shadow = f"# engine\r\n{FLAG}=true\n{MODEL}={setup.bed.model}\n".encode()
    backups = [b.read_bytes() for b in env.parent.glob(f"{env.name}.bak*")]
    if any(b != shadow for b in backups):
        figures.bad("partial backup", trial)
    needed = kind == "rollback" or env.read_bytes() != setup.old  # rollback keeps activate's
    if needed and shadow not in backups:
        figures.bad("lost backup", trial)
    figures.counts["tmp left"] += len(_leftovers(setup))
    checked = evidence.verify(setup.bed.reports, setup.journal_host())
    if not checked.ok and not _anchor_pending(checked):
        figures.bad("verify", f"{trial}: {checked.problem}")
    code, said = _again(setup, kind)
    if not _recovered(setup, kind, code):
        figures.bad("not recovered", f"{trial}: exit {code}: {' | '.join(said.splitlines())}")
    elif not (checked := evidence.verify(setup.bed.reports, setup.journal_host())).ok:
        figures.bad("verify", f"{trial}, after the next action: {checked.problem}")
    else:
        figures.counts["never anchored"] += len(checked.missed)
    if left := _leftovers(setup):
        figures.bad("tmp after next", f"{trial}: {', '.join(p.name for p in left)}")


def _recovered(setup: Setup, kind: str, code: int) -> bool:
    """The job is done: the env file as a whole run leaves it, and the next action finished
    it, or, after an activation the killed run already recorded (its engine restarted: ACTIVE),
    refused to activate again, since activate runs only at ARMED (ARCHITECTURE.md "The
    lifecycle")."""
    if setup.bed.env.read_bytes() != setup.new:
        return False
    if code == flow.DONE:
        return True
    now = datetime.now(UTC)
    life = lifecycle.current(setup.bed.reports, now=now, engine_host=setup.journal_host(),
                             judge_go=False)  # fmt: skip
    return kind == "activate" and code == flow.REFUSED and life.state is lifecycle.State.ACTIVE


def _anchor_pending(checked: evidence.Verification) -> bool:
    """Killed between its last line and that line's anchor: the next run rolls it forward
    (marks it never anchored), and is judged on that."""
    return "its run was killed between the line and its anchor" in checked.problem


def _leftovers(setup: Setup) -> list[Path]:
    """Hidden files a killed write leaves: temp env files, pending record files."""
    return [*setup.bed.env.parent.glob(".*.tmp"), *setup.bed.reports.glob(".*.pending")]


def _again(setup: Setup, kind: str) -> tuple[int, str]:
    """The next action, in this process, to the end (never blocked by the dead one): its exit
    status and what it said."""
    if setup.box is not None:  # in the box, as the killed one ran
        argv = setup.command([sys.executable, "-c", CHILD, kind, *setup.argv(kind)])
        sink = os.open(os.devnull, os.O_WRONLY)  # the points it passes: not wanted
        env = {**os.environ, "SG_TRIAL_FD": str(sink), "SG_TRIAL_AT": ""}
        try:
            done = subprocess.run(argv, env=env, pass_fds=(sink,), capture_output=True,
                                  text=True, check=False)  # fmt: skip
        finally:
            os.close(sink)
        return done.returncode, done.stdout + done.stderr
    main = {"activate": activate.main, "rollback": rollback.main}[kind]
    said = io.StringIO()
    no_suite = mock.patch.object(flow, "run_suite", lambda argv, env: 0)
    with no_suite, contextlib.redirect_stdout(said):
        return main(setup.argv(kind), engine=FakeEngine(setup.bed.env)), said.getvalue()


def run_trials(
    kind: str,
    per_point: int,
    seed: int = 11,
    box: sdbox.SystemdBox | None = None,
    workdir: Path | None = None,
) -> Figures:
    """`per_point` trials at every point of `kind`: the first exact, the rest at random; in
    `box` (its real systemd and journal; `workdir` a dir it sees) when given."""
    rng = random.Random(seed)
    points, left = find_points(kind, box, workdir)
    figures = Figures(points)
    for point in points:
        for n in range(per_point):
            delay = 0.0 if n == 0 else rng.uniform(0.0, left[point])
            trial = f"{kind} at {point} + {delay * 1000:.2f} ms (trial {n})"
            with tempfile.TemporaryDirectory(prefix="sg-kill-", dir=workdir) as tmp:
                setup = _setup(Path(tmp), kind, box)
                code, _ = _child(setup, kind, point, delay)
                figures.counts["trials"] += 1
                figures.counts["killed" if code else "finished"] += 1
                _judge(setup, kind, trial, figures)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Print the figures of N trials per point of each action; exit 1 on any bad trial."""
    parser = UsageParser(prog="scripts/kill_trials", description=__doc__)
    parser.add_argument("--trials", type=int, default=20, help="per point (default 20)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--action", choices=KINDS, action="append", help="default: both")
    parser.add_argument(
        "--box",
        action="store_true",
        help="in a booted systemd box (root): the real unit, systemctl and journal",
    )
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        box = workdir = None
        if args.box:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sg-kill-")))
            state = stack.enter_context(tempfile.TemporaryDirectory(prefix="sg-kill-box-"))
            box = stack.enter_context(sdbox.SystemdBox(state, sdbox.default_binds(workdir)))
        return _report(args, box, workdir)


def _report(args: argparse.Namespace, box: sdbox.SystemdBox | None, workdir: Path | None) -> int:
    started, bad = time.monotonic(), 0
    for kind in args.action or KINDS:
        figures = run_trials(kind, args.trials, args.seed, box, workdir)
        print(figures.line(kind))
        print(f"  points: {', '.join(figures.points)}")
        for problem in figures.problems:
            print(f"  BAD {problem}")
        bad += len(figures.problems)
    print(f"kill trials: {bad} bad trials in {time.monotonic() - started:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
