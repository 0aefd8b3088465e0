"""`actions/rollback.py`: runbook s.6's emergency rollback (< 60 s), refused unless rollback
is armed (a fresh record in which every rollback_ready check passed), or --break-glass with a
--reason (recorded as such). --on-stop rolls back by itself only when the latest window said
STOP (recorded as automatic)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shadowgate import evidence, exitcodes
from shadowgate.actions import clearance, cli
from shadowgate.actions.engine import Engine, HostEngine, hour_before
from shadowgate.actions.flow import DONE, FAILED, Action, Run, execute, plan_lines, refuse
from shadowgate.actions.steps import StepLog, iso_us
from shadowgate.config import ConfigError
from shadowgate.envedit import Snapshot
from shadowgate.evidence import cycle, lifecycle
from shadowgate.evidence.disk import sha256, write_atomic
from shadowgate.settings import Settings
from shadowgate.wording import headline


def _flag_back(written: Snapshot, settings: Settings) -> str:
    """Runbook s.6 verification 1, as systemd reads the file: the flag true, exactly once."""
    flag = settings.target.shadow_flag
    state = written.env.flag_state(flag)
    if state.systemd_value != "true" or len(state.grep_lines) != 1 or not state.agree:
        raise RuntimeError(f"{flag} not back as one true line: {'; '.join(state.notes)}")
    return f"{flag}=true on line {state.systemd_lineno}"


def _save_journal(
    log: StepLog, engine: Engine, settings: Settings, run_id: str, started: datetime
) -> dict[str, Any]:
    """Runbook s.6 post-rollback 2: the unit's last hour of journal beside the record (taken
    before the record, so the record holds its sha256)."""
    path = settings.reports_dir / f"{run_id}.journal.log"

    def save() -> str:
        data = engine.journal_since(hour_before(started)).encode()
        settings.reports_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        return sha256(data)

    digest = log.run("save the journal", save, lambda d: f"{path.name}, sha256 {d[:12]}...")
    return {"journal": {"file": path.name, "sha256": digest}}


def _advice(run: Run, verification: evidence.RunRecord | None) -> list[str]:
    """What to do when the rollback changed the engine and is not verified. R5 FAIL in the
    record its verification wrote is one line: the flag is back, yet the engine does not stay
    up, so checking the flag by hand is moot."""
    target = run.settings.target
    checks = verification.checks if verification is not None else ()
    if r5 := next((c.verdict for c in checks if c.check_id == "R5" and c.status == "FAIL"), None):
        return [
            f"rollback NOT OK: the engine is not staying up after the rollback (R5: {r5.detail});"
            f" look at `journalctl -u {target.unit} --since '10 minutes ago'`; the flag is back "
            f"in {target.env_file} (runbook s.6)"
        ]
    return [
        "rollback NOT verified: check by hand now (runbook s.6 Rollback Verification):",
        f"  grep '^{target.shadow_flag}=true' {target.env_file}",
        f"  journalctl -u {target.unit} --since '2 minutes ago' | grep SHADOW",
    ]


ROLLBACK = Action(
    kind="rollback",
    phase="rollback",
    edit_step="put the flag back",
    verify=_flag_back,
    anchor_option=lambda started, restarted: f"--rollback-started-at={iso_us(started)}",
    advice=_advice,
    after_active=_save_journal,
    after_active_step="save the last hour of the journal",
)


def _on_stop(settings: Settings, now: datetime) -> tuple[dict[str, Any] | None, str, int]:
    """--on-stop acts once per STOP (ARCHITECTURE.md "The lifecycle"): at STOPPED, the rollback's
    trigger; else (None, what to say, exit code). A STOP already answered by a rollback is
    never a second restart: exit 0 once that rollback verified (or while its verification
    runs), 1 when it did not (check it by hand)."""
    life = lifecycle.current(
        settings.reports_dir, now=now, target=settings.target.describe(), judge_go=False
    )
    if life.state is lifecycle.State.STOPPED and life.stop is not None:
        window = life.stop
        trigger = {"trigger": "automatic", "reason": headline(window), "window": window["run_id"]}
        return trigger, "", DONE
    if life.rollback is None or life.stop is None:
        return None, f"rollback --on-stop: nothing to do: {life.headline()}", DONE
    at = cycle.stamp(life.rollback.at)
    said = f"rollback --on-stop: already rolled back at {at} (trigger {life.trigger}), "
    said += f"{life.verification}: nothing to do"
    if life.verified is False:
        return None, f"{said}; check it by hand (runbook s.6 Rollback Verification)", FAILED
    return None, said, DONE


HELP = (
    "Roll the model back to shadow (runbook s.6, under 60 s): put PATCHTST_SHADOW_ONLY=true "
    "back, restart the engine, wait until it is active, save its last hour of journal, record "
    "the rollback, then run `pytest -m rollback`. Refused, with nothing changed, unless "
    "rollback is armed (a fresh run in which the rollback plan and the engine's restarts "
    "passed: the preactivation run or any window), or --break-glass --reason TEXT is given. "
    "Give the same options as to the suite."
)
EPILOG = exitcodes.epilog(
    "rolled back and verified (or, --on-stop, nothing to do)",
    "a step or `pytest -m rollback` failed, or (--on-stop) the rollback that answered the STOP "
    "was not verified: check by hand",
    "refused, nothing changed",
)


def build_parser() -> argparse.ArgumentParser:
    """The suite's options but the strategy (activate.py's), and the rollback's own."""
    made = cli.parser("actions/rollback.py", HELP, EPILOG, strategy=False)
    made.add_argument(
        "--break-glass",
        action="store_true",
        help="roll back although rollback is not armed: a real emergency (needs --reason; "
        "recorded as break-glass)",
    )
    made.add_argument(
        "--reason", metavar="TEXT", help="why: recorded with --break-glass and --on-stop"
    )
    made.add_argument(
        "--on-stop",
        action="store_true",
        help="roll back only if a window said STOP since T+0 (recorded as automatic); a STOP "
        "already rolled back is said and left alone, no restart",
    )
    return made


