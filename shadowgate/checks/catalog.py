"""The one list of checks and the phases each runs in (ARCHITECTURE.md "How to add a check in
one place").

An ID leads to its test (the one marked `@pytest.mark.check(ID)`), its rule (called by name in
that test) and the threshold keys the rule reads (here). Rules take their ID, title and runbook
section from here; the plugin puts a row's phases on its test at collection
(plugin/collection.py); a run is complete when every ID of its phase ran; the report's tables
and the self-tests list IDs from here. What a row is, and the phase markers a row may name (the
plugin registers them), is row.py's.
"""

from __future__ import annotations

from types import MappingProxyType

from shadowgate.checks.row import PHASES, Check

_PRE = ("preactivation",)
_ACTIVATION = ("activation",)
_ROLLBACK = ("rollback",)
MONITORING = ("window_30m", "window_2h", "window_6h")  # runbook s.5 monitoring, since T+0
# Read by checks.common.guard, which every stream rule calls first (ARCHITECTURE.md "Windows").
_STREAM = ("window.max_age_minutes", "window.max_unreadable_share", "window.min_snapshot_intents")
# The guard over outcomes alone (S5, W4): they come when trades close, so no age is judged.
_OUTCOMES = _STREAM[1:]
_BLOCKERS = "s.2 hard blockers"
_GATES = "s.1 gate evaluation (P0.4 gate simulation)"

