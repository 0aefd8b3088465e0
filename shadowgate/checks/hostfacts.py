"""What the host-side rules (P1, P4, P6, P7, B4) share: an env key read as systemd delivers it
beside the runbook's anchored grep, findings folded into one status (anything unproven is
INCONCLUSIVE, never PASS), the model's load as the journal tells it, and the facts a record
keeps so that later phases compare against what this run saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from shadowgate.checks.row import Check
from shadowgate.config import Target
from shadowgate.envchain import EnvChain
from shadowgate.envfile import EnvFile, FlagState
from shadowgate.host import (
    FileFacts,
    JournalLine,
    ProcessEnv,
    UnitState,
    load_failure,
    loaded_weight,
    model_path_used,
    weights_loaded_from,
)
from shadowgate.verdict import Status, Verdict

if TYPE_CHECKING:
    from shadowgate.evidence import RunRecord

# The record's `facts` names (RunRecord.facts): A1 compares the model, S1 the unit; the chain
# says who decided the flag and the model path.
MODEL_FACT = "model"
UNIT_FACT = "unit"
CHAIN_FACT = "env_chain"
_SHOWN_LINES = 3  # anchored lines quoted in a message


@dataclass(frozen=True)
class Finding:
    """One reason a rule cannot pass: FAIL (proven bad) or INCONCLUSIVE (not proven good)."""

    status: Status
    text: str

    @classmethod
    def fail(cls, text: str) -> Finding:
        return cls(Status.FAIL, text)

    @classmethod
    def unproven(cls, text: str) -> Finding:
        return cls(Status.INCONCLUSIVE, text)


def fold(findings: Iterable[Finding]) -> Status:
    """FAIL if anything failed, else INCONCLUSIVE if anything is unproven, else PASS."""
    statuses = {f.status for f in findings}
    return next((s for s in (Status.FAIL, Status.INCONCLUSIVE) if s in statuses), Status.PASS)


def detail(findings: Sequence[Finding], notes: Iterable[str] = ()) -> str:
    """The findings, then the env file's surprises, as the verdict's detail line."""
    parts = ["; ".join(f.text for f in findings)]
    if notes := list(notes):
        parts.append(f"env file notes: {'; '.join(notes)}")
    return " | ".join(p for p in parts if p)


def precise(moment: datetime | None) -> str:
    """A time to the microsecond: a file changed 1 µs after the start must read as after."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC") if moment else "-"


@dataclass(frozen=True)
class KeyReading:
    """One key of an env file as systemd delivers it and as `grep "^KEY="` shows it."""

    state: FlagState
    findings: tuple[Finding, ...]

    @property
    def anchored(self) -> int:
        """How many lines `grep "^KEY="` prints."""
        return len(self.state.grep_lines)

    def views(self) -> str:
        """Both views side by side, as the verdict's `measured` shows them."""
        s, key = self.state, self.state.key
        sd = (
            f"systemd delivers {key}={s.systemd_value!r} (line {s.systemd_lineno})"
            if s.systemd_value is not None
            else f"systemd delivers no {key}"
        )
        shown = ", ".join(
            f"`{line.raw.rstrip(chr(13))}` (line {line.lineno})"
            for line in s.grep_lines[:_SHOWN_LINES]
        )
        more = ", ..." if self.anchored > _SHOWN_LINES else ""
        grep = f"{self.anchored} anchored {key}= line(s): {shown or 'none'}{more}"
        return f"{sd}; grep '^{key}=' shows {grep}"


def read_key(env: EnvFile, key: str, want: str | None, where: str = "") -> KeyReading:
    """`key` must reach the engine as `want` (None: any non-empty value), from exactly one
    anchored line that the runbook's grep and systemd agree on, in a file systemd accepts.
    `where` prefixes each finding ("backup: ")."""
    state = env.flag_state(key, want or "")
    value, problems = state.systemd_value, []
    if env.systemd_error:
        problems.append(env.systemd_error)
    if not value:
        problems.append(f"systemd sets no {key}" if value is None else f"{key} is empty")
    elif want is not None and value != want:
        problems.append(f"systemd delivers {key}={value!r}, not {want!r}")
    if len(state.grep_lines) != 1:
        problems.append(f"{len(state.grep_lines)} anchored {key}= lines, not exactly one")
    if not state.agree:
        problems.append(f"grep '^{key}=' and systemd disagree")
    return KeyReading(state, tuple(Finding.fail(where + p) for p in problems))


def chain_findings(chain: EnvChain, path: str, key: str, where: str = "") -> list[Finding]:
    """`path` (the env file the runbook and the actions edit) decides `key` in the whole chain
    systemd delivers; else a FAIL naming the drop-in or file that does, and its value. `where`
    prefixes each finding ("after the rollback's echo: ")."""
    found = chain.delivered(key)
    if found.unknown:
        return [Finding.unproven(where + found.unknown)]
    if overridden := chain.overrider(path, key):
        return [Finding.fail(f"{where}{overridden}; the runbook edits {path} (s.1, s.4, s.6)")]
    return []


