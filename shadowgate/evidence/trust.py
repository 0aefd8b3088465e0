"""Who may write the evidence (ARCHITECTURE.md "Trust boundaries").

An anchor proves only who logged it (journald's `_UID`), so it counts only from root or the
one uid an operator names in the installed thresholds file (`evidence.anchor_uid`, pinned: a
run's `--config` or `--set` cannot widen it). Whoever else can write the reports dir can
rewrite the chain and anchor it as himself, so root, before an action rests on the evidence,
refuses a reports dir or any entry of it that another uid owns or that group or others may
write, as sshd's StrictModes refuse an authorized_keys file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from shadowgate.config import Thresholds, shown_path
from shadowgate.evidence.disk import EvidenceError

ANCHOR_UID = "evidence.anchor_uid"


def writers() -> frozenset[int]:
    """The uids whose anchors count: root and `evidence.anchor_uid` of the installed file."""
    return frozenset({0, int(Thresholds.load()[ANCHOR_UID])})


def _unsafe(path: Path, uids: frozenset[int]) -> str | None:
    """Why root must not trust `path` (lstat: a symlink is judged, not followed), or None."""
    info = os.lstat(path)
    if info.st_uid not in uids:
        owners = "root" if uids == {0} else f"root or uid {max(uids)} ({ANCHOR_UID})"
        return f"is owned by uid {info.st_uid}, not by {owners}"
    if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o022:
        return f"is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def check_reports_dir(reports_dir: Path) -> None:
    """Run as root: EvidenceError naming the first path of the reports dir another account
    could have written. Any other user trusts what it can read (it cannot act anyway)."""
    if os.geteuid() != 0 or not reports_dir.is_dir():
        return
    uids = writers()
    for path in (reports_dir, *sorted(reports_dir.iterdir())):
        why = _unsafe(path, uids)
        if why is not None:
            raise EvidenceError(
                f"{shown_path(path)} {why}: root trusts no evidence another account could have "
                "written (sshd StrictModes); chown root and chmod go-w it, or record into a new "
                "--reports-dir"
            )
