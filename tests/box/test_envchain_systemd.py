"""envchain against the real systemd (252, in the test bed): who decides a variable among the unit
file, its drop-ins and every env file, form by form as systemd gives a started unit; the main
process's environment, read as root only."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadowgate import host, waiting
from shadowgate.testbed import installer, sdbox
from tests.support.envfile_reference import FLAG

CASES = {
    # name -> (unit [Service] lines, {drop-in name: text}, {env file name: text})
    "Environment= only": ([f"Environment={FLAG}=env"], {}, {}),
    "several EnvironmentFile= in order": (
        ["EnvironmentFile={d}/a.env", "EnvironmentFile={d}/b.env"], {},
        {"a.env": f"{FLAG}=a\nB=a\n", "b.env": f"{FLAG}=b\n"}),
    "optional missing file skipped": (
        ["EnvironmentFile={d}/a.env", "EnvironmentFile=-{d}/missing.env"], {},
        {"a.env": f"{FLAG}=a\n"}),
    "drop-in adds an optional env file (issue form 1)": (
        ["EnvironmentFile={d}/a.env"], {"zz.conf": "EnvironmentFile=-{d}/local.env"},
        {"a.env": f"{FLAG}=true\n", "local.env": f"{FLAG}=false\n"}),
    "drop-in resets the list and sets Environment= (issue form 2)": (
        ["EnvironmentFile={d}/a.env"],
        {"zz.conf": f"EnvironmentFile=\nEnvironment={FLAG}=false"},
        {"a.env": f"{FLAG}=true\n"}),
    "env file beats Environment=": (
        ["EnvironmentFile={d}/a.env"], {"zz.conf": f"Environment={FLAG}=env"},
        {"a.env": f"{FLAG}=file\n"}),
    "later drop-in wins": (
        [f"Environment={FLAG}=unit"],
        {"10-a.conf": f"Environment={FLAG}=one", "20-b.conf": f"Environment={FLAG}=two"}, {}),
    "UnsetEnvironment= removes it last": (
        ["EnvironmentFile={d}/a.env"], {"zz.conf": f"UnsetEnvironment={FLAG}"},
        {"a.env": f"{FLAG}=true\n"}),
    "quoted Environment= values": (
        ["Environment=\"B=a b\" 'C=x\"y' D=plain E=$$HOME \"F=a\\\\b\" \"G=tab\\there\"",
         f"Environment={FLAG}=q"], {}, {}),
}  # fmt: skip


KEYS = (FLAG, "B", "C", "D", "E", "F", "G")


DECIDERS = {  # name -> who decides FLAG, as the resolver must say it
    "Environment= only": "Environment=PATCHTST_SHADOW_ONLY=env in unit file",
    "several EnvironmentFile= in order": "b.env (line 1) in unit file",
    "optional missing file skipped": "a.env (line 1) in unit file",
    "drop-in adds an optional env file (issue form 1)": "local.env (line 1) in drop-in",
    "drop-in resets the list and sets Environment= (issue form 2)": "false in drop-in",
    "env file beats Environment=": "a.env (line 1) in unit file",
    "later drop-in wins": "two in drop-in",
    "UnsetEnvironment= removes it last": "UnsetEnvironment=PATCHTST_SHADOW_ONLY",
    "quoted Environment= values": "Environment=PATCHTST_SHADOW_ONLY=q in unit file",
}


def _install(box: sdbox.SystemdBox, work: Path) -> list[str]:
    """One oneshot unit per case that dumps its environment; one daemon-reload for all."""
    units = []
    for n, (lines, drop_ins, files) in enumerate(CASES.values()):
        case = work / str(n)
        case.mkdir()
        for file, text in files.items():
            (case / file).write_text(text)
        unit = f"chain-{n}.service"
        body = "\n".join(line.format(d=case) for line in lines)
        box.write_file(
            f"{sdbox.UNIT_DIR}/{unit}",
            f"[Service]\nType=oneshot\n{body}\nExecStart=/usr/bin/env -0\n"
            f"StandardOutput=truncate:{case}/dump\n",
        )
        box.installed_units.add(unit)
        for name, text in drop_ins.items():
            box.write_file(
                f"{sdbox.UNIT_DIR}/{unit}.d/{name}", f"[Service]\n{text.format(d=case)}\n"
            )
        units.append(unit)
    box.systemctl("daemon-reload")
    return units


@pytest.fixture
def chain_units(box, tmp_path):
    """The cases' units installed; their drop-in dirs removed after (the box removes units)."""
    units = _install(box, tmp_path)
    yield units
    box.exec(["rm", "-rf", "--", *(f"{sdbox.UNIT_DIR}/{unit}.d" for unit in units)], check=True)


