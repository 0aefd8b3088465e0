"""Small shared pieces of the check functions: verdict building, window texts, and the one
guard every stream rule calls first, so no rule can judge data that cannot prove anything."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from shadowgate.checks.limits import Limits
from shadowgate.checks.row import Check
from shadowgate.intents import Intent
from shadowgate.metrics import SAMPLE_IDS, Hits, Ratio
from shadowgate.verdict import Status, Verdict
from shadowgate.window import MINUTE_MS, Described, span, utc

CANNOT_PROVE = "cannot prove it safe"
T = TypeVar("T")


def sample_ids(intents: Iterable[Intent]) -> tuple[str, ...]:
    """The first few entry ids behind a finding, so an operator can XRANGE them."""
    ids: list[str] = []
    for intent in intents:
        ids.append(intent.entry_id)
        if len(ids) == SAMPLE_IDS:
            break
    return tuple(ids)


def counted_in(window: Described, found: Sequence[Intent] | Hits) -> dict[str, object]:
    """The verdict fields of a count over a window: where it was read, how much it read, how
    many it found and the first few of them, so an operator can XRANGE them."""
    hits = found if isinstance(found, Hits) else Hits(len(found), sample_ids(found))
    return {
        "window": window_text(window),
        "sample": window.n_records,
        "value": hits.n,
        "evidence": hits.ids,
    }


def window_text(window: Described) -> str:
    """What was read and what was not: the window, the newest record's age, parse errors and
    (intent windows) odd confidences are reported, never hidden."""
    text = f"{window.describe()}; {window.freshness()}"
    if (first := window.first_error) is not None:
        text += f"; first parse error {first.entry_id}: {first.reason}"
    if (odd := window.odd_votes) is not None:
        shown = ", ".join(f"{name} {n}" for name, n in odd.items()) or "none"
        text += f"; votes with a confidence outside 0..1: {shown}"
    return text


def _reasons(
    window: Described, limits: Limits, whole: bool, fresh: bool
) -> list[tuple[str, str, float | int | None]]:
    """Why `window` proves nothing: (measured, condition not met, value) for each reason."""
    reasons: list[tuple[str, str, float | int | None]] = []
    noun = window.noun
    if fresh:
        max_age = limits.number("window.max_age_minutes")
        age = window.age_ms
        # the newest entry not dated in the future is what is judged: say what hides behind
        behind = f"; behind {window.in_the_future()}" if window.future else ""
        if window.newest_ms is None:
            reasons.append(
                (f"no {noun} of the engine in the window{behind}", f"at least one {noun}", 0)
            )
        elif age is None or age > max_age * MINUTE_MS:
            since = f"engine silent since {utc(window.newest_ms)}"
            since += "" if age is None else f" ({span(age)} before the read)"
            reasons.append(
                (
                    since + behind,
                    f"newest {noun} at most {max_age:g} min old",
                    None if age is None else age / MINUTE_MS,
                )
            )
    max_share = limits.number("window.max_unreadable_share")
    unreadable = Ratio(window.n_errors, window.owned)
    if unreadable.hits > max_share * unreadable.total:
        reasons.append(
            (
                f"{unreadable} of the engine's entries unreadable",
                f"at most {max_share:.0%} unreadable: what cannot be read cannot be proven safe",
                unreadable.value,
            )
        )
    future = Ratio(window.future, window.owned + window.future)
    if future.hits > max_share * future.total:
        reasons.append(
            (
                f"{future} of the entries read dated in the future ({window.in_the_future()})",
                f"at most {max_share:.0%} dated more than window.max_future_seconds ahead of "
                "Redis TIME: entries the clock cannot date cannot be proven safe",
                future.value,
            )
        )
    needed = limits.integer("window.min_snapshot_intents")
    if window.requested_count is not None and window.n_records < needed:
        reasons.append(
            (
                f"only {window.n_records} of the latest {window.requested_count} {noun}s found",
                f"at least {needed} {noun}s in the snapshot",
                window.n_records,
            )
        )
    if whole and not window.covered:
        oldest = f"oldest entry {utc(window.oldest_ms)}"
        reasons.append(
            (
                f"the capped stream no longer holds the whole window ({oldest})",
                "the whole window held: events before the oldest entry cannot be counted",
                None,
            )
        )
    return reasons


def guard(
    check: Check,
    window: Described,
    limits: Limits,
    threshold: str,
    *,
    whole: bool = False,
    fresh: bool = True,
) -> Verdict | None:
    """INCONCLUSIVE when `window` cannot prove anything safe, else None. Called first by every
    stream rule (ARCHITECTURE.md "Windows"): no engine record at all, the newest (not dated in the
    future) older than `window.max_age_minutes` (unless `fresh` is False: outcomes come when
    trades close), more unreadable own entries than `window.max_unreadable_share` or more
    entries dated in the future than that share, a count snapshot with fewer than
    `window.min_snapshot_intents` records, or (`whole`: counting checks) a time window the
    capped stream no longer covers. Every reason that applies is named; the value is the
    first's (minutes of age, unreadable share, records found)."""
    reasons = _reasons(window, limits, whole, fresh)
    if not reasons:
        return None
    return check.verdict(
        Status.INCONCLUSIVE,
        measured="; ".join(measured for measured, _, _ in reasons),
        threshold=f"{threshold}; judged only with "
        + "; ".join(condition for _, condition, _ in reasons),
        window=window_text(window),
        sample=window.n_records,
        value=reasons[0][2],
        detail=f"too little usable data to decide: {CANNOT_PROVE}",
    )


def too_few(
    check: Check,
    threshold: str,
    window: Described,
    measured: Ratio | int,
    needed: int,
) -> Verdict | None:
    """INCONCLUSIVE when fewer than `needed` events were measured, else None."""
    n = measured.total if isinstance(measured, Ratio) else measured
    if n >= needed:
        return None
    return check.verdict(
        Status.INCONCLUSIVE,
        measured=f"only {n} events",
        threshold=f"{threshold}, on at least {needed} events",
        window=window_text(window),
        sample=n,
        detail=f"too little data to decide: {CANNOT_PROVE}",
    )


def proven(measured: T | None) -> T:
    """A measurement the rule's guard proved exists (events counted, a spread formed, a scan
    finished), typed as such: None here is a rule judging before its guard, raised at once."""
    if measured is None:
        raise ValueError("a rule judged a measurement its guard had not proven to exist")
    return measured


def judged(ok: bool, warn: bool = False) -> Status:
    """PASS / WARN / FAIL from the two conditions a check tested."""
    if not ok:
        return Status.FAIL
    return Status.WARN if warn else Status.PASS
