"""An engine entry dated in the future, and how long the engine has been silent behind it."""

from __future__ import annotations

from shadowgate.config import Target

SILENT_MIN = 20


def add_future_entry(server, entry_id: str | None = None) -> str:
    """The engine's newest entry written again under an id dated in the future: 10 min ahead
    of Redis TIME unless `entry_id` is given (a forward clock step on the Redis host makes
    such ids by itself)."""
    client = server.client()
    ((_, fields),) = client.xrevrange(Target().stream, count=1)
    if entry_id is None:
        seconds, micros = client.time()
        entry_id = f"{seconds * 1000 + micros // 1000 + 10 * 60_000}-0"
    client.xadd(Target().stream, fields, id=entry_id)
    return entry_id
