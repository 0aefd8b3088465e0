"""Running the stand-in engine's simulator in a child process."""

from __future__ import annotations

import os
import sys

STREAM = "quantum:stream:trade.intent"


OUTCOMES = "quantum:stream:trade.closed"


NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: fixed, so runs are reproducible


def raw_entries(server, key: str = STREAM) -> list[tuple[str, dict[str, bytes]]]:
    return [
        (i.decode(), {k.decode(): v for k, v in f.items()}) for i, f in server.client().xrange(key)
    ]


def engine_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHTST_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


def engine_argv(server, *args: str) -> list[str]:
    return [sys.executable, "-m", "shadowgate.testbed.simulator", "--redis-url", server.url, *args]
