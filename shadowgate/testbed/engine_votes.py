"""How the stand-in ensemble votes: each model's model_breakdown entry, in every form the real
engine wrote over its versions (ARCHITECTURE.md "The data"), and the consensus it counts.

Kept apart from the payload (`engine_entries`) so the vote forms the checks must read (shadow
tag or `inactive`, fallback rules, failed predictions, HOLD placeholders) are in one place.
The draws from the shared `random.Random` are in a fixed order, and an option left at its
default draws nothing, so a seed writes the same history as before the option existed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from shadowgate.testbed.scenarios import Scenario

OTHERS = {"xgb": "xgboost", "lgbm": "lightgbm", "nhits": "nhits"}  # key -> model field
OPPOSITE = {"BUY": "SELL", "SELL": "BUY"}
SHADOW_REASON = "shadow_mode"  # inactive_reason of PatchTST in shadow (later engine)
FALLBACK_REASON = "fallback_rules"  # inactive_reason of a model on fallback rules
FALLBACK_VOTE_CONF = 0.55  # the rule-based fallback's confidence
TOTAL_MODELS = 4  # the later engine writes the number of models it knows, not its voters
COPY_OTHERS = (1.0, 0.0, 0.0)  # copying: all three others side with the ensemble ...
COPY_AGREE = (1.0, 1.0, 1.0)  # ... and so does PatchTST


def clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def _rules(side: str) -> dict[str, Any]:
    """The `fallback` entry: the rule-based decision, not a model."""
    return {"action": side, "confidence": FALLBACK_VOTE_CONF, "model": "rule_based"}


@dataclass(frozen=True)
class Ballot:
    """What the ensemble decided on one side: the breakdown as written and its counts."""

    breakdown: dict[str, Any]
    consensus: int
    total_models: int
    confidence: float
    patchtst: dict[str, Any] | None  # PatchTST's entry; None when missing or fallback only


class Voter:
    """Draws the votes of xgb, lgbm, nhits and PatchTST for a side, in the scenario's forms."""

    def __init__(self, scenario: Scenario, shadow: bool, rng: random.Random) -> None:
        self.scenario = scenario
        self.shadow = shadow
        self.rng = rng
        self._failures = 0  # failed predictions so far: round-robin over error_forms

    @property
    def counted(self) -> bool:
        """Does PatchTST's vote count? In voting mode, or in shadow with the leak bug."""
        return not self.shadow or self.scenario.counts_in_shadow

    def _hold_conf(self, drawn: float) -> float:
        """A HOLD vote's confidence: the engine's placeholder when the scenario sets one."""
        placeholder = self.scenario.hold_placeholder
        return drawn if placeholder is None else placeholder

    def _other(self, key: str, side: str, with_side: set[str], lgbm_rules: bool) -> dict[str, Any]:
        r = self.rng
        if key == "lgbm" and lgbm_rules:
            # RSI/EMA rules: any action, confidences up to 1.05 (the real engine's odd values).
            return {
                "action": r.choice(("BUY", "SELL", "HOLD")),
                "confidence": round(r.uniform(0.6, 1.05), 4),
                "model": "lgbm_fallback_rules",
                "inactive": True,
                "inactive_reason": FALLBACK_REASON,
            }
        if key in with_side:
            action, conf = side, r.gauss(0.68, 0.07)
        else:
            action = "HOLD" if r.random() < 0.6 else OPPOSITE[side]
            conf = r.gauss(0.55, 0.06)
        conf = round(clip(conf, 0.35, 0.97), 4)
        if action == "HOLD":
            conf = self._hold_conf(conf)
        return {"action": action, "confidence": conf, "model": OTHERS[key]}

    def _failure(self) -> str | None:
        """The form of a failed PatchTST prediction, or None when it predicted."""
        s = self.scenario
        if self.rng.random() >= s.error_rate:
            return None
        form = s.error_forms[self._failures % len(s.error_forms)]
        self._failures += 1
        return form

    def _prediction(self, side: str, agree_index: int, copying: bool = False) -> dict[str, Any]:
        s, r = self.scenario, self.rng
        agree = COPY_AGREE if copying else s.patchtst_agree
        name = "patchtst_model" if s.shadow_form == "inactive" else "patchtst"
        if s.dead_zone is not None:
            # A BUY-only model: BUY at a near-constant confidence when it agrees on a BUY or
            # errs on a SELL; inside its dead zone it says HOLD.
            agrees = r.random() < s.patchtst_agree[agree_index]
            buy = agrees if side == "BUY" else not agrees and r.random() < s.opposite_share
            if buy:
                return {
                    "action": "BUY",
                    "confidence": round(r.uniform(*s.dead_zone), 4),
                    "model": name,
                }
            return {"action": "HOLD", "confidence": self._hold_conf(0.5), "model": name}
        if s.fixed_vote is not None:
            action, conf = s.fixed_vote
        else:
            if r.random() < agree[agree_index]:
                action = side
            elif r.random() < s.opposite_share:
                action = OPPOSITE[side]
            else:
                action = "HOLD"
            conf = round(clip(r.gauss(s.conf_mean, s.conf_std), 0.34, 0.92), 4)
        if action == "HOLD":
            conf = self._hold_conf(conf)
        return {"action": action, "confidence": conf, "model": name}

    def _mark_shadow(self, vote: dict[str, Any]) -> dict[str, Any]:
        """The shadow wrapper marks whatever the agent returned, failed predictions included:
        `shadow: true` and a `_shadow` name (earlier engine) or `inactive` (later engine)."""
        if not self.shadow:
            return vote
        if self.scenario.shadow_form == "inactive":
            return {**vote, "inactive": True, "inactive_reason": SHADOW_REASON}
        if vote["model"] == "patchtst":
            vote = {**vote, "model": "patchtst_shadow"}
        return {**vote, "shadow": True}

    def ballot(self, side: str, copying: bool = False) -> Ballot:
        """The breakdown for `side` and the consensus counted from the active voters;
        `copying`: every model sides with the ensemble (scenario field copy_after_s), drawing
        exactly what it draws otherwise."""
        s, r = self.scenario, self.rng
        lgbm_rules = bool(s.lgbm_fallback_rate) and r.random() < s.lgbm_fallback_rate
        active = sorted(k for k in OTHERS if not (k == "lgbm" and lgbm_rules))
        weights = COPY_OTHERS if copying else s.others_agree
        agreeing = min(r.choices((3, 2, 1), weights=weights)[0], len(active))
        with_side = set(r.sample(active, agreeing))
        breakdown: dict[str, Any] = {
            key: self._other(key, side, with_side, lgbm_rules) for key in OTHERS
        }
        failure = self._failure()
        vote: dict[str, Any] | None
        if failure == "error":
            vote = {"action": "HOLD", "confidence": 0.50, "model": "patchtst_error"}
        elif failure == "hold_zero":
            vote = {"action": "HOLD", "confidence": 0.0, "model": "patchtst_model"}
        elif failure is None:
            vote = self._prediction(side, min(len(active) - agreeing, 2), copying)
        else:  # "missing", "fallback_only": no PatchTST entry at all
            vote = None
        if vote is not None:
            breakdown["patchtst"] = vote = self._mark_shadow(vote)
        counted = self.counted
        consensus = agreeing + int(counted and vote is not None and vote["action"] == side)
        voters = len(active) + int(counted)
        total = TOTAL_MODELS if s.shadow_form == "inactive" else (4 if counted else 3)
        mean_conf = sum(breakdown[k]["confidence"] for k in sorted(with_side)) / agreeing
        confidence = round(clip(mean_conf * (0.85 + 0.15 * consensus / voters), 0.5, 0.95), 4)
        if s.fallback_null:
            breakdown["fallback"] = None
        if r.random() < s.fallback_rate:
            breakdown["fallback"] = _rules(side)
            consensus = 1
        if failure == "fallback_only":  # the ensemble is not loaded: the rules decide alone
            return Ballot({"fallback": _rules(side)}, 1, total, FALLBACK_VOTE_CONF, None)
        return Ballot(breakdown, consensus, total, confidence, vote)
