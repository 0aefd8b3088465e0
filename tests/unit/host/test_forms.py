"""shadowgate.host.forms over the real engine's journal lines: plain, behind a logging prefix,
and wrapped in its JSON form (read through journal_lines, as the checks will)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from shadowgate import host
from tests.support.canned_host import canned

M = "PatchTST"
MODEL = "/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth"
SHADOW = (
    "[SHADOW] PatchTST | ETHUSDT | action=BUY conf=0.6150 | prob=0.6150 logit=0.4685 | "
    "mode=SHADOW_ONLY"
)
PREFIX = "[2026-01-10T02:36:13.464532Z] [INFO] "  # the engine's plain form


def _through_journal(*records: dict[str, object]) -> list[host.JournalLine]:
    """The engine's JSON records as journald hands them out, read by journal_lines."""
    since = datetime(2026, 1, 10, 2, 36, tzinfo=UTC)
    micros = int(since.timestamp() * 1_000_000)
    out = b"".join(
        orjson.dumps({"__REALTIME_TIMESTAMP": str(micros + n), "MESSAGE": orjson.dumps(r).decode()})
        + b"\n"
        for n, r in enumerate(records, 1)
    )
    return host.journal_lines(canned({"journalctl -u": (0, out, b"")}), "x.service", since)


def _record(msg: str, level: str = "INFO", exception: str | None = None) -> dict[str, object]:
    return {
        "ts": "2026-01-10T02:36:13.464532Z",
        "level": level,
        "service": "ai-engine",
        "event": None,
        "correlation_id": "f9597041-dee7-4d07-85bb-34516edf385b",
        "msg": msg,
        "exception": exception,
    }


@pytest.mark.parametrize(
    ("text", "shadow"),
    [
        (SHADOW, True),
        (PREFIX + SHADOW, True),
        (
            "[SHADOW] PatchTST | BTCUSDT | action=SELL conf=0.7012 | prob=0.2988 logit=-0.8532 | "
            "mode=SHADOW_ONLY",
            True,
        ),
        ("[QSC] patchtst INACTIVE: shadow mode", True),
        ("[QSC] patchtst INACTIVE: shadow mode - excluded from voting", True),
        ("[QSC] patchtst INACTIVE: fallback rules", False),  # excluded, but not shadow
        ("[QSC] nhits INACTIVE: shadow mode", False),  # another model
        ("[SHADOW] PatchTSTv2 | BTCUSDT | action=BUY", False),
        ("[shadow] patchtst | BTCUSDT", False),  # not as the engine writes the tag
        ("[OK] PatchTST agent loaded (weight: 20.0%)", False),
        ("PatchTST voting mode: ACTIVE (PATCHTST_SHADOW_ONLY not true)", False),
    ],
)
def test_shadow_lines(text: str, shadow: bool) -> None:
    assert host.is_shadow_line(text, M) is shadow


def test_shadow_lines_of_the_json_form_and_any_model_spelling() -> None:
    lines = _through_journal(_record(SHADOW), _record("[QSC] patchtst INACTIVE: shadow mode"))
    assert [host.is_shadow_line(line.text, M) for line in lines] == [True, True]
    assert host.is_shadow_line(SHADOW, "patchtst")  # the breakdown key works as well
    assert host.is_shadow_line("[SHADOW] TFT | BTCUSDT | action=BUY conf=0.6100", "TFT")


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("[OK] PatchTST agent loaded (weight: 20.0%)", 20.0),
        ("✅ [OK] PatchTST agent loaded (weight: 20.0%)", 20.0),
        ("[✅ ACTIVATED] PatchTST agent loaded (weight: 20.0%)", 20.0),
        ("[OK] PatchTST agent loaded (weight: 30.000000000000004%)", 30.000000000000004),
        ("[OK] PatchTST agent loaded (weight: 25%) model=" + MODEL, 25.0),
        (PREFIX + "[OK] PatchTST agent loaded (weight: 20.0%)", 20.0),
        ("[OK] XGBoost agent loaded (weight: 25.0%)", None),
        ("[OK] PatchTST shadow mode: SHADOW_ONLY (excluded from voting)", None),
        ("[⚠️  FALLBACK] PatchTST loading failed: boom", None),
    ],
)
def test_loaded_weight(text: str, weight: float | None) -> None:
    assert host.loaded_weight(text, M) == weight


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (f"[PatchTST] Using PATCHTST_MODEL_PATH env var: {MODEL}", MODEL),
        (f"Using PATCHTST_MODEL_PATH env var: {MODEL}  ", MODEL),
        (f"[PatchTST] Using explicit model path: {MODEL}", MODEL),
        (
            "[PatchTST] Auto-discovered model: /app/models/patchtst_model.pth",
            "/app/models/patchtst_model.pth",
        ),
        ("[N-HiTS] Using explicit model path: /app/models/nhits.pth", None),
        (f"Using NHITS_MODEL_PATH env var: {MODEL}", None),
        (f"[PatchTST] Loading model from {MODEL}", None),
    ],
)
def test_model_path_used(text: str, path: str | None) -> None:
    assert host.model_path_used(text, M) == path


