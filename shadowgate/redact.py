"""Keep the Redis password out of everything a run shows or writes: the one place that parses
a password out of a URL.

pytest prints function arguments in tracebacks, captured output lands in reports, and records
are archived: each is scrubbed of the secret forms of the password before it leaves the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "***"


def password_of(url: str) -> str | None:
    """The password of a Redis URL as written (still percent-encoded); None when it has none."""
    return urlsplit(url).password


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe to print and record."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{user}:{REDACTED}@{host}" if user else f":{REDACTED}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def url_secrets(url: str) -> tuple[str, ...]:
    """The password of a Redis URL as written and percent-decoded; () when there is none."""
    password = password_of(url)
    return tuple({password, unquote(password)}) if password else ()


def scrubbed(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with every secret replaced by ***: strings, containers, and pytest's report
    objects (dataclasses, changed in place), so a password in a traceback's function
    arguments never reaches the terminal, the HTML report or the junit file."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        value[:] = [scrubbed(v, secrets) for v in value]
    elif isinstance(value, tuple):
        return tuple(scrubbed(v, secrets) for v in value)
    elif isinstance(value, dict):
        return {scrubbed(k, secrets): scrubbed(v, secrets) for k, v in value.items()}
    elif _mutable_dataclass(value):
        for f in dataclasses.fields(value):
            setattr(value, f.name, scrubbed(getattr(value, f.name), secrets))
    return value


def _mutable_dataclass(value: Any) -> bool:
    return (
        dataclasses.is_dataclass(value)
        and not isinstance(value, type)
        and not value.__dataclass_params__.frozen
    )
