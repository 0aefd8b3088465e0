"""Run one function in a forked child process and take back its result, for work that two
cores finish in about half the time (the day's scan of a long stream, `dayscan`).

fork, not spawn: the child starts with everything already imported and read (the settings,
the outcomes), so it costs milliseconds. The result (or the exception) comes back pickled
through a pipe; the child leaves with `os._exit`, so none of the parent's exit handlers,
buffered output or finalizers run twice. A child that ends without an answer is a
`ForkedError` (an OSError: the sources' one-line cause), never a hang or a silent half.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ForkedError(OSError):
    """The child ended without handing back a result."""


def can_fork() -> bool:
    """Only a single-threaded process forks: another thread's held locks would stay held in
    the child forever."""
    return hasattr(os, "fork") and threading.active_count() == 1


def _answer(work: Callable[[], object]) -> bytes:
    """`work`'s result, or the exception it raised, pickled; an exception that does not pickle
    comes back as its type and text."""
    try:
        return pickle.dumps((True, work()))
    except BaseException as exc:  # every failure is the parent's to report
        try:
            return pickle.dumps((False, exc))
        except Exception:  # an unpicklable exception: keep its words
            return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


class Forked(Generic[T]):
    """`work()` running in a forked child until `result()` (or `close()`) collects it."""

    def __init__(self, work: Callable[[], T], what: str) -> None:
        self.what = what  # names the child in an error: "the second half of the day's scan"
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: answer, then leave without running the parent's exit code
            try:
                os.close(read_end)
                with open(write_end, "wb") as out:
                    out.write(_answer(work))
            finally:
                os._exit(0)
        os.close(write_end)
        self.pid: int | None = pid
        self._read_end: int | None = read_end

    def result(self) -> T:
        """Wait for the child; its return value, or its exception raised here."""
        read_end, self._read_end = self._read_end, None
        if read_end is None or self.pid is None:  # both are cleared together
            raise ValueError(f"the result of {self.what} was already taken")
        with open(read_end, "rb") as answer:
            data = answer.read()
        pid, self.pid = self.pid, None
        status = _ended(pid)
        if not data:
            raise ForkedError(f"{self.what} (pid {pid}) ended without an answer: {status}")
        ok, value = pickle.loads(data)
        if not ok:
            raise value
        return value

    def close(self) -> None:
        """Stop the child if it still runs (the parent gave up: an error, a timeout, Ctrl-C)."""
        pid, self.pid = self.pid, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _ended(pid)
        if self._read_end is not None:
            os.close(self._read_end)
            self._read_end = None


def _ended(pid: int) -> str:
    """Wait for the child `pid` to end (collecting it: no zombie is left); how, in words."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return f"killed by signal {number} ({signal.strsignal(number)})"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
