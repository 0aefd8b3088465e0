"""The env file and the model file on the host: facts (P6, P7), text, backups."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime

import testinfra.backend.base
import testinfra.host

from shadowgate.host._base import HostError, name, run, stderr
from shadowgate.operatorfiles import MAX_BYTES


@dataclass(frozen=True)
class FileFacts:
    """What the checks need to know about the env file or the model file.

    `mtime` is when the content was last written, as the file claims (`cp -p`, `touch -d` and
    `rsync -t` can set it back); `changed` is the latest status change (ctime, which nobody
    can set back) of the file the path resolves to and of the path itself (a symlink repointed,
    a file moved into place). "Not modified since the unit started" is `changed` < the start.
    """

    path: str
    exists: bool
    is_file: bool
    readable: bool  # by the user the checks run as
    size: int | None  # None when the path does not exist
    sha256: str | None  # None unless a readable regular file
    mtime: datetime | None = None  # None when the path does not exist
    changed: datetime | None = None  # None when the path does not exist
    writable: bool = False  # by the user the checks run as: the runbook's sed and echo (P6)
    dangling: bool = False  # a symlink that resolves to nothing (a loop, or its target gone)

    @property
    def absence(self) -> str:
        """Why there is no file at `path`, as the operator must hear it."""
        if self.dangling:
            return "is a symlink that leads nowhere (a loop, or its target is gone)"
        return "does not exist"


# One round trip (matters over SSH); %% is a literal % for testinfra's quoting. stat -L follows
# a symlink to the file the engine loads; the plain stat is the path itself.
_FACTS_SCRIPT = """P=%s
e=0; f=0; r=0; w=0; l=0
[ -e "$P" ] && e=1
[ -L "$P" ] && l=1
[ -f "$P" ] && f=1
[ -r "$P" ] && r=1
[ -w "$P" ] && w=1
echo "exists=$e"; echo "file=$f"; echo "readable=$r"; echo "writable=$w"; echo "link=$l"
if [ "$e" = 1 ]; then
    echo "size=$(stat -L -c %%s -- "$P")"
    echo "mtime=$(stat -L -c %%y -- "$P")"
    echo "ctime=$(stat -L -c %%z -- "$P")"
    echo "path_ctime=$(stat -c %%z -- "$P")"
fi
[ "$f$r" = 11 ] && echo "sha256=$(sha256sum < "$P" | cut -d' ' -f1)"
true"""


def _stat_time(value: str) -> datetime:
    """stat's "2026-01-10 08:00:00.123456789 +0100" (nanoseconds cut to microseconds)."""
    day, clock, offset = value.split()
    whole, _, fraction = clock.partition(".")
    return datetime.strptime(
        f"{day} {whole}.{(fraction + '000000')[:6]} {offset}", "%Y-%m-%d %H:%M:%S.%f %z"
    )


def file_facts(host: testinfra.host.Host, path: str) -> FileFacts:
    """Existence, type, readability, writability, size, sha256, mtime and last change of
    `path` on the host."""
    result = run(host, _FACTS_SCRIPT, path)
    if result.rc != 0:
        raise HostError(f"cannot inspect {path} on {name(host)}: {stderr(result)}")
    facts = dict(
        line.partition("=")[::2]
        for line in result.stdout_bytes.decode("utf-8", "replace").splitlines()
    )
    try:
        exists = facts["exists"] == "1"
        return FileFacts(
            path=path,
            exists=exists,
            is_file=facts["file"] == "1",
            readable=facts["readable"] == "1",
            size=int(facts["size"]) if exists else None,
            sha256=facts.get("sha256") or None,
            mtime=_stat_time(facts["mtime"]) if exists else None,
            changed=max(_stat_time(facts["ctime"]), _stat_time(facts["path_ctime"]))
            if exists
            else None,
            writable=facts["writable"] == "1",
            dangling=not exists and facts["link"] == "1",
        )
    except (KeyError, ValueError):
        raise HostError(
            f"cannot inspect {path} on {name(host)}: unexpected answer {result.stdout!r}"
        ) from None


