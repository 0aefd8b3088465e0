"""The stand-in engine installed as `quantum-ai-engine.service` in a SystemdBox.

Shared by the self-tests and the demo: the unit is configured like the real one
(EnvironmentFile, Restart=on-failure), with the env file, its backup and the model file the
runbook's preconditions look for.
"""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from shadowgate import config
from shadowgate.testbed.sdbox import UNIT_DIR, SystemdBox

ENGINE_UNIT = config.DEFAULT_UNIT
ENV_FILE = config.DEFAULT_ENV_FILE
BACKUP_FILE = f"{ENV_FILE}.bak.activation.20260109_233500"
DROP_IN_DIR = f"{UNIT_DIR}/{ENGINE_UNIT}.d"
LOCAL_ENV = "/etc/quantum/local.env"
# Issue 19's two drop-ins that override the env file the runbook edits (name -> [Service] lines).
DROP_IN_LOCAL_ENV = {"zz.conf": f"EnvironmentFile=-{LOCAL_ENV}"}
DROP_IN_RESET = {"zz.conf": "EnvironmentFile=\nEnvironment=PATCHTST_SHADOW_ONLY=false"}
MODEL_PATH = "/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth"
DEFAULT_ENV_TEXT = f"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH={MODEL_PATH}\n"
MODEL_BYTES = b"stand-in PatchTST weights (shadowgate test bed)\n" * 64
# Restart=on-failure after 2 s: a crash loop counts NRestarts up, and even a process that dies
# at once starts at most 5 times in 10 s, so the default start limit (5 in 10 s) never fails it.
RESTART_SEC = 2


@dataclass(frozen=True)
class EngineUnit:
    """The stand-in engine as installed in the box."""

    name: str
    scenario: str
    env_file: str
    model_path: str
    redis_url: str
    started: datetime  # just before `systemctl start` (UTC)


def engine_unit_text(
    redis_url: str,
    scenario: str,
    rate: float,
    backfill_hours: float | None,
    seed: int | None,
    extra_args: tuple[str, ...] = (),
    shadow_log_interval: float = 1.0,
    options: tuple[str, ...] = (),
) -> str:
    """quantum-ai-engine.service running the simulator, configured like the real unit;
    `options` are scenario fields for this run (`FIELD=VALUE`, the simulator's `--with`)."""
    argv = [sys.executable, "-m", "shadowgate.testbed.simulator", "--redis-url", redis_url,
            "--scenario", scenario, "--env-from-systemd",
            "--shadow-log-interval", f"{shadow_log_interval:g}", "--rate", f"{rate:g}"]  # fmt: skip
    if backfill_hours is not None:
        argv += ["--backfill-hours", f"{backfill_hours:g}"]
    if seed is not None:
        argv += ["--seed", str(seed)]
    for option in options:
        argv += ["--with", option]
    argv += extra_args
    # systemd expands %specifiers and $VARS in ExecStart: keep a password's % and $ literal.
    exec_start = shlex.join(argv).replace("%", "%%").replace("$", "$$")
    return (
        "[Unit]\n"
        f"Description=Quantum AI engine (shadowgate stand-in, scenario {scenario})\n\n"
        "[Service]\n"
        f"EnvironmentFile={ENV_FILE}\n"
        "Environment=PYTHONUNBUFFERED=1\n"
        f"ExecStart={exec_start}\n"
        "Restart=on-failure\n"
        f"RestartSec={RESTART_SEC}\n"
        # A stop that hangs (once seen in CI-like runs, cause unknown) costs 10 s, not 90.
        "TimeoutStopSec=10\n"
    )


def wait_entered_active(box: SystemdBox, unit: str, timeout: float = 30.0) -> None:
    """Until the unit has been active once (a crash-looping unit does not stay active)."""
    deadline = time.monotonic() + timeout
    props: dict[str, str] = {}
    while time.monotonic() < deadline:
        shown = box.systemctl("show", "-p", "ActiveState,ActiveEnterTimestampMonotonic", unit)
        props = dict(line.partition("=")[::2] for line in shown.stdout.splitlines())
        if props.get("ActiveEnterTimestampMonotonic", "0") != "0":
            return
        if props.get("ActiveState") == "failed":
            break
        time.sleep(0.05)
    journal = box.exec(["journalctl", "-u", unit, "-n", "30", "--no-pager", "-o", "cat"]).stdout
    raise RuntimeError(f"{unit} did not become active ({props}); journal:\n{journal}")


