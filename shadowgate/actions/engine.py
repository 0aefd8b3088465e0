"""The engine's unit as the actions drive it: restart, wait until active, journal. Through the
host layer (testinfra: this machine, or the box in the drills); the flows only see `Engine`,
so the refusal and step tests use a fake one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import testinfra.host

from shadowgate import host, waiting
from shadowgate.envchain import EnvChain
from shadowgate.host._base import run, stderr


class Engine(Protocol):
    unit: str

    def restart(self) -> datetime: ...

    def running_within(self, seconds: float) -> host.UnitState: ...

    def journal_since(self, since: datetime) -> str: ...

    def env_chain(self) -> EnvChain: ...


class HostEngine:
    """The unit on a testinfra host (default: this machine, where the env file is)."""

    def __init__(self, unit: str, engine_host: testinfra.host.Host | None = None) -> None:
        self.unit = unit
        self.host = engine_host or host.connect("local://")

    def now(self) -> datetime:
        return host.host_now(self.host)

    def restart(self) -> datetime:
        """`systemctl restart UNIT`; the host's clock when it returned (the action's T+0)."""
        result = run(self.host, "systemctl restart -- %s", self.unit)
        if result.rc != 0:
            raise host.HostError(f"systemctl restart {self.unit} failed: {stderr(result)}")
        return self.now()

    def running_within(self, seconds: float) -> host.UnitState:
        """The unit once active (running), or as it is after `seconds` (runbook s.4 steps 6-7:
        a deadline, not `sleep 10`)."""
        return waiting.poll(
            lambda: host.unit_state(self.host, self.unit),
            lambda s: s.running,
            seconds,
            what=f"{self.unit} to be active after the restart (service.active_within_seconds)",
            tell=waiting.to_stderr(),
        ).value

    def journal_since(self, since: datetime) -> str:
        """`journalctl -u UNIT --since ...` as text (runbook s.6 post-rollback: the last hour)."""
        result = run(
            self.host,
            "journalctl -u %s --since %s --no-pager -o short-iso-precise",
            self.unit,
            f"@{since.timestamp():.0f}",
        )
        if result.rc != 0:
            raise host.HostError(f"journalctl -u {self.unit} failed: {stderr(result)}")
        return result.stdout_bytes.decode("utf-8", "replace")

    def env_chain(self) -> EnvChain:
        """What systemd delivers to the unit: unit file, drop-ins, every env file."""
        return host.env_chain(self.host, self.unit)


def hour_before(moment: datetime) -> datetime:
    return moment.astimezone(UTC) - timedelta(hours=1)
