"""The env file edits (shadowgate.envedit): only the flag's lines change, as systemd reads the
result; odd files are refused with the reason; the lock refuses a live holder, never a dead
one; a kill -9 at any point leaves the old file or the new one."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowgate import envedit, waiting
from shadowgate.envfile import parse_env
from tests.support.envedit_scenes import holding, on_a_full_filesystem
from tests.support.fake_clock import FakeClock
from tests.support.paths import REPO

FLAG, MODEL = "PATCHTST_SHADOW_ONLY", "PATCHTST_MODEL_PATH"
ODD = (
    "# engine settings \\\r\n"
    'export REDIS_URL="redis://x"\r\n'
    "PATCHTST_SHADOW_ONLY=true\r\n"
    "  A = 'quoted value'  \n"
    "PATCHTST_MODEL_PATH=/opt/m.pth\n"
    "; last"
)


def env_file(tmp_path: Path, text: str | bytes, mode: int = 0o640) -> Path:
    path = tmp_path / "ai-engine.env"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    path.chmod(mode)
    return path


def removed(path: Path) -> envedit.Edit:
    return envedit.without_flag(envedit.read(path), FLAG, MODEL)


def restored(path: Path) -> envedit.Edit:
    return envedit.with_flag(envedit.read(path), FLAG, MODEL)


def test_remove_keeps_every_other_byte_and_owner_and_mode(tmp_path):
    path = env_file(tmp_path, ODD)
    before = os.stat(path)
    envedit.apply(removed(path))
    lines = ODD.encode().splitlines(keepends=True)
    assert path.read_bytes() == b"".join(lines[:2] + lines[3:])
    after = os.stat(path)
    assert (after.st_mode, after.st_uid, after.st_gid) == (
        before.st_mode,
        before.st_uid,
        before.st_gid,
    )
    assert parse_env(path.read_text()).systemd_value(FLAG) is None
    assert not list(tmp_path.glob(".*.tmp"))


def test_restore_appends_once_after_a_newline(tmp_path):
    path = env_file(tmp_path, ODD.replace(FLAG + "=true\r\n", ""))
    edit = restored(path)
    assert edit.changes == ("a newline added after the last line", f"`{FLAG}=true` appended")
    envedit.apply(edit)
    assert path.read_text().endswith("; last\nPATCHTST_SHADOW_ONLY=true\n")
    assert not restored(path).changed  # never twice


def test_restore_replaces_a_false_flag_instead_of_adding_a_second(tmp_path):
    path = env_file(tmp_path, f"{FLAG}=false\n{MODEL}=/m\n")
    envedit.apply(restored(path))
    assert path.read_text() == f"{MODEL}=/m\n{FLAG}=true\n"


def test_backup_is_byte_identical_with_owner_and_mode_and_never_overwrites(tmp_path):
    path = env_file(tmp_path, ODD, mode=0o600)
    when = datetime(2026, 1, 9, 23, 35, 0)
    backup = envedit.backup(envedit.read(path), when)
    assert backup.name == "ai-engine.env.bak.activation.20260109_233500"
    assert backup.read_bytes() == path.read_bytes()
    assert os.stat(backup).st_mode & 0o777 == 0o600
    assert envedit.backup(envedit.read(path), when) == backup  # a killed run's, same bytes
    path.write_text("changed\n")
    with pytest.raises(envedit.EnvEditError, match="exists already"):
        envedit.backup(envedit.read(path), when)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"{FLAG}=true\n{MODEL}=/m\n{FLAG}=true\n", "more than once"),
        (f"{FLAG}=true\n", f"sets no {MODEL}"),
        (f"{FLAG}=true\n{MODEL}=/m\n  {FLAG}=true\n", "more than once"),
        (f" {FLAG}=true\n{MODEL}=/m\n", "would still deliver"),
        (f"{FLAG}=true\n{MODEL}=/m\0\n", "NUL byte"),
        (b"\xff\xfe" + f"{MODEL}=/m\n".encode(), "not UTF-8"),
    ],
)
def test_odd_files_are_refused_with_the_reason(tmp_path, text, reason):
    path = env_file(tmp_path, text)
    before = path.read_bytes()
    with pytest.raises(envedit.EnvEditError, match=reason):
        envedit.apply(removed(path))
    assert path.read_bytes() == before


def test_symlink_directory_and_unreadable_are_refused(tmp_path):
    real = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    link = tmp_path / "link.env"
    link.symlink_to(real)
    with pytest.raises(envedit.EnvEditError, match="symlink"):
        envedit.read(link)
    with pytest.raises(envedit.EnvEditError, match="not a regular file"):
        envedit.read(tmp_path)
    with pytest.raises(envedit.EnvEditError, match="No such file"):
        envedit.read(tmp_path / "missing")


def test_restore_refuses_a_file_whose_last_line_would_swallow_the_flag(tmp_path):
    path = env_file(tmp_path, f"{MODEL}=/m\nA=x \\\n")
    with pytest.raises(envedit.EnvEditError, match="would not set it"):
        restored(path)


def test_a_file_changed_meanwhile_is_not_overwritten(tmp_path):
    path = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    edit = removed(path)
    path.write_text(f"{FLAG}=true\n{MODEL}=/other\n")
    with pytest.raises(envedit.EnvEditError, match="changed while"):
        envedit.apply(edit)


HOLD = (
    "import sys, time; from shadowgate import envedit\n"
    "with envedit.locked(sys.argv[1]): print('held', flush=True); time.sleep(60)"
)


def test_lock_refuses_a_live_holder_by_pid_and_never_a_dead_one(tmp_path):
    path = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(envedit.EnvEditError, match=f"pid {holder.pid}, alive"),
            envedit.locked(path),
        ):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with envedit.locked(path):  # the dead holder's lock went with it
        pass


KILL = (
    "import sys; from shadowgate import envedit; from tests.support.crash_points import kill_at\n"
    "kill_at(sys.argv[4])\n"
    "edit = envedit.without_flag(envedit.read(sys.argv[1]), sys.argv[2], sys.argv[3])\n"
    "envedit.apply(edit)"
)


@pytest.mark.parametrize("point", ["tmp-written", "renamed"])
def test_kill_9_inside_the_write_leaves_old_or_new(tmp_path, point):
    path = env_file(tmp_path, ODD)
    old, new = path.read_bytes(), removed(path).text.encode()
    done = subprocess.run(
        [sys.executable, "-c", KILL, str(path), FLAG, MODEL, point], cwd=REPO, check=False
    )
    assert done.returncode == -signal.SIGKILL
    assert path.read_bytes() == (old if point == "tmp-written" else new)


LINE = st.sampled_from(
    [
        f"{FLAG}=true",
        f"{FLAG}=false",
        f"{MODEL}=/opt/m.pth",
        "export A=1",
        "# note",
        "; x",
        "B = 'q'",
        'C="a b"',
        "",
        "  D=1  ",
        "E=x # y",
        "F=\\",
        "#c \\",
    ]
)
ENDING = st.sampled_from(["\n", "\r\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(LINE, ENDING), max_size=8), st.booleans())
def test_edits_change_only_flag_lines_or_refuse(tmp_path_factory, lines, final_newline):
    text = "".join(line + end for line, end in lines)
    if not final_newline:
        text = text.removesuffix("\n")
    path = env_file(tmp_path_factory.mktemp("odd"), text)
    for make in (removed, restored):
        try:
            edit = make(path)
        except envedit.EnvEditError:
            continue
        after = parse_env(edit.text)

        def others(env):
            return [x.rstrip("\n") for x in env.lines if not x.startswith(f"{FLAG}=")]

        assert others(after) == others(parse_env(text))
        assert after.systemd_value(MODEL) == parse_env(text).systemd_value(MODEL)
        wanted = None if make is removed else "true"
        assert after.systemd_value(FLAG) == wanted
        assert len(after.occurrences(FLAG)) == (0 if make is removed else 1)


def test_the_lock_removes_temp_files_a_killed_edit_left_and_nothing_else(tmp_path):
    env = tmp_path / "ai-engine.env"
    env.write_text("PATCHTST_SHADOW_ONLY=true\n")
    dead = [tmp_path / ".ai-engine.env.4242.tmp", tmp_path / ".ai-engine.env.bak.x.4242.tmp"]
    other = [tmp_path / ".other.env.4242.tmp", tmp_path / "ai-engine.env.bak.x"]
    for path in (*dead, *other):
        path.write_text("PATCHTST_SHADOW_ONLY=true\n")
    with envedit.locked(env):
        assert not any(path.exists() for path in dead)
    assert all(path.exists() for path in other)


# -- issue 19, items 7, 8, 10: the lock --------------------------------------------------------


def test_a_symlinked_lock_is_refused_and_its_target_untouched(tmp_path):
    path = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    victim = tmp_path / "victim.conf"
    victim.write_text("precious\n")
    Path(f"{path}.lock").symlink_to(victim)
    with (
        pytest.raises(envedit.EnvEditError, match=f"{path}.lock: a symlink .* never followed"),
        envedit.locked(path),
    ):
        pass
    assert victim.read_text() == "precious\n"


def test_a_hard_linked_lock_is_refused_and_the_other_name_untouched(tmp_path):
    path = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    victim = tmp_path / "victim.conf"
    victim.write_text("precious\n")
    os.link(victim, f"{path}.lock")
    with pytest.raises(envedit.EnvEditError, match="has 2 names"), envedit.locked(path):
        pass
    assert victim.read_text() == "precious\n"


def test_a_lock_that_is_a_fifo_or_a_directory_is_refused_at_once(tmp_path):
    path = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    os.mkfifo(f"{path}.lock")
    with pytest.raises(envedit.EnvEditError, match="not a regular file"), envedit.locked(path):
        pass


def test_a_bounded_wait_takes_the_lock_once_its_holder_lets_go_and_says_what_it_waits_for(
    tmp_path,
):
    path = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    holder = holding(path, 1.5)
    said: list[str] = []
    began = time.monotonic()
    try:
        with envedit.locked(path, wait_seconds=20, tell=waiting.Telling(said.append)):
            assert 1 <= time.monotonic() - began < 10  # it let go first
    finally:
        holder.kill()
        holder.wait()
    assert len(said) == 1 and said[0].startswith(f"waiting up to 20 s for {path}.lock")
    assert f"pid {holder.pid}, alive" in said[0]


def test_a_bounded_wait_ends_naming_the_holder_pid_command_and_since(tmp_path):
    path = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    holder = holding(path, 60)
    began = time.monotonic()
    try:
        with (
            pytest.raises(envedit.EnvEditError) as refused,
            envedit.locked(path, wait_seconds=1, tell=waiting.Telling(lambda _: None)),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert 1 <= time.monotonic() - began < 5
    said = str(refused.value)
    assert f"still holds {path}.lock after 1 s (pid {holder.pid}, alive" in said
    assert "HOLD" not in said and "envedit.locked" in said and " since 20" in said
    assert "\n" not in said


def held_lock(path: Path) -> int:
    """`path`'s lock taken by another open of it, as another action holds it (flock: per open)."""
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


