"""Evidence: run records, the hash-chained decision log, and "may this action run now?".

    record.py   RunRecord / CheckEntry: typed, and the exact JSON the log keeps (any schema)
    log.py      the decision log: append, read back (disk.py: durable no-follow writes, lock)
    verification.py   `verify`: the chain recomputed from the files
    journal_anchor.py   each line's sha256 in the engine host's journal, read back
    crosscheck.py       `verify`'s rules for the chain against those anchors
    arming.py   `last` (has PHASE just passed?) and `rollback_armed`
    anchors.py  T+0 and the rollback's start: from the actions' records or the operator
    chain.py    the verified records;  cycle.py  the activation cycle they tell, in order
    lifecycle.py  the one state every consumer acts on

Callers say `from shadowgate import evidence; evidence.verify(reports_dir)`.
"""

from shadowgate.evidence.arming import ROLLBACK_READY, LastRun, last, rollback_armed
from shadowgate.evidence.disk import LOCK_NAME, LOCK_TIMEOUT_S, EvidenceError
from shadowgate.evidence.journal_anchor import IDENTIFIER, Journal
from shadowgate.evidence.log import (
    GENESIS,
    LOG_NAME,
    AnchorError,
    append_record,
    records,
    run_records,
    settle,
)
from shadowgate.evidence.record import SCHEMA, CheckEntry, RunRecord, iso_utc, new_run_id
from shadowgate.evidence.verification import Verification, verify

__all__ = [
    "GENESIS",
    "IDENTIFIER",
    "LOCK_NAME",
    "LOCK_TIMEOUT_S",
    "LOG_NAME",
    "ROLLBACK_READY",
    "SCHEMA",
    "AnchorError",
    "CheckEntry",
    "EvidenceError",
    "Journal",
    "LastRun",
    "RunRecord",
    "Verification",
    "append_record",
    "iso_utc",
    "last",
    "new_run_id",
    "records",
    "rollback_armed",
    "run_records",
    "settle",
    "verify",
]