def test_weights_loaded_from() -> None:
    line = "[PatchTST] ✅ Model weights loaded from patchtst_v20260109_233444.pth"
    assert host.weights_loaded_from(line, M) == "patchtst_v20260109_233444.pth"
    assert host.weights_loaded_from(PREFIX + line, M) == "patchtst_v20260109_233444.pth"
    assert host.weights_loaded_from("[N-HiTS] ✅ Model weights loaded from n.pth", M) is None
    assert host.weights_loaded_from("[OK] PatchTST agent loaded (weight: 20.0%)", M) is None


@pytest.mark.parametrize(
    ("text", "failure"),
    [
        ("[PatchTST] Using uninitialized model with random weights", host.RANDOM_WEIGHTS),
        ("[PatchTST] Using uncompiled model with random weights", host.RANDOM_WEIGHTS),
        ("Using uninitialized model with random weights", host.RANDOM_WEIGHTS),  # untagged
        (f"[PatchTST] ⚠️ Model file not found: {MODEL}", host.NOT_FOUND),
        (
            f"FileNotFoundError: [PatchTST] QSC FAIL-CLOSED: Model file not found at {MODEL}. "
            "Cannot predict without model.",
            host.NOT_FOUND,
        ),
        ("[PatchTST] ❌ Model loading failed: invalid load key, 'x'.", host.LOAD_ERROR),
        ("[PatchTST] ❌ Model loading/tracing failed: size mismatch", host.LOAD_ERROR),
        ("[⚠️  FALLBACK] PatchTST loading failed: CUDA out of memory", host.LOAD_ERROR),
        (PREFIX + "[PatchTST] Using uninitialized model with random weights", host.RANDOM_WEIGHTS),
        # Another agent's trouble, or the model doing fine: not a load failure of PatchTST.
        ("[N-HiTS] Using uninitialized model with random weights", None),
        ("[ERROR] XGBoost loading failed: no file", None),
        ("[PatchTST] Using uncompiled model (slower but functional)", None),
        ("[PatchTST] ✅ Model weights loaded from patchtst_v20260109_233444.pth", None),
        ("[OK] PatchTST agent loaded (weight: 20.0%)", None),
        ("PatchTST inference failed: RuntimeError: CUDA error; engine exiting", None),
        (SHADOW, None),
    ],
)
def test_load_failure(text: str, failure: str | None) -> None:
    assert host.load_failure(text, M) == failure


def test_load_failure_named_only_in_the_json_exception() -> None:
    """The fail-closed agent raises: the msg says little, the JSON line's exception says why."""
    trace = (
        "Traceback (most recent call last):\n  ...\nRuntimeError: [PatchTST] QSC FAIL-CLOSED: "
        f"Model loading failed from {MODEL}. Error: invalid load key, 'x'."
    )
    (line,) = _through_journal(_record("Ensemble init error", "ERROR", trace))
    assert line.exception == trace
    assert host.load_failure(line.message, M) is None
    assert host.load_failure(line.text, M) == host.LOAD_ERROR


def test_the_forms_of_one_start_read_through_the_json_journal() -> None:
    """A real start (JSON form) after a bad model file: loaded line and weight, yet a failure."""
    lines = _through_journal(
        _record(f"[PatchTST] Using PATCHTST_MODEL_PATH env var: {MODEL}"),
        _record(f"[PatchTST] ⚠️ Model file not found: {MODEL}", "WARNING"),
        _record("[PatchTST] Using uninitialized model with random weights"),
        _record("[OK] PatchTST agent loaded (weight: 20.0%)"),
    )
    texts = [line.text for line in lines]
    assert [host.model_path_used(t, M) for t in texts] == [MODEL, None, None, None]
    assert [host.load_failure(t, M) for t in texts] == [
        None,
        host.NOT_FOUND,
        host.RANDOM_WEIGHTS,
        None,
    ]
    assert [host.loaded_weight(t, M) for t in texts] == [None, None, None, 20.0]
    assert lines[1].level == "WARNING"
