"""The report's two plots, the snapshot's consensus distribution and the model's confidence
distribution, as figures (`drawing` draws them as SVG data URIs, in this process: cheap)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from shadowgate import metrics, stream
from shadowgate.dayscan import DayScan
from shadowgate.report import drawing


def consensus_plot(snapshot: stream.Window) -> str | None:
    """Bar chart of consensus_count over the snapshot (runbook s.5 metric 1)."""
    dist = metrics.consensus_distribution(snapshot.records)
    if not dist:
        return None
    top = max(max(dist), *(max(i.total_models, len(i.breakdown)) for i in snapshot.records))
    return drawing.consensus([dist.get(k, 0) for k in range(top + 1)])


def confidence_plot(
    values: Sequence[float], model: str, spread: metrics.Spread | None = None
) -> str | None:
    """Histogram of the model's confidence with P10 and P90 marked (G2, s.5 metric 4)."""
    spread = spread or metrics.confidence_spread(values)
    return None if spread is None else drawing.confidence(values, spread, model)


def _figure(uri: str | None, caption: str, missing: str) -> str:
    """The plot as an <img> of its data URI; without one, the caption says what is missing."""
    if uri is None:
        return f"<figure><figcaption>{escape(caption)}: {escape(missing)}</figcaption></figure>"
    return (
        f'<figure><img alt="{escape(caption)}" src="{uri}"/>'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _confidences(
    windows: Mapping[str, stream.Window | DayScan], model: str
) -> tuple[str | None, str]:
    """The model's confidences over the day's scan, else over the snapshot."""
    day, snapshot = windows.get("day"), windows.get("snapshot")
    if isinstance(day, DayScan) and day.model == model.lower():
        return confidence_plot(
            day.confidences, model, day.spread()
        ), "the precondition (24 h) window"
    if isinstance(snapshot, stream.Window):
        return confidence_plot(
            metrics.model_confidences(snapshot.records, model), model
        ), "the snapshot"
    return None, "the snapshot"


def plots_html(windows: Mapping[str, stream.Window | DayScan], model: str) -> str:
    """Both plots; where the stream could not be read, the plot says so instead."""
    snapshot = windows.get("snapshot")
    confidences, label = _confidences(windows, model)
    figures = [
        _figure(
            consensus_plot(snapshot) if snapshot else None,
            "Consensus distribution of the snapshot"
            + (f" ({snapshot.describe()})" if snapshot else ""),
            "no snapshot was read",
        ),
        _figure(
            confidences,
            f"{model} confidence distribution over {label}",
            "no intents were read",
        ),
    ]
    return f'<h2>Distributions</h2><div class="sg-plots">{"".join(figures)}</div>'
