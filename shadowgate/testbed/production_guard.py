"""Keep the stand-in engine off the production Redis.

The simulator writes fake intents; the operator's engine and the suite use the Redis at
`config.DEFAULT_REDIS_URL` (this host, port 6379). A slip in a drill's URL must not put fake
decisions into the stream the runbook judges, so that address is refused unless forced, from
the client's settings alone, before any connection is made.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import redis

from shadowgate.config import DEFAULT_REDIS_URL

_REDIS_PORT = 6379  # redis-py's port when a URL or client names none
PRODUCTION_PORT = urlsplit(DEFAULT_REDIS_URL).port or _REDIS_PORT
FORCE_HINT = "--force-production-redis / force=True"


class ProductionRedisRefused(ValueError):
    """The simulator was pointed at the production default Redis without being forced."""


def is_production_address(host: str, port: int) -> bool:
    """Is this the production default address: port 6379 on this host (localhost, a loopback
    or unspecified address, which all reach the local server), any db?"""
    if port != PRODUCTION_PORT:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def refuse_production(client: redis.Redis, *, force: bool = False) -> None:
    """Raise ProductionRedisRefused, with one line saying why, when `client` would write to
    the production default address and `force` is not set. Reads settings, never connects."""
    settings = client.connection_pool.connection_kwargs
    if force or "path" in settings:  # a unix socket is not the default address
        return
    host = str(settings.get("host", "localhost"))
    port = int(settings.get("port", _REDIS_PORT))
    if is_production_address(host, port):
        shown = f"[{host}]" if ":" in host else host
        raise ProductionRedisRefused(
            f"refusing to write to {shown}:{port} db {settings.get('db', 0)}: that is the "
            f"production Redis ({DEFAULT_REDIS_URL}); use a throwaway Redis, or {FORCE_HINT}"
        )
