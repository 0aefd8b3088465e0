"""What one vote in model_breakdown is, in every form the engine wrote over its versions
(ARCHITECTURE.md "The data"): excluded from the ensemble, shadow evidence, failed, or an active
voter; and the consensus questions the blockers ask of an intent's voters.

- A vote is *excluded* from the ensemble when tagged shadow (`"shadow": true`, a `*_shadow`
  model name) or marked `"inactive": true` (later engine, with an `inactive_reason`). It is
  *shadow* evidence when tagged shadow or inactive for "shadow_mode". Excluded votes are still
  the model's opinion (agreement and confidence read them).
- A vote is *failed* when its model field ends in `_error`, or is HOLD at 0.0 under
  `<name>_model` (the later engine's failed prediction); a missing entry is a failure too.
- The *active voters* of an intent are its votes neither excluded nor failed; consensus is
  judged against them, never against `total_models` (a constant the engine writes). A
  `fallback` key is not a model and hides no vote beside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from shadowgate.intents import Intent, ModelVote

SHADOW_REASON = "shadow_mode"  # inactive_reason of a model in shadow (later engine)


def is_shadow(vote: ModelVote) -> bool:
    """Shadow evidence: tagged shadow (flag or `*_shadow` name) or inactive for shadow mode."""
    return (
        vote.shadow
        or vote.model.endswith("_shadow")
        or (vote.inactive and vote.inactive_reason == SHADOW_REASON)
    )


def is_excluded(vote: ModelVote) -> bool:
    """Left out of the ensemble vote: shadow, or inactive for any reason (fallback rules), so
    `is_shadow`'s "inactive for shadow_mode" needs no separate test here (the hot path of a
    day's scan: every vote of every intent)."""
    return vote.shadow or vote.inactive or vote.model.endswith("_shadow")


def is_failed(vote: ModelVote, name: str) -> bool:
    """The model `name` failed to predict: `*_error`, or HOLD 0.0 under `<name>_model`."""
    if vote.model.endswith("_error"):
        return True
    return vote.action == "HOLD" and vote.confidence == 0.0 and vote.model == f"{name}_model"


def is_active(vote: ModelVote, name: str) -> bool:
    """The vote of model `name` takes part in the ensemble: neither excluded nor failed."""
    return not is_excluded(vote) and not is_failed(vote, name)


def active_voters(intent: Intent) -> dict[str, ModelVote]:
    """The votes that take part in the ensemble."""
    return {name: v for name, v in intent.breakdown.items() if is_active(v, name)}


def voting_others(intent: Intent, model: str) -> list[ModelVote]:
    """The active voters other than `model` (an unreadable vote is no voter: conservative)."""
    return [v for name, v in active_voters(intent).items() if name != model]


def _speaks(intent: Intent, model: str) -> bool:
    return model in intent.breakdown or model in intent.unreadable_votes


def beyond_others(intent: Intent, model: str) -> bool:
    """Consensus above what the other active voters can reach alone: only possible if `model`
    voted (B1/P3 "consensus=4 in shadow": 4 of 4 today, 5 of 5 once TFT votes, 3 of 3 while
    lgbm runs on fallback rules). Needs `model` in the breakdown: a fallback-only intent
    (consensus forced to 1, no votes) has nothing to explain; a `fallback` key beside real
    votes hides nothing."""
    if not _speaks(intent, model):
        return False
    others = 0
    for name, v in intent.breakdown.items():
        if name != model and is_active(v, name):
            others += 1
    return intent.consensus_count > others


def counts_model(intent: Intent, model: str) -> bool:
    """`model`'s vote was counted: it sides with the ensemble, and the consensus exceeds the
    other active voters that side with it (check B2). Shadow tags are ignored on purpose: a
    tagged vote that is counted anyway is exactly the logic error B2 looks for."""
    vote = intent.breakdown.get(model)
    if vote is None or vote.action != intent.side:
        return False
    siding = sum(v.action == intent.side for v in voting_others(intent, model))
    return intent.consensus_count > siding


def failure_form(intent: Intent, model: str) -> str | None:
    """How `model` failed to predict on this intent, in the engine's words; None if it did
    not (P2 names every form it counts)."""
    vote = intent.breakdown.get(model)
    if vote is None:
        if model in intent.unreadable_votes:
            return f"unreadable {model} vote"
        return "fallback only" if intent.fallback and not intent.breakdown else f"no {model} vote"
    if vote.model.endswith("_error"):
        return vote.model
    return f"HOLD 0.0 as {vote.model}" if is_failed(vote, model) else None


def failure_forms(intents: Iterable[Intent], model: str) -> dict[str, int]:
    """Each failure form of `model` and how many intents show it, most frequent first."""
    forms = Counter(f for i in intents if (f := failure_form(i, model)) is not None)
    return dict(forms.most_common())


def odd_confidences(intents: Iterable[Intent]) -> dict[str, int]:
    """Votes whose confidence lies outside 0..1 (fallback rules write up to 1.05), by model
    name: kept and counted, so an odd value never hides an intent nor goes unmentioned."""
    odd = Counter(name for i in intents for name, v in i.breakdown.items() if v.odd)
    return dict(sorted(odd.items()))
