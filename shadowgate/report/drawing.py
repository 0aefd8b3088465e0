"""The report's figures, drawn with matplotlib's Agg canvas as base64 PNGs by a helper process
that a phase run starts as it begins (`start`): importing matplotlib costs about as much as
judging a demo-sized day, and the helper pays it on the other core while the checks read the
stream. Without a helper, or when it fails, the figures are drawn in this process.

The helper is this module run as `python -m shadowgate.report.drawing`: it imports matplotlib,
reads one pickled list of (figure, arguments) from stdin and writes the pickled PNGs."""

from __future__ import annotations

import atexit
import base64
import io
import pickle
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from shadowgate.metrics import Spread

HELPER_TIMEOUT_S = 60.0
_HELPER: list[subprocess.Popen[bytes]] = []


def _new_figure() -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(5.6, 3.2), layout="constrained")


def _png(fig: Figure) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def consensus(counts: Sequence[int]) -> str:
    """Bar chart of intents per consensus_count 0..len(counts)-1, each bar's share on it."""
    total = sum(counts)
    fig = _new_figure()
    ax = fig.subplots()
    bars = ax.bar(range(len(counts)), counts, color="#4a7ebb")
    ax.bar_label(bars, labels=[f"{c / total:.0%}" if c else "" for c in counts])
    ax.set_xticks(range(len(counts)))
    ax.set_xlabel("consensus_count")
    ax.set_ylabel("intents")
    ax.set_title(f"Consensus distribution, latest {total} intents")
    return _png(fig)


def confidence(values: Sequence[float], spread: Spread, model: str) -> str:
    """Histogram of the model's confidences with P10 and P90 marked (handed to matplotlib as
    one float64 array: a sequence of Python floats costs it ~280 bytes each, 220 MB a day of
    a million intents)."""
    import numpy as np

    fig = _new_figure()
    ax = fig.subplots()
    ax.hist(np.asarray(values, dtype=np.float64), bins=30, color="#6a9f58")
    for q, x in (("P10", spread.p10), ("P90", spread.p90)):
        ax.axvline(x, color="#c62828", linestyle="--")
        ax.annotate(f" {q}", (x, 0.97), xycoords=("data", "axes fraction"), va="top")
    ax.set_xlabel(f"{model} confidence")
    ax.set_ylabel("predictions")
    ax.set_title(f"{model} confidence, n={spread.n}, P10..P90={spread.range_p10_p90:.3f}")
    return _png(fig)


FIGURES = {"consensus": consensus, "confidence": confidence}
Request = tuple[str, tuple[Any, ...]]  # a FIGURES name and its arguments


def start() -> None:
    """Start the helper once per process; it stops when this process ends."""
    if _HELPER:
        return
    try:
        helper = subprocess.Popen(
            [sys.executable, "-m", "shadowgate.report.drawing"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return  # drawn here instead
    _HELPER.append(helper)
    atexit.register(_stop, helper)


def _stop(helper: subprocess.Popen[bytes]) -> None:
    if helper.poll() is None:
        helper.kill()
        helper.wait()


def draw(requests: Sequence[Request]) -> list[str]:
    """The PNGs of `requests`, by the helper if one was started (once), else here."""
    if _HELPER and requests:
        helper = _HELPER.pop()
        try:
            out, _ = helper.communicate(pickle.dumps(list(requests)), timeout=HELPER_TIMEOUT_S)
            if helper.returncode == 0:
                return pickle.loads(out)
        except (subprocess.TimeoutExpired, OSError, pickle.UnpicklingError, EOFError):
            pass
        _stop(helper)
    return [FIGURES[name](*args) for name, args in requests]


def _serve() -> None:
    from matplotlib import figure  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401  (imported now, while waiting)

    requests = pickle.load(sys.stdin.buffer)
    pickle.dump([FIGURES[name](*args) for name, args in requests], sys.stdout.buffer)


if __name__ == "__main__":
    _serve()
