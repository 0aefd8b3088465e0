"""Fixtures of the test bed: a throwaway Redis per test (never the shared one on 6379), and a
real systemd (shadowgate.sdbox) running the stand-in engine as `quantum-ai-engine.service`.

Box tests skip, with the reason, where the box cannot run (not root, no cgroup2, ...), unless
SHADOWGATE_REQUIRE_SYSTEMD=1 (CI), where that is an error instead.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import testinfra.host

from shadowgate import config, sdbox, throwaway_redis

REQUIRE_SYSTEMD = "SHADOWGATE_REQUIRE_SYSTEMD"
ENGINE_UNIT = config.DEFAULT_UNIT
ENV_FILE = config.DEFAULT_ENV_FILE
MODEL_PATH = "/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth"
DEFAULT_ENV_TEXT = f"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH={MODEL_PATH}\n"
MODEL_BYTES = b"stand-in PatchTST weights (shadowgate test bed)\n" * 64
# Restart=on-failure after 2 s: a crash loop counts NRestarts up, and even a process that dies
# at once starts at most 5 times in 10 s, so the default start limit (5 in 10 s) never fails it.
RESTART_SEC = 2


@pytest.fixture
def redis_server() -> Iterator[throwaway_redis.ThrowawayRedis]:
    """A private redis-server on a free port, stopped after the test."""
    server = throwaway_redis.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def systemd_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sdbox.SystemdBox]:
    """One booted systemd for the session; binds the repo, the venv and pytest's tmp dirs.

    Tests use it through `box`, which gives each test an empty journal and removes its units.
    """
    ok, reason = sdbox.availability()
    if not ok:
        if os.environ.get(REQUIRE_SYSTEMD) == "1":
            pytest.fail(f"{REQUIRE_SYSTEMD}=1 but the systemd test bed cannot run: {reason}")
        pytest.skip(f"no systemd test bed: {reason}")
    state = tempfile.mkdtemp(prefix="shadowgate-sdbox-")
    with sdbox.SystemdBox(state, sdbox.default_binds(tmp_path_factory.getbasetemp())) as box:
        yield box


@pytest.fixture
def box(systemd_box: sdbox.SystemdBox) -> Iterator[sdbox.SystemdBox]:
    """The session's box for one test: journal emptied before, the test's units removed after."""
    systemd_box.clear_journal()
    before = set(systemd_box.installed_units)
    yield systemd_box
    for unit in systemd_box.installed_units - before:
        systemd_box.remove_unit(unit)


@pytest.fixture
def box_host(box: sdbox.SystemdBox) -> testinfra.host.Host:
    """A testinfra Host whose commands run inside the box as root (what shadowgate.host takes)."""
    return box.testinfra_host()


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
) -> str:
    """quantum-ai-engine.service running the simulator, configured like the real unit."""
    argv = [sys.executable, "-m", "shadowgate.simulator", "--redis-url", redis_url,
            "--scenario", scenario, "--env-file", ENV_FILE, "--shadow-log-interval", "1",
            "--rate", f"{rate:g}"]  # fmt: skip
    if backfill_hours is not None:
        argv += ["--backfill-hours", f"{backfill_hours:g}"]
    if seed is not None:
        argv += ["--seed", str(seed)]
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
    )


def _wait_entered_active(box: sdbox.SystemdBox, unit: str, timeout: float = 30.0) -> None:
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
    raise AssertionError(f"{unit} did not become active ({props}); journal:\n{journal}")


@pytest.fixture
def engine_unit(
    box: sdbox.SystemdBox, redis_server: throwaway_redis.ThrowawayRedis
) -> Iterator[Callable[..., EngineUnit]]:
    """Factory: install and start the stand-in engine against this test's throwaway Redis.

    engine_unit(scenario="healthy_shadow", *, env_text=DEFAULT_ENV_TEXT, rate=2.0,
                backfill_hours=None, seed=None, model=MODEL_BYTES)
    writes ENV_FILE (str or bytes, verbatim) and the model file (None: no model file), installs
    the unit, starts it and returns once it has been active. Everything is removed after the test.
    """
    installed: list[EngineUnit] = []

    def start(
        scenario: str = "healthy_shadow",
        *,
        env_text: str | bytes = DEFAULT_ENV_TEXT,
        rate: float = 2.0,
        backfill_hours: float | None = None,
        seed: int | None = None,
        model: bytes | None = MODEL_BYTES,
    ) -> EngineUnit:
        box.write_file(ENV_FILE, env_text, mode=0o600)
        if model is not None:
            box.write_file(MODEL_PATH, model)
        text = engine_unit_text(redis_server.url, scenario, rate, backfill_hours, seed)
        box.install_unit(ENGINE_UNIT, text)
        unit = EngineUnit(
            ENGINE_UNIT, scenario, ENV_FILE, MODEL_PATH, redis_server.url, datetime.now(UTC)
        )
        installed.append(unit)
        box.systemctl("start", ENGINE_UNIT)
        _wait_entered_active(box, ENGINE_UNIT)
        return unit

    yield start
    if installed:
        box.remove_unit(ENGINE_UNIT)
        box.exec(["rm", "-f", "--", ENV_FILE, MODEL_PATH], check=True)


@pytest.fixture(scope="module")
def redis_module() -> Iterator[throwaway_redis.ThrowawayRedis]:
    """One private redis-server shared by a module's read-only tests."""
    server = throwaway_redis.start()
    try:
        yield server
    finally:
        server.stop()
