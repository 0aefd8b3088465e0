"""The run record: what one run of the suite found, typed, and the exact JSON the log keeps.

The JSON is an audit format that people and tools outside this code read, so fields are only
ever added, never renamed or re-meant; `schema` counts the additions (records without it are
version 1, written before each check carried its phases; version 2 has no `facts`, version 3
no `unevaluated`).
`from_dict` reads them all.

    schema              4 (absent: 1)
    run_id              sortable, unique (`new_run_id`); also the stem of the run's files
    phase               the single phase marker the run selected (`-m preactivation`), or null
    markexpr, keyword   the run's `-m` and `-k` expressions as given
    started_at          ISO-8601 UTC with "Z" (`iso_utc`)
    finished_at         ISO-8601 UTC with "Z": freshness is measured from here
    operator            who ran it ($SUDO_USER / $USER, or --operator)
    target              Target.describe(): redis_url (no password), stream, outcomes_stream,
                        unit, env_file, model
    thresholds_digest   Thresholds.digest() of the effective thresholds
    overrides           the --set overrides {key: value}
    suite_version       shadowgate.__version__
    strategy            {approved_by, weight, confidence_cap, observation_hours}: the command
                        line's before activation; after it, T+0's activation record's
                        (shadowgate/strategy.py; `facts.strategy` says which)
    checks              [{nodeid, id, outcome, title, status, measured, value, threshold,
                          sample, window, section, detail, evidence, phases}]
                        (Verdict.as_record() + pytest's nodeid and outcome + the test's phase
                        markers; status NOT EVALUATED when no verdict was reached)
    complete            true only if every catalog check of the phase was evaluated: its test
                        body judged a verdict (no -k, nothing deselected, skipped that is
                        required, or left without a verdict: `unevaluated`)
    incomplete_reasons  [str], why it is not complete
    passed              true only if the run passed
    decision            "GO" / "NO-GO" (preactivation); "OK" / "STOP" / "NOT OK" /
                        "INCONCLUSIVE" (monitoring windows: wording.decision); "OK" / "STOP"
                        (other phases); or null
    causes              [str], the data sources that could not be read, in operator words
    facts               {name: JSON}, what later phases compare against, as observed by this
                        run: "model" {path, sha256, size, changed}, "unit" {unit,
                        invocation_id, n_restarts, started} (see checks/hostfacts.py),
                        "strategy" {source, overruled} (where `strategy` came from); {} when
                        nothing was observed (schema < 3: absent, read as {})
    unevaluated         {check ID: why}: each catalog check of the phase without a verdict
                        its test body judged (not collected, deselected, body never ran under
                        --setup-only, skipped by a plugin, source failed); {} when every one
                        was evaluated (schema < 4: absent, read as {})
    files               {html, html_sha256, junit, junit_sha256}: names relative to the
                        reports dir, null where the run had no such report  (set by the log)
    anchor              {journal: HOSTNAME} when the line's sha256 goes to the engine host's
                        journal, else {journal: null, why: str}  (set by the log; absent in
                        records written before anchors)
    previous_sha256     sha256 of the previous log line ("0" * 64 for the first record)
                        (set by the log)
    bundle              {file, sha256}: the replay bundle the run captured beside it, covered
                        by the chain as the reports are (set by the log; absent when none)
    replay              {bundle, sha256, run_id, phase}: this run judged a captured bundle, not
                        the engine: it arms nothing, counts toward no state and is never
                        anchored (set by the log; absent in live runs)
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from shadowgate.verdict import Status, Verdict
from shadowgate.wording import NOT_EVALUATED, decision

SCHEMA = 4

_CHECK_KEYS = ("nodeid", "id", "outcome", "title", "status", "measured", "value", "threshold",
               "sample", "window", "section", "detail", "evidence")  # fmt: skip
_RECORD_KEYS = ("run_id", "phase", "markexpr", "keyword", "started_at", "finished_at",
                "operator", "target", "thresholds_digest", "overrides", "suite_version",
                "strategy", "checks", "complete", "incomplete_reasons", "passed", "decision",
                "causes")  # fmt: skip


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; ValueError for a naive time, whose zone nobody can know."""
    if moment.tzinfo is None:
        raise ValueError(f"time must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """A time as records store it: 2026-11-26T06:30:00Z."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id(phase: str | None, now: datetime) -> str:
    """`20261126T063000Z-preactivation-1a2b3c`: sorts by start time, random tail for uniqueness."""
    label = re.sub(r"[^A-Za-z0-9_]+", "-", phase or "").strip("-") or "run"
    return f"{utc(now):%Y%m%dT%H%M%SZ}-{label}-{secrets.token_hex(3)}"


def _require(data: object, keys: Iterable[str], what: str) -> Mapping[str, Any]:
    """`data` if it is a JSON object holding `keys`; ValueError naming what is missing."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a {what} must be a JSON object, got {type(data).__name__}")
    missing = [key for key in keys if key not in data]
    if missing:
        raise ValueError(f"not a {what}: no {', '.join(missing)}")
    return data


def _mapping_or_none(value: object) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _replay_of(d: Mapping[str, Any]) -> dict[str, Any] | None:
    """A record's `replay`; any value there, even a malformed one, makes it a replay (one
    that arms nothing)."""
    if "replay" not in d:
        return None
    return _mapping_or_none(d["replay"]) or {"said": d["replay"]}


def _strings(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError(f"{key} must be a list, got {type(value).__name__}")
    return tuple(map(str, value))


@dataclass(frozen=True)
class CheckEntry:
    """One check of a run: pytest's nodeid and outcome, the Verdict its test judged (None when
    none was reached, `cause` saying why), and the phase markers the test carried (which checks
    arm a rollback is asked of these, not of the run's `-m`). The JSON lays the verdict's fields
    out flat beside them, as Verdict.as_record() names them."""

    nodeid: str
    check_id: str  # "id" in the JSON: the verdict's own when there is one
    outcome: str  # passed / skipped / failed: the worst over setup, call and teardown
    verdict: Verdict | None  # None: NOT_EVALUATED
    cause: str | None = None  # without a verdict: why (the source that failed, the skip reason)
    phases: tuple[str, ...] = ()  # empty in schema 1 records: not recorded then

    @classmethod
    def judged(
        cls, nodeid: str, outcome: str, verdict: Verdict, phases: Iterable[str]
    ) -> CheckEntry:
        """A check that reached its verdict (whatever pytest's outcome)."""
        return cls(nodeid, verdict.check_id, outcome, verdict, phases=tuple(phases))

    @classmethod
    def not_evaluated(
        cls, nodeid: str, check_id: str, outcome: str, cause: str, phases: Iterable[str]
    ) -> CheckEntry:
        """A check whose data source failed, or that was skipped before its verdict."""
        return cls(nodeid, check_id, outcome, None, cause, tuple(phases))

    @property
    def evaluated(self) -> bool:
        """Its test body judged a verdict (PASS/WARN/FAIL/INCONCLUSIVE/DEFERRED)."""
        return self.verdict is not None

    @property
    def status(self) -> str:
        """The verdict's status word; NOT_EVALUATED without a verdict."""
        return NOT_EVALUATED if self.verdict is None else self.verdict.status.value

    def to_dict(self) -> dict[str, Any]:
        """The entry as the log keeps it: the verdict's fields, null without one."""
        verdict = (
            self.verdict.as_record()
            if self.verdict is not None
            else {"status": NOT_EVALUATED, "detail": self.cause, "evidence": []}
        )
        own = {"nodeid": self.nodeid, "id": self.check_id, "outcome": self.outcome}
        return dict.fromkeys(_CHECK_KEYS) | verdict | own | {"phases": list(self.phases)}

    @classmethod
    def from_dict(cls, data: object) -> CheckEntry:
        """An entry as the log holds it, any schema; ValueError if it is not one."""
        d = _require(data, _CHECK_KEYS, "check entry")
        phases = _strings(d.get("phases", ()), "phases")
        if d["status"] == NOT_EVALUATED:
            return cls(d["nodeid"], d["id"], d["outcome"], None, d["detail"], phases)
        if d["status"] not in tuple(Status):
            raise ValueError(f"not a check entry: status {d['status']!r}")
        verdict = Verdict(
            d["id"], d["title"], Status(d["status"]), d["measured"], d["threshold"],
            d["section"], d["window"], d["sample"], d["detail"], d["value"],
            _strings(d["evidence"], "evidence"),
        )  # fmt: skip
        return cls(d["nodeid"], d["id"], d["outcome"], verdict, phases=phases)


@dataclass(frozen=True)
class RunRecord:
    """One run of the suite as the decision log keeps it (fields: the module docstring)."""

    run_id: str
    phase: str | None
    markexpr: str | None
    keyword: str | None
    started_at: str
    finished_at: str
    operator: str | None
    target: Mapping[str, Any]
    thresholds_digest: str
    overrides: Mapping[str, Any]
    suite_version: str
    strategy: Mapping[str, Any]
    checks: tuple[CheckEntry, ...]
    complete: bool
    incomplete_reasons: tuple[str, ...]
    passed: bool
    decision: str | None
    causes: tuple[str, ...]
    files: Mapping[str, str | None] | None = None  # None until the log appends it
    previous_sha256: str | None = None  # None until the log appends it
    schema: int = SCHEMA
    facts: Mapping[str, Any] = field(default_factory=dict)
    anchor: Mapping[str, Any] | None = None  # None until the log appends it, or before anchors
    unevaluated: Mapping[str, str] = field(default_factory=dict)  # schema >= 4
    bundle: Mapping[str, Any] | None = None  # {file, sha256}: the replay bundle it captured
    replay: Mapping[str, Any] | None = None  # a replay of a bundle: never arms, never anchored

    @property
    def is_replay(self) -> bool:
        """A replay judged a bundle, not the engine: it never arms an action nor counts toward
        the lifecycle (ARCHITECTURE.md "Replay")."""
        return self.replay is not None

    def finished(self) -> datetime | None:
        """`finished_at` as a UTC time; None if it is not an ISO-8601 time with a zone."""
        try:
            moment = datetime.fromisoformat(self.finished_at)
        except (TypeError, ValueError):
            return None
        return moment.astimezone(UTC) if moment.tzinfo is not None else None

    def not_evaluated(self, required: Iterable[str]) -> tuple[str, ...]:
        """The IDs of `required` (the catalog checks of a phase) this record holds no
        evaluated verdict of, or an entry without one: a run that cannot count toward any
        state (ARCHITECTURE.md "The lifecycle"), whatever its `complete` says; any schema."""
        judged = {c.check_id for c in self.checks if c.evaluated}
        unjudged = {c.check_id for c in self.checks if not c.evaluated}
        return tuple(i for i in required if i not in judged or i in unjudged)

    def carrying(self, phase: str) -> tuple[CheckEntry, ...]:
        """The checks whose test carried the `phase` marker."""
        return tuple(check for check in self.checks if phase in check.phases)

    def incomplete(self, reason: str) -> RunRecord:
        """This record found incomplete after all: it can no longer say GO / OK."""
        return replace(
            self,
            complete=False,
            incomplete_reasons=(*self.incomplete_reasons, reason),
            decision=decision(self.phase, False, self.checks) if self.phase else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as the log stores it (`files` and `previous_sha256` once appended)."""
        data = {
            "schema": self.schema,
            "run_id": self.run_id,
            "phase": self.phase,
            "markexpr": self.markexpr,
            "keyword": self.keyword,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "operator": self.operator,
            "target": dict(self.target),
            "thresholds_digest": self.thresholds_digest,
            "overrides": dict(self.overrides),
            "suite_version": self.suite_version,
            "strategy": dict(self.strategy),
            "checks": [check.to_dict() for check in self.checks],
            "complete": self.complete,
            "incomplete_reasons": list(self.incomplete_reasons),
            "passed": self.passed,
            "decision": self.decision,
            "causes": list(self.causes),
        }
        if self.schema >= 3:  # an older record read back keeps its exact shape
            data["facts"] = dict(self.facts)
        if self.schema >= 4:
            data["unevaluated"] = dict(self.unevaluated)
        if self.files is not None:
            data["files"] = dict(self.files)
        if self.anchor is not None:
            data["anchor"] = dict(self.anchor)
        if self.previous_sha256 is not None:
            data["previous_sha256"] = self.previous_sha256
        for name in ("bundle", "replay"):
            if (value := getattr(self, name)) is not None:
                data[name] = dict(value)
        return data

    @classmethod
    def from_dict(cls, data: object) -> RunRecord:
        """A record as the log holds it, any schema; ValueError if it is not a run record
        (another kind of line, or damaged: `verify` is what judges the log)."""
        d = _require(data, _RECORD_KEYS, "run record")
        for key in ("target", "overrides", "strategy"):
            if not isinstance(d[key], Mapping):
                raise ValueError(f"{key} must be a JSON object, got {type(d[key]).__name__}")
        if not isinstance(d["checks"], list | tuple):
            raise ValueError(f"checks must be a list, got {type(d['checks']).__name__}")
        files, facts, anchor = d.get("files"), d.get("facts", {}), d.get("anchor")
        if not isinstance(facts, Mapping):
            raise ValueError(f"facts must be a JSON object, got {type(facts).__name__}")
        unevaluated = d.get("unevaluated", {})
        if not isinstance(unevaluated, Mapping):
            raise ValueError(f"unevaluated must be a JSON object, got {type(unevaluated).__name__}")
        return cls(
            d["run_id"], d["phase"], d["markexpr"], d["keyword"], d["started_at"],
            d["finished_at"], d["operator"], dict(d["target"]), d["thresholds_digest"],
            dict(d["overrides"]), d["suite_version"], dict(d["strategy"]),
            tuple(CheckEntry.from_dict(c) for c in d["checks"]), d["complete"],
            _strings(d["incomplete_reasons"], "incomplete_reasons"), d["passed"],
            d["decision"], _strings(d["causes"], "causes"),
            dict(files) if isinstance(files, Mapping) else None, d.get("previous_sha256"),
            d.get("schema", 1), dict(facts),
            anchor=dict(anchor) if isinstance(anchor, Mapping) else None,
            unevaluated={str(k): str(v) for k, v in unevaluated.items()},
            bundle=_mapping_or_none(d.get("bundle")),
            replay=_replay_of(d),
        )  # fmt: skip


def latest_before(
    records: Sequence[RunRecord], phase: str, target: Mapping[str, Any], moment: datetime
) -> RunRecord | None:
    """The newest `phase` record of `target` finished at or before `moment`: what a later
    phase compares against (a preactivation record after T+0 saw the model voting)."""
    for record in reversed(records):
        finished = record.finished()
        if (
            record.phase == phase
            and dict(record.target) == dict(target)
            and finished is not None
            and finished <= moment
        ):
            return record
    return None
