"""Keep the Redis password out of everything a run shows or writes: the one place that parses
a password out of a URL.

pytest prints function arguments in tracebacks, captured output lands in reports, and records
are archived: each is scrubbed of the secret forms of the password before it leaves the run.
redis-py takes a password from the userinfo (`redis://user:PW@host`, `redis://:PW@host`, also
`rediss://` and `unix://user:PW@/path`) and from the query (`?password=PW`), so both are found
here, by splitting the text rather than through urllib's accessors, which raise on a bad port.
Operators also write forms redis-py misreads, whose password would otherwise be shown: a raw
`#` in it (`redis://:pa#ss@h`, cut there as a fragment), a percent-encoded colon
(`redis://u%3APW@h`, read as a user `u:PW`) and a fragment (`#password=PW`, never sent, so
hidden whole).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, unquote_plus

REDACTED = "***"


@dataclasses.dataclass(frozen=True)
class _Parts:
    """A URL cut as urllib cuts it: `head` up to the netloc, userinfo, the rest of the netloc,
    the path, the query (without `?`) and the fragment with its `#`."""

    head: str
    userinfo: str | None
    hostport: str
    path: str
    query: str | None
    fragment: str


def _split(url: str) -> _Parts:
    scheme, sep, rest = url.partition("://")
    head = scheme + sep if sep else ""
    rest = rest if sep else url
    authority = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    userinfo, at, _ = rest[:authority].rpartition("@")  # a `#` before the `@` is userinfo's
    rest = rest[len(userinfo) + len(at) :]
    rest, hash_, fragment = rest.partition("#")
    rest, qmark, query = rest.partition("?")
    hostport, slash, path = rest.partition("/")
    return _Parts(head, userinfo if at else None, hostport, slash + path,
                  query if qmark else None, hash_ + fragment)  # fmt: skip


def _cut_userinfo(userinfo: str | None) -> tuple[str, str] | None:
    """(the user with its separator, the password) of a userinfo holding one: cut at the first
    `:`, else at a percent-encoded one (redis-py decodes `u%3APW` into the user name)."""
    if userinfo is None:
        return None
    colon = userinfo.find(":")
    if colon >= 0:
        return userinfo[: colon + 1], userinfo[colon + 1 :]
    encoded = userinfo.lower().find("%3a")
    if encoded >= 0:
        return userinfo[: encoded + 3], userinfo[encoded + 3 :]
    return None


def _userinfo_password(parts: _Parts) -> str | None:
    cut = _cut_userinfo(parts.userinfo)
    return None if cut is None else cut[1]


def _is_password(item: str) -> bool:
    """A query item redis-py reads as the password (parse_qs decodes the key too)."""
    key, eq, _ = item.partition("=")
    return bool(eq) and unquote_plus(key) == "password"


def _query_passwords(parts: _Parts) -> list[str]:
    """The query's `password=` values, and the fragment's written the same way."""
    items = [*(parts.query or "").split("&"), *parts.fragment[1:].split("&")]
    return [item.partition("=")[2] for item in items if _is_password(item)]


def password_of(url: str) -> str | None:
    """The password redis-py would send, as written (still percent-encoded): the userinfo's,
    else the query's `password=`; "" for an empty one, None when the URL has none."""
    parts = _split(url)
    userinfo = _userinfo_password(parts)
    if userinfo:
        return userinfo
    query = _query_passwords(parts)
    return query[0] if query else userinfo


def host_of(url: str) -> str:
    """The host[:port] part of a URL, without userinfo: safe to name in an error."""
    return _split(url).hostport


def redact_url(url: str) -> str:
    """The URL with every password (userinfo and query) and the fragment replaced, safe to
    print and record."""
    parts = _split(url)
    userinfo = parts.userinfo
    if (cut := _cut_userinfo(userinfo)) is not None:
        userinfo = f"{cut[0]}{REDACTED}"
    query = parts.query
    if query is not None:
        items = query.split("&")
        query = "&".join(
            f"{item.partition('=')[0]}={REDACTED}" if _is_password(item) else item for item in items
        )
    netloc = parts.hostport if userinfo is None else f"{userinfo}@{parts.hostport}"
    tail = "" if query is None else f"?{query}"
    fragment = f"#{REDACTED}" if parts.fragment[1:] else parts.fragment
    return f"{parts.head}{netloc}{parts.path}{tail}{fragment}"


def url_secrets(url: str) -> tuple[str, ...]:
    """Every password of a Redis URL as written and as decoded (the userinfo's percent-decoded,
    the query's also with `+` as a space, as redis-py decodes it); () when there is none."""
    parts = _split(url)
    written = [_userinfo_password(parts), *_query_passwords(parts)]
    forms = {f for w in written if w for f in (w, unquote(w), unquote_plus(w))}
    return tuple(sorted(forms, key=len, reverse=True))  # longest first: no partial leftovers


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
    """A non-frozen dataclass instance (not a dataclass class: its type, `type`, has no params)."""
    params = getattr(type(value), "__dataclass_params__", None)
    return params is not None and not params.frozen
