"""What the stand-in engine does, one row per scenario, all parameters in one table.

Each scenario is one way the real engine has behaved (or could) around a PatchTST activation;
`trips` names the checks (DESIGN.md IDs) it exists to make fail or warn, so a self-test can say
"scenario X must trip check Y" without restating the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType


@dataclass(frozen=True)
class Scenario:
    """How the ensemble and PatchTST decide, what gets published, and how the process lives."""

    name: str
    summary: str
    trips: tuple[str, ...] = ()  # check IDs this scenario must make FAIL or WARN
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

    def __post_init__(self) -> None:
        if abs(sum(self.others_agree) - 1.0) > 1e-9:
            raise ValueError(f"{self.name}: others_agree must sum to 1, got {self.others_agree}")


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
                trips=("B1", "B2", "P3"),
                counts_in_shadow=True,
            ),
            replace(
                _HEALTHY,
                name="bloat",
                summary="half the payloads carry a debug dump: payload p95 >= 1500 bytes",
                trips=("B3",),
                bloat_rate=0.5,
            ),
            replace(
                _HEALTHY,
                name="flatline",
                summary="the real P0.4 model: every PatchTST vote is BUY at exactly 0.6150, "
                "in a BUY-heavy market (80% BUY), so its hard disagreement stays under B6's 30%",
                # An always-BUY model cannot pass G3: agreement = BUY share must be <= 75% while
                # hard disagreement = 1 - BUY share must be < 25%. So G3 fails with G1 and G2.
                trips=("G1", "G2", "G3", "B5", "M4", "S4"),
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
                trips=("B6", "G3", "M2", "M3", "S3"),
                patchtst_agree=(0.40, 0.30, 0.25),
                opposite_share=0.75,  # calibrated like the healthy model: only G3/B6 trip
            ),
            replace(
                _HEALTHY,
                name="redundant",
                summary="PatchTST copies the ensemble side: agreement ~99%, 4/4 > 85% once voting",
                trips=("G3", "M1", "M2", "S2", "W2"),
                others_agree=(0.93, 0.06, 0.01),
                patchtst_agree=(1.0, 1.0, 1.0),
            ),
            replace(
                _HEALTHY,
                name="collapse",
                summary="PatchTST confidence stuck near 0.60 (P10..P90 < 0.01), actions diverse",
                trips=("G2", "G4", "B5", "M4", "S4"),
                conf_std=0.002,
                calibration=0.0,
            ),
            replace(
                _HEALTHY,
                name="crash_loop",
                summary="loads, publishes for ~2.5 s, then dies with exit code 1 (restart loop)",
                trips=("P4", "B4", "A0", "S1"),
                crash_after_s=2.5,
            ),
            replace(
                _HEALTHY,
                name="silent",
                summary="loads and predicts (logs as usual) but publishes nothing live; "
                "a backfill is still written, so the stream just stops",
                trips=("S1", "A2"),
                silent=True,
            ),
            replace(
                _HEALTHY,
                name="pnl_degraded",
                summary="outcomes of intents after the engine started: win rate -25 points, "
                "losses 3x larger than the backfilled history",
                trips=("S5", "W4"),
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


def get(name: str) -> Scenario:
    """The scenario called `name`, or a ValueError listing the known ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIOS)
        raise ValueError(f"unknown scenario {name!r}; known: {known}") from None
