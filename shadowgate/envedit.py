"""Editing the engine's env file as the runbook does (s.4 `cp` and `sed -i`, s.6 `echo >>`),
but safely: the file on disk is always the old one or the whole new one, never a part.

- One action at a time: `locked` takes an flock on `ENV.lock` beside the file. The kernel
  drops it when its holder dies, however it dies, so a dead action never blocks the next; a
  live holder is named (pid, command, since when) and the second action is refused, not
  queued, unless it may wait (a break-glass rollback: a bounded time, said on screen at its
  start and then counted down, as every wait is: shadowgate/waiting.py).
- The lock and every temp file are opened without following a symlink and only onto a
  regular file (operatorfiles): a planted `ENV.lock -> /etc/shadow` would else be truncated.
- Every write is a temp file in the same directory, written, fsynced, renamed over the target,
  then the directory fsynced; it gets the original's owner and mode before the rename. A temp
  file a killed action left is removed by the next one, under the lock.
- Only the flag's lines change: every other line keeps its bytes (comments, order, CRLF,
  quotes, `export`). The result is verified as systemd reads it (envfile) *before* it is
  written, so an edit systemd would read otherwise is refused, not written.
- A file that is not what we expect (the flag twice, no model path, unreadable, not UTF-8, a
  NUL byte, not a regular file, a symlink) is refused with the reason.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shadowgate import operatorfiles, redact, waiting
from shadowgate.envfile import EnvFile, parse_env
from shadowgate.evidence.disk import fsync_dir, write_all
from shadowgate.operatorfiles import shown_path

BACKUP_INFIX = ".bak.activation."  # the runbook's `ENV.bak.activation.YYYYmmdd_HHMMSS` (s.4)
LOCK_POLL_SECONDS = 0.1  # how often a waiting action tries the lock again
_PRINTED = waiting.Telling(print)


class EnvEditError(RuntimeError):
    """The env file cannot be edited safely; the message says why, and nothing was written."""


@contextlib.contextmanager
def locked(
    env_path: Path,
    wait_seconds: float = 0.0,
    tell: waiting.Telling = _PRINTED,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Path]:
    """Hold `ENV.lock` exclusively; a live holder refuses at once, or after `wait_seconds`
    (`tell` hears its start, naming the holder, then the time left), naming it. A full disk is
    refused here, before anything is written. `clock` and `sleep` as in `waiting.poll`."""
    lock_path = Path(f"{env_path}.lock")
    try:
        fd = operatorfiles.open_regular(lock_path, os.O_RDWR | os.O_CREAT)
    except operatorfiles.PathRefused as exc:
        raise EnvEditError(f"cannot open the lock {exc}") from None
    try:
        if (names := os.fstat(fd).st_nlink) != 1:  # a hard link to another file: not ours
            raise EnvEditError(
                f"cannot use the lock {lock_path}: it has {names} names (a hard link to "
                "another file, which the pid would overwrite); remove it"
            )
        _take(fd, lock_path, wait_seconds, tell, clock, sleep)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:  # ENOSPC, EDQUOT, EROFS: nothing written yet
            raise EnvEditError(f"cannot write the lock {lock_path}: {exc.strerror}") from None
        _remove_dead_writes(Path(env_path))
        yield lock_path
    finally:
        os.close(fd)


def _take(
    fd: int,
    lock_path: Path,
    wait_seconds: float,
    tell: waiting.Telling,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    """flock; while another action holds it, tried again until `wait_seconds` have passed;
    EnvEditError naming the holder then."""
    if _flocked(fd):
        return
    if wait_seconds > 0:
        tell.say(f"waiting up to {wait_seconds:g} s for {lock_path}, held by {_holder(fd)}")
        polled = waiting.poll(
            lambda: _flocked(fd),
            bool,
            wait_seconds,
            interval_s=LOCK_POLL_SECONDS,
            what=f"{lock_path} to be released",
            tell=tell,
            clock=clock,
            sleep=sleep,
        )
        if polled.done:
            return
    held = f"holds {lock_path}"
    if wait_seconds > 0:
        held = f"still {held} after {wait_seconds:g} s"
    raise EnvEditError(
        f"another action {held} ({_holder(fd)}; a dead process holds no lock): find out what "
        "it is doing"
    )


def _flocked(fd: int) -> bool:
    """Whether this try took the lock (never blocks)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> str:
    """Who holds the lock, as it wrote itself in: pid, its command (any URL password hidden)
    and since when (the lock file's mtime, set when the pid was written)."""
    pid = os.pread(fd, 64, 0).decode(errors="replace").strip()
    since = datetime.fromtimestamp(os.fstat(fd).st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not pid.isdigit():
        return f"a process that has not written its pid yet (lock file changed {since})"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return f"pid {pid}, gone: a process it started holds it now, since {since}"
    command = " ".join(redact.redact_url(arg) if "://" in arg else arg for arg in argv if arg)
    return f"pid {pid}, alive: `{shown_path(command)[:300]}`, since {since}"


@dataclass(frozen=True)
class Snapshot:
    """The env file as read: its bytes, parsed text, owner and mode."""

    path: Path
    data: bytes
    env: EnvFile
    uid: int
    gid: int
    mode: int  # permission bits


def _remove_dead_writes(env_path: Path) -> None:
    """Temp files of an edit killed before its rename (the env file's or a backup's). Every
    writer holds the lock, so any found under it is a dead one's; they hold the env file's
    content, so they are not left lying around."""
    for tmp in env_path.parent.glob(f".{glob.escape(env_path.name)}*.tmp"):
        tmp.unlink(missing_ok=True)


def read(path: Path) -> Snapshot:
    """The env file, or EnvEditError if it is not a regular, readable UTF-8 file systemd takes."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise EnvEditError(f"{path}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise EnvEditError(
            f"{path} is a symlink (to {os.readlink(path)}): replacing it would break the link; "
            "edit the file it points to by name"
        )
    if not stat.S_ISREG(st.st_mode):
        raise EnvEditError(f"{path} is not a regular file")
    try:
        data = operatorfiles.read_bytes(path, follow=False)
    except operatorfiles.PathRefused as exc:
        raise EnvEditError(f"cannot read {exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EnvEditError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    env = parse_env(text)
    if env.systemd_error:
        raise EnvEditError(f"{path}: {env.systemd_error}")
    return Snapshot(path, data, env, st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))


def _write_new(snapshot: Snapshot, target: Path, data: bytes, *, replace: bool) -> None:
    """`data` at `target` with the snapshot's owner and mode: temp file, fsync, then rename over
    (`replace`) or link (never over an existing file), then fsync the directory."""
    directory = target.parent
    tmp = directory / f".{target.name}.{os.getpid()}.tmp"
    try:
        fd = operatorfiles.open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except operatorfiles.PathRefused as exc:
        raise EnvEditError(f"cannot write in {directory}: {exc}") from None
    try:
        try:
            st = os.fstat(fd)
            if (st.st_uid, st.st_gid) != (snapshot.uid, snapshot.gid):
                os.fchown(fd, snapshot.uid, snapshot.gid)
            os.fchmod(fd, snapshot.mode)
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)
            os.unlink(tmp)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.EEXIST:
            raise EnvEditError(f"{target} exists already: not overwritten") from None
        raise EnvEditError(f"cannot write {target}: {exc.strerror}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(directory)


def backup(snapshot: Snapshot, now: datetime) -> Path:
    """Runbook s.4 step 1, `cp ENV ENV.bak.activation.$(date +%Y%m%d_%H%M%S)`: byte-identical,
    same owner and mode, never over another backup (one of the same bytes, from a run killed
    within the same second, is kept as it is)."""
    target = snapshot.path.with_name(f"{snapshot.path.name}{BACKUP_INFIX}{now:%Y%m%d_%H%M%S}")
    try:
        _write_new(snapshot, target, snapshot.data, replace=False)
    except EnvEditError:
        try:
            same = operatorfiles.read_bytes(target, follow=False) == snapshot.data
        except operatorfiles.PathRefused:
            same = False
        if not same:
            raise
    return target


@dataclass(frozen=True)
class Edit:
    """An edit of the env file: the text after it, and what changed, in operator words."""

    before: Snapshot
    text: str
    changes: tuple[str, ...]  # empty: the file already says what is wanted

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _anchored(env: EnvFile, key: str) -> set[int]:
    return {line.lineno for line in env.occurrences(key)}


def _check_model(before: EnvFile, after: EnvFile, model_key: str, path: Path) -> None:
    """PATCHTST_MODEL_PATH as systemd reads it: set before, and the same after (runbook s.4
    step 4)."""
    value = before.systemd_value(model_key)
    if not value:
        raise EnvEditError(
            f"{path} sets no {model_key} (as systemd reads it): not the file "
            "the preactivation run checked"
        )
    if after.systemd_value(model_key) != value:
        raise EnvEditError(f"the edit of {path} would change {model_key}: refused")


def _check_flag_once(env: EnvFile, flag: str, path: Path) -> None:
    found = [a.lineno for a in env.assignments if a.key == flag and a.valid]
    if len(found) > 1 or len(_anchored(env, flag)) > 1:
        lines = sorted(set(found) | _anchored(env, flag))
        raise EnvEditError(
            f"{path} sets {flag} more than once (lines {', '.join(map(str, lines))}): fix it "
            "by hand, which one is meant cannot be guessed"
        )


def _without(env: EnvFile, drop: set[int]) -> str:
    return "".join(line for n, line in enumerate(env.lines, 1) if n not in drop)


def without_flag(snapshot: Snapshot, flag: str, model_key: str) -> Edit:
    """Runbook s.4 steps 2-4: `sed -i '/^FLAG=/d'`, then systemd must deliver no FLAG and the
    same MODEL_PATH. Refused (nothing written) when it would not."""
    env, path = snapshot.env, snapshot.path
    _check_flag_once(env, flag, path)
    drop = _anchored(env, flag)
    after = parse_env(_without(env, drop))
    if (left := after.systemd_value(flag)) is not None:
        line = after.flag_state(flag).systemd_lineno
        raise EnvEditError(
            f"after `sed -i '/^{flag}=/d'` systemd would still deliver {flag}={left!r} "
            f"(line {line}, not at the start of a line as the runbook's sed expects): refused"
        )
    _check_model(env, after, model_key, path)
    return Edit(snapshot, after.text, tuple(f"line {n} `{flag}=...` removed" for n in sorted(drop)))


def with_flag(snapshot: Snapshot, flag: str, model_key: str, value: str = "true") -> Edit:
    """Runbook s.6, `echo "FLAG=true" >> ENV`, never twice: a file that already delivers it
    from one anchored line is left as it is; another FLAG line is replaced; a last line
    without a newline gets one first, so the flag is not glued onto it."""
    env, path = snapshot.env, snapshot.path
    _check_flag_once(env, flag, path)
    state = env.flag_state(flag)
    if state.systemd_value == value and state.agree and len(state.grep_lines) == 1:
        return Edit(snapshot, env.text, ())
    drop = _anchored(env, flag)
    kept = parse_env(_without(env, drop))
    changes = [f"line {n} `{flag}=...` removed" for n in sorted(drop)]
    if not kept.ends_with_newline:
        changes.append("a newline added after the last line")
        kept = parse_env(kept.text + "\n")
    after = kept.appended(f"{flag}={value}")
    changes.append(f"`{flag}={value}` appended")
    final = after.flag_state(flag)
    if final.systemd_value != value or not final.agree or len(final.grep_lines) != 1:
        why = "; ".join(final.notes) or f"systemd would deliver {final.systemd_value!r}"
        raise EnvEditError(f"appending `{flag}={value}` to {path} would not set it: {why}")
    _check_model(env, after, model_key, path)
    return Edit(snapshot, after.text, tuple(changes))


def apply(edit: Edit) -> None:
    """Write the edit over the file it was read from, unless the file changed since it was read
    (then refuse: someone else is editing it)."""
    if not edit.changed:
        return
    path = edit.before.path
    if read(path).data != edit.before.data:
        raise EnvEditError(f"{path} changed while the edit was prepared: nothing written")
    _write_new(edit.before, path, edit.text.encode("utf-8"), replace=True)