CHECKS: tuple[Check, ...] = (
    Check("P1", "shadow flag in env file", "s.1, s.4 step 1", _PRE),
    Check(
        "P2",
        "shadow verified by behaviour",
        "s.1, s.4 step 2",
        _PRE,
        ("shadow.journal_minutes", "shadow.min_journal_lines", *_STREAM),
    ),
    Check(
        "P3",
        "zero consensus needing the model's vote in the last 24 h",
        "s.1",
        _PRE,
        ("window.precondition_hours", "blockers.max_full_consensus_in_shadow", *_STREAM),
    ),
    Check(
        "P4",
        "service stable",
        "s.1",
        _PRE,
        ("service.min_uptime_hours",),
    ),
    Check(
        "P5",
        "shadow observation long enough",
        "s.1",
        _PRE,
        ("shadow.min_observation_hours", *_STREAM),
    ),
    Check(
        "P6",
        "rollback plan: backup and live env file restore shadow",
        "s.1, s.4 step 1, s.6",
        ("preactivation", "rollback_ready", *MONITORING),  # windows keep rollback armed
        measured=False,  # its value counts findings: deploy/window_record.py exports none
    ),
    Check("P7", "the model to activate is the model observed", "s.4 step 4", _PRE),
    Check(
        "B1",
        "consensus needing the model's vote while shadow",
        _BLOCKERS,
        _PRE,
        ("blockers.max_full_consensus_in_shadow", *_STREAM),
    ),
    Check("B2", "model voting while the shadow flag is on", _BLOCKERS, _PRE, _STREAM),
    Check("B3", "payload size p95", _BLOCKERS, _PRE, ("payload.max_p95_bytes", *_STREAM)),
    Check(
        "B4",
        "restart loop",
        _BLOCKERS,
        (*_PRE, *MONITORING),  # in windows: automatic restarts since T+0 only
        ("service.auto_restart_window_hours",),
        stops=True,  # s.5 stop 1: "restart loop"
        measured=False,  # its value is NRestarts, not what it judges (restarts since T+0)
    ),
    Check(
        "B5",
        "gate quorum",
        "s.1, s.2 gate failures",
        _PRE,
        ("gates.quorum", "gates.quorum_deferred"),
    ),
    Check(
        "B6",
        "hard disagreement in shadow",
        "s.9",
        _PRE,
        ("blockers.max_hard_disagreement", *_STREAM),
    ),
    Check(
        "G1",
        "action diversity",
        _GATES,
        _PRE,
        (
            "gates.min_events",
            "gates.g1_min_actions",
            "gates.g1_min_share",
            "gates.g1_max_share",
            *_STREAM,
        ),
        runbook_name="Action Diversity",
    ),
    Check(
        "G2",
        "confidence spread",
        _GATES,
        _PRE,
        ("gates.min_events", "gates.g2_min_p10_p90", "gates.g2_min_std", *_STREAM),
        runbook_name="Confidence Spread",
    ),
    Check(
        "G3",
        "agreement with the ensemble",
        _GATES,
        _PRE,
        (
            "gates.min_events",
            "gates.g3_min_agreement",
            "gates.g3_max_agreement",
            "gates.g3_max_hard_disagreement",
            *_STREAM,
        ),
        runbook_name="Agreement",
    ),
    Check(
        "G4",
        "calibration against outcomes",
        _GATES,
        _PRE,
        (
            "gates.g4_buckets",
            "gates.g4_min_outcomes",
            "gates.g4_min_lift",
            "gates.join_window_minutes",
            *_STREAM,
        ),
        runbook_name="Calibration",
    ),
    # -- A0-A4: runbook s.4 post-activation verification, since the activation's restart --
    Check(
        "A0",
        "service active after the restart and staying up",
        "s.4 steps 5-7",
        _ACTIVATION,
        ("service.active_within_seconds", "activation.stable_seconds"),
    ),
    Check(
        "A1", "model loaded, voting, from the observed file", "s.3, s.4 post step 1", _ACTIVATION
    ),
    Check(
        "A2",
        "consensus needing the model's vote appearing",
        "s.4 post step 2",
        _ACTIVATION,
        _STREAM,
    ),
    Check(
        "A3", "no excluded model vote since the restart", "s.4 post step 3", _ACTIVATION, _STREAM
    ),
    Check(
        "A4", "model in the breakdown, not named *_shadow", "s.4 post step 4", _ACTIVATION, _STREAM
    ),
    # -- M1-M4: runbook s.5 metrics, red flags (WARN) over the intents since T+0 --
    Check(
        "M1",
        "consensus distribution",
        "s.5 metric 1",
        MONITORING,
        (
            "monitor.m1_healthy_min",
            "monitor.m1_healthy_max",
            "monitor.m1_warn_above",
            "monitor.m1_low_warn_above",
            "monitor.min_intents",
            *_STREAM,
        ),
    ),
    Check(
        "M2",
        "agreement with the ensemble",
        "s.5 metric 2",
        ("window_2h", "window_6h"),
        (
            "monitor.m2_healthy_min",
            "monitor.m2_healthy_max",
            "monitor.m2_warn_below",
            "monitor.m2_warn_above",
            "monitor.min_intents",
            *_STREAM,
        ),
    ),
    Check(
        "M3",
        "hard disagreement",
        "s.5 metric 3",
        ("window_2h", "window_6h"),
        ("monitor.m3_warn_above", "monitor.min_intents", *_STREAM),
    ),
    Check(
        "M4",
        "confidence distribution",
        "s.5 metric 4",
        ("window_2h", "window_6h"),
        ("monitor.m4_healthy_min", "monitor.m4_warn_below", "monitor.min_intents", *_STREAM),
    ),
    # -- S1-S5: runbook s.5 immediate stop conditions over what happened since T+0 --
    Check(
        "S1",
        "service crashed, restarted or silent since T+0",
        "s.5 stop 1",
        MONITORING,
        ("window.max_age_minutes", "stop.s1_start_grace_seconds"),
        stops=True,
    ),
    Check(
        "S2",
        "full consensus sustained above the line",
        "s.5 stop 2",
        MONITORING,
        (
            "stop.s2_full_consensus_above",
            "stop.s2_slices",
            "stop.s2_slice_minutes",
            "monitor.min_slice_intents",
            *_STREAM,
        ),
        stops=True,
    ),
    Check(
        "S3",
        "hard disagreement",
        "s.5 stop 3",
        MONITORING,
        (
            "stop.s3_hard_disagreement_above",
            "window.snapshot_count",
            "monitor.min_intents",
            *_STREAM,
        ),
        stops=True,
    ),
    Check(
        "S4",
        "confidence collapse",
        "s.5 stop 4",
        MONITORING,
        ("stop.s4_min_p10_p90", "window.snapshot_count", "monitor.min_intents", *_STREAM),
        stops=True,
    ),
    Check(
        "S5",
        "PnL degradation against the 24 h before",
        "s.5 stop 5",
        ("window_2h", "window_6h"),
        (
            "stop.s5_after_hours",
            "stop.s5_before_hours",
            "stop.s5_baseline_max_age_hours",
            "stop.s5_max_win_rate_drop",
            "stop.s5_max_loss_ratio",
            "stop.s5_min_outcomes",
            *_OUTCOMES,
        ),
        stops=True,
        inconclusive_key="monitor.s5_inconclusive_fails",
    ),
    # -- W1-W4: runbook s.8 weight increase criteria, 24 h after T+0 --
    Check(
        "W1",
        "service up more than 24 h since T+0, no crash",
        "s.8 weight increase criteria",
        ("window_24h",),
        ("weight.min_uptime_hours", "stop.s1_start_grace_seconds"),
    ),
    Check(
        "W2",
        "full consensus stable in its band, every hour",
        "s.8 weight increase criteria",
        ("window_24h",),
        (
            "weight.full_consensus_min",
            "weight.full_consensus_max",
            "weight.observation_hours",
            "weight.min_intents_per_hour",
            *_STREAM,
        ),
    ),
    Check(
        "W3",
        "agreement stable in its band, every hour",
        "s.8 weight increase criteria",
        ("window_24h",),
        (
            "weight.agreement_min",
            "weight.agreement_max",
            "weight.observation_hours",
            "weight.min_intents_per_hour",
            *_STREAM,
        ),
    ),
    Check(
        "W4",
        "PnL not worse than the baseline",
        "s.8 weight increase criteria",
        ("window_24h",),
        ("weight.max_win_rate_drop", "weight.min_outcomes", *_OUTCOMES),
    ),
    # -- R1-R5: runbook s.6 rollback verification, since the rollback's restart --
    Check("R1", "shadow flag back in env file", "s.6 verification step 1", _ROLLBACK),
    Check(
        "R2",
        "shadow journal lines returning",
        "s.6 verification step 2",
        _ROLLBACK,
        ("rollback.shadow_wait_seconds",),
    ),
    Check(
        "R3",
        "no consensus needing the model's vote since the rollback",
        "s.6 verification step 3",
        _ROLLBACK,
        ("rollback.min_intents", *_STREAM),
    ),
    Check(
        "R4",
        "rollback time, start to back in shadow",
        "s.6 execution time",
        _ROLLBACK,
        # R4 judges R1-R3 too: "back in shadow" is theirs
        ("rollback.max_seconds", "rollback.shadow_wait_seconds", "rollback.min_intents", *_STREAM),
    ),
    Check(
        "R5",
        "engine stays up after the rollback's restart",
        "s.6 single-command rollback (sleep 10)",
        _ROLLBACK,
        ("service.active_within_seconds", "rollback.stable_seconds"),
    ),
)

_BY_ID = MappingProxyType({check.id: check for check in CHECKS})


def get(check_id: str) -> Check:
    """The catalog row of `check_id`; a KeyError names the unknown ID."""
    try:
        return _BY_ID[check_id]
    except KeyError:
        raise KeyError(f"{check_id!r} is not in the check catalog") from None


def ids() -> tuple[str, ...]:
    """Every check ID, in runbook order."""
    return tuple(_BY_ID)


def ids_of_phase(phase: str) -> tuple[str, ...]:
    """The IDs a run of `phase` must run to be complete."""
    if phase not in PHASES:
        raise KeyError(f"{phase!r} is not a phase marker")
    return tuple(check.id for check in CHECKS if phase in check.phases)


def ids_of_kind(letter: str) -> tuple[str, ...]:
    """The IDs of one kind (`G`: the gates, `B`: the hard blockers), in order."""
    return tuple(check.id for check in CHECKS if check.id.rstrip("0123456789") == letter)
