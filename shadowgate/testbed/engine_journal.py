"""The stand-in engine's journal lines, in the real engine's words and forms (ARCHITECTURE.md
"The data"): plain tags, or JSON records whose text is `msg`; the model load at start; the shadow
evidence while running.

The words are what `shadowgate.host.forms` recognises, because they are what the real agent,
ensemble manager and voting filter print; writing them anywhere else would let a check pass on
a line the real engine never writes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from shadowgate.testbed.engine import Published
from shadowgate.testbed.engine_votes import clip
from shadowgate.testbed.scenarios import Scenario

SERVICE = "ai-engine"
QSC_SHADOW = "[QSC] patchtst INACTIVE: shadow mode - excluded from voting"
RANDOM_WEIGHTS = "[PatchTST] Using uninitialized model with random weights"


def _predicted(vote: dict[str, Any] | None) -> bool:
    """PatchTST made a prediction (the agent logs only then): no failure form."""
    if vote is None or vote["model"].endswith("_error"):
        return False
    return not (vote["action"] == "HOLD" and vote["confidence"] == 0.0
                and vote["model"] == "patchtst_model")  # fmt: skip


class Journal:
    """Lines as the engine prints them to journald.

    "plain": tags as plain text and status messages as short JSON (`ts`, `level`, `msg`), as
    the earlier engine; "json": every line one record `{ts, level, service, event,
    correlation_id, msg, exception}` with the text in `msg`, as the later engine.
    """

    def __init__(
        self,
        out: TextIO,
        scenario: Scenario,
        shadow_interval_s: float,
        clock: Callable[[], float],
    ) -> None:
        self.out = out
        self.records = scenario.journal_form == "json"
        self.shadow_lines = scenario.shadow_lines
        self.shadow_interval_s = shadow_interval_s
        self.clock = clock
        self._last_shadow: float | None = None

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _record(self, level: str, event: str, msg: str, exception: str | None = None) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        self._print(json.dumps({
            "ts": now, "level": level, "service": SERVICE, "event": event,
            "correlation_id": None, "msg": msg, "exception": exception,
        }))  # fmt: skip

    def line(self, text: str, level: str = "INFO", event: str = "log") -> None:
        """A tagged line (`[OK] ...`, `[SHADOW] ...`): plain text, or a record's msg."""
        if self.records:
            self._record(level, event, text)
        else:
            self._print(text)

    def json(self, level: str, msg: str, exception: str | None = None) -> None:
        """A status message: short JSON, or a full record (with the traceback, if any)."""
        if self.records:
            self._record(level, "status", msg, exception)
        else:
            now = datetime.now(UTC).isoformat(timespec="milliseconds")
            self._print(json.dumps({"ts": now, "level": level, "msg": msg}))

    def model_load(self, model_path: str | None, scenario: Scenario) -> None:
        """The PatchTST agent's start: the file it uses, whether its weights loaded, and its
        `[OK]` line, printed even when it fell back to random weights (the real agent does)."""
        if model_path is not None:
            self.line(f"[PatchTST] Using PATCHTST_MODEL_PATH env var: {model_path}")
            path = Path(model_path)
            if scenario.model_load == "random_weights":
                self.line(RANDOM_WEIGHTS, "WARNING", "model_load")
            elif path.is_file() and path.stat().st_size > 0:
                self.line(f"[PatchTST] ✅ Model weights loaded from {path.name}")
            else:
                self.line(f"[PatchTST] ⚠️ Model file not found: {model_path}", "WARNING")
                self.line(RANDOM_WEIGHTS, "WARNING", "model_load")
        self.line("[OK] PatchTST agent loaded (weight: 20.0%)")

    def shadow(self, pub: Published) -> None:
        """Shadow evidence for one prediction: the agent's `[SHADOW] PatchTST` line, at most one
        per interval (the real rate limit), and/or the voting filter's `[QSC] ... INACTIVE:
        shadow mode` line, one per prediction."""
        vote = pub.patchtst
        if vote is None or not _predicted(vote):  # no prediction, no line
            return
        if self.shadow_lines in ("qsc", "both"):
            self.line(QSC_SHADOW, "WARNING", "qsc")
        if self.shadow_lines == "qsc":
            return
        now = self.clock()
        if self._last_shadow is not None and now - self._last_shadow < self.shadow_interval_s:
            return
        self._last_shadow = now
        conf = float(vote["confidence"])
        p = clip(conf, 1e-6, 1 - 1e-6)
        self.line(
            f"[SHADOW] PatchTST | {pub.symbol} | action={vote['action']} conf={conf:.4f} "
            f"| prob={conf:.4f} logit={math.log(p / (1 - p)):.4f} | mode=SHADOW_ONLY",
            event="shadow",
        )
