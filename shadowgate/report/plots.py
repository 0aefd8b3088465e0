"""The report's plots as figures (`drawing` and `timecharts` draw them as SVG data URIs, in
this process: cheap): the snapshot's consensus distribution and the model's confidence
distribution; in a window report, runbook s.5's metrics per slice since T+0."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from shadowgate import metrics, stream, trades
from shadowgate.checks.stops import PnlBaseline
from shadowgate.config import Thresholds
from shadowgate.dayscan import DayScan
from shadowgate.intents import Intent
from shadowgate.report import drawing, timecharts
from shadowgate.window import span


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


def _confidences(windows: Mapping[str, object], model: str) -> tuple[str | None, str]:
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


def plots_html(windows: Mapping[str, object], model: str) -> str:
    """Both plots; where the stream could not be read, the plot says so instead."""
    found = windows.get("snapshot")
    snapshot = found if isinstance(found, stream.Window) else None  # a read, never a day's scan
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


# --- window reports: what runbook s.5 asks the operator to watch, per slice since T+0 ---------


@dataclass(frozen=True)
class Slices:
    """The intents since T+0 cut as S2 cuts them: `stop.s2_slice_minutes` each, the latest
    ending at the read, so S2's last slices are the chart's last columns (at least S2's
    number of them: early in a window, those before T+0 are empty, as S2 sees them)."""

    t0_ms: int
    intents: list[list[Intent]]
    labels: list[str]  # "T+10 min": where each slice ends
    thin: list[bool]  # fewer than `monitor.min_slice_intents`: no figure drawn

    @classmethod
    def of(cls, window: stream.Window, th: Thresholds) -> Slices | None:
        """None when the window's span is unknown (no T+0 or no read time)."""
        t0_ms, end = window.start_ms, window.read_at_ms
        if t0_ms is None or end is None or end <= t0_ms:
            return None
        size = th.number("stop.s2_slice_minutes") * 60_000
        count = max(math.ceil((end - t0_ms) / size), th.integer("stop.s2_slices"))
        cut = metrics.time_slices(window.records, end, size, count)
        ends = [int(end - (count - 1 - k) * size - t0_ms) for k in range(count)]
        labels = [f"T+{span(e)}" if e > 0 else "before T+0" for e in ends]
        need = th.integer("monitor.min_slice_intents")
        return cls(t0_ms, cut, labels, [len(s) < need for s in cut])

    def share(self, ratio: Callable[[list[Intent]], metrics.Ratio]) -> list[float | None]:
        """A share per slice; None where the slice is too thin or holds no such event."""
        shares = [ratio(s) for s in self.intents]
        return [None if thin else r.value for r, thin in zip(shares, self.thin, strict=True)]


def _consensus_counts(intents: list[Intent]) -> tuple[int, int, int]:
    """(full consensus, partial, consensus 0..1) as M1 and S2 count them."""
    full = sum(map(metrics.is_full_consensus, intents))
    low = sum(1 for i in intents if not metrics.is_full_consensus(i) and i.consensus_count <= 1)
    return full, len(intents) - full - low, low


def _spread_range(intents: list[Intent], model: str) -> float | None:
    spread = metrics.confidence_spread(metrics.model_confidences(intents, model))
    return None if spread is None else spread.range_p10_p90


def _pnl_plot(observed: Mapping[str, object], t0_ms: int, th: Thresholds) -> tuple[str | None, str]:
    """S5's bars, or why they cannot be drawn."""
    outcomes, baseline = observed.get("outcomes_since_t0"), observed.get("pnl_baseline")
    if not isinstance(outcomes, stream.Window) or not isinstance(baseline, PnlBaseline):
        return None, "no outcomes since T+0 or no baseline (S5 has not run)"
    first = t0_ms + th.number("stop.s5_after_hours") * 3_600_000
    closed = [o for o in outcomes.records if o.ts_ms < first]
    rate, loss = trades.win_rate(closed).value, trades.mean_loss(closed)
    before_rate, before_loss = baseline.win_rate.value, baseline.mean_loss
    if rate is None or loss is None or before_rate is None or before_loss is None:
        return None, "no closed or no losing trade on one side: nothing to compare"
    floor = before_rate - th.number("stop.s5_max_win_rate_drop")
    cap = before_loss * th.number("stop.s5_max_loss_ratio")
    return timecharts.pnl((before_rate, rate), floor, (before_loss, loss), cap), ""


def window_plots_html(observed: Mapping[str, object], model: str, th: Thresholds) -> str:
    """Runbook s.5's metrics over time since T+0, one column per slice, with their lines:
    consensus (S2's sustained rule), agreement and hard disagreement (S3's stop line), the
    model's confidence spread (S4's collapse line) and S5's PnL against its baseline."""
    window = observed.get("since_t0")
    cut = Slices.of(window, th) if isinstance(window, stream.Window) else None
    if cut is None:
        missing = "the intents since T+0 were not read"
        return f"<h2>Since T+0</h2><p>{escape(missing)}</p>"
    model = model.lower()
    sustained = th.integer("stop.s2_slices")
    s2 = timecharts.Rule(
        th.number("stop.s2_full_consensus_above"), f"S2 stop line: in each of the last {sustained}"
    )
    s3 = timecharts.Rule(th.number("stop.s3_hard_disagreement_above"), "S3 stop line")
    s4 = timecharts.Rule(th.number("stop.s4_min_p10_p90"), "S4 collapse line")
    m4 = timecharts.Rule(th.number("monitor.m4_healthy_min"), "M4 healthy", "#2e7d32")
    band = (th.number("monitor.m2_healthy_min"), th.number("monitor.m2_healthy_max"))
    rates = [
        timecharts.Series("agreement", "#2e7d32", cut.share(lambda s: metrics.agreement(s, model))),
        timecharts.Series(
            "hard disagreement", "#6a1b9a", cut.share(lambda s: metrics.hard_disagreement(s, model))
        ),
    ]
    spreads = [
        None if thin else _spread_range(s, model)
        for s, thin in zip(cut.intents, cut.thin, strict=True)
    ]
    pnl, why = _pnl_plot(observed, cut.t0_ms, th)
    figures = [
        _figure(
            timecharts.consensus_slices(
                [_consensus_counts(s) for s in cut.intents], cut.thin, cut.labels, s2, sustained,
            ),
            "Consensus per slice since T+0 (s.5 metric 1, stop 2: above the line in each of the "
            "last slices is sustained); faded: too few intents to judge",
            "",
        ),
        _figure(
            timecharts.lines("Agreement and hard disagreement per slice", "share of votes",
                             rates, cut.labels, [s3], band=band),
            f"{model} against the ensemble (s.5 metrics 2, 3; stop 3); shaded: agreement "
            "healthy band",
            "",
        ),
        _figure(
            timecharts.lines(f"{model} confidence P10..P90 per slice", "P10..P90",
                             [timecharts.Series("P10..P90", "#4a7ebb", spreads)], cut.labels,
                             [s4, m4], percent=False),
            "Confidence spread of its BUY/SELL votes (s.5 metric 4, stop 4)",
            "",
        ),
        _figure(pnl, "Win rate and mean loss against the baseline (s.5 stop 5)", why),
    ]  # fmt: skip
    return f'<h2>Since T+0 (runbook s.5)</h2><div class="sg-plots">{"".join(figures)}</div>'
