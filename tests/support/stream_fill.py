"""Filling a throwaway Redis stream with engine entries."""

from __future__ import annotations

import pytest
import redis

from shadowgate.testbed import throwaway_redis
from tests.support.entry_forms import engine_fields, engine_payload

KEY = "quantum:stream:trade.intent"


BASE = 1764138000000  # 2025-11-26 06:20:00Z


MINUTE = 60_000


def add(client: redis.Redis, entry_id: str, fields: dict | None = None) -> str:
    client.xadd(KEY, fields or engine_fields(engine_payload()), id=entry_id)
    return entry_id


def fill(client: redis.Redis, n: int, step_ms: int = MINUTE) -> list[str]:
    return [add(client, f"{BASE + i * step_ms}-0") for i in range(n)]


def needs_real_redis(server: throwaway_redis.ThrowawayRedis) -> None:
    if server.kind != "redis-server":
        pytest.skip("needs the redis-server binary (MONITOR / CLIENT PAUSE)")
