"""Small shared pieces of the check functions: verdict building and number formatting."""

from __future__ import annotations

from collections.abc import Iterable

from shadowgate.checks.catalog import Check
from shadowgate.config import Target
from shadowgate.envfile import EnvFile
from shadowgate.intents import Intent
from shadowgate.metrics import Ratio
from shadowgate.stream import Window
from shadowgate.verdict import Status, Verdict

SAMPLE_IDS = 3  # entry ids quoted as evidence behind a verdict


def flag_values(env: EnvFile, target: Target) -> list[str]:
    """The values of the anchored `FLAG=` lines, as `grep "^PATCHTST_SHADOW_ONLY="` shows them."""
    return [line.value for line in env.occurrences(target.shadow_flag)]


def sample_ids(intents: Iterable[Intent]) -> tuple[str, ...]:
    """The first few entry ids behind a finding, so an operator can XRANGE them."""
    ids: list[str] = []
    for intent in intents:
        ids.append(intent.entry_id)
        if len(ids) == SAMPLE_IDS:
            break
    return tuple(ids)


def window_text(window: Window) -> str:
    """Window description plus what was skipped: parse errors are reported, never hidden."""
    text = window.describe()
    if window.errors:
        first = window.errors[0]
        text += f"; first parse error {first.entry_id}: {first.reason}"
    return text


def too_few(
    check: Check,
    threshold: str,
    window: Window,
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
        detail="too little data to decide: cannot prove it safe",
    )


def judged(ok: bool, warn: bool = False) -> Status:
    """PASS / WARN / FAIL from the two conditions a check tested."""
    if not ok:
        return Status.FAIL
    return Status.WARN if warn else Status.PASS
