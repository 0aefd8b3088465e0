"""One action from clearance to verdict: refuse, or (under the env file's lock) edit, restart, wait,
record, then run the matching suite and say its verdict.

The lock covers what must not interleave (the edit, the restart, the wait and the record), not
the verification suite, which may wait minutes for the engine: a rollback must never wait for
an activation's verification.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shadowgate import envedit, evidence, waiting
from shadowgate.actions.clearance import Clearance
from shadowgate.actions.engine import Engine
from shadowgate.actions.steps import StepFailed, StepLog, action_record, iso_us
from shadowgate.settings import OPTIONS, Settings
from shadowgate.wording import headline

REPO = Path(__file__).resolve().parents[2]  # where pyproject.toml and the suite live
REFUSED, FAILED, DONE = 2, 1, 0
REDIS_URL_ENV = next(o.env for o in OPTIONS if o.name == "redis_url")  # SHADOWGATE_REDIS_URL


@dataclass(frozen=True)
class Action:
    """What distinguishes activate from rollback."""

    kind: str  # evidence.anchors' ACTIVATE / ROLLBACK
    phase: str  # the suite that verifies it
    edit_step: str  # the name of its env file step
    verify: Callable[[envedit.Snapshot, Settings], str]  # the file as written, or raises
    anchor_option: Callable[[datetime, datetime], str]  # (started, restarted) -> suite option
    # what to do when it changed the engine and failed, from its verification's record (if any)
    advice: Callable[[Run, evidence.RunRecord | None], list[str]]
    backup: bool = False  # runbook s.4 step 1 before the edit
    after_active: Callable[[StepLog, Engine, Settings, str, datetime], dict[str, Any]] | None = None
    after_active_step: str = ""  # its name, for the plan


@dataclass(frozen=True)
class Run:
    """One invocation: its settings, the engine, the options to pass on, who is told."""

    settings: Settings
    engine: Engine
    forward: Sequence[str]  # the suite options given on the command line, `--opt=value`
    say: Callable[[str], None] = print
    lock_wait_seconds: float = 0.0  # how long it waits for another action's env lock


def suite_env(settings: Settings) -> dict[str, str]:
    """The suite's environment: this one, plus the Redis URL (a password on a command line is
    readable by every user in `ps`; the environment only by the same user and root)."""
    return {**os.environ, REDIS_URL_ENV: settings.target.redis_url}


def suite_shown(settings: Settings, phase: str, options: Sequence[str]) -> str:
    """The suite's command as the operator may read it: the URL without its password."""
    shown = shlex.join(["pytest", "-m", phase, *options])
    return f"{REDIS_URL_ENV}={shlex.quote(settings.target.safe_redis_url)} {shown}"


def suite_argv(phase: str, options: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        phase,
        "-p",
        "no:cacheprovider",
        f"--rootdir={REPO}",
        *options,
    ]


def refuse(run: Run, what: str, refusals: Sequence[str]) -> int:
    run.say(f"{what}: REFUSED, the env file untouched:")
    for reason in refusals:
        run.say(f"  - {reason}")
    return REFUSED


def plan_lines(action: Action, clearance: Clearance, settings: Settings) -> list[str]:
    edit = clearance.edit
    changes = ", ".join(edit.changes) if edit and edit.changed else "no change needed"
    steps = ["backup"] if action.backup else []
    steps += [
        f"{action.edit_step} ({changes})",
        "verify as systemd reads it",
        f"systemctl restart {settings.target.unit}",
        "wait until active",
        action.after_active_step,
        f"record in {settings.reports_dir}",
        f"pytest -m {action.phase}",
    ]
    steps = [step for step in steps if step]
    return [f"  {n}. {step}" for n, step in enumerate(steps, 1)]