@pytest.mark.systemd
def test_every_form_resolves_as_systemd_delivers(box, box_host, tmp_path, chain_units) -> None:
    chains = [host.env_chain(box_host, unit) for unit in chain_units]
    box.systemctl("start", *chain_units)
    wrong = []
    for n, (name, chain) in enumerate(zip(CASES, chains, strict=True)):
        dump = (tmp_path / str(n) / "dump").read_bytes().decode()
        real = dict(item.split("=", 1) for item in dump.split("\0") if item)
        for key in KEYS:
            found = chain.delivered(key)
            if found.unknown or found.value != real.get(key):
                wrong.append((name, key, found, real.get(key)))
        if DECIDERS[name] not in chain.delivered(FLAG).source:
            wrong.append((name, "source", chain.delivered(FLAG).source))
    assert wrong == []
    form1 = chains[3].overrider(str(tmp_path / "3" / "a.env"), FLAG)
    assert form1 == (
        f"EnvironmentFile=-{tmp_path}/3/local.env (line 1) in drop-in {sdbox.UNIT_DIR}/"
        f"chain-3.service.d/zz.conf overrides {tmp_path}/3/a.env: systemd delivers {FLAG}='false'"
    )
    form2 = chains[4].overrider(str(tmp_path / "4" / "a.env"), FLAG)
    assert form2.startswith(f"systemd does not read {tmp_path}/4/a.env for chain-4.service")


@pytest.mark.systemd
def test_a_stale_unit_is_unknown_until_reloaded(box, box_host) -> None:
    """A drop-in changed, no daemon-reload: what the files say is not what systemd loaded."""
    drop_in = f"{sdbox.UNIT_DIR}/stale.service.d/zz.conf"
    box.write_file(drop_in, f"[Service]\nEnvironment={FLAG}=true\n")
    box.install_unit("stale.service", "[Service]\nExecStart=sleep 600\n")
    box.systemctl("start", "stale.service")
    try:
        assert host.env_chain(box_host, "stale.service").delivered(FLAG).unknown == ""
        box.write_file(drop_in, f"[Service]\nEnvironment={FLAG}=false\n")
        found = host.env_chain(box_host, "stale.service").delivered(FLAG)
        assert "NeedDaemonReload=yes" in found.unknown
    finally:
        box.exec(["rm", "-rf", "--", f"{sdbox.UNIT_DIR}/stale.service.d"], check=True)


@pytest.mark.systemd
def test_the_main_process_environment_is_read_as_root_only(box, box_host) -> None:
    """A1/R1 read /proc/<MainPID>/environ; as another user it is said unreadable, not guessed."""
    box.install_unit(
        "proc.service", f"[Service]\nEnvironment={FLAG}=false\nExecStart=/bin/sleep 600\n"
    )
    box.systemctl("start", "proc.service")
    state = host.unit_state(box_host, "proc.service")
    got = host.process_environment(box_host, state)
    assert got.pid == state.main_pid and got.env is not None and got.env[FLAG] == "false"
    other = host.process_environment(box.testinfra_host(user="nobody"), state)
    assert other.env is None and "is not readable by the user running the checks" in other.error


@pytest.mark.systemd
def test_the_stand_in_engine_votes_when_a_drop_in_delivers_false(engine_unit, box, box_host):
    """The test bed's drop-in (issue 19 form 1): the engine gets false, votes, and the chain
    names the drop-in's env file as what decides."""
    engine_unit(drop_ins=installer.DROP_IN_LOCAL_ENV, local_env=f"{FLAG}=false\n")
    argv = ["journalctl", "-u", installer.ENGINE_UNIT, "-o", "cat", "--no-pager"]
    journal = waiting.poll(lambda: box.exec(argv).stdout, lambda out: "mode from" in out, 20).value
    assert "mode from environment (systemd): voting" in journal, journal
    state = host.unit_state(box_host, installer.ENGINE_UNIT)
    assert host.process_environment(box_host, state).env[FLAG] == "false"
    found = host.env_chain(box_host, installer.ENGINE_UNIT).delivered(FLAG)
    zz = f"{installer.DROP_IN_DIR}/zz.conf"
    assert found.source == f"EnvironmentFile=-{installer.LOCAL_ENV} (line 1) in drop-in {zz}"
