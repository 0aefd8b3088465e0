"""What every host read shares: the connection, running a command, the host's clock."""

from __future__ import annotations

from datetime import UTC, datetime

import testinfra
import testinfra.host
from testinfra.backend.base import CommandResult

from shadowgate import redact
from shadowgate.config import ConfigError

SUDO_HINT = (
    "run the checks as root, with ?sudo=true over SSH, or as a member of the systemd-journal group"
)


class HostError(Exception):
    """The host could not answer a check's question; the message says what to fix."""


def connect(hostspec: str = "local://") -> testinfra.host.Host:
    """A testinfra Host: "local://" (default) or e.g. "ssh://user@vps?sudo=true"; a spec
    testinfra cannot use (an unknown scheme, a backend not installed) is a ConfigError, a
    usage error before anything runs, not a traceback in every check."""
    try:
        return testinfra.get_host(hostspec)
    except Exception as exc:  # testinfra raises RuntimeError, its backends their own
        why = redact.scrubbed(str(exc), redact.url_secrets(hostspec))
        shown = redact.redact_url(hostspec)
        raise ConfigError(f"--hosts {shown!r} is not a host testinfra can use: {why}") from None


def first_of(hosts: str | None) -> testinfra.host.Host:
    """The engine's host: the first of a `--hosts` list (pytest-testinfra's), default local."""
    return connect((hosts or "local://").split(",")[0])


def name(host: testinfra.host.Host) -> str:
    return host.backend.get_pytest_id()


def run(host: testinfra.host.Host, command: str, *args: str) -> CommandResult:
    """host.run, with a connection failure (ssh, sudo) turned into a HostError."""
    try:
        return host.run(command, *args)
    except Exception as exc:  # testinfra backends raise their transport's own errors
        raise HostError(f"cannot run a command on {name(host)}: {exc}") from exc


def stderr(result: CommandResult) -> str:
    return result.stderr_bytes.decode("utf-8", "replace").strip()


def utc_text(moment: datetime | None) -> str:
    """ "2026-01-10 08:00:00 UTC" (whole seconds, as an operator reads it), "-" for None."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def host_now(host: testinfra.host.Host) -> datetime:
    """The host's clock (UTC), to measure uptimes and windows against the host's own time."""
    result = run(host, "date +%s.%N")  # no args: testinfra does no %-formatting
    try:
        return datetime.fromtimestamp(float(result.stdout_bytes.strip()), UTC)
    except ValueError:
        raise HostError(f"cannot read the clock of {name(host)}: {stderr(result)}") from None
