"""The stand-in engine the demo and the drill run against, and the demo's voice (`say`).

In a private systemd where this machine can boot one (the engine then runs as
`quantum-ai-engine.service` and every row can be evaluated), else as a plain child process
with its env file, backup and model file in a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shadowgate.testbed import installer, sdbox
from shadowgate.testbed.suiterun import box_runner, local_runner

SETTLE_S = 3.0  # live events and a [SHADOW] journal line after the engine starts
SETTLING = f"letting it publish live and log a shadow line ({SETTLE_S:g} s after its start)..."


def say(text: str) -> None:
    """One line of the demo's output."""
    print(f"demo: {text}", flush=True)


@contextmanager
def engine_in_systemd(
    redis_url: str,
    scenario: str,
    hours: float,
    workdir: Path,
    reports_dir: Path,
    once_voting: str | None = None,
    rate: float = 2.0,
    spacing_s: float | None = None,
) -> Iterator:
    """The stand-in engine as a real systemd unit (behaving as `once_voting`, if any, when it
    starts voting; its history `spacing_s` apart, if given); yields the runner that reaches
    it."""
    state = tempfile.mkdtemp(prefix="shadowgate-demo-box-")
    extra: tuple[str, ...] = ("--once-voting", once_voting) if once_voting else ()
    if spacing_s is not None:
        extra += ("--history-spacing", f"{spacing_s:g}")
    say("booting a private systemd (under a second)...")
    with sdbox.SystemdBox(state, sdbox.default_binds(workdir, reports_dir)) as box:
        say(
            f"starting the stand-in engine as {installer.ENGINE_UNIT}; it writes {hours:g} h of "
            "shadow history first (a few seconds)..."
        )
        unit = installer.install_engine(
            box, redis_url, scenario, backfill_hours=hours, rate=rate, extra_args=extra
        )
        behaves = f"scenario {scenario}" + (f", {once_voting} once voting" if once_voting else "")
        say(f"engine running as {installer.ENGINE_UNIT} in a private systemd ({behaves})")
        say(SETTLING)
        installer.settle(unit, SETTLE_S)
        yield box_runner(box), ()


@contextmanager
def engine_as_process(
    redis_url: str, scenario: str, hours: float, workdir: Path, reports_dir: Path
) -> Iterator:
    """The stand-in engine as a plain child process, with its env file, backup and model file
    in a temporary folder standing in for /etc/quantum and /opt/quantum (reports_dir needs no
    binding here: the suite runs on this machine)."""
    env_file = workdir / "ai-engine.env"
    model = workdir / "patchtst_demo.pth"
    model.write_bytes(installer.MODEL_BYTES)
    env_text = f"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH={model}\n"
    env_file.write_text(env_text)
    Path(f"{env_file}.bak.activation.demo").write_text(env_text)
    argv = [sys.executable, "-m", "shadowgate.testbed.simulator", "--redis-url", redis_url,
            "--scenario", scenario, "--env-file", str(env_file), "--backfill-hours",
            f"{hours:g}", "--rate", "2", "--shadow-log-interval", "1"]  # fmt: skip
    log = (workdir / "engine.log").open("w")
    engine = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    say(f"engine running as a plain process (scenario {scenario}), log {log.name}")
    try:
        say(SETTLING)
        time.sleep(SETTLE_S)
        yield local_runner, (f"--env-file={env_file}",)
    finally:
        engine.terminate()
        engine.wait(timeout=10)
        log.close()