@pytest.mark.parametrize("released_after", [20.0, None])
def test_the_break_glass_wait_for_the_lock_counts_down_the_time_left(tmp_path, released_after):
    """A 35 s wait (rollback.break_glass_lock_wait_seconds) names the holder once, then says
    the time left every few seconds until the holder lets go, or refuses at its end."""
    path = env_file(tmp_path, f"{FLAG}=true\n{MODEL}=/m\n")
    holder, clock, said = held_lock(path), FakeClock(), []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        clock.now = round(clock.now, 6)  # 0.1 s steps that add up: 4 s is 40 of them
        if released_after is not None and clock.now - 100.0 >= released_after:
            fcntl.flock(holder, fcntl.LOCK_UN)

    tell = waiting.Telling(said.append, 4.0)
    wait = envedit.locked(path, 35, tell, clock=clock, sleep=sleep)
    try:
        if released_after is None:
            refused = pytest.raises(envedit.EnvEditError, match=r"still holds .* after 35 s \(pid")
            with refused, wait:
                pass
        else:
            with wait:
                assert 20.0 <= clock.now - 100.0 < 20.2
    finally:
        os.close(holder)
    assert said[0].startswith(f"waiting up to 35 s for {path}.lock, held by pid {os.getpid()}")
    left = [33, 29, 25, 21, 17] + ([13, 9, 5, 1] if released_after is None else [])
    assert said[1:] == [f"waiting for {path}.lock to be released: {n} s left" for n in left]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="root, unshare")
def test_enospc_at_the_lock_is_one_error_and_the_env_file_untouched(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "ai-engine.env").write_text(f"{FLAG}=true\n{MODEL}=/m\n")
    check = (
        "import sys; from pathlib import Path; from shadowgate import envedit\n"
        "env = Path(sys.argv[1]) / 'ai-engine.env'; before = env.read_bytes()\n"
        "try:\n"
        "    with envedit.locked(env): print('locked')\n"
        "except envedit.EnvEditError as exc: print(f'refused: {exc}')\n"
        "print('untouched' if env.read_bytes() == before else 'CHANGED')\n"
    )
    argv = on_a_full_filesystem(full, sys.executable, "-c", check, str(full))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"refused: cannot write the lock {full}/ai-engine.env.lock: No space left on device",
        "untouched",
    ]
