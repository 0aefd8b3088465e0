"""Scenes for the env file editor: a held lock, a full filesystem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HOLD_FOR = (
    "import sys, time; from shadowgate import envedit\n"
    "with envedit.locked(sys.argv[1]): print('held', flush=True); time.sleep(float(sys.argv[2]))"
)


def holding(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOR, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


FULL = """
set -e
copy=$(mktemp -d)
cp -a "$1/." "$copy/"
mount -t tmpfs -o size=1m tmpfs "$1"
cp -a "$copy/." "$1/"
head -c 2000000 /dev/zero > "$1/.filler" 2>/dev/null || true
shift
exec "$@"
"""


def on_a_full_filesystem(directory: str | Path, *argv: str) -> list[str]:
    """`argv` run with `directory` (its files copied) on a full tmpfs, in a private mount
    namespace: the rest of the machine never sees the mount. Needs root and unshare(1)."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", FULL, "sh",
            str(directory), *argv]  # fmt: skip
