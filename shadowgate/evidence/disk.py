"""Bytes on disk for the decision log: durable writes and the lock.

POSIX mechanics only, so `log` reads as the chain's rules: a write is whole or absent after a
crash (tmp, fsync, rename; fsync of the directory), and the lock is `flock`, which the kernel
releases when its holder dies, however it dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "decision-log.lock"
LOCK_TIMEOUT_S = 10.0  # an append takes milliseconds; rollback's budget is 60 s


class EvidenceError(RuntimeError):
    """The decision log cannot take or give a record right now; the message says why."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never a part (tmp, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def append_line(log_path: Path, line: bytes) -> None:
    """Append one line durably; on any error cut the log back to where it was."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            write_all(fd, line)
            os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)
    if size == 0:
        fsync_dir(log_path.parent)


def _holder(lock_path: Path) -> str:
    with contextlib.suppress(OSError):
        pid = lock_path.read_text().strip()
        if pid.isdigit():
            return f"pid {pid}"
    return "another process"


@contextlib.contextmanager
def locked(reports_dir: Path, exclusive: bool) -> Iterator[None]:
    """flock on the lock file: released by the kernel when its holder dies, however it dies.

    Readers take it shared, so they never see an append half done; a reports dir they may not
    write to (an archive handed to an auditor) is read without it, nobody appends there.
    """
    lock_path = reports_dir / LOCK_NAME
    try:
        fd = os.open(lock_path, (os.O_RDWR if exclusive else os.O_RDONLY) | os.O_CREAT, 0o644)
    except OSError:
        if exclusive:
            raise
        fd = None
    if fd is None:
        yield
        return
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EvidenceError(
                        f"the decision log in {reports_dir} has been locked by "
                        f"{_holder(lock_path)} for {LOCK_TIMEOUT_S:g} s; it is alive (a dead "
                        "process holds no lock): find out what it is doing"
                    ) from None
                time.sleep(0.02)
        if exclusive:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
