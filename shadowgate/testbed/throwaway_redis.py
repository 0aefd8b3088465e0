"""A private, disposable Redis for tests and the demo: never the shared server on 6379.

Starts the `redis-server` binary on a free port with no persistence; where the binary is
missing (a fresh laptop), falls back to fakeredis's TCP server and says so.
"""

from __future__ import annotations

import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ThrowawayRedis:
    """A running private Redis; `url` points at it, `stop()` ends it and removes its files."""

    port: int
    kind: str  # "redis-server" or "fakeredis"
    password: str | None = None
    _proc: subprocess.Popen | None = field(default=None, repr=False)
    _server: socketserver.BaseServer | None = field(default=None, repr=False)
    _dir: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=False)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._dir is not None:
            self._dir.cleanup()

    def __enter__(self) -> ThrowawayRedis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_ready(url: str, deadline_s: float, proc: subprocess.Popen | None) -> None:
    end = time.monotonic() + deadline_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with code {proc.returncode} while starting")
        try:
            answering = redis.Redis.from_url(url, socket_connect_timeout=0.5).info("server")
        except redis.AuthenticationError:
            answering = {}  # a password-protected server: ours if our process still runs
        except redis.RedisError:
            if time.monotonic() > end:
                raise RuntimeError(f"throwaway Redis at {url} not ready in {deadline_s}s") from None
            time.sleep(0.05)
            continue
        if proc is not None and answering.get("process_id", proc.pid) != proc.pid:
            raise _PortTaken(f"another redis-server answers at {url}")
        return


def start(password: str | None = None, prefer_binary: bool = True) -> ThrowawayRedis:
    """Start a private Redis on a free port; the caller must `stop()` it. A port another test
    process took between choosing and binding it is given up for another (parallel test runs)."""
    binary = shutil.which("redis-server") if prefer_binary else None
    if binary is None:
        return _start_fake(free_port())
    for _ in range(_PORT_ATTEMPTS - 1):
        try:
            return _start_binary(binary, password)
        except _PortTaken:
            continue
    return _start_binary(binary, password)


_PORT_ATTEMPTS = 5


class _PortTaken(RuntimeError):
    """The free port was taken by another process before our redis-server could bind it."""


def _start_binary(binary: str, password: str | None) -> ThrowawayRedis:
    port = free_port()
    workdir = tempfile.TemporaryDirectory(prefix="shadowgate-redis-")
    args = [
        binary,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        workdir.name,
        "--logfile",
        str(Path(workdir.name) / "redis.log"),
    ]
    if password:
        args += ["--requirepass", password]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = ThrowawayRedis(port, "redis-server", password, _proc=proc, _dir=workdir)
    try:
        _wait_ready(server.url, 10.0, proc)
    except BaseException:
        server.stop()
        raise
    return server


def _start_fake(port: int) -> ThrowawayRedis:
    from fakeredis import TcpFakeServer  # only where no redis-server binary exists

    tcp = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    server = ThrowawayRedis(port, "fakeredis", _server=tcp)
    _wait_ready(server.url, 10.0, None)
    return server
