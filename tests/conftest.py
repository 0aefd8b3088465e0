"""Fixtures of the test bed: a throwaway Redis per test (never the shared one on 6379)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shadowgate import throwaway_redis


@pytest.fixture
def redis_server() -> Iterator[throwaway_redis.ThrowawayRedis]:
    """A private redis-server on a free port, stopped after the test."""
    server = throwaway_redis.start()
    try:
        yield server
    finally:
        server.stop()
