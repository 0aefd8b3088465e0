"""What a test needs from the machine: skipped where it is missing, except in CI.

.ci/run sets SHADOWGATE_REQUIRE_SYSTEMD=1, where a missing systemd test bed, Chromium or promtool
is an error instead of a skip: CI must never pass by skipping what it was asked to test.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

REQUIRE_SYSTEMD = "SHADOWGATE_REQUIRE_SYSTEMD"


def unavailable(missing: str, skip_reason: str) -> NoReturn:
    """Fail under CI (`missing` says what), else skip with `skip_reason`."""
    if os.environ.get(REQUIRE_SYSTEMD) == "1":
        pytest.fail(f"{REQUIRE_SYSTEMD}=1 but {missing}")
    pytest.skip(skip_reason)


def program(*names: str, install: str) -> str:
    """The path of the first of `names` on PATH; else `unavailable`, naming how to install it."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    unavailable(f"{names[0]} is missing (SHADOWGATE_EXTRA_APT)", f"no {names[0]} ({install})")
