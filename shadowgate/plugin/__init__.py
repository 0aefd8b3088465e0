"""The shadowgate pytest plugin: one package, one job a module.

    options     target, thresholds and strategy options, resolved once at configure
    phases      the phase markers (registered from the check catalog), this run's phase
    collection  each check test's catalog row (its `check` marker) and the phases it brings
    sources     data-source fixtures (Redis, systemd unit, journal, env file, model file)
    lifecycle   the verified chain T+0 is read from; a rolled-back window monitors nothing
    since       T+0 (the activation's restart) and the data since it, for the later phases
    restart     after a restart (activation, rollback): waits for the unit, journal, intents
    judge       Verdict -> test outcome, the terminal summary and decision
    recording   the run record and its append to the decision log
    completeness  whether the run covered its phase, and why not (recording's; no hooks)
    (shadowgate.replay.plugin: capture into a bundle, or replay one instead of the live host)

Registered through the `pytest11` entry point and the root conftest; pytest loads the modules
below as plugins of their own.
"""

pytest_plugins = [
    "shadowgate.plugin.options",
    "shadowgate.plugin.phases",
    "shadowgate.plugin.collection",
    "shadowgate.plugin.sources",
    "shadowgate.plugin.lifecycle",
    "shadowgate.plugin.since",
    "shadowgate.plugin.restart",
    "shadowgate.plugin.judge",
    "shadowgate.plugin.recording",
    "shadowgate.replay.plugin",
]
