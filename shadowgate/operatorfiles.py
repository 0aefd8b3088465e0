"""Opening a file an operator named (--config, --env-file, the env file's lock and temp files):
only a regular file, never more than a bounded number of bytes, and never through a symlink
where one could make the tool truncate or overwrite what it points at.

`/dev/zero` as a threshold file reads for ever and a FIFO blocks the open; a symlinked lock
would be truncated and overwritten with a pid. Each is refused here with one line naming the
path (PathRefused), before anything is judged or changed.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

# A threshold file is a few KB, an env file well under one: 1 MiB leaves room for comments
# and is read in milliseconds; anything larger is not the file meant.
MAX_BYTES = 1 << 20


def shown_path(path: str | Path) -> str:
    """A path as typed, or quoted with escapes when it holds a control character: a newline
    in a name must not split the one line an operator reads."""
    text = str(path)
    return text if text.isprintable() else repr(text)


class PathRefused(Exception):
    """A path the tool will not open or read; the message is `PATH: why`."""


def _symlink_note(path: Path) -> str:
    try:
        return f" (to {shown_path(os.readlink(path))})"
    except OSError:
        return ""


def open_regular(path: str | Path, flags: int, mode: int = 0o600, *, follow: bool = False) -> int:
    """os.open onto a regular file only (a FIFO would block, a device reads for ever), without
    following a symlink unless `follow`; O_CREAT with O_EXCL never opens an existing file."""
    path = Path(path)
    shown = shown_path(path)
    nofollow = 0 if follow else os.O_NOFOLLOW
    try:
        fd = os.open(path, flags | nofollow | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except ValueError:  # a NUL byte in the path
        raise PathRefused(f"{shown}: holds a NUL byte, no file system takes it") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise PathRefused(
                f"{shown}: a symlink{_symlink_note(path)}, never followed here; remove it and "
                "find out who made it"
            ) from None
        raise PathRefused(f"{shown}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PathRefused(f"{shown}: not a regular file (a directory, device, FIFO or socket)")
    return fd


def read_bytes(path: str | Path, limit: int = MAX_BYTES, *, follow: bool = True) -> bytes:
    """At most `limit` bytes of a regular file; PathRefused when it holds more."""
    fd = open_regular(path, os.O_RDONLY, follow=follow)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise PathRefused(f"{shown_path(path)}: larger than {limit} bytes, not the file meant")
    return data
