"""Env chains and process environments for the check tests: the env file alone decides, as on
a unit without drop-ins (tests/box/test_envchain_systemd.py checks the resolver against real
systemd)."""

from __future__ import annotations

from collections.abc import Mapping

from shadowgate.config import DEFAULT_ENV_FILE, DEFAULT_UNIT
from shadowgate.envchain import EnvChain, EnvFileRead, EnvFileRef
from shadowgate.envfile import EnvFile, parse_env
from shadowgate.host import ProcessEnv

UNIT_FILE = f"/etc/systemd/system/{DEFAULT_UNIT}"
DROP_IN = f"/etc/systemd/system/{DEFAULT_UNIT}.d/zz.conf"


def sole(env: EnvFile | str, path: str = DEFAULT_ENV_FILE, *more: tuple[str, str]) -> EnvChain:
    """The unit reads `path` holding `env`, then each (path, text) of `more` from a drop-in."""
    first = EnvFileRead(EnvFileRef(path, False, UNIT_FILE), _parsed(env))
    later = (EnvFileRead(EnvFileRef(p, True, DROP_IN), parse_env(t)) for p, t in more)
    drop_ins = (DROP_IN,) if more else ()
    return EnvChain(DEFAULT_UNIT, UNIT_FILE, drop_ins, (), (first, *later))


def process(env: Mapping[str, str] | None, error: str = "") -> ProcessEnv:
    return ProcessEnv(4242 if env is not None else None, env, error)


def _parsed(env: EnvFile | str) -> EnvFile:
    return parse_env(env) if isinstance(env, str) else env
