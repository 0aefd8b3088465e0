"""Rendering `shadowgate monitor`'s screen to text, and reports dirs it cannot write."""

from __future__ import annotations

from datetime import datetime

from rich.console import Console

from shadowgate import cli, monitor, settings, stream
from tests.support.canned_host import canned


def shown(started: datetime, restarts: int = 0, state: str = "active\nSubState=running") -> bytes:
    """`systemctl show` of the engine's unit, started at `started`."""
    stamp = started.strftime("%a %Y-%m-%d %H:%M:%S.%f UTC")
    return (
        f"LoadState=loaded\nActiveState={state}\nResult=success\nNRestarts={restarts}\n"
        f"MainPID=4242\nActiveEnterTimestamp={stamp}\nExecMainStartTimestamp={stamp}\n"
        "InvocationID=0123456789abcdef0123456789abcdef\n"
    ).encode()


def screen(server, tmp_path, t0: datetime | None, unit: bytes) -> tuple[monitor.Snapshot, str]:
    """One snapshot through the monitor's own reads, and the screen as printed (120 columns)."""
    args = [f"--redis-url={server.url}", f"--reports-dir={tmp_path / 'reports'}"]
    if t0 is not None:
        args.append(f"--activated-at={t0.isoformat()}")
    options = settings.resolve(cli.build_parser().parse_args(["monitor", *args]), env={})
    engine_host = canned({"systemctl show": (0, unit, b"")})
    with stream.connect(server.url) as client:
        snap = monitor.take(options, engine_host, client)
    console = Console(record=True, width=120, color_system="truecolor", highlight=False)
    console.print(monitor.render(snap), crop=False)
    return snap, console.export_text()


def impossible_reports_dirs(tmp_path) -> dict:
    """Reports dirs no command can use, and the one line each must give."""
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    return {
        a_file: f"--reports-dir {a_file} is a file, not a directory",
        a_file / "sub": f"--reports-dir {a_file / 'sub'} cannot be created: {a_file} is a file",
        loop: f"--reports-dir {loop} is a symlink that cannot be followed: Too many levels",
    }
