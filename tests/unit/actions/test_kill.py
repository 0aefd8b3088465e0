"""kill -9 of an action at each step leaves the old env file or the new one, never a part; and of
two actions at once, one refuses. The action runs as the operator runs it (a child process) in
tmp dirs, with a stand-in `systemctl` first on PATH; the kill trials at every point both actions
pass, exactly there and at random moments after it, fewer than scripts/kill_trials runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from shadowgate import envedit, evidence
from shadowgate.actions import flow
from tests.support import kill_trials
from tests.support.action_bed import MODEL, Bed, FakeEngine, activating
from tests.support.kill_trials import SYSTEMCTL

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
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
    argv = [
        sys.executable,
        "-m",
        "tests.support.crash_points",  # kills it at `kill_at` ("": nowhere)
        kill_at,
        str(flow.REPO / "actions" / script),
        *made.options(*(options or ("--approved-by=alice",))),
    ]
    return subprocess.run(
        argv, cwd=flow.REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("point", STEPS)
def test_kill_9_at_each_step_leaves_old_or_new_env_file(bed, tmp_path, point):
    bed.record()
    old = bed.env.read_bytes()
    new = f"# engine\r\n{MODEL}={bed.model}\n".encode()
    done = action(bed, tmp_path, point)
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert bed.env.read_bytes() == (old if point in STEPS[:3] else new)
    assert not list(bed.env.parent.glob(".*.tmp")) or point == "tmp-written"
    bed.engine = FakeEngine(bed.env)  # the next action is never blocked by the dead one's lock
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


CI_TRIALS = 2  # per point: the exact kill and one at a random moment after it


@pytest.mark.parametrize("kind", kill_trials.KINDS)
def test_kill_trials_at_every_point_leave_whole_files_a_backup_and_a_verifying_log(kind):
    seed = int.from_bytes(os.urandom(2))
    figures = kill_trials.run_trials(kind, CI_TRIALS, seed)
    named = {point.split("#")[0] for point in figures.points}
    assert named >= set(STEPS if kind == "activate" else ROLLBACK_STEPS), figures.points
    assert figures.counts["trials"] == CI_TRIALS * len(figures.points)
    for what in ("partial env", "partial backup", "lost backup"):
        assert figures.counts[what] == 0, f"{figures.line(kind)} (seed {seed}): {figures.problems}"
    assert figures.problems == [], f"{figures.line(kind)} (seed {seed})"


APPEND_KILLED = """
import os, signal, sys
from pathlib import Path
from shadowgate import evidence
from shadowgate.evidence import log
setattr(log, sys.argv[2], lambda *args: os.kill(os.getpid(), signal.SIGKILL))
evidence.append_record(Path(sys.argv[1]), {"run_id": "20261127T150000Z-rollback-0abcde"})
"""


@pytest.mark.parametrize(("killed_in", "recorded"), [("append_line", False), ("publish", True)])
def test_a_record_killed_inside_its_append_leaves_a_log_that_verifies(bed, killed_in, recorded):
    """kill -9 before the log line (the run is not recorded) or after it and before the record
    file's rename (it is, from the pending file): the log verifies either way, and the next
    append settles what was left (the trials hit this about once in 150 random kills)."""
    bed.record("window_30m")
    argv = [sys.executable, "-c", APPEND_KILLED, str(bed.reports), killed_in]
    assert subprocess.run(argv, check=False, timeout=60).returncode == -signal.SIGKILL
    checked = evidence.verify(bed.reports)
    assert checked.ok, checked.problem
    assert checked.records == 1 + recorded
    assert any("awaits its rename" in note for note in checked.notes) == recorded
    bed.record("window_30m")
    assert not list(bed.reports.glob(".*.pending"))
    assert (bed.reports / "20261127T150000Z-rollback-0abcde.json").exists() == recorded
    assert evidence.verify(bed.reports).ok
