"""A real systemd to test against on a machine whose PID 1 is not systemd: the project's test bed.

The checks read `systemctl show` and `journalctl`, and CI machines here boot without systemd,
where both just say "not booted with systemd". SystemdBox boots systemd and journald as PID 1
of private pid/mount/uts/ipc/cgroup namespaces, from the host's / seen through an overlay whose
upper layer is a tmpfs: host files are never written, except in the directories bound in (the
repo, the venv, the tests' tmp dirs). The box shares the host's network, so a unit inside
reaches a throwaway redis-server on 127.0.0.1. Needs root; it is not a security boundary.

The PID-1 part (mounts, masked units, pivot_root) is `sdbox_init.sh` beside this module.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path

import testinfra.backend.base
import testinfra.host

SYSTEMD = "/lib/systemd/systemd"
UNIT_DIR = "/etc/systemd/system"
_TOOLS = ("unshare", "nsenter", "setpriv")
_CGROUP_PREFIX = "shadowgate-sdbox-"  # + owner pid + random suffix
_PR_SET_PDEATHSIG = 1


class SdboxError(RuntimeError):
    """The box could not be started, reached or torn down; the message says why."""


def cgroup2_mount() -> Path | None:
    """Where the host mounts its cgroup2 hierarchy (pure v2, or `unified` on a hybrid host)."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    points = [
        Path(f.split()[1]) for f in mounts if len(f.split()) > 2 and f.split()[2] == "cgroup2"
    ]
    for preferred in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
        if preferred in points:
            return preferred
    return points[0] if points else None


def availability() -> tuple[bool, str]:
    """Can a SystemdBox run here? (True, "") or (False, the reason, for a skip message)."""
    if not sys.platform.startswith("linux"):
        return False, f"systemd box needs Linux, this is {sys.platform}"
    if os.geteuid() != 0:
        return False, "systemd box needs root (namespaces, mounts, cgroups)"
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        return False, f"systemd box needs {', '.join(missing)} (util-linux) on PATH"
    if not os.access(SYSTEMD, os.X_OK):
        return False, f"systemd box needs {SYSTEMD} (install the systemd package)"
    try:
        filesystems = Path("/proc/filesystems").read_text()
    except OSError as exc:
        return False, f"cannot read /proc/filesystems: {exc.strerror}"
    if "cgroup2" not in filesystems:
        return False, "the kernel cannot mount cgroup2, which systemd needs"
    cgroup = cgroup2_mount()
    if cgroup is None:
        return False, "no cgroup2 hierarchy mounted (neither /sys/fs/cgroup nor its unified/)"
    if not os.access(cgroup, os.W_OK):
        return False, f"cgroup2 hierarchy {cgroup} is not writable (read-only container?)"
    return True, ""


def repo_root() -> Path:
    """The checkout this package runs from (editable install): bound so the box sees the code."""
    return Path(__file__).resolve().parents[2]


