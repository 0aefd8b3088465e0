"""`actions/activate.py`: runbook s.4's activation, refused unless the preactivation suite
has just passed for this target and thresholds, on the model file it observed, with an
approver named."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from datetime import UTC, datetime

from shadowgate import exitcodes
from shadowgate.actions import clearance, cli
from shadowgate.actions.engine import Engine, HostEngine
from shadowgate.actions.flow import (
    DONE,
    REDIS_URL_ENV,
    REPO,
    Action,
    Run,
    execute,
    plan_lines,
    refuse,
)
from shadowgate.actions.steps import iso_us
from shadowgate.config import ConfigError
from shadowgate.envedit import Snapshot
from shadowgate.settings import Settings


def _flag_gone(written: Snapshot, settings: Settings) -> str:
    """Runbook s.4 steps 3-4, as systemd reads the file: no flag, the model path still set."""
    target = settings.target
    state = written.env.flag_state(target.shadow_flag)
    if state.systemd_value is not None or state.grep_lines:
        raise RuntimeError(f"{target.shadow_flag} still set: {state.systemd_value!r}")
    model = written.env.systemd_value(target.model_path_key)
    if not model:
        raise RuntimeError(f"{target.model_path_key} is gone")
    return f"no {target.shadow_flag}; {target.model_path_key}={model}"


ACTIVATE = Action(
    kind="activate",
    phase="activation",
    edit_step="remove the flag",
    verify=_flag_gone,
    anchor_option=lambda started, restarted: f"--activated-at={iso_us(restarted)}",
    advice=lambda run, _verification: [
        "STOP: roll back now (runbook s.6)",
        f"  {REDIS_URL_ENV}={shlex.quote(run.settings.target.safe_redis_url)} "
        + shlex.join(
            ["python", str(REPO / "actions" / "rollback.py"), *cli.without_strategy(run.forward)]
        ),
    ],
    backup=True,
)


HELP = (
    "Activate the model (runbook s.4): back the env file up, remove the shadow flag, restart "
    "the engine, wait until it is active, record T+0, then run `pytest -m activation`. Refused, "
    "with nothing changed, unless the latest preactivation run was a complete GO, fresh, for "
    "this target and thresholds, on the model file it observed, and --approved-by is given. "
    "Give the same options as to the preactivation run."
)
EPILOG = exitcodes.epilog(
    "activated and verified",
    "a step or `pytest -m activation` failed: roll back now",
    "refused, nothing changed",
)


def build_parser() -> argparse.ArgumentParser:
    """The suite's options, the strategy included: the activation records it."""
    return cli.parser("actions/activate.py", HELP, EPILOG, strategy=True)


def main(
    argv: Sequence[str] | None = None, engine: Engine | None = None, now: datetime | None = None
) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings, max_age = cli.resolve(args)
    except ConfigError as exc:
        return cli.usage_error(exc)
    started = now or datetime.now(UTC)
    run = Run(settings, engine or HostEngine(settings.target.unit), cli.forwarded(args))
    cleared = clearance.for_activation(settings, max_age, now, run.engine)
    if cleared.refusals:
        return refuse(run, "activate", cleared.refusals)
    strategy = settings.strategy
    run.say(
        f"activate: armed by preactivation record {cleared.armed_by}; approved by "
        f"{strategy.approved_by}; weight {strategy.weight}, confidence cap "
        f"{strategy.confidence_cap}"
    )
    if args.dry_run:
        run.say("activate: dry run, nothing changed; the plan:")
        for line in plan_lines(ACTIVATE, cleared, settings):
            run.say(line)
        return DONE
    return execute(
        ACTIVATE,
        run,
        cleared,
        started,
        armed_by=cleared.armed_by,
        approved_by=strategy.approved_by,
        strategy=vars(strategy),
    )