# Why a path shows no file, told apart (a missing directory is not "not readable", a symlink
# loop is not "does not exist"); shared by the scripts below. %% is a literal % for testinfra.
_ABSENT = """if [ ! -e "$P" ]; then
    if [ -L "$P" ]; then
        LC_ALL=C stat -L -- "$P" 2>&1 | grep -q 'Too many levels' && exit 9
        readlink -- "$P"; exit 6
    fi
    D=$(dirname -- "$P")
    [ -e "$D" ] || exit 7
    [ -d "$D" ] || exit 10
    [ -x "$D" ] || exit 8
    exit 3
fi
"""
# Only a regular file, and at most one byte past the limit: /dev/zero or a FIFO named as the
# env file must not read for ever (operatorfiles says why the limit).
READ_SCRIPT = (
    "P=%s\n"
    + _ABSENT
    + f"""[ -d "$P" ] && exit 4
[ -f "$P" ] || exit 11
[ -r "$P" ] || exit 5
exec head -c {MAX_BYTES + 1} -- "$P"
"""
)
_NOT_READABLE = "not readable by the user running the checks (run as root, or ?sudo=true over SSH)"
_READ_ERRORS = {
    3: "does not exist",
    6: "is a symlink to {target}, which does not exist",
    7: "does not exist: its directory {dir} does not exist",
    8: "cannot be seen: its directory {dir} is not searchable by the user running the checks",
    9: "is a symlink loop (it leads back to itself)",
    10: "does not exist: {dir} is a file, not a directory",
    4: "is a directory, not a file",
    11: "is not a regular file (a device, FIFO or socket)",
    5: f"is {_NOT_READABLE}",
}


def _why(code: int, path: str, result: testinfra.backend.base.CommandResult) -> str:
    """The operator's words for a script's exit code; a dangling link's target is its stdout."""
    target = result.stdout_bytes.decode("utf-8", "replace").strip()
    return _READ_ERRORS[code].format(target=target, dir=os.path.dirname(path) or ".")


def read_text(host: testinfra.host.Host, path: str) -> str:
    """The file's text exactly as stored (BOM and CR kept), or a HostError saying why not
    (also for anything but a regular file of at most operatorfiles.MAX_BYTES)."""
    result = run(host, READ_SCRIPT, path)
    where = name(host)
    if result.rc in _READ_ERRORS:
        raise HostError(f"{path} on {where} {_why(result.rc, path, result)}")
    if result.rc != 0:
        raise HostError(f"cannot read {path} on {where} (exit {result.rc}): {stderr(result)}")
    data = result.stdout_bytes
    if len(data) > MAX_BYTES:
        raise HostError(f"{path} on {where} is larger than {MAX_BYTES} bytes: not the file meant")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HostError(
            f"{path} on {where} is not UTF-8 text (byte {data[exc.start]:#04x} at offset "
            f"{exc.start}); sha256 {hashlib.sha256(data).hexdigest()}"
        ) from None


_BACKUPS_SCRIPT = """P=%s
D=$(dirname -- "$P")
[ -e "$D" ] || exit 7
[ -d "$D" ] || exit 10
[ -x "$D" ] && [ -r "$D" ] || exit 5
for f in "$P".bak*; do
    [ -f "$f" ] && printf '%%s\\t%%s\\n' "$(stat -c %%Y -- "$f")" "$f"
done
true
"""


def backups(host: testinfra.host.Host, path: str) -> list[str]:
    """Backups of `path` beside it (the runbook's `PATH.bak.activation.YYYYMMDD_HHMMSS`, any
    `PATH.bak*`), oldest first by modification time."""
    result = run(host, _BACKUPS_SCRIPT, path)
    if result.rc in (7, 10):
        why = _why(result.rc, path, result).removeprefix("does not exist: ")
        raise HostError(f"cannot list the backups of {path} on {name(host)}: {why}")
    if result.rc == 5:
        raise HostError(f"cannot list the directory of {path} on {name(host)}: {_NOT_READABLE}")
    if result.rc != 0:
        raise HostError(f"cannot list backups of {path} on {name(host)}: {stderr(result)}")
    found = []
    for line in result.stdout_bytes.decode("utf-8", "replace").splitlines():
        mtime, _, file = line.partition("\t")
        if mtime.isdigit() and file:
            found.append((int(mtime), file))
    return [file for _, file in sorted(found)]
