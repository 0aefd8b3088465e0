"""The thresholds one check may read: its catalog row's keys, typed (`S3.limits(th)`).

Every rule reads its thresholds through this view and nothing else, so "each rule reads only
the keys its catalog row names" holds by construction: a key outside the row is a programming
error, raised at the first read, naming the check and the key. A rule that judges another's
rule too (R4 judges R1-R3) hands it its own view, so its row must hold that rule's keys.
"""

from __future__ import annotations

from shadowgate.config import Scalar, TypedReads


class Limits(TypedReads):
    """`source` (the thresholds, or another check's view) restricted to one check's `keys`
    (its catalog row's `threshold_keys`)."""

    def __init__(self, check_id: str, keys: tuple[str, ...], source: TypedReads) -> None:
        self.check_id = check_id
        self._keys = frozenset(keys)
        self._source = source

    def __getitem__(self, key: str) -> Scalar:
        if key not in self._keys:
            raise LookupError(
                f"check {self.check_id} reads threshold {key!r}, which its catalog row does not "
                "name: add it to the row's threshold_keys (shadowgate/checks/catalog.py)"
            )
        return self._source[key]