def chain_view(chain: EnvChain, key: str) -> str:
    """`key` as the whole chain delivers it, for a verdict's `measured`."""
    found = chain.delivered(key)
    return f"{chain.unit} gets {found.describe()}" + (" (unproven)" if found.unknown else "")


def process_findings(
    process: ProcessEnv, chain: EnvChain, key: str, shadow: bool
) -> tuple[list[Finding], str]:
    """The flag as the engine's process really has it after the restart (`/proc/PID/environ`):
    that is what counts (R1: `true`; A1: absent or `false`), and it must be what the chain
    delivers now. Unreadable (not root) is INCONCLUSIVE, never a PASS."""
    if process.env is None:
        text = f"the engine's real environment is unknown: {process.error}"
        return [Finding.unproven(text)], text
    value = process.env.get(key)
    seen = f"MainPID {process.pid} has " + (f"no {key}" if value is None else f"{key}={value!r}")
    seen += f" (/proc/{process.pid}/environ)"
    findings = []
    if shadow and value != "true":
        findings.append(Finding.fail(f"{seen}: the engine is not in shadow"))
    elif not shadow and value is not None and value.strip().lower() == "true":
        findings.append(Finding.fail(f"{seen}: the engine is still in shadow"))
    elif not shadow and value not in (None, "false"):
        findings.append(Finding.unproven(f"{seen}: cannot tell how the engine reads it"))
    said = chain.delivered(key)
    if not said.unknown and said.value != value:
        findings.append(
            Finding.fail(
                f"{seen}, but {chain_view(chain, key)}: the files changed since the restart"
            )
        )
    return findings, seen


def shadow_flag_verdict(
    check: Check,
    env: EnvFile,
    target: Target,
    chain: EnvChain,
    process: ProcessEnv | None = None,
) -> Verdict:
    """The shadow flag on, as systemd delivers it and as the runbook's anchored grep shows it
    (P1 before activation, R1 after a rollback): the operator checks with grep, the engine reads
    through systemd, so both must say `true`, from exactly one line, in the env file that decides
    it in the whole chain (no drop-in or other file overriding it). After a restart (R1,
    `process`), the engine's real environment must have it too."""
    flag = target.shadow_flag
    reading = read_key(env, flag, "true")
    findings = [*reading.findings, *chain_findings(chain, target.env_file, flag)]
    measured = f"{reading.views()}; {chain_view(chain, flag)}"
    if process is not None:
        found, seen = process_findings(process, chain, flag, shadow=True)
        findings += found
        measured += f"; {seen}"
    return check.verdict(
        fold(findings),
        measured=measured,
        threshold=f"systemd delivers {flag}=true; one anchored ^{flag}= line; the two agree; "
        f"{target.env_file} decides it (no drop-in or other file overrides it)"
        + ("; the engine's process has it" if process is not None else ""),
        window=target.env_file,
        sample=reading.anchored,
        value=reading.anchored,
        detail=detail(findings, reading.state.notes),
    )


def rollback_findings(live: EnvFile, facts: FileFacts, flag: str) -> list[Finding]:
    """Would the runbook's rollback (s.6: `echo FLAG=true >> ENV_FILE`) put shadow mode back?"""
    found = []
    if not live.ends_with_newline:
        found.append(
            f"{facts.path} does not end with a newline: the rollback's echo would glue "
            f"{flag}=true onto its last line"
        )
    after = live.appended(f"{flag}=true").flag_state(flag)
    if (value := after.systemd_value) != "true":
        got = f"no {flag}" if value is None else f"{flag}={value!r}"
        why = f" ({'; '.join(after.notes)})" if after.notes else ""
        found.append(f"after the rollback's echo systemd would deliver {got}{why}")
    if not facts.writable:
        found.append(
            f"{facts.path} is not writable by the user running the checks: the "
            "runbook's sed -i and echo >> would fail"
        )
    return [Finding.fail(text) for text in found]


def file_findings(model: FileFacts, state: UnitState) -> list[Finding]:
    """The model file is there, readable, non-empty and unchanged (ctime) since the unit's last
    start, so the weights the engine holds are the file's."""
    found = [
        Finding.fail(f"{model.path} {text}")
        for bad, text in (
            (not model.exists, model.absence),
            (model.exists and not model.is_file, "is not a regular file"),
            (model.is_file and not model.readable, "is not readable by the checks' user"),
            (model.is_file and model.size == 0, "is empty"),
        )
        if bad
    ]
    if not model.exists:
        return found
    if model.is_file and model.readable and not model.sha256:
        found.append(Finding.unproven(f"no sha256 of {model.path} to record for A1"))
    if model.changed is None or state.started is None:
        why = f"cannot tell whether {model.path} changed since {state.unit} started"
        found.append(
            Finding.unproven(
                f"{why} (change {precise(model.changed)}, start {precise(state.started)})"
            )
        )
    elif model.changed > state.started:
        why = (
            f"{model.path} changed at {precise(model.changed)}, after {state.unit} started at "
            f"{precise(state.started)}: the engine may hold other weights than the file now does"
        )
        found.append(Finding.fail(why))
    return found


