"""The library side of actions/activate.py and actions/rollback.py (runbook s.4 and s.6).

    clearance.py  may it run now? every unmet condition, before anything is touched
    flow.py       under the env file's lock: edit, restart, wait, record; then the suite
    steps.py      each step timed, and the action record the windows read T+0 from
    engine.py     the unit through the host layer (restart, wait until active, journal)
    activate.py, rollback.py   the two actions' steps and command lines
    cli.py        their options: the suite's own (settings) plus the action's

Exit codes: 0 done and verified (or a dry run, or --on-stop with nothing to do), 1 a step or
the verification failed after the engine was changed, 2 refused (nothing changed), 4 usage.
"""
