"""Each record's sha256 in the engine host's journal: the chain's anchor outside the reports dir.

Whoever can write the reports dir can rewrite the chain's tail consistently. The journal is
kept by journald, elsewhere, and stamps each entry with fields its writer cannot choose: `_UID`
(from the kernel) and the time journald received it. After each append the line's sha256 goes
there as one line an auditor can grep (`journalctl -t shadowgate -o cat`):

    anchor v1 run_id=RUN sha256=LINE_SHA previous_sha256=PREV_SHA reports_dir=/abs/reports

A run killed between its line and its anchor leaves a line the journal never heard of; the
next append (under the same lock, so that run is dead) logs the same line as `missed v1 ...`:
the line was never anchored. The chain goes on from it, and it arms nothing, even should the
killed run's own anchor land after all.

`reports_dir` (resolved) comes last and runs to the end of the line, so a path may hold blanks
and several reports dirs on one host never mix. Only anchors written by root (or the uid of
`evidence.anchor_uid`) count (`trust.writers`); anyone may log as `shadowgate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import testinfra.host

from shadowgate import host, waiting
from shadowgate.evidence.trust import writers
from shadowgate.host._base import HostError, name, run, stderr
from shadowgate.host.journal import message_text, query_json

IDENTIFIER = "shadowgate"
CONFIRM_S = 5.0  # journald takes a stream's line in milliseconds; an ssh hop takes longer
ANCHOR, MISSED = "anchor", "missed"
_LINE = re.compile(
    r"(anchor|missed) v1 run_id=(\S+) sha256=([0-9a-f]{64}) previous_sha256=([0-9a-f]{64}) "
    r"reports_dir=(/.*)"
)
# Can this host take an anchor? journald's stream socket and systemd-cat; then its name.
_PROBE = "test -S /run/systemd/journal/stdout && command -v systemd-cat >/dev/null && uname -n"


@dataclass(frozen=True)
class LineAnchor:
    """One record's line as the journal keeps it."""

    run_id: str
    sha256: str  # of the log line, "\n" included: `sed -n Np decision-log.jsonl | sha256sum`
    previous_sha256: str
    reports_dir: str
    kind: str = ANCHOR  # MISSED: logged by the next append, the line was never anchored

    def message(self) -> str:
        return (
            f"{self.kind} v1 run_id={self.run_id} sha256={self.sha256} "
            f"previous_sha256={self.previous_sha256} reports_dir={self.reports_dir}"
        )

    @classmethod
    def parse(cls, message: str) -> LineAnchor | None:
        found = _LINE.fullmatch(message.strip("\n"))
        if not found:
            return None
        kind, run_id, sha256, previous_sha256, reports_dir = found.groups()
        return cls(run_id, sha256, previous_sha256, reports_dir, kind=kind)


@dataclass(frozen=True)
class Logged:
    """An anchor read back, with what journald itself recorded of its writer."""

    anchor: LineAnchor
    uid: int | None  # `_UID`: set by journald from the kernel, not by the writer
    comm: str | None  # `_COMM`: None when journald could not read it (the writer had exited)
    at: datetime  # when journald received it

    def describe(self) -> str:
        program = f" ({self.comm})" if self.comm else ""
        return f"logged {self.at:%Y-%m-%d %H:%M:%S} UTC by uid {self.uid}{program}"


@dataclass(frozen=True)
class Anchors:
    """What the journal holds for one reports dir, by line sha256: anchors and `missed` marks
    of trusted writers, and entries of anyone else, which count for nothing."""

    journal: str
    trusted: dict[str, Logged]
    missed: dict[str, Logged]
    untrusted: tuple[Logged, ...]

    def logged(self, anchor: LineAnchor) -> Logged | None:
        """`anchor` as the journal holds it from a trusted writer, if it does."""
        held = self.missed if anchor.kind == MISSED else self.trusted
        return held.get(anchor.sha256)


def _logged(raw: bytes) -> Logged | None:
    try:
        entry = orjson.loads(raw)
        micros = int(entry["__REALTIME_TIMESTAMP"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    anchor = LineAnchor.parse(message_text(entry.get("MESSAGE")))
    if anchor is None:
        return None
    uid = entry.get("_UID")
    at = datetime.fromtimestamp(micros // 1_000_000, UTC) + timedelta(microseconds=micros % 10**6)
    comm = entry.get("_COMM")
    return Logged(anchor, int(uid) if str(uid).isdigit() else None, comm and str(comm), at)


class Journal:
    """The engine host's journal as the decision log uses it (a testinfra Host: this machine,
    the box of the tests, or ssh://)."""

    def __init__(self, engine_host: testinfra.host.Host) -> None:
        self.host = engine_host

    @classmethod
    def local(cls) -> Journal:
        return cls(host.connect("local://"))

    @property
    def name(self) -> str:
        return name(self.host)

    def probe(self, reports_dir: Path) -> tuple[str | None, str | None]:
        """(the host's name, None) when anchors can be written and read back here, else
        (None, why not)."""
        try:
            result = run(self.host, _PROBE)
            if result.rc != 0:
                return None, (
                    f"no journal on {self.name}: no journald socket or no systemd-cat "
                    "(is it booted with systemd?)"
                )
            self.read(reports_dir)
        except HostError as exc:
            return None, str(exc)
        return result.stdout_bytes.decode("utf-8", "replace").strip() or self.name, None

    def read(self, reports_dir: Path) -> Anchors:
        """Every `shadowgate` anchor of `reports_dir`; HostError when the journal cannot be
        read whole (no journal, a user outside systemd-journal)."""
        out = query_json(
            self.host,
            "shadowgate's anchors",
            "journalctl -t %s -o json --output-fields=MESSAGE,_UID,_COMM --no-pager",
            IDENTIFIER,
        )
        where, trusted_uids = str(reports_dir.resolve()), writers()
        trusted: dict[str, Logged] = {}
        missed: dict[str, Logged] = {}
        untrusted = []
        for raw in out.splitlines():
            logged = _logged(raw)
            if logged is None or logged.anchor.reports_dir != where:
                continue
            if logged.uid not in trusted_uids:
                untrusted.append(logged)
            else:
                held = missed if logged.anchor.kind == MISSED else trusted
                held.setdefault(logged.anchor.sha256, logged)
        return Anchors(self.name, trusted, missed, tuple(untrusted))

    def write(self, anchor: LineAnchor, reports_dir: Path) -> Logged:
        """Log `anchor` and read it back as a trusted writer's; HostError says why not."""
        result = run(self.host, "systemd-cat -t %s echo %s", IDENTIFIER, anchor.message())
        if result.rc != 0:
            raise HostError(f"systemd-cat on {self.name} exited {result.rc}: {stderr(result)}")
        seen = waiting.poll(
            lambda: self.read(reports_dir).logged(anchor),
            lambda logged: logged is not None,
            CONFIRM_S,
            interval_s=0.1,
            what=f"the anchor of run {anchor.run_id} to show in the journal of {self.name}",
            tell=waiting.to_stderr(),
        ).value
        if seen is None:
            raise HostError(
                f"the anchor is not in the journal of {self.name} {CONFIRM_S:g} s after "
                f"systemd-cat, or not as a uid whose anchors count ({sorted(writers())}: root "
                "and evidence.anchor_uid)"
            )
        return seen

    def reaches_back(self, moment: datetime) -> bool:
        """Does the journal still hold entries from `moment` (vacuumed oldest first)?"""
        return host.journal_reaches_back(self.host, moment)
