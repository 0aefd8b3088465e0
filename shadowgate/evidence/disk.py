"""Bytes on disk for the decision log: durable writes, no-follow opens and the lock.

POSIX mechanics only, so `log` reads as the chain's rules: a write is whole or absent after a
crash (tmp, fsync, rename; fsync of the directory), and the lock is `flock`, which the kernel
releases when its holder dies, however it dies. Every file of the reports dir is opened with
O_NOFOLLOW and must be a regular file: a symlink planted as the lock or the log would otherwise
make a run truncate, or append to, whatever it points at. Readers never create a file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "decision-log.lock"
LOCK_TIMEOUT_S = 10.0  # an append takes milliseconds; rollback's budget is 60 s


class EvidenceError(RuntimeError):
    """The decision log cannot take or give a record right now; the message says why."""


def _in_the_way(path: Path, exc: OSError | None) -> EvidenceError:
    """What an operator must fix when `path` is not a plain file shadowgate may open."""
    if path.is_symlink():
        try:
            target = f" (to {os.readlink(path)})"
        except OSError:
            target = ""
        return EvidenceError(
            f"{path} is a symlink{target}: shadowgate never follows one in the reports dir; "
            "remove it and find out who made it"
        )
    what = exc.strerror if exc is not None else "not a regular file"
    return EvidenceError(f"{path} is not a regular file ({what}): move it out of the reports dir")


def open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """os.open without following a symlink, and only onto a regular file (a FIFO would block,
    a directory would take the lock): EvidenceError says what is in the way. OSError as usual
    otherwise (ENOENT for a reader: the file is not there)."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise _in_the_way(path, exc) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _in_the_way(path, None)
    return fd


def read_file(path: Path) -> bytes:
    """The bytes of a regular file, never through a symlink."""
    fd = open_regular(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    fd = open_regular(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
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


def write_synced(path: Path, data: bytes) -> None:
    """`data` in a new file at `path`, on disk when this returns; whatever was at that name (a
    killed run's leftover, a symlink) is replaced, never followed (O_EXCL)."""
    path.unlink(missing_ok=True)
    fd = open_regular(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(written: Path, path: Path) -> None:
    """Rename a synced file into place, durably (the directory synced too)."""
    os.replace(written, path)
    fsync_dir(path.parent)


def write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never a part (tmp, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_synced(tmp, data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    publish(tmp, path)


def append_line(log_path: Path, line: bytes) -> None:
    """Append one line durably; on any error cut the log back to where it was."""
    fd = open_regular(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
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


def cut_to(path: Path, size: int) -> None:
    """Cut a regular file back to `size` bytes, never through a symlink."""
    fd = open_regular(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def _holder(lock_path: Path) -> str:
    with contextlib.suppress(OSError, EvidenceError):
        pid = read_file(lock_path).decode("ascii", "replace").strip()
        if pid.isdigit():
            return f"pid {pid}"
    return "another process"


@contextlib.contextmanager
def locked(reports_dir: Path, exclusive: bool) -> Iterator[bool]:
    """flock on the lock file: released by the kernel when its holder dies, however it dies.
    Yields whether the lock is held.

    Readers take it shared, so they never see an append half done. They never create it: with
    no lock file (nothing appended yet) or one they may not open (an archive handed to an
    auditor, nobody appends there) they read without it; `log.snapshot` reads again under the
    lock should an append have created it meanwhile.
    """
    lock_path = reports_dir / LOCK_NAME
    try:
        fd = open_regular(lock_path, (os.O_RDWR | os.O_CREAT) if exclusive else os.O_RDONLY)
    except OSError:
        if exclusive:
            raise
        fd = None
    if fd is None:
        yield False
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
        yield True
    finally:
        os.close(fd)
