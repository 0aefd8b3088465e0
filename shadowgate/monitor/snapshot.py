"""What one monitor screen shows, taken once from the library's own readers and rules: the
unit, T+0, the intents since T+0 and the verdicts of M1-M4 and S1-S4 (a source that cannot be
read is one line in `problems`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import testinfra.host

from shadowgate import evidence, host, settings, stream
from shadowgate.checks import monitoring, stops
from shadowgate.config import Target
from shadowgate.evidence import lifecycle
from shadowgate.evidence.anchors import Anchor
from shadowgate.evidence.chain import verified_chain
from shadowgate.exitcodes import NO, OK
from shadowgate.intents import Intent
from shadowgate.verdict import Status, Verdict
from shadowgate.wording import SAID

DEFAULT_WATCH_SECONDS = 10.0
STOP_IDS = ("S1", "S2", "S3", "S4")
NOT_JUDGED = "NOT JUDGED"
ROLLED_BACK = "ROLLED BACK"
OPTIONS = (
    "redis_url", "stream", "unit", "model", "config", "set", "reports_dir", "activated_at",
)  # fmt: skip
SOURCE_ERRORS = (stream.StreamError, host.HostError, evidence.EvidenceError, OSError)
T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot:
    """One read of everything the screen shows, judged by the suite's rules."""

    taken_ms: int
    target: Target
    t0: Anchor | None
    unit: host.UnitState | None
    intents: stream.Window[Intent] | None  # since T+0; without T+0 the latest snapshot
    verdicts: dict[str, Verdict] = field(default_factory=dict)  # M1-M4, S1-S4 as judged
    problems: tuple[str, ...] = ()  # one line per source that could not be read
    no_t0: str | None = None  # the line saying why there is no T+0
    rolled_back: str | None = None  # T+0 was rolled back: "rolled back at X ...; nothing to
    # monitor" (ARCHITECTURE.md "The lifecycle"), nothing judged

    @property
    def stops(self) -> dict[str, Verdict | None]:
        return {i: self.verdicts.get(i) for i in STOP_IDS}

    def _ids(self, *statuses: str) -> list[str]:
        return [
            i for i, v in self.stops.items() if (v.status.value if v else NOT_JUDGED) in statuses
        ]

    @property
    def decision(self) -> str:
        """STOP when a stop condition FAILed (it stands on any data); else OK only when every
        one of S1-S4 passed (PASS or WARN) and every source was read; else INCONCLUSIVE.
        ROLLED BACK when T+0 was rolled back: nothing to monitor."""
        if self.rolled_back:
            return ROLLED_BACK
        if self._ids(Status.FAIL.value):
            return "STOP"
        if self.problems or self.no_t0 or self._ids(Status.INCONCLUSIVE.value, NOT_JUDGED):
            return "INCONCLUSIVE"
        return "OK"

    @property
    def exit_code(self) -> int:
        """0 only for OK and ROLLED BACK; STOP and INCONCLUSIVE alike are a "no" (ARCHITECTURE.md
        "Exit codes")."""
        return OK if self.decision in ("OK", ROLLED_BACK) else NO

    def headline(self) -> str:
        """The decision in the window runs' words (`wording.SAID`), with the IDs behind it."""
        if self.rolled_back:
            return self.rolled_back
        said = SAID[self.decision]
        if self.decision == "STOP":
            return f"{said}: {', '.join(self._ids(Status.FAIL.value))}"
        if self.decision == "INCONCLUSIVE":
            ids = self._ids(Status.INCONCLUSIVE.value, NOT_JUDGED)
            why = ["no T+0"] if self.no_t0 else []
            return f"{said}: {', '.join([*why, *ids])}" if why or ids else said
        flags = [i for i, v in sorted(self.verdicts.items()) if v.status is Status.WARN]
        return f"{said} (red flags: {', '.join(flags)})" if flags else said


def take(
    options: settings.Settings,
    engine_host: testinfra.host.Host,
    client: stream.ReadOnlyRedis,
    clock: Callable[[], int] | None = None,
) -> Snapshot:
    """Read T+0, the unit and the intents once, and judge them with the rules by name. "Now"
    is Redis's TIME unless `clock` is given (this machine's clock only when Redis cannot be
    read, for the screen's title: nothing is judged then)."""
    target, th = options.target, options.thresholds
    problems: list[str] = []

    def read(what: str, action: Callable[[], T]) -> T | None:
        try:
            return action()
        except SOURCE_ERRORS as exc:
            problems.append(f"{what}: {' '.join(str(exc).split())}")  # one line
            return None

    chain = read("decision log", lambda: verified_chain(options.reports_dir, engine_host))
    life = None
    if chain is not None:  # T+0 and the rollback from verified records only
        if chain.broken():
            problems.append(str(chain.broken()))
        life = lifecycle.derive(
            chain.records, now=datetime.now(UTC), go=None, unit=target.unit,
            activated_at=options.activated_at, broken=chain.broken(),
        )  # fmt: skip
    t0 = life.t0 if life is not None else None
    unit = read("unit", lambda: host.unit_state(engine_host, target.unit))
    if life is not None and life.rollback is not None:  # ARCHITECTURE.md "The lifecycle"
        taken = int(time.time() * 1000)
        said = life.rolled_back()
        return Snapshot(taken, target, t0, unit, None, {}, tuple(problems), None, said)
    no_t0 = None
    if t0 is None and not problems:
        no_t0 = (
            f"no T+0: no activation record in {options.reports_dir} and no "
            "--activated-at=ISO8601 (an activation done by hand): nothing since the activation "
            "is judged"
        )
    reader: stream.StreamReader[Intent] = stream.StreamReader(
        client, target.stream, target.redis_url, clock=clock, **stream.reader_options(th)
    )
    if t0 is not None:
        intents = read("Redis", lambda: reader.window(t0.ms))
    else:
        intents = read("Redis", lambda: reader.latest(int(th["window.snapshot_count"])))
    verdicts: dict[str, Verdict] = {}
    if t0 is not None and intents is not None:
        for verdict in (
            monitoring.m1_consensus_distribution(intents, t0, th),
            monitoring.m2_agreement(intents, t0, target, th),
            monitoring.m3_hard_disagreement(intents, t0, target, th),
            monitoring.m4_confidence_distribution(intents, t0, target, th),
            stops.s2_full_consensus_sustained(intents, t0, th),
            stops.s3_hard_disagreement(intents, t0, target, th),
            stops.s4_confidence_collapse(intents, t0, target, th),
        ):
            verdicts[verdict.check_id] = verdict
        if unit is not None:
            verdicts["S1"] = stops.s1_service_crashed(unit, intents, t0, th)
    read_at = intents.read_at_ms if intents is not None else None
    taken = read_at or int(time.time() * 1000)
    return Snapshot(taken, target, t0, unit, intents, verdicts, tuple(problems), no_t0)


# --- the screen ---------------------------------------------------------------------------------
