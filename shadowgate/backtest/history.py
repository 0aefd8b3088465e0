"""A recorded history for the backtest: one bundle, or a directory of bundles (the runs of a
week, or one long capture), read through shadowgate.replay.bundle and parsed by
shadowgate.intents exactly as a live read parses the same bytes.

Of each intent only what the monitoring rules count is kept (`Seen`: a few flags and one
confidence, each computed by the metric function the rule calls), so a week of 60,000 intents
costs a few MiB instead of their 1.2 KB payloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shadowgate import metrics
from shadowgate.config import Target
from shadowgate.intents import Foreign, Intent, ParseError, parse_intent
from shadowgate.outcomes import Outcome, parse_outcome
from shadowgate.replay import bundle
from shadowgate.window import id_ms, utc


@dataclass(frozen=True, slots=True)
class Seen:
    """One of the engine's entries in the intents stream, as the rules count it: an intent's
    figures, or (`error`) an entry of the engine that could not be read."""

    ts_ms: int
    error: bool = False
    full: bool = False  # full consensus (M1, S2)
    low: bool = False  # consensus 0..1 (M1)
    voted: bool = False  # the model is in the breakdown: agreement's base (M2, M3, S3)
    agree: bool = False
    hard: bool = False
    confidence: float | None = None  # a BUY/SELL confidence that measures spread (M4, S4)


def seen(intent: Intent, model: str) -> Seen:
    """`intent` counted by the same metric functions the rules call on a window."""
    one = (intent,)
    agreement = metrics.agreement(one, model)
    spread = metrics.model_confidences(one, model)
    return Seen(
        intent.ts_ms,
        full=bool(metrics.full_consensus_share(one).hits),
        low=bool(metrics.low_consensus_share(one).hits),
        voted=bool(agreement.total),
        agree=bool(agreement.hits),
        hard=bool(metrics.hard_disagreement(one, model).hits),
        confidence=spread[0] if spread else None,
    )


@dataclass(frozen=True)
class History:
    """What the backtest slides over: the engine's intents (as `Seen`) and every outcome, in
    stream order, and how far back each stream reached (its oldest entry, whoever wrote it:
    a window starting before it is not covered, as on the live stream)."""

    files: tuple[str, ...]
    model: str
    stream: str  # the intents stream's key
    outcomes_stream: str
    intents: tuple[Seen, ...]
    outcomes: tuple[Outcome, ...]
    outcome_errors: tuple[ParseError, ...]
    foreign: int
    intents_oldest_ms: int | None
    outcomes_oldest_ms: int | None
    end_ms: int | None  # the latest capture's Redis TIME, else the newest entry

    @property
    def intent_count(self) -> int:
        return sum(not s.error for s in self.intents)

    def describe(self) -> str:
        errors = len(self.intents) - self.intent_count
        return (
            f"{self.intent_count} intents ({errors} unreadable, {self.foreign} foreign "
            f"entries skipped) and {len(self.outcomes)} outcomes ({len(self.outcome_errors)} "
            f"unreadable), from {utc(self.intents_oldest_ms)} to {utc(self.end_ms)}, "
            f"model {self.model}"
        )


def _fields(entry_fields: bundle.Fields) -> dict[bytes, bytes]:
    """A bundle entry's fields as the bytes Redis returned, so parsing sees what a live read saw."""
    return {bundle.raw_of(k): bundle.raw_of(v) for k, v in entry_fields.items()}


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class _Reading:
    """Entries parsed as they come, bundle after bundle, each id once (a later capture's
    entry wins, as in `bundle.merged_streams`): only one bundle's raw entries are held at a
    time, so a week read as daily bundles never holds the week's payloads."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.intents: dict[str, Seen | None] = {}  # None: another publisher's entry
        self.outcomes: dict[str, Outcome | ParseError | None] = {}

    def feed(self, streams: Mapping[str, list[bundle.Entry]]) -> None:
        model = self.target.breakdown_key
        for entry_id, fields in streams.get(self.target.stream, ()):
            parsed = parse_intent(entry_id, _fields(fields))
            if isinstance(parsed, Intent):
                self.intents[entry_id] = seen(parsed, model)
            else:
                error = isinstance(parsed, ParseError)
                self.intents[entry_id] = Seen(id_ms(entry_id), error=True) if error else None
        for entry_id, fields in streams.get(self.target.outcomes_stream, ()):
            outcome = parse_outcome(entry_id, _fields(fields))
            self.outcomes[entry_id] = None if isinstance(outcome, Foreign) else outcome

    def history(self, captured_ms: int | None, files: tuple[str, ...]) -> History:
        if not self.intents:
            where = ", ".join(files) or "the history"
            raise ValueError(
                f"{where} holds no entries of {self.target.stream}: nothing to backtest"
            )
        intent_ids = sorted(self.intents, key=_order)
        outcome_ids = sorted(self.outcomes, key=_order)
        intents = [s for i in intent_ids if (s := self.intents[i]) is not None]
        closed = [self.outcomes[i] for i in outcome_ids]
        newest = max(id_ms(ids[-1]) for ids in (intent_ids, outcome_ids) if ids)
        return History(
            files=files,
            model=self.target.breakdown_key,
            stream=self.target.stream,
            outcomes_stream=self.target.outcomes_stream,
            intents=tuple(intents),
            outcomes=tuple(o for o in closed if isinstance(o, Outcome)),
            outcome_errors=tuple(o for o in closed if isinstance(o, ParseError)),
            foreign=len(intent_ids) - len(intents),
            intents_oldest_ms=id_ms(intent_ids[0]),
            outcomes_oldest_ms=id_ms(outcome_ids[0]) if outcome_ids else None,
            end_ms=newest if captured_ms is None else captured_ms,
        )


def load(path: Path, target: Target) -> History:
    """The history in `path` (a bundle file or a directory of them) for `target`'s streams and
    model; BundleError when a file is no bundle, ValueError when none holds the intents."""
    files = sorted(path.glob("*" + bundle.SUFFIX)) if path.is_dir() else [path]
    reading, captured = _Reading(target), []
    for file in files:
        one = bundle.read(file)
        reading.feed(one.streams)
        captured.append(one.now_ms)
    read_at = max((ms for ms in captured if ms is not None), default=None)
    return reading.history(read_at, tuple(str(f) for f in files))


def from_streams(
    streams: Mapping[str, list[bundle.Entry]],
    target: Target,
    captured_ms: int | None,
    files: tuple[str, ...] = (),
) -> History:
    """The history of `streams` (entries as a bundle holds them), read at `captured_ms`
    (None: at its newest entry)."""
    reading = _Reading(target)
    reading.feed(streams)
    return reading.history(captured_ms, files)