def load_findings(
    journal: Sequence[JournalLine], path: str, model: str
) -> tuple[list[Finding], str]:
    """What the journal since the unit's start says of the load: the agent chose `path`, read
    its weights, and never fell back (random weights, not found, error). The `[OK] ... loaded`
    line is printed even after a fallback, so it proves nothing; a silent journal proves
    nothing either (INCONCLUSIVE)."""
    failures = [(line, why) for line in journal if (why := load_failure(line.text, model))]
    chosen = [p for line in journal if (p := model_path_used(line.text, model))]
    read = [n for line in journal if (n := weights_loaded_from(line.text, model))]
    weights = [w for line in journal if (w := loaded_weight(line.text, model)) is not None]
    name, found = PurePosixPath(path).name, []
    for line, why in failures[:1]:
        text = f"load failure ({why}) at {precise(line.ts)}: {line.message[:160]!r}"
        found.append(Finding.fail(text))
    if other := [p for p in chosen if p != path]:
        found.append(Finding.fail(f"the agent chose {other[-1]}, not {path}"))
    elif not chosen:
        text = "no journal line since the start names the file the agent chose: cannot prove it"
        found.append(Finding.unproven(text + " is this one"))
    if other := [n for n in read if n not in (name, path)]:
        found.append(Finding.fail(f"weights loaded from {other[-1]}, not {name}"))
    elif not read:
        text = f"no `Model weights loaded from {name}` line since the start: cannot prove"
        found.append(Finding.unproven(text + " the weights were read"))
    summary = (
        f"journal since the start: {len(journal)} lines; file chosen "
        f"{chosen[-1] if chosen else 'not shown'}; weights loaded from "
        f"{read[-1] if read else 'not shown'}; {len(failures)} load failure line(s)"
        + (f"; agent loaded with weight {weights[-1]:g}%" if weights else "")
    )
    return found, summary


def model_fact(model: FileFacts) -> dict[str, Any]:
    """The model file as the record keeps it (A1: "loaded from the file whose sha256 ...")."""
    return {
        "path": model.path,
        "sha256": model.sha256,
        "size": model.size,
        "changed": model.changed.isoformat() if model.changed else None,
    }


def chain_fact(chain: EnvChain, target: Target) -> dict[str, Any]:
    """What the whole chain delivers of the flag and the model path, and who decides each."""
    keys = (target.shadow_flag, target.model_path_key)
    found = [chain.delivered(key) for key in keys]
    return {
        "drop_ins": list(chain.drop_ins),
        **{d.key: {"value": d.value, "source": d.source, "unknown": d.unknown} for d in found},
    }


def unit_fact(state: UnitState) -> dict[str, Any]:
    """The unit as the record keeps it (S1 and B4 compare InvocationID and NRestarts)."""
    return {
        "unit": state.unit,
        "invocation_id": state.invocation_id,
        "n_restarts": state.n_restarts,
        "started": state.started.isoformat() if state.started else None,
    }


@dataclass(frozen=True)
class PreviousUnit:
    """The unit as the previous preactivation record of the same target saw it."""

    run_id: str
    finished_at: str
    invocation_id: str | None  # None: the record holds no unit facts
    n_restarts: int | None

    @classmethod
    def latest(cls, records: Sequence[RunRecord], target: Target) -> PreviousUnit | None:
        """From the newest preactivation record of `target`; None when there is none."""
        mine = [
            r for r in records if r.phase == "preactivation" and dict(r.target) == target.describe()
        ]
        if not mine:
            return None
        record = mine[-1]
        unit = record.facts.get(UNIT_FACT)
        unit = unit if isinstance(unit, dict) else {}
        restarts = unit.get("n_restarts")
        return cls(
            record.run_id,
            record.finished_at,
            unit.get("invocation_id") or None,
            restarts if isinstance(restarts, int) else None,
        )

    def compare(self, now: UnitState) -> tuple[str, Finding | None]:
        """What changed since this record: a growth of NRestarts within the same invocation
        fails; a new invocation is reported (the restart window and P4 judge restarts)."""
        seen = f"previous record {self.run_id} ({self.finished_at})"
        if self.invocation_id is None or self.n_restarts is None:
            return f"{seen} holds no unit facts (written before records kept them)", None
        counts = f"NRestarts {self.n_restarts} -> {now.n_restarts}"
        if self.invocation_id == now.invocation_id:
            text = f"{seen}: same InvocationID, {counts}"
            grew = now.n_restarts > self.n_restarts
            return text, Finding.fail(f"NRestarts grew since {seen}") if grew else None
        how = (
            f"this run began with an automatic restart at {precise(now.started)}"
            if now.n_restarts
            else "this run was started by hand"
        )
        return f"{seen}: restarted since (InvocationID changed, {counts}); {how}", None
