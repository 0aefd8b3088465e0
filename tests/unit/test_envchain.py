"""envchain without systemd: resolving a unit's Environment=, drop-ins and env files from the text
systemd shows, and naming what decides each variable."""

from __future__ import annotations

from shadowgate.envchain import EnvChain, EnvFileRead, EnvFileRef
from shadowgate.envfile import parse_env
from tests.support.envfile_reference import FLAG

ENV = "/etc/quantum/ai-engine.env"


def chain_of(*files: tuple[str, str | None], environment=(), unset=()) -> EnvChain:
    """A chain of env files (path, text; None: an optional file that is missing)."""
    reads = tuple(
        EnvFileRead(EnvFileRef(path, text is None, "/u.service"), None if text is None else
                    parse_env(text))
        for path, text in files
    )  # fmt: skip
    return EnvChain("u.service", "/u.service", ("/u.service.d/zz.conf",), tuple(environment),
                    reads, {FLAG: "/u.service.d/zz.conf"}, {}, tuple(unset))  # fmt: skip


def test_the_env_file_alone_decides() -> None:
    chain = chain_of((ENV, f"{FLAG}=true\n"))
    found = chain.delivered(FLAG)
    assert (found.value, found.path, found.unknown) == ("true", ENV, "")
    assert found.source == f"EnvironmentFile={ENV} (line 1) in unit file /u.service"
    assert chain.overrider(ENV, FLAG) == ""


def test_a_later_file_overrides_and_is_named() -> None:
    chain = chain_of((ENV, f"{FLAG}=true\n"), ("/etc/quantum/local.env", f"{FLAG}=false\n"))
    assert chain.overrider(ENV, FLAG) == (
        "EnvironmentFile=/etc/quantum/local.env (line 1) in unit file /u.service overrides "
        f"{ENV}: systemd delivers {FLAG}='false'"
    )


def test_an_env_file_not_read_is_said() -> None:
    chain = chain_of(environment=[(FLAG, "false")])
    assert chain.overrider(ENV, FLAG).startswith(f"systemd does not read {ENV} for u.service")
    assert f"{FLAG}='false' from Environment={FLAG}=false in drop-in" in chain.overrider(ENV, FLAG)


def test_an_unreadable_file_in_the_chain_makes_it_unknown() -> None:
    unreadable = EnvFileRead(EnvFileRef("/etc/quantum/local.env", True), None, "not readable")
    chain = chain_of((ENV, f"{FLAG}=true\n"))
    chain = EnvChain("u.service", "/u.service", (), (), (*chain.files, unreadable))
    assert chain.delivered(FLAG).unknown.startswith("cannot tell what systemd delivers: ")
    assert chain.edit_refusal(ENV, parse_env(f"{FLAG}=true\n"), FLAG, "true")


def test_edit_refusal_simulates_the_edit() -> None:
    """Removing the flag from the env file leaves an Environment= true behind: refused."""
    chain = chain_of((ENV, f"{FLAG}=true\nA=1\n"), environment=[(FLAG, "true")])
    refusal = chain.edit_refusal(ENV, parse_env("A=1\n"), FLAG, None)
    assert refusal.startswith(f"after removing {FLAG} from {ENV}, systemd would still deliver")
    assert chain.edit_refusal(ENV, parse_env(f"{FLAG}=true\n"), FLAG, "true") == ""
