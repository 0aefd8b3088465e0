"""kill -9 of an action at each step leaves the old env file or the new one, never a part;
and of two actions at once, one refuses. The action runs as the operator runs it (a child
process) in tmp dirs, with a stand-in `systemctl` first on PATH."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from shadowgate import envedit
from shadowgate.actions import flow
from tests.test_actions import MODEL, Bed, FakeEngine, activating
from tests.test_actions import bed as bed

SYSTEMCTL = """#!/bin/sh
case "$*" in
  *show*) printf '%s\\n' LoadState=loaded ActiveState=active SubState=running Result=success \\
      NRestarts=0 MainPID=4242 'ActiveEnterTimestamp=Thu 2026-11-26 06:30:00.000001 UTC' \\
      'ExecMainStartTimestamp=Thu 2026-11-26 06:30:00.000001 UTC' InvocationID=abc ;;
esac
"""
# tmp-written and renamed: first reached while writing the backup (test_envedit kills the edit's)
STEPS = (
    "backup",
    "tmp-written",
    "renamed",
    "remove the flag",
    "verify as systemd reads it",
    "restart",
    "wait until active",
)


# The rollback's kill points: no backup of its own, the flag put back instead of removed.
ROLLBACK_STEPS = (
    "tmp-written",
    "renamed",
    "put the flag back",
    "verify as systemd reads it",
    "restart",
    "wait until active",
)


def action(
    made: Bed, tmp_path, kill_at: str, script: str = "activate.py", *options: str
) -> subprocess.CompletedProcess[str]:
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    (tools / "systemctl").write_text(SYSTEMCTL)
    (tools / "systemctl").chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", envedit.KILL_ENV: kill_at}
    argv = [
        sys.executable,
        str(flow.REPO / "actions" / script),
        *made.options(*(options or ("--approved-by=alice",))),
    ]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("point", STEPS)
def test_kill_9_at_each_step_leaves_old_or_new_env_file(bed, tmp_path, point):
    bed.record()
    old = bed.env.read_bytes()
    new = f"# engine\r\n{MODEL}={bed.model}\n".encode()
    done = action(bed, tmp_path, point)
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert bed.env.read_bytes() == (old if point in STEPS[:3] else new)
    assert not list(bed.env.parent.glob(".*.tmp")) or point == "tmp-written"
    bed.engine = FakeEngine()  # the next action is never blocked by the dead one's lock
    assert activating(bed) == 0


def test_two_actions_at_once_one_refuses(bed, capsys):
    bed.record()
    with envedit.locked(bed.env):
        assert activating(bed) == 2
    said = capsys.readouterr().out
    assert f"another action holds {bed.env}.lock (pid {os.getpid()}, alive" in said


@pytest.mark.parametrize("point", ROLLBACK_STEPS)
def test_kill_9_of_rollback_at_each_step_leaves_old_or_new_env_file(bed, tmp_path, point):
    old = f"# engine\r\n{MODEL}={bed.model}\n".encode()
    bed.env.write_bytes(old)
    new = old + b"PATCHTST_SHADOW_ONLY=true\n"
    done = action(bed, tmp_path, point, "rollback.py", "--break-glass", "--reason=drill")
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert bed.env.read_bytes() == (old if point in ROLLBACK_STEPS[:1] else new)
    assert not list(bed.env.parent.glob(".*.tmp")) or point == "tmp-written"
    again = action(bed, tmp_path, "", "rollback.py", "--break-glass", "--reason=drill")
    assert bed.env.read_bytes() == new, again.stdout + again.stderr  # never twice, never blocked
