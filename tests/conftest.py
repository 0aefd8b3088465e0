"""Fixtures of the test bed: a throwaway Redis per test (never the shared one on 6379), and a
real systemd (shadowgate.testbed.sdbox) running the stand-in engine as `quantum-ai-engine.service`.

Box tests skip, with the reason, where the box cannot run (not root, no cgroup2, ...), unless
SHADOWGATE_REQUIRE_SYSTEMD=1 (CI), where that is an error instead.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import testinfra.host

from shadowgate.testbed import installer, sdbox, throwaway_redis
from shadowgate.testbed.installer import EngineUnit
from shadowgate.testbed.suiterun import DRILL, box_runner, run_suite
from tests.support import action_bed, fuzz_profiles, required

fuzz_profiles.load_profile()  # SHADOWGATE_HYPOTHESIS_PROFILE=fuzz in .ci/run: the CI budgets


@pytest.fixture
def redis_server() -> Iterator[throwaway_redis.ThrowawayRedis]:
    """A private redis-server on a free port, stopped after the test."""
    with throwaway_redis.start() as server:
        yield server


@pytest.fixture(scope="session")
def systemd_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sdbox.SystemdBox]:
    """One booted systemd for the session; binds the repo, the venv and pytest's tmp dirs.

    Tests use it through `box`, which gives each test an empty journal and removes its units.
    """
    ok, reason = sdbox.availability()
    if not ok:
        required.unavailable(
            f"the systemd test bed cannot run: {reason}", f"no systemd test bed: {reason}"
        )
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


@pytest.fixture
def engine_unit(
    box: sdbox.SystemdBox, redis_server: throwaway_redis.ThrowawayRedis
) -> Iterator[Callable[..., EngineUnit]]:
    """Factory: install and start the stand-in engine against this test's throwaway Redis.

    engine_unit(scenario="healthy_shadow", **options): shadowgate.testbed.installer.install_engine's
    options (env_text, backup_text, model, rate, backfill_hours, seed, extra_args, drop_ins,
    local_env). Everything is removed after the test.
    """
    installed: list[EngineUnit] = []

    def start(scenario: str = "healthy_shadow", **options) -> EngineUnit:
        unit = installer.install_engine(box, redis_server.url, scenario, **options)
        installed.append(unit)
        return unit

    yield start
    if installed:
        installer.remove_engine(box)


@pytest.fixture(scope="module")
def redis_module() -> Iterator[throwaway_redis.ThrowawayRedis]:
    """One private redis-server shared by a module's read-only tests."""
    with throwaway_redis.start() as server:
        yield server


@pytest.fixture
def suite(box, redis_server, tmp_path):
    """Run `pytest -m preactivation` (drill settings) in the box against this test's Redis;
    extra options as arguments."""
    runner = box_runner(box)
    return lambda *args: run_suite(
        runner, redis_server.url, tmp_path, "preactivation", *DRILL, *args
    )


@pytest.fixture
def bed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> action_bed.Bed:
    """The actions' test bed: an env file, a model, a reports dir and a fake engine."""
    return action_bed.make_bed(tmp_path, monkeypatch)


_SYSTEMD_KINDS = ("tests/box/", "tests/e2e/")  # the tests that boot the systemd test bed


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """With `-n N` (./test), every test that boots the systemd test bed runs on one worker, one
    box at a time and in order, beside the others spread over the other workers: two boxes at
    once would share 2 cores with the engine's timing-sensitive waits."""
    from xdist.scheduler import LoadScopeScheduling  # only under xdist

    class SystemdTestsOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "systemd" if nodeid.startswith(_SYSTEMD_KINDS) else nodeid

    return SystemdTestsOnOneWorker(config, log)
