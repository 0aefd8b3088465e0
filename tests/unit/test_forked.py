"""Forked: a function run in a forked child hands back its result or its exception, a child
that dies is named with how it ended, an abandoned child is stopped and collected, and the
child never runs the parent's exit handlers."""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time

import pytest

from shadowgate.forked import Forked, ForkedError, can_fork
from shadowgate.stream import StreamError, StreamMissing
from tests.support.forking import single_threaded


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("no pickling")


def fail_with(exc: BaseException):
    def work():
        raise exc

    return work


def test_the_childs_result_comes_back():
    child = Forked(lambda: (os.getpid(), [1.5, "x"]), "a test child")
    pid, value = child.result()
    assert pid != os.getpid() and value == [1.5, "x"]
    assert child.pid is None  # collected


def test_a_large_result_comes_back_whole():
    """More than a pipe holds: the child waits for the parent to read."""
    big = Forked(lambda: bytes(range(256)) * 40_000, "a test child").result()
    assert big == bytes(range(256)) * 40_000


@pytest.mark.parametrize(
    "error",
    [
        StreamError("cannot read stream 'k' at redis://h:1/0: refused", "redis://h:1/0", "k"),
        StreamMissing("stream 'k' does not exist", "redis://h:1/0", "k"),
        ValueError("bad"),
    ],
)
def test_the_childs_exception_is_raised_here_whole(error):
    with pytest.raises(type(error)) as caught:
        Forked(fail_with(error), "a test child").result()
    assert type(caught.value) is type(error) and str(caught.value) == str(error)
    assert getattr(caught.value, "url", None) == getattr(error, "url", None)
    assert getattr(caught.value, "key", None) == getattr(error, "key", None)


def test_an_exception_that_does_not_pickle_keeps_its_words():
    with pytest.raises(RuntimeError, match=r"^Unpicklable: lost in transit$"):
        Forked(fail_with(Unpicklable("lost in transit")), "a test child").result()


def test_a_child_that_dies_is_named_with_how_it_ended():
    def dies():
        os.kill(os.getpid(), signal.SIGKILL)

    child = Forked(dies, "the test's second half")
    pid = child.pid
    with pytest.raises(ForkedError, match=rf"^the test's second half \(pid {pid}\) ended without "
                       r"an answer: killed by signal 9 \(Killed\)$"):  # fmt: skip
        child.result()
    assert isinstance(ForkedError("x"), OSError)  # the sources' one-line cause


def test_a_child_that_exits_without_answering_gives_its_status():
    with pytest.raises(ForkedError, match=r"ended without an answer: exit status 3$"):
        Forked(lambda: os._exit(3), "a test child").result()


def test_close_stops_and_collects_a_child_still_running():
    child = Forked(lambda: time.sleep(60), "a sleeping child")
    pid = child.pid
    started = time.monotonic()
    child.close()
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already collected: no zombie left
    child.close()  # twice is harmless
    with pytest.raises(ValueError, match="already taken"):
        child.result()


def test_close_after_the_result_does_nothing_more():
    child = Forked(lambda: 7, "a test child")
    assert child.result() == 7
    child.close()
    assert child.pid is None


def test_the_child_runs_none_of_the_parents_exit_handlers(tmp_path):
    marker = tmp_path / "exit-handler-ran"

    def handler():
        marker.write_text(str(os.getpid()))

    atexit.register(handler)
    try:
        assert Forked(lambda: "done", "a test child").result() == "done"
        assert not marker.exists()
    finally:
        atexit.unregister(handler)


def test_only_a_single_threaded_process_may_fork():
    single_threaded()
    assert can_fork()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
    finally:
        stop.set()
        other.join()
    assert can_fork()
