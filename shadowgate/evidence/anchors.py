"""Where the post-activation clocks start: T+0 (the activation's restart) and the rollback's
start and restart, from the actions' records in the decision log or from the operator.

The actions (issue "Actions") append records of their own to the same chain, told apart from
run records by an `action` key: `"activate"` or `"rollback"`, with `started_at`, `restarted_at`
(ISO-8601 UTC, to the microsecond), `invocation_id` (the unit's InvocationID after the
restart) and `target`. An activation done by hand has no such record: the operator gives
`--activated-at` (or `--rollback-started-at`). When both exist the later one wins, since a
manual activation after a scripted one is the activation in force; the anchor says which it
used, so the run can record it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shadowgate.evidence.log import records

ACTIVATE = "activate"
ROLLBACK = "rollback"
T0_FACT = "t0"  # the record's `facts` name of the T+0 a run measured from
ROLLBACK_FACT = "rollback"  # the record's `facts` name of the rollback a run measured from


@dataclass(frozen=True)
class Anchor:
    """A moment a post-activation check measures from, and where it came from."""

    at: datetime  # UTC
    source: str  # "activation record <run_id>" or "--activated-at"
    invocation_id: str | None = None  # the unit's InvocationID after that restart, if known
    started_at: datetime | None = None  # when the action began (rollback: R4's clock)
    # the activation's strategy as its record holds it (None: by hand, or none recorded)
    strategy: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def ms(self) -> int:
        return int(self.at.timestamp() * 1000)

    def describe(self) -> str:
        return f"{self.at.isoformat(timespec='seconds').replace('+00:00', 'Z')} ({self.source})"

    def fact(self) -> dict[str, str | None]:
        """What a run records of the anchor it measured from (`facts`), for an auditor."""
        began = None if self.started_at is None else self.started_at.isoformat()
        return {
            "at": self.at.isoformat(),
            "started_at": began,
            "source": self.source,
            "invocation_id": self.invocation_id,
        }


def parse_moment(text: str) -> datetime:
    """An ISO-8601 time as UTC; a time without a zone is taken as UTC (say so in --help).
    ValueError names what is wrong."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO-8601 time: {text!r} (e.g. 2026-11-27T14:05:00Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def source_of(kind: str, run_id: object) -> str:
    """How an anchor names the action record it came from (a run's facts keep it)."""
    return f"{kind} record {run_id}"


def _from_record(record: Mapping[str, Any], kind: str) -> Anchor | None:
    try:
        at = parse_moment(str(record["restarted_at"]))
        started = record.get("started_at")
        began = parse_moment(str(started)) if started else None
    except (KeyError, ValueError):
        return None
    run_id = record.get("run_id", "?")
    strategy = record.get("strategy")
    kept = dict(strategy) if isinstance(strategy, Mapping) else None
    return Anchor(at, source_of(kind, run_id), record.get("invocation_id"), began, kept)


def latest_action(
    reports_dir: Path,
    kind: str,
    target: Mapping[str, Any] | None = None,
    among: Sequence[Mapping[str, Any]] | None = None,
) -> Anchor | None:
    """The restart of the latest `kind` action record (for `target`'s unit, when given), of
    `among` (the verified chain's records) or else of every readable line of the log."""
    for record in reversed(records(Path(reports_dir)) if among is None else among):
        if record.get("action") != kind:
            continue
        recorded = record.get("target")
        if (
            target is not None
            and isinstance(recorded, Mapping)
            and recorded.get("unit") != target.get("unit")
        ):
            continue
        anchor = _from_record(record, kind)
        if anchor is not None:
            return anchor
    return None


def resolve(
    reports_dir: Path,
    kind: str,
    given: datetime | None,
    option: str,
    target: Mapping[str, Any] | None = None,
    among: Sequence[Mapping[str, Any]] | None = None,
) -> Anchor | None:
    """The later of the latest `kind` record's restart (of `among`, as `latest_action`) and the
    operator's `given` time (named by `option`); None when neither exists."""
    recorded = latest_action(reports_dir, kind, target, among)
    manual = None if given is None else Anchor(given, option, started_at=given)
    candidates = [a for a in (recorded, manual) if a is not None]
    return max(candidates, key=lambda a: a.at) if candidates else None
