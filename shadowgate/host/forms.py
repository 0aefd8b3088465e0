"""What the engine's journal lines say about the model: pure functions over a line's text
(pass JournalLine.text, which includes the traceback of a JSON line).

The forms are the real engine's (binyaminsemerci-ops/quantum_trader: the PatchTST agent, the
ensemble manager, the QSC voting filter). They arrive plain, as the `msg` of a JSON line, or
behind a logging prefix, so each is searched for, never anchored. `model` is the target's model
name ("PatchTST"): matched case-insensitively as a whole word, because the engine writes it
both "PatchTST" and, as the breakdown key, "patchtst"; the words around it are matched as the
engine writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# load_failure's answers, one per way a model file fails to load.
RANDOM_WEIGHTS = "random weights"
NOT_FOUND = "model file not found"
LOAD_ERROR = "model loading failed"


@dataclass(frozen=True)
class _Forms:
    named: re.Pattern[str]
    shadow: re.Pattern[str]
    weight: re.Pattern[str]
    path: re.Pattern[str]
    weights_from: re.Pattern[str]


@cache
def _forms(model: str) -> _Forms:
    m = rf"(?<![\w-])(?i:{re.escape(model)})(?![\w-])"
    return _Forms(
        named=re.compile(m),
        # "[SHADOW] PatchTST | BTCUSDT | action=BUY conf=0.6150 | ... | mode=SHADOW_ONLY" (the
        # agent, at most one per 30 s) or "[QSC] patchtst INACTIVE: shadow mode - excluded
        # from voting" (the voting filter); "[QSC] ... INACTIVE: fallback rules" is not shadow.
        shadow=re.compile(rf"\[SHADOW\] {m}|\[QSC\] {m} INACTIVE: shadow mode"),
        # "[OK] PatchTST agent loaded (weight: 20.0%)", "[✅ ACTIVATED] PatchTST agent loaded
        # (weight: 20.0%)"; the engine prints weight*100, e.g. "30.000000000000004%".
        weight=re.compile(rf"{m} agent loaded \(weight: (\d+(?:\.\d+)?)%\)"),
        # "[PatchTST] Using PATCHTST_MODEL_PATH env var: P", "... Using explicit model path: P",
        # "... Auto-discovered model: P": the three ways the agent picks its file.
        path=re.compile(
            rf"Using {re.escape(model.upper())}_MODEL_PATH env var: (.+)"
            rf"|\[{m}\] (?:Using explicit model path|Auto-discovered model): (.+)"
        ),
        # "[PatchTST] ✅ Model weights loaded from patchtst_v20260109_233444.pth"
        weights_from=re.compile(rf"\[{m}\] .*?Model weights loaded from (.+)"),
    )


# How a load fails, as the agent and the ensemble manager say it: "[PatchTST] Using
# uninitialized (or uncompiled) model with random weights", "[PatchTST] ⚠️ Model file not
# found: P", "[PatchTST] ❌ Model loading failed: E" (or "loading/tracing failed"), "[⚠️
# FALLBACK] PatchTST loading failed: E", "RuntimeError: [PatchTST] QSC FAIL-CLOSED: ...".
_FAILURES = (
    (re.compile("with random weights"), RANDOM_WEIGHTS),
    (re.compile("model file not found", re.IGNORECASE), NOT_FOUND),
    (re.compile(r"loading(?:/tracing)? failed|failed to load", re.IGNORECASE), LOAD_ERROR),
)
# The random-weights line untagged, as the runbook quotes it: taken as the model's (fail safe).
_UNTAGGED_RANDOM = re.compile(r"^Using (?:uninitialized|uncompiled) model with random weights")


def is_shadow_line(text: str, model: str) -> bool:
    """Shadow evidence (P2, R2; A1 wants none): a `[SHADOW] <model>` or a `[QSC] <model>
    INACTIVE: shadow mode` line."""
    return _forms(model).shadow.search(text) is not None


def loaded_weight(text: str, model: str) -> float | None:
    """The weight in percent of a `<model> agent loaded (weight: 20.0%)` line (A1), else None.

    The agent prints this line even when it fell back to random weights: see load_failure.
    """
    found = _forms(model).weight.search(text)
    return float(found[1]) if found else None


def model_path_used(text: str, model: str) -> str | None:
    """The file the agent chose (from `<MODEL>_MODEL_PATH`, an explicit path, or auto-discovered;
    P7, A1 compare it with the env file's), else None."""
    found = _forms(model).path.search(text)
    return (found[1] or found[2]).strip() if found else None


def weights_loaded_from(text: str, model: str) -> str | None:
    """The file name of a `[<model>] ✅ Model weights loaded from NAME` line, else None: the
    agent read the file (the `[OK] ... agent loaded` line alone proves nothing)."""
    found = _forms(model).weights_from.search(text)
    return found[1].strip() if found else None


def load_failure(text: str, model: str) -> str | None:
    """RANDOM_WEIGHTS, NOT_FOUND or LOAD_ERROR when the line says the model's file did not load
    (P7, A1), else None. The line must name the model, so another agent's failure is not
    counted; the untagged random-weights form counts too, since it may be ours."""
    if _UNTAGGED_RANDOM.search(text):
        return RANDOM_WEIGHTS
    if not _forms(model).named.search(text):
        return None
    return next((label for form, label in _FAILURES if form.search(text)), None)
