"""A testinfra Host answering from a table, for what only odd hosts (or no host) give."""

from __future__ import annotations

import testinfra.host
from testinfra.backend.base import BaseBackend, CommandResult


class CannedBackend(BaseBackend):
    """A testinfra backend answering from a table: {command substring: (rc, stdout, stderr)}."""

    NAME = "canned"

    def __init__(self, answers: dict[str, tuple[int, bytes, bytes]]) -> None:
        super().__init__("canned")
        self.answers = answers

    def run(self, command: str, *args: str, **kwargs: object) -> CommandResult:
        cmd = self.get_command(command, *args)
        for needle, (rc, out, err) in self.answers.items():
            if needle in cmd:
                return self.result(rc, self.encode(cmd), out, err)
        raise AssertionError(f"unexpected command {cmd!r}")


def canned(answers: dict[str, tuple[int, bytes, bytes]]) -> testinfra.host.Host:
    """A Host whose commands get the first answer whose key they contain."""
    backend = CannedBackend(answers)
    host = testinfra.host.Host(backend)
    backend.set_host(host)
    return host
