"""The hypothesis profiles. pyproject disables hypothesis's pytest plugin, so tests/conftest.py
loads one in code from SHADOWGATE_HYPOTHESIS_PROFILE: `default` (a developer's `./test`, fast)
or `fuzz` (`.ci/run`: every fuzz test at its CI budget, over 10,000 examples in all). Kept apart
from the fuzz support so that conftest imports nothing else for it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_ENV = "SHADOWGATE_HYPOTHESIS_PROFILE"
PROFILES = ("default", "fuzz")
_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def profile() -> str:
    """The profile this run asked for; an unknown name is an error, not a silent default."""
    name = os.environ.get(PROFILE_ENV) or "default"
    if name not in PROFILES:
        raise ValueError(f"{PROFILE_ENV}={name!r}: expected one of {', '.join(PROFILES)}")
    return name


def load_profile() -> str:
    """Register both profiles and load the one asked for (tests/conftest.py calls this)."""
    settings.register_profile("default", deadline=None)
    settings.register_profile("fuzz", deadline=None, print_blob=True, suppress_health_check=_SLOW)
    settings.load_profile(profile())
    return profile()


def budget(default: int, fuzz: int) -> settings:
    """A fuzz test's examples: `default` for a developer's run, `fuzz` under the CI profile."""
    return settings(
        max_examples=fuzz if profile() == "fuzz" else default,
        deadline=None,
        suppress_health_check=_SLOW,
    )