def main(
    argv: Sequence[str] | None = None, engine: Engine | None = None, now: datetime | None = None
) -> int:
    args = build_parser().parse_args(argv)
    started = now or datetime.now(UTC)  # R4's clock starts with the action
    try:
        settings, max_age = cli.resolve(args)
    except ConfigError as exc:
        return cli.usage_error(exc)
    if args.break_glass and not (args.reason or "").strip():
        return cli.usage_error(ConfigError("--break-glass needs --reason TEXT"))
    wait = settings.thresholds.number("rollback.break_glass_lock_wait_seconds")
    run = Run(
        settings,
        engine or HostEngine(settings.target.unit),
        cli.forwarded(args),
        lock_wait_seconds=wait if args.break_glass else 0.0,  # never blocked by another action
    )
    trigger = {"trigger": "break-glass" if args.break_glass else "operator", "reason": args.reason}
    if args.on_stop:
        try:
            answer, said, code = _on_stop(settings, started)
        except evidence.EvidenceError as exc:
            return refuse(run, "rollback", [f"decision log: {exc}", clearance.BREAK_GLASS_HINT])
        if answer is None:
            run.say(said)
            return code
        trigger = answer
    cleared = clearance.for_rollback(settings, max_age, now, args.break_glass, run.engine)
    if cleared.refusals:
        return refuse(run, "rollback", cleared.refusals)
    run.say(f"rollback: {trigger['trigger']}, armed by {cleared.armed_by or 'break-glass'}")
    if args.dry_run:
        run.say("rollback: dry run, nothing changed; the plan:")
        for line in plan_lines(ROLLBACK, cleared, settings):
            run.say(line)
        return DONE
    return execute(ROLLBACK, run, cleared, started, armed_by=cleared.armed_by, **trigger)