def wait_backfilled(box: SystemdBox, unit: str, timeout: float = 120.0) -> None:
    """Until the engine says its history is written (its `backfill ... h:` journal line). A
    26 h history with a busy foreign publisher is tens of thousands of entries: on a loaded
    machine the checks would otherwise read it half written and see an engine silent for
    hours."""
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        argv = ["journalctl", "-u", unit, "--no-pager", "-o", "cat"]
        shown = box.exec(argv).stdout
        if '"backfill ' in shown or "Redis error" in shown:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{unit} wrote no history in {timeout:g} s; journal:\n{shown[-3000:]}")


def settle(unit: EngineUnit, seconds: float, live_s: float = 1.0) -> None:
    """Until `seconds` after the unit's start and at least `live_s` from now (its history is
    written: install_engine waited for it), so the engine has published live and written a
    shadow journal line before the checks read."""
    since_start = (datetime.now(UTC) - unit.started).total_seconds()
    time.sleep(max(seconds - since_start, live_s))


def install_engine(
    box: SystemdBox,
    redis_url: str,
    scenario: str = "healthy_shadow",
    *,
    env_text: str | bytes = DEFAULT_ENV_TEXT,
    backup_text: str | bytes | None = DEFAULT_ENV_TEXT,
    model: bytes | None = MODEL_BYTES,
    rate: float = 2.0,
    backfill_hours: float | None = None,
    seed: int | None = None,
    extra_args: tuple[str, ...] = (),
    shadow_log_interval: float = 1.0,
    options: tuple[str, ...] = (),
    drop_ins: Mapping[str, str] = MappingProxyType({}),
    local_env: str | None = None,
) -> EngineUnit:
    """Write the env file (verbatim), its backup and the model file (None: leave absent),
    install the unit, start it and return once it has been active and has written its
    `backfill_hours` of history. `options` set scenario fields for this run, e.g.
    `("shadow_form=inactive", "lgbm_fallback_rate=1")`. `drop_ins` (name -> [Service] lines,
    e.g. DROP_IN_LOCAL_ENV) go to the unit's drop-in dir, `local_env` to LOCAL_ENV: the engine
    then gets what the whole chain delivers, as the real one would."""
    box.write_file(ENV_FILE, env_text, mode=0o600)
    if backup_text is not None:
        box.write_file(BACKUP_FILE, backup_text, mode=0o600)
    if model is not None:
        box.write_file(MODEL_PATH, model)
    _write_drop_ins(box, drop_ins, local_env)
    text = engine_unit_text(
        redis_url, scenario, rate, backfill_hours, seed, extra_args, shadow_log_interval, options
    )
    box.install_unit(ENGINE_UNIT, text)
    unit = EngineUnit(ENGINE_UNIT, scenario, ENV_FILE, MODEL_PATH, redis_url, datetime.now(UTC))
    box.systemctl("start", ENGINE_UNIT)
    wait_entered_active(box, ENGINE_UNIT)
    if backfill_hours:
        wait_backfilled(box, ENGINE_UNIT)
    return unit


def _write_drop_ins(box: SystemdBox, drop_ins: Mapping[str, str], local_env: str | None) -> None:
    if local_env is not None:
        box.write_file(LOCAL_ENV, local_env, mode=0o600)
    for name, lines in drop_ins.items():
        box.write_file(f"{DROP_IN_DIR}/{name}", f"[Service]\n{lines}\n")


def add_drop_ins(
    box: SystemdBox, drop_ins: Mapping[str, str], local_env: str | None = None
) -> None:
    """Drop-ins (and LOCAL_ENV) added to the running engine's unit and `daemon-reload`ed, as an
    operator would, without a restart: the engine keeps its environment until the next one."""
    _write_drop_ins(box, drop_ins, local_env)
    box.systemctl("daemon-reload")


def remove_engine(box: SystemdBox) -> None:
    """Stop and remove the unit and every file install_engine wrote."""
    written = (ENV_FILE, BACKUP_FILE, MODEL_PATH, LOCAL_ENV, DROP_IN_DIR)
    box.exec(["rm", "-rf", "--", *written], check=True)
    box.remove_unit(ENGINE_UNIT)  # stops it and reloads systemd, without the drop-ins
