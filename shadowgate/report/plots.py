"""The report's two plots, drawn with matplotlib's Agg canvas and embedded as PNG data URIs:
the snapshot's consensus distribution and the model's confidence distribution.

matplotlib is imported only when a plot is drawn: importing it costs every pytest process
(the plugin loads this module) about a third of a second, and most draw nothing."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING

from shadowgate import metrics, stream

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _new_figure() -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(5.6, 3.2), layout="constrained")


def _png(fig: Figure) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def consensus_plot(snapshot: stream.Window) -> str | None:
    """Bar chart of consensus_count over the snapshot (runbook s.5 metric 1), base64 PNG."""
    dist = metrics.consensus_distribution(snapshot.records)
    if not dist:
        return None
    top = max(max(dist), *(max(i.total_models, len(i.breakdown)) for i in snapshot.records))
    counts = [dist.get(k, 0) for k in range(top + 1)]
    total = sum(counts)
    fig = _new_figure()
    ax = fig.subplots()
    bars = ax.bar(range(top + 1), counts, color="#4a7ebb")
    ax.bar_label(bars, labels=[f"{c / total:.0%}" if c else "" for c in counts])
    ax.set_xticks(range(top + 1))
    ax.set_xlabel("consensus_count")
    ax.set_ylabel("intents")
    ax.set_title(f"Consensus distribution, latest {total} intents")
    return _png(fig)


def confidence_plot(window: stream.Window, model: str) -> str | None:
    """Histogram of the model's confidence with P10 and P90 marked (G2, s.5 metric 4)."""
    values = metrics.model_confidences(window.records, model)
    spread = metrics.confidence_spread(values)
    if spread is None:
        return None
    fig = _new_figure()
    ax = fig.subplots()
    ax.hist(values, bins=30, color="#6a9f58")
    for q, x in (("P10", spread.p10), ("P90", spread.p90)):
        ax.axvline(x, color="#c62828", linestyle="--")
        ax.annotate(f" {q}", (x, 0.97), xycoords=("data", "axes fraction"), va="top")
    ax.set_xlabel(f"{model} confidence")
    ax.set_ylabel("predictions")
    ax.set_title(f"{model} confidence, n={spread.n}, P10..P90={spread.range_p10_p90:.3f}")
    return _png(fig)


def _figure(png: str | None, caption: str, missing: str) -> str:
    if png is None:
        return f"<figure><figcaption>{escape(caption)}: {escape(missing)}</figcaption></figure>"
    return (
        f'<figure><img alt="{escape(caption)}" src="data:image/png;base64,{png}"/>'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def plots_html(windows: Mapping[str, stream.Window], model: str) -> str:
    """Both plots; where the stream could not be read, the plot says so instead."""
    snapshot = windows.get("snapshot")
    confidence_window, label = windows.get("day"), "the precondition (24 h) window"
    if confidence_window is None:
        confidence_window, label = snapshot, "the snapshot"
    figures = [
        _figure(
            consensus_plot(snapshot) if snapshot else None,
            "Consensus distribution of the snapshot"
            + (f" ({snapshot.describe()})" if snapshot else ""),
            "no snapshot was read",
        ),
        _figure(
            confidence_plot(confidence_window, model) if confidence_window else None,
            f"{model} confidence distribution over {label}",
            "no intents were read",
        ),
    ]
    return f'<h2>Distributions</h2><div class="sg-plots">{"".join(figures)}</div>'
