"""A child process run from the repository root as an operator would run it: none of this test
run's SHADOWGATE_* or PYTEST_* settings leak into it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from tests.support.paths import REPO


def clean_env() -> dict[str, str]:
    """This process's environment without the settings a child must not inherit."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SHADOWGATE_", "PYTEST_"))}


def run(argv: Sequence[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`argv` from the repo root in a clean environment, its output captured as text."""
    return subprocess.run(
        list(argv), cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
