"""Evidence: run records, the hash-chained decision log, and "may this action run now?".

    record.py   RunRecord / CheckEntry: typed, and the exact JSON the log keeps (any schema)
    log.py      the decision log: append, read back, `verify` (disk.py: durable writes, lock)
    arming.py   `last` (has PHASE just passed?) and `rollback_armed`
    anchors.py  T+0 and the rollback's start: from the actions' records or the operator

Callers say `from shadowgate import evidence; evidence.verify(reports_dir)`.
"""

from shadowgate.evidence.arming import ROLLBACK_READY, LastRun, last, rollback_armed
from shadowgate.evidence.disk import LOCK_NAME, LOCK_TIMEOUT_S, EvidenceError
from shadowgate.evidence.log import (
    GENESIS,
    LOG_NAME,
    Verification,
    append_record,
    records,
    run_records,
    verify,
)
from shadowgate.evidence.record import SCHEMA, CheckEntry, RunRecord, iso_utc, new_run_id

__all__ = [
    "GENESIS",
    "LOCK_NAME",
    "LOCK_TIMEOUT_S",
    "LOG_NAME",
    "ROLLBACK_READY",
    "SCHEMA",
    "CheckEntry",
    "EvidenceError",
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
    "verify",
]
