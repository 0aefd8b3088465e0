"""What systemd delivers to the engine's unit: the whole chain, not the one env file we edit.

A drop-in can override the env file the runbook and the actions edit, and then the flag they
set is not what the engine gets. systemd builds a service's environment in this order, each
step overriding the one before (systemd.exec(5); tests/box/test_envchain_systemd.py checks every
form against the real systemd 252 in the test bed):

  1. the manager's environment (`systemctl show-environment`);
  2. Environment= of the unit file and its drop-ins, in order (an empty one resets the list);
  3. every EnvironmentFile=, in order, a later file overriding an earlier one and any file
     overriding Environment= (`-`: a missing file is skipped; an empty one resets the list);
  4. UnsetEnvironment= removes variables last.

`EnvChain` holds what the host showed (host.env_chain reads it) and says who decides a
variable, and whether an edit of one file would be what the engine gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from shadowgate.envfile import EnvFile

MANAGER = "systemd's manager environment (systemctl show-environment)"


@dataclass(frozen=True)
class EnvFileRef:
    """One EnvironmentFile= as systemd lists it (`systemctl show -p EnvironmentFiles`)."""

    path: str
    optional: bool  # the `-` prefix: a missing file is skipped
    declared_in: str = ""  # the unit file or drop-in that names it; "" when not found


@dataclass(frozen=True)
class EnvFileRead:
    """One EnvironmentFile= as read on the host: parsed, skipped (optional and missing), or
    why it cannot be read."""

    ref: EnvFileRef
    env: EnvFile | None  # None: not read
    error: str = ""  # why it cannot be read; "" when read or skipped


@dataclass(frozen=True)
class Delivery:
    """One variable as systemd delivers it, and who decides it."""

    key: str
    value: str | None  # None: the unit gets no such variable
    source: str  # who decides, in an operator's words
    path: str | None = None  # the env file that decides; None when no env file does
    unknown: str = ""  # why what systemd delivers cannot be told ("" when it can)

    def describe(self) -> str:
        """ "KEY='value' from SOURCE", or "no KEY (SOURCE)"."""
        if self.value is None:
            return f"no {self.key} ({self.source})"
        return f"{self.key}={self.value!r} from {self.source}"


@dataclass(frozen=True)
class EnvChain:
    """The unit's environment sources as systemd shows them, with every env file read."""

    unit: str
    fragment: str  # the unit file (FragmentPath)
    drop_ins: tuple[str, ...]  # DropInPaths, in the order systemd applies them
    environment: tuple[tuple[str, str], ...]  # Environment= as systemd merged it
    files: tuple[EnvFileRead, ...]  # EnvironmentFiles, in order
    environment_from: Mapping[str, str] = field(default_factory=dict)  # name -> file setting it
    manager: Mapping[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()  # UnsetEnvironment=, `NAME` or `NAME=VALUE`
    stale: bool = False  # NeedDaemonReload: the files on disk are not what systemd loaded

    def where(self, unit_file: str) -> str:
        """ "drop-in PATH" or "unit file PATH", as systemctl cat shows it."""
        if unit_file and unit_file in self.drop_ins:
            return f"drop-in {unit_file}"
        if unit_file and unit_file == self.fragment:
            return f"unit file {unit_file}"
        return "a unit file or drop-in (not found in systemctl cat)"

    def replaced(self, path: str, env: EnvFile) -> EnvChain:
        """The chain with `path` holding `env`: what systemd would deliver after an edit, a
        backup copied back or the rollback's echo."""
        files = tuple(
            EnvFileRead(read.ref, env) if read.ref.path == path else read for read in self.files
        )
        return replace(self, files=files)

    def delivered(self, key: str) -> Delivery:
        """`key` as the unit gets it at its next start, and who decides it."""
        found = Delivery(key, None, "nothing sets it")
        if key in self.manager:
            found = Delivery(key, self.manager[key], MANAGER)
        for name, value in self.environment:
            if name == key:
                where = self.where(self.environment_from.get(key, ""))
                found = Delivery(key, value, f"Environment={key}={value} in {where}")
        unknown = []
        for read in self.files:
            ref = read.ref
            listed = f"EnvironmentFile={'-' if ref.optional else ''}{ref.path}"
            if read.error:
                unknown.append(f"{listed} ({self.where(ref.declared_in)}): {read.error}")
            elif read.env is not None and read.env.systemd_error:
                unknown.append(f"{listed}: {read.env.systemd_error}")
            elif read.env is not None and (read_value := read.env.systemd_value(key)) is not None:
                line = read.env.flag_state(key).systemd_lineno
                source = f"{listed} (line {line}) in {self.where(ref.declared_in)}"
                found = Delivery(key, read_value, source, ref.path)
        for entry in self.unset:
            name, eq, value = entry.partition("=")
            if name == key and (not eq or value == found.value):
                found = Delivery(key, None, f"UnsetEnvironment={entry}")
        if self.stale:
            unknown.append(
                f"the unit files of {self.unit} changed since systemd loaded them "
                "(NeedDaemonReload=yes): run `systemctl daemon-reload`"
            )
        if unknown:
            why = "; ".join(unknown)
            found = replace(found, unknown=f"cannot tell what systemd delivers: {why}")
        return found

    def overrider(self, path: str, key: str) -> str:
        """ "" when `path` decides `key` (or nothing sets it and systemd reads `path`); else one
        line naming what decides instead and the value it delivers."""
        found = self.delivered(key)
        if found.path == path:
            return ""
        read = any(r.ref.path == path and r.env is not None for r in self.files)
        if found.value is None and read:
            return ""
        if not read:
            return (
                f"systemd does not read {path} for {self.unit} (no EnvironmentFile= names it, "
                f"or an empty EnvironmentFile= in a drop-in reset the list): it delivers "
                f"{found.describe()}"
            )
        gets = f"no {key}" if found.value is None else f"{key}={found.value!r}"
        return f"{found.source} overrides {path}: systemd delivers {gets}"

    def edit_refusal(self, path: str, after: EnvFile, key: str, want: str | None) -> str:
        """Why editing `path` into `after` would not give the engine `key`=`want` (None: no
        `key` at all), one line; "" when it would. An action refuses the edit then: writing a
        file that does not decide changes nothing the engine gets."""
        chain = self.replaced(path, after)
        found = chain.delivered(key)
        if found.unknown:
            return found.unknown
        if want is None:
            if found.value is None:
                return ""
            still = found.describe()
            return f"after removing {key} from {path}, systemd would still deliver {still}"
        if overridden := chain.overrider(path, key):
            return f"{path} does not decide {key}: {overridden}"
        if found.value != want:
            return f"after the edit systemd would deliver {key}={found.value!r} from {path}"
        return ""


def edit_refusals(
    chain: EnvChain, path: str, after: EnvFile, flag: str, model_key: str, remove: bool
) -> list[str]:
    """Why an action must not write `path` as `after` (activate: `remove` the flag; rollback:
    put it back true), one line each: the edit must be what the engine gets at its restart,
    the flag (and, for an activation, the model path) decided by `path` in the whole chain. A
    break-glass rollback is no exception: it names the file that decides instead of writing
    one that does not."""
    refusals = [chain.edit_refusal(path, after, flag, None if remove else "true")]
    if remove:
        model = after.systemd_value(model_key)
        refusals.append(chain.edit_refusal(path, after, model_key, model))
    return [
        f"{text} (fix that first; runbook s.4, s.6)" for text in dict.fromkeys(refusals) if text
    ]
