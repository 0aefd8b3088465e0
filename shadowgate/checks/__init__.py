"""Check logic: data in, Verdict out. The pytest files in blockers/, gates/, postactivation/
call these, one test per runbook row, so the rules are testable without a live engine;
catalog.py is the one list of the checks, their phases and threshold keys."""
