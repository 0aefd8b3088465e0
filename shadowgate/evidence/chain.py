"""The verified chain: the records a consumer may act on, and where verification broke.

Whatever acts on what the decision log says (the window timers' wrapper; the lifecycle's state)
reads this view, never raw lines (ARCHITECTURE.md "The lifecycle"): a line that does not verify
never changes what it does, and a chain broken at line N still yields the records before it, so
monitoring goes on against the last verified activation while the break is said loudly. Where
the journal was read, a record counts only if anchored there: one never anchored (a forged "not
anchored" tail, a run killed before its anchor) counts for nothing, as it arms nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import testinfra.host

from shadowgate.evidence.crosscheck import Link
from shadowgate.evidence.verification import Verification, walk
from shadowgate.window import plural


@dataclass(frozen=True)
class Chain:
    """The lines that verify (and are anchored, where the journal was read), oldest first,
    and the verification that says whether the whole log does."""

    links: tuple[Link, ...]
    verification: Verification

    @property
    def records(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(link.record for link in self.links)

    def broken(self) -> str | None:
        """One operator line when the log does not verify (from where, and what still
        counts); None when it does, or holds no line yet (nothing recorded is no break)."""
        if self.verification.ok or not self.verification.records:
            return None
        kept = len(self.links)
        return (
            f"the decision log does not verify: {self.verification.describe()}; only the "
            f"{plural(kept, 'verified record')} before it count"
        )


def verified_chain(reports_dir: Path, journal_host: testinfra.host.Host | None = None) -> Chain:
    """The decision log of `reports_dir` as `verify` holds it up against the journal of
    `journal_host` (None: the chain alone). A replay's record never counts: it judged a
    bundle, not the engine (ARCHITECTURE.md "Replay")."""
    checked, links = walk(Path(reports_dir), journal_host)
    if checked.journal_read:
        links = [link for link in links if link.run_id in checked.anchored]
    links = [link for link in links if "replay" not in link.record]
    return Chain(tuple(links), checked)