def default_binds(*extra: str | os.PathLike[str]) -> list[str]:
    """Repo root, the venv (when outside the repo) and `extra` dirs, without nested duplicates."""
    candidates = [repo_root(), Path(sys.prefix).resolve(), *(Path(e).resolve() for e in extra)]
    binds: list[Path] = []
    for path in sorted(set(candidates), key=lambda p: len(p.parts)):
        if path != Path("/") and not any(path.is_relative_to(b) for b in binds):
            binds.append(path)
    return [str(p) for p in binds]


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the test process dies, so no box outlives it."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class SystemdBox:
    """systemd + journald as PID 1 of private namespaces; `up()`, `exec(...)`, `down()`.

    `state_dir` holds the overlay mount points and the console log and is removed by `down()`;
    `binds` are host directories made visible read-write at the same path inside.
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str],
        binds: Iterable[str | os.PathLike[str]] = (),
        *,
        boot_timeout: float = 30.0,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.binds = [str(Path(b).resolve()) for b in binds]
        self.boot_timeout = boot_timeout
        self.cgroup: Path | None = None
        self.installed_units: set[str] = set()  # by install_unit, until remove_unit
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None

    # -- life cycle -------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        """The box's PID 1 as seen from the host."""
        if self._pid is None:
            raise SdboxError("the systemd box is not up")
        return self._pid

    @property
    def console_log(self) -> Path:
        return self.state_dir / "console.log"

    def console(self) -> str:
        """What the box's PID 1 printed (init script errors, early systemd messages)."""
        try:
            return self.console_log.read_text(errors="replace")
        except OSError:
            return ""

    def up(self) -> SystemdBox:
        """Boot the box; return once `systemctl is-system-running` says running or degraded."""
        if self._proc is not None:
            raise SdboxError("the systemd box is already up")
        ok, reason = availability()
        if not ok:
            raise SdboxError(f"cannot start a systemd box: {reason}")
        for sub in ("root", "ovl"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        cgroups = cgroup2_mount()
        assert cgroups is not None, "availability() found it"
        _remove_stale_cgroups(cgroups)
        self.cgroup = cgroups / f"{_CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.cgroup.mkdir()
        (self.state_dir / "cgroup").write_text(f"{self.cgroup}\n")
        init = resources.files("shadowgate.testbed").joinpath("sdbox_init.sh")
        # Join the fresh cgroup first, so the box's cgroup namespace is rooted there; unshare
        # --kill-child takes the box down if unshare itself dies.
        argv = [
            "sh", "-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "sh", str(self.cgroup),
            "unshare", "--kill-child", "--pid", "--fork", "--mount", "--uts", "--ipc", "--cgroup",
            "--propagation", "private", "bash", str(init), str(self.state_dir), *self.binds,
        ]  # fmt: skip
        with self.console_log.open("wb") as console:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        try:
            self._wait_running()
        except BaseException:
            self.down()
            raise
        return self

    def _wait_running(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.boot_timeout
        children = Path(f"/proc/{self._proc.pid}/task/{self._proc.pid}/children")
        state = "no PID 1 yet"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SdboxError(
                    f"systemd box died while booting (exit {self._proc.returncode}); "
                    f"console:\n{self.console()}"
                )
            if self._pid is None:
                try:
                    self._pid = int(children.read_text().split()[0])
                except (OSError, IndexError, ValueError):
                    time.sleep(0.02)
                    continue
            left = max(deadline - time.monotonic(), 0.1)
            try:
                done = self.exec(["systemctl", "is-system-running", "--wait"], timeout=left)
                state = done.stdout.strip() or done.stderr.strip()
            except SdboxError as exc:
                state = str(exc)
            if state in ("running", "degraded"):
                return
            time.sleep(0.05)
        raise SdboxError(
            f"systemd box not running after {self.boot_timeout:.0f}s (last state: {state}); "
            f"console:\n{self.console()}"
        )

    def down(self, grace: float = 10.0) -> None:
        """Power the box off (SIGKILL after `grace` s), remove its cgroup and state dir."""
        if self._proc is not None:
            if self._proc.poll() is None and self._pid is not None:
                self._poweroff()
            try:
                self._proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                # Killing a pid namespace's init kills every process of the box.
                for pid in (self._pid, self._proc.pid):
                    if pid is not None:
                        _kill(pid)
                self._proc.wait(timeout=grace)
        self._proc = self._pid = None
        leftovers = self._remove_cgroup()
        shutil.rmtree(self.state_dir, ignore_errors=True)
        if leftovers:
            raise SdboxError(f"systemd box cgroups not removed (still busy): {leftovers}")

    def _poweroff(self) -> None:
        try:
            self.exec(["systemctl", "poweroff", "--no-block"], timeout=5)
        except SdboxError:
            _kill(self.pid, signal.SIGRTMIN + 4)  # systemd's "poweroff" signal

    def _remove_cgroup(self, patience: float = 5.0) -> list[str]:
        """rmdir the box's cgroup tree bottom-up (systemd leaves its slices behind, empty).

        Retried for a while: the kernel empties a cgroup a moment after its last task is reaped.
        """
        deadline = time.monotonic() + patience
        while self.cgroup is not None and self.cgroup.exists():
            _rmdir_tree(self.cgroup)
            if not self.cgroup.exists():
                break
            if time.monotonic() > deadline:
                return [str(self.cgroup)]
            time.sleep(0.05)
        self.cgroup = None
        return []

    def __enter__(self) -> SystemdBox:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- inside the box ---------------------------------------------------------------------

    def exec(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: str | bytes | None = None,
        timeout: float = 60.0,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` inside the box (as root, via nsenter); output decoded as UTF-8.

        `env` entries are added to the inherited environment. `cwd` is entered by a shell inside
        the box, after nsenter switched to the box's root (nsenter --wd is unreliable here).
        `timeout` is enforced inside the box by coreutils `timeout`, so the command is killed
        and reaped there, never left orphaned outside systemd's view (which would stall the
        box's poweroff). `check` raises SdboxError with the stderr when it exits non-zero.
        """
        cmd = ["nsenter", "-t", str(self.pid), "-a", "sh", "-c", 'cd "$1" && shift && exec "$@"']
        cmd += ["sh", cwd or "/"]
        if env:
            cmd += ["env", *(f"{key}={value}" for key, value in env.items())]
        cmd += ["timeout", "-k", "2", f"{timeout:g}", *argv]
        data = input.encode() if isinstance(input, str) else input
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout + 10)
        except subprocess.TimeoutExpired:
            raise SdboxError(f"the systemd box did not answer {shlex.join(argv)}") from None
        if done.returncode in (124, 137) and time.monotonic() - started >= timeout:
            raise SdboxError(f"in the systemd box, {shlex.join(argv)} timed out ({timeout:g}s)")
        result = subprocess.CompletedProcess(
            list(argv),
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )
        if check and result.returncode != 0:
            raise SdboxError(
                f"in the systemd box, {shlex.join(argv)} exited {result.returncode}: "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )
        return result

    def write_file(self, path: str, content: str | bytes, mode: int = 0o644) -> None:
        """Create or replace `path` inside the box (parents created); bytes are written as-is."""
        script = 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"'
        self.exec(["sh", "-c", script, "sh", path, f"{mode:o}"], input=content, check=True)

    def remove_file(self, path: str) -> None:
        self.exec(["rm", "-f", "--", path], check=True)

    def systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.exec(["systemctl", *args], check=check)

    def install_unit(self, name: str, text: str) -> None:
        """Write a unit file to /etc/systemd/system (the box's tmpfs layer) and reload."""
        self.write_file(f"{UNIT_DIR}/{name}", text)
        self.installed_units.add(name)
        self.systemctl("daemon-reload")

    def remove_unit(self, name: str) -> None:
        """Stop a unit, forget its failures and restart count, delete its file and reload."""
        self.systemctl("stop", name, check=False)
        self.systemctl("reset-failed", name, check=False)
        self.remove_file(f"{UNIT_DIR}/{name}")
        self.installed_units.discard(name)
        self.systemctl("daemon-reload")

    def clear_journal(self) -> None:
        """Drop every journal entry so far, so a test sees only its own lines."""
        self.exec(["journalctl", "--rotate", "--vacuum-size=1"], check=True)

    def testinfra_host(self, user: str | None = None) -> testinfra.host.Host:
        """A testinfra Host whose commands run inside the box (as `user`, default root)."""
        backend = BoxBackend(self, user)
        host = testinfra.host.Host(backend)
        backend.set_host(host)
        return host


class BoxBackend(testinfra.backend.base.BaseBackend):
    """testinfra backend running each command in the box via nsenter (like its docker backend)."""

    NAME = "sdbox"

    def __init__(self, box: SystemdBox, user: str | None = None) -> None:
        self.box = box
        self.user = user
        super().__init__(f"{user}@pid{box.pid}" if user else f"pid{box.pid}")

    def run(
        self, command: str, *args: str, **kwargs: object
    ) -> testinfra.backend.base.CommandResult:
        cmd = self.get_command(command, *args)
        if self.user is None:
            out = self.run_local("nsenter -t %s -a /bin/sh -c %s", str(self.box.pid), cmd)
        else:
            out = self.run_local(
                "nsenter -t %s -a runuser -u %s -- /bin/sh -c %s", str(self.box.pid), self.user, cmd
            )
        out.command = self.encode(cmd)
        return out


def _rmdir_tree(top: Path) -> None:
    """rmdir every (empty) cgroup below and including `top`, deepest first."""
    for dirpath, _dirs, _files in os.walk(top, topdown=False):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def _remove_stale_cgroups(root: Path) -> None:
    """Empty cgroups of boxes whose test process was killed before `down()` could run."""
    for stale in root.glob(f"{_CGROUP_PREFIX}*"):
        owner = stale.name.removeprefix(_CGROUP_PREFIX).split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            _rmdir_tree(stale)


def _kill(pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