def execute(
    action: Action, run: Run, clearance: Clearance, started: datetime, **fields: Any
) -> int:
    """The steps, the record, the suite. Exit DONE when the suite passed, else FAILED."""
    settings, engine, log = run.settings, run.engine, StepLog(run.say)
    run_id = evidence.new_run_id(action.kind, started)
    restarted: datetime | None = None
    state = None
    extra: dict[str, Any] = {}
    env_path = Path(settings.target.env_file)
    try:
        told = waiting.Telling(run.say, waiting.every_s(sys.stdout.isatty()))
        with envedit.locked(env_path, run.lock_wait_seconds, told):
            try:
                fields |= _edit(action, log, clearance, settings)
                restarted = log.run("restart", engine.restart, iso_us)
                state = log.run(
                    "wait until active",
                    lambda: _active(engine, settings),
                    lambda s: f"{s.describe()}, InvocationID {s.invocation_id}",
                )
                if action.after_active is not None:
                    extra = action.after_active(log, engine, settings, run_id, started)
            except StepFailed as exc:
                run.say(f"{action.kind}: step failed: {exc}")
            finally:
                if log.steps:
                    record = action_record(
                        action.kind,
                        run_id,
                        started,
                        settings.target.describe(),
                        log,
                        restarted,
                        state.invocation_id if state else None,
                        operator=settings.operator,
                        **fields,
                        **extra,
                    )
                    try:  # into this machine's journal: the actions run on the engine's host
                        evidence.append_record(settings.reports_dir, record)
                    except evidence.AnchorError as exc:
                        run.say(f"{action.kind}: {exc}")
                    run.say(f"{action.kind}: recorded as {run_id} in {settings.reports_dir}")
    except envedit.EnvEditError as exc:
        return refuse(run, action.kind, [str(exc)])
    verified, verification = False, None
    if state is not None and state.running:
        verified, verification = _verify(action, run, started, restarted)
    if verified:
        return DONE
    if any(step["step"] == action.edit_step and step["ok"] for step in log.steps):
        for line in action.advice(run, verification):
            run.say(line)
    return FAILED


def _edit(action: Action, log: StepLog, clearance: Clearance, settings: Settings) -> dict[str, Any]:
    assert clearance.edit is not None
    edit = clearance.edit
    done: dict[str, Any] = {}
    if action.backup and edit.changed:  # nothing to change (a killed run's edit): no backup
        snapshot = edit.before
        backup = log.run("backup", lambda: envedit.backup(snapshot, datetime.now()))
        done["backup"] = str(backup)
    log.run(
        action.edit_step,
        lambda: envedit.apply(edit),
        lambda _: "; ".join(edit.changes) or "already so: nothing written",
    )
    log.run(
        "verify as systemd reads it",
        lambda: action.verify(envedit.read(edit.before.path), settings),
    )
    done["env_changes"] = list(edit.changes)
    return done


def _active(engine: Engine, settings: Settings):
    state = engine.running_within(settings.thresholds.number("service.active_within_seconds"))
    if not state.running:
        raise RuntimeError(f"not active (running) in time: {state.describe()}")
    return state


def _verify(
    action: Action, run: Run, started: datetime, restarted: datetime | None
) -> tuple[bool, evidence.RunRecord | None]:
    """Run the phase's suite as the operator would, live on the terminal: did it pass, and the
    record of the phase it wrote (None if it wrote none: a line it did not write is no evidence
    of this action)."""
    assert restarted is not None
    settings = run.settings
    before = len(evidence.run_records(settings.reports_dir))
    options = [*run.forward, action.anchor_option(started, restarted)]
    run.say(f"{action.kind}: verifying: {suite_shown(settings, action.phase, options)}")
    code = run_suite(suite_argv(action.phase, options), suite_env(settings))
    recorded = evidence.run_records(settings.reports_dir)[before:]
    said = headline(recorded[-1].to_dict()) if recorded else f"no record (exit {code})"
    run.say(f"{action.kind}: verdict: {said}")
    own = [record for record in recorded if record.phase == action.phase]
    return code == 0, own[-1] if own else None


def run_suite(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """The suite as a child process, its output live on the operator's terminal."""
    return subprocess.run(argv, cwd=REPO, env=env, check=False).returncode
