"""What the stand-in engine does, one row per scenario, all parameters in one table.

Each scenario is one way the real engine has behaved (or could) around a PatchTST activation;
the checks each must trip are written once, in the preactivation and post-activation matrices.

The form options (shadow_form .. stale_minutes) make the engine write the forms of its later
versions (ARCHITECTURE.md "The data"); each is off by default, so a scenario that does not set one
writes what it always wrote. Any field can be set per run: `with_options`, the simulator's
`--with FIELD=VALUE`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Scenario:
    """How the ensemble and PatchTST decide, what gets published, and how the process lives."""

    name: str
    summary: str
    default_shadow: bool = True  # mode when neither the process env nor the env file decides
    # The three non-PatchTST voters (xgb, lgbm, nhits): P(3, 2, 1 of them agree with the side).
    others_agree: tuple[float, float, float] = (0.80, 0.17, 0.03)
    # P(PatchTST agrees with the side | 3, 2, 1 others agree): overall ~65%.
    patchtst_agree: tuple[float, float, float] = (0.70, 0.50, 0.40)
    opposite_share: float = 0.43  # of PatchTST's disagreements, the share that is the other side
    conf_mean: float = 0.60  # PatchTST confidence ~ N(mean, std), clipped to [0.34, 0.92]
    conf_std: float = 0.08
    fixed_vote: tuple[str, float] | None = None  # every PatchTST vote is this (action, conf)
    calibration: float = 2.0  # slope of P(PatchTST right) over its confidence; 0 = no signal
    error_rate: float = 0.01  # PatchTST prediction failed: HOLD/0.50 "patchtst_error"
    fallback_rate: float = 0.01  # ensemble fell back to rules: consensus_count forced to 1
    hold_rate: float = 0.15  # ensemble HOLD decisions: never published
    buy_share: float = 0.5  # P(the ensemble's published side is BUY)
    counts_in_shadow: bool = False  # the bug: PatchTST votes although tagged shadow
    bloat_rate: float = 0.0  # share of payloads carrying a debug dump
    bloat_floats: int = 70  # floats in that dump (~9 bytes each)
    garbage_rate: float = 0.0  # share of entries that are malformed, foreign or in data form
    outcome_rate: float = 0.35  # share of intents that become a trade.closed outcome
    outcome_delay_s: tuple[float, float] = (60.0, 900.0)  # short enough that positions free up
    live_win_shift: float = 0.0  # added to P(win) for intents after the engine started
    live_loss_scale: float = 1.0  # multiplies loss sizes for intents after the engine started
    crash_after_s: float | None = None  # live loop dies with exit code 1 after this long
    silent: bool = False  # predicts (and logs) but publishes nothing live
    # Live decisions this many seconds after the start copy the ensemble: the three others and
    # PatchTST all side with it (a redundancy burst in the latest slices only); None: never.
    copy_after_s: float | None = None
    # -- forms of the real engine's versions (ARCHITECTURE.md "The data"); defaults: the
    # earlier engine
    shadow_form: str = "tag"  # PatchTST in shadow: "tag" (shadow: true, patchtst_shadow) or
    # "inactive" (later engine: inactive, inactive_reason shadow_mode, model patchtst_model)
    lgbm_fallback_rate: float = 0.0  # share of decisions with lgbm on fallback rules (inactive)
    error_forms: tuple[str, ...] = ("error",)  # failed predictions, in turn (see ERROR_FORMS)
    fallback_null: bool = False  # every breakdown carries "fallback": null beside the votes
    hold_placeholder: float | None = None  # every HOLD vote's confidence (0.5 earlier, 0.0 later)
    dead_zone: tuple[float, float] | None = None  # PatchTST: BUY at U(lo, hi), else HOLD
    foreign_ratio: int = 0  # trading-bot trade.intent entries written per engine decision
    journal_form: str = "plain"  # "plain" tags (+ short JSON), or "json": every line a record
    shadow_lines: str = "shadow"  # "shadow" ([SHADOW] PatchTST), "qsc" ([QSC] INACTIVE), "both"
    model_load: str = "auto"  # "auto" (from the file, if there), "random_weights" (bad file)
    outcome_form: str = "flat"  # trade.closed: "flat", "executor", "bus", or "mixed"
    publish_filter: bool = False  # publish only at conf >= 0.75, 120 s/symbol, 6 a minute
    stale_minutes: float = 0.0  # publishing stopped this long ago; the process runs on

    def __post_init__(self) -> None:
        if abs(sum(self.others_agree) - 1.0) > 1e-9:
            raise ValueError(f"{self.name}: others_agree must sum to 1, got {self.others_agree}")
        for key, allowed in CHOICES.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"{self.name}: {key} must be one of {allowed}")
        if not self.error_forms or not set(self.error_forms) <= set(ERROR_FORMS):
            raise ValueError(f"{self.name}: error_forms must be some of {ERROR_FORMS}")
        if self.foreign_ratio < 0 or self.stale_minutes < 0:
            raise ValueError(f"{self.name}: foreign_ratio and stale_minutes must be >= 0")


# How a PatchTST prediction fails, in the engine's versions: "error" (HOLD 0.5 as
# patchtst_error), "hold_zero" (HOLD 0.0 as patchtst_model), "missing" (no patchtst entry),
# "fallback_only" (the ensemble not loaded: the breakdown is {"fallback": ...}, consensus 1).
ERROR_FORMS = ("error", "hold_zero", "missing", "fallback_only")
CHOICES = {
    "shadow_form": ("tag", "inactive"),
    "journal_form": ("plain", "json"),
    "shadow_lines": ("shadow", "qsc", "both"),
    "model_load": ("auto", "random_weights"),
    "outcome_form": ("flat", "executor", "bus", "mixed"),
}

_HEALTHY = Scenario(
    name="healthy_shadow",
    summary="P0.5-ready model in shadow: ~65% agreement, ~15% hard disagreement, diverse "
    "actions, P10..P90 confidence ~0.20, calibrated; 4/4 ~55% once voting",
)

SCENARIOS: MappingProxyType[str, Scenario] = MappingProxyType(
    {
        s.name: s
        for s in (
            _HEALTHY,
            replace(
                _HEALTHY,
                name="healthy_voting",
                summary="the same healthy model after activation (voting by default)",
                default_shadow=False,
            ),
            replace(
                _HEALTHY,
                name="shadow_leak",
                summary="flag says shadow, payloads and [SHADOW] lines say shadow, but PatchTST's "
                "vote is counted: total_models=4, consensus 4 of 4 appears",
                counts_in_shadow=True,
            ),
            replace(
                _HEALTHY,
                name="bloat",
                summary="half the payloads carry a debug dump: payload p95 >= 1500 bytes",
                bloat_rate=0.5,
            ),
            replace(
                _HEALTHY,
                name="flatline",
                summary="the real P0.4 model: every PatchTST vote is BUY at exactly 0.6150, "
                "in a BUY-heavy market (80% BUY), so its hard disagreement stays under B6's 30%",
                # An always-BUY model cannot pass G3: agreement = BUY share must be <= 75% while
                # hard disagreement = 1 - BUY share must be < 25%. So G3 fails with G1 and G2.
                fixed_vote=("BUY", 0.6150),
                buy_share=0.80,
                calibration=0.0,
                error_rate=0.0,
            ),
            replace(
                _HEALTHY,
                name="contrarian",
                summary="PatchTST mostly votes against the ensemble: agreement ~38%, hard "
                "disagreement ~45%",
                patchtst_agree=(0.40, 0.30, 0.25),
                opposite_share=0.75,  # calibrated like the healthy model: only G3/B6 trip
            ),
            replace(
                _HEALTHY,
                name="redundant",
                summary="PatchTST copies the ensemble side: agreement ~99%, 4/4 > 85% once voting",
                others_agree=(0.93, 0.06, 0.01),
                patchtst_agree=(1.0, 1.0, 1.0),
            ),
            replace(
                _HEALTHY,
                name="collapse",
                summary="PatchTST confidence stuck near 0.60 (P10..P90 < 0.01), actions diverse",
                conf_std=0.002,
                calibration=0.0,
            ),
            replace(
                _HEALTHY,
                name="crash_loop",
                summary="loads, publishes for ~2.5 s, then dies with exit code 1 (restart loop)",
                crash_after_s=2.5,
            ),
            replace(
                _HEALTHY,
                name="silent",
                summary="loads and predicts (logs as usual) but publishes nothing live; "
                "a backfill is still written, so the stream just stops",
                silent=True,
            ),
            replace(
                _HEALTHY,
                name="pnl_degraded",
                summary="outcomes of intents after the engine started: win rate -25 points, "
                "losses 3x larger than the backfilled history",
                live_win_shift=-0.25,
                live_loss_scale=3.0,
            ),
            replace(
                _HEALTHY,
                name="garbage",
                summary="healthy, plus ~10% odd entries: bad JSON, missing fields, wrong types, "
                "non-UTF-8 payloads, risk-engine entries, {data: <JSON>} entries",
                garbage_rate=0.10,
            ),
            replace(
                _HEALTHY,
                name="later_engine",
                summary="the healthy model as the later engine writes it: inactive/shadow_mode "
                "votes, lgbm on fallback rules, every failure form, JSON journal with [QSC] and "
                "[SHADOW] lines, outcomes in all three forms",
                shadow_form="inactive",
                lgbm_fallback_rate=1.0,
                error_forms=ERROR_FORMS,
                error_rate=0.02,
                journal_form="json",
                shadow_lines="both",
                outcome_form="mixed",
            ),
            replace(
                _HEALTHY,
                name="shadow_leak_lgbm_fallback",
                summary="the leak while lgbm runs on fallback rules: 2 other active voters, "
                "consensus 3 appears (the B1/P3 case a count against total_models misses)",
                counts_in_shadow=True,
                lgbm_fallback_rate=1.0,
            ),
            replace(
                _HEALTHY,
                name="shadow_leak_fallback_null",
                summary='the leak, each breakdown also carrying "fallback": null beside the votes',
                counts_in_shadow=True,
                fallback_null=True,
            ),
            replace(
                _HEALTHY,
                name="dead_zone",
                summary="a BUY-only model with a dead zone: BUY at 0.61..0.62 or HOLD (0.0 "
                "placeholder); pooled with the HOLDs the spread looks wide, BUY/SELL-only it fails",
                # BUY share 75%: agreement 60%, hard disagreement 5%, BUY 65% of votes, so G1 and
                # G3 pass; the near-constant BUY confidence cannot be calibrated (G4) either.
                dead_zone=(0.61, 0.62),
                hold_placeholder=0.0,
                patchtst_agree=(0.80, 0.80, 0.80),
                opposite_share=1.0,
                buy_share=0.75,
                calibration=0.0,
                error_rate=0.0,
            ),
            replace(
                _HEALTHY,
                name="stale",
                summary="the process runs (and logs) but published its last intent 2 h ago: "
                "the backfill ends then, nothing is written live",
                stale_minutes=120.0,
            ),
        )
    }
)

# The kinds a garbage entry cycles through (round-robin, so every kind shows up early).
GARBAGE_KINDS = (
    "bad_json",
    "missing_field",
    "wrong_type",
    "non_utf8",
    "foreign",
    "data_form",
    "foreign",
    "data_form",
)


def _option_value(key: str, text: str) -> object:
    """TEXT as the value of the field `key`: JSON (lists become tuples), else the raw text."""
    kinds = {f.name: str(f.type) for f in fields(Scenario)}
    if key not in kinds or key in ("name", "summary"):
        raise ValueError(f"unknown scenario option {key!r}; known: {', '.join(OPTIONS)}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    if isinstance(value, list):
        value = tuple(value)
    kind = kinds[key]
    if value is None and "None" in kind:
        return None
    # exact types (JSON gives no subclasses), so a bool is not taken for an int
    base = {"float": (int, float), "int": (int,), "bool": (bool,), "str": (str,), "tuple": (tuple,)}
    wanted = base[kind.split("[")[0].split(" |")[0]]
    if type(value) not in wanted:
        raise ValueError(f"option {key}: expected {kind}, got {text!r}")
    return float(value) if kind.startswith("float") else value


def with_options(scenario: Scenario, assignments: Iterable[str]) -> Scenario:
    """`scenario` with each `FIELD=VALUE` applied (the simulator's `--with`), e.g.
    `shadow_form=inactive`, `lgbm_fallback_rate=1`, `error_forms=["missing","hold_zero"]`."""
    changes: dict[str, Any] = {}  # typed at run time, by _option_value against the field
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep:
            raise ValueError(f"expected FIELD=VALUE, got {assignment!r}")
        changes[key.strip()] = _option_value(key.strip(), text.strip())
    return replace(scenario, **changes) if changes else scenario


def get(name: str) -> Scenario:
    """The scenario called `name`, or a ValueError listing the known ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {name!r}; known: {known}") from None


OPTIONS = tuple(f.name for f in fields(Scenario) if f.name not in ("name", "summary"))
