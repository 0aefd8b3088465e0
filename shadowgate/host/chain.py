"""The unit's whole environment chain as systemd shows it, every env file in it read: what
envchain.EnvChain judges (which file decides the flag, whether an edit would reach the engine).

systemd's own parse is taken where it exists (`systemctl show`: Environment= merged,
EnvironmentFiles in order); `systemctl cat` only says which unit file or drop-in wrote each.
"""

from __future__ import annotations

import re

import testinfra.host

from shadowgate.envchain import EnvChain, EnvFileRead, EnvFileRef
from shadowgate.envfile import parse_env
from shadowgate.host._base import HostError, name, run, stderr
from shadowgate.host.files import file_facts, read_text
from shadowgate.host.unit import show_lines

CAT_COMMAND = "LC_ALL=C systemctl cat -- %s"
MANAGER_COMMAND = "LC_ALL=C systemctl show-environment"
_LISTS = ("DropInPaths", "Environment", "EnvironmentFiles", "UnsetEnvironment")  # may be unshown
_PROPS = ("LoadState", "FragmentPath", "NeedDaemonReload", *_LISTS)
NAME_SET = re.compile(r"""(?:^|\s)["']?([A-Za-z_][A-Za-z0-9_]*)=""")
_WILDCARD = re.compile(r"[*?\[]")
# systemctl show quotes a word that needs it in "...", backslash-escaping " \ ` $ and writing
# control characters C-style (\t, \x1b, \033): a blank, a quoted run or a plain run at a time.
_TOKEN = re.compile(r'(\s+)|"((?:[^"\\]|\\.)*)"|([^\s"]+)', re.S)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.S)
_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape(m: re.Match[str]) -> str:
    code = m[1]
    if len(code) > 1:
        return chr(int(code[1:], 16) if code[0] in "xuU" else int(code, 8))
    return _C_ESCAPES.get(code, code)


def _words(value: str, what: str, unit: str) -> list[str]:
    """The words of a list property as systemctl show prints it (Environment=A=1 "B=a b")."""
    words: list[str] = []
    current: list[str] | None = None
    pos = 0
    while pos < len(value):
        if (m := _TOKEN.match(value, pos)) is None:
            raise HostError(f"unit {unit}: cannot read {what}={value!r}")
        pos = m.end()
        if m[1] is not None:
            if current is not None:
                words.append("".join(current))
            current = None
        else:
            part = m[3] if m[3] is not None else _ESCAPE.sub(_unescape, m[2])
            current = [*(current or []), part]
    if current is not None:
        words.append("".join(current))
    return words


def _file_ref(value: str, declared: dict[str, str]) -> EnvFileRef:
    """`/etc/quantum/local.env (ignore_errors=yes)` as systemctl show prints it."""
    path, _, flags = value.rpartition(" (ignore_errors=")
    if not path:
        path, flags = value, "no)"
    return EnvFileRef(path, flags == "yes)", declared.get(path, ""))


def _who_wrote(cat: str, unit_files: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """From `systemctl cat`: the unit file or drop-in that sets each Environment= name last,
    and that names each EnvironmentFile= last."""
    env_from: dict[str, str] = {}
    files_from: dict[str, str] = {}
    current, section, pending = "", "", ""
    for raw in cat.splitlines():
        if raw.startswith("# ") and raw[2:] in unit_files:
            current, section, pending = raw[2:], "", ""
            continue
        line = pending + raw.strip()
        if line.endswith("\\"):  # a continuation: the next line belongs to this one
            pending = line[:-1] + " "
            continue
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        if section != "[Service]":
            continue
        if key.strip() == "Environment":
            env_from.update((m, current) for m in NAME_SET.findall(value))
        elif key.strip() == "EnvironmentFile" and value.strip():
            files_from[value.strip().removeprefix("-")] = current
    return env_from, files_from


def _read(host: testinfra.host.Host, ref: EnvFileRef) -> EnvFileRead:
    """One env file as systemd would load it: skipped when optional and missing."""
    if _WILDCARD.search(ref.path):
        return EnvFileRead(ref, None, "is a wildcard, which shadowgate does not expand")
    try:
        facts = file_facts(host, ref.path)
        if not facts.exists and ref.optional:
            return EnvFileRead(ref, None)
        if not facts.exists:
            return EnvFileRead(ref, None, f"{facts.absence}: systemd will not start the unit")
        return EnvFileRead(ref, parse_env(read_text(host, ref.path)))
    except HostError as exc:
        return EnvFileRead(ref, None, str(exc))


def _cat(host: testinfra.host.Host, unit: str) -> str:
    result = run(host, CAT_COMMAND, unit)
    if result.rc != 0:
        raise HostError(f"systemctl cat {unit} failed on {name(host)}: {stderr(result)}")
    return result.stdout_bytes.decode("utf-8", "replace")


def _manager(host: testinfra.host.Host) -> dict[str, str]:
    result = run(host, MANAGER_COMMAND)
    if result.rc != 0:
        raise HostError(f"systemctl show-environment failed on {name(host)}: {stderr(result)}")
    lines = result.stdout_bytes.decode("utf-8", "replace").splitlines()
    return {k: v for k, eq, v in (line.partition("=") for line in lines) if eq}


def env_chain(host: testinfra.host.Host, unit: str) -> EnvChain:
    """Everything systemd will deliver to `unit` at its next start, read on the host."""
    shown = show_lines(host, unit, _PROPS, optional=_LISTS)
    single = dict.fromkeys(_LISTS, "") | dict(shown)
    drop_ins = tuple(single["DropInPaths"].split())
    env_from, files_from = _who_wrote(_cat(host, unit), {single["FragmentPath"], *drop_ins})
    refs = [_file_ref(v, files_from) for k, v in shown if k == "EnvironmentFiles" and v]
    environment = [w.partition("=") for w in _words(single["Environment"], "Environment", unit)]
    return EnvChain(
        unit=unit,
        fragment=single["FragmentPath"],
        drop_ins=drop_ins,
        environment=tuple((k, v) for k, _, v in environment),
        files=tuple(_read(host, ref) for ref in refs),
        environment_from=env_from,
        manager=_manager(host),
        unset=tuple(_words(single["UnsetEnvironment"], "UnsetEnvironment", unit)),
        stale=single["NeedDaemonReload"] == "yes",
    )
