"""The window report's charts over time since T+0, as SVG data URIs drawn with `drawing`'s
primitives: one column per slice, the runbook's lines drawn across, so an operator sees at a
glance which side of each line every slice fell (runbook s.5 "Critical Metrics")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from shadowgate.report.drawing import (
    BAR,
    BOTTOM,
    INK,
    LEFT,
    MARK,
    RIGHT,
    TOP,
    _line,
    _num,
    _rect,
    _text,
    _uri,
    frame,
    ticks,
)

PARTIAL, LOW = "#a9c4e4", "#ef8f00"  # consensus short of full; consensus 0..1
HEALTHY = "#e3f1e3"  # the healthy band's shading
MAX_LABELS = 6  # x tick labels per chart


@dataclass(frozen=True)
class Rule:
    """A runbook line drawn across a chart: its value, its words, its colour."""

    value: float
    label: str
    colour: str = MARK


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: Sequence[float | None]  # one per slice; None: too few intents to say


def _group(inner: str, **attrs: str) -> str:
    """`inner` in a <g> carrying `attrs` (stroke_dasharray -> stroke-dasharray)."""
    said = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f"<g{said}>{inner}</g>"


def _y(value: float, lo: float, hi: float) -> float:
    return BOTTOM - (value - lo) / (hi - lo) * (BOTTOM - TOP)


def _x(k: int, n: int) -> float:
    """The middle of slice k of n."""
    return LEFT + (RIGHT - LEFT) * (k + 0.5) / n


def _frame(title: str, ylabel: str, hi: float, labels: Sequence[str], percent: bool) -> list[str]:
    """Axes over 0..hi, every few slices labelled (always the latest), title and labels."""
    n, every = len(labels), max(1, math.ceil(len(labels) / MAX_LABELS))
    xticks = [(_x(k, n), text) for k, text in enumerate(labels) if (n - 1 - k) % every == 0]
    yticks = [(_y(v, 0, hi), f"{v:.0%}" if percent else text) for v, text in ticks(0, hi)]
    xlabel = "end of each slice, since T+0"
    return frame(title, xlabel, ylabel, yticks, xticks, xlabel_y=BOTTOM + 36)


def _rules(rules: Sequence[Rule], hi: float) -> list[str]:
    parts = []
    for rule in rules:
        y = _y(rule.value, 0, hi)
        parts += [
            _group(_line(LEFT, y, RIGHT, y), stroke=rule.colour, stroke_dasharray="5 3"),
            _text(RIGHT - 2, y - 3, rule.label, text_anchor="end", fill=rule.colour),
        ]
    return parts


def consensus_slices(
    counts: Sequence[tuple[int, int, int]],
    thin: Sequence[bool],
    labels: Sequence[str],
    stop: Rule,
    judged: int,
) -> str:
    """Per slice, the shares of full consensus (bottom), partial and 0..1 consensus, stacked
    to 100%; a slice too thin to judge is faded; S2's last `judged` slices are bracketed
    (the `stop` rule's label says what the bracket means)."""
    n = len(counts)
    width = (RIGHT - LEFT) / n
    bars = []
    for k, (full, partial, low) in enumerate(counts):
        total, bottom = full + partial + low, float(BOTTOM)
        fade = "0.35" if thin[k] else "1"
        for count, colour in ((full, BAR), (partial, PARTIAL), (low, LOW)):
            if total and count:
                height = count / total * (BOTTOM - TOP)
                left = LEFT + k * width + width * 0.1
                bar = _rect(left, bottom - height, width * 0.8, height)
                bars.append(_group(bar, fill=colour, opacity=fade))
                bottom -= height
        if n <= 12:
            bars.append(_text(_x(k, n), TOP - 3, f"n={total}", text_anchor="middle", font_size="9"))
    bracket_left = LEFT + (n - min(judged, n)) * width
    return _uri(
        [
            '<g shape-rendering="crispEdges">',
            *bars,
            "</g>",
            _group(_line(bracket_left, TOP - 10, RIGHT, TOP - 10), stroke=INK),
            *_rules([stop], 1.0),
            *_frame("Consensus per slice: full (blue), partial, 0..1 (orange)", "share of intents",
                    1.0, labels, True),
        ]
    )  # fmt: skip


def lines(
    title: str,
    ylabel: str,
    series: Sequence[Series],
    labels: Sequence[str],
    rules: Sequence[Rule],
    percent: bool = True,
    band: tuple[float, float] | None = None,
) -> str:
    """Each series as a line over the slices (broken where a slice says nothing), the rules
    across, and the healthy `band` shaded."""
    found = [v for s in series for v in s.values if v is not None]
    hi = max([*found, *(r.value for r in rules), *(band or ())] or [1.0]) * 1.15
    hi = min(hi, 1.0) if percent else hi
    n = len(labels)
    parts = []
    if band:
        top, bottom = _y(band[1], 0, hi), _y(band[0], 0, hi)
        parts.append(_group(_rect(LEFT, top, RIGHT - LEFT, bottom - top), fill=HEALTHY))
    for one in series:
        points = [(_x(k, n), _y(v, 0, hi)) for k, v in enumerate(one.values) if v is not None]
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        parts += [
            _group(
                f'<polyline points="{path}"/>', fill="none", stroke=one.colour, stroke_width="2"
            ),
            f'<g fill="{one.colour}">',
            *(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.5"/>' for x, y in points),
            "</g>",
        ]
    legend = [
        _text(LEFT + 8 + 150 * i, TOP + 12, one.name, fill=one.colour)
        for i, one in enumerate(series)
    ]
    return _uri([*parts, *_rules(rules, hi), *legend, *_frame(title, ylabel, hi, labels, percent)])


def pnl(
    win_rates: tuple[float, float], win_floor: float, losses: tuple[float, float], loss_cap: float
) -> str:
    """S5: win rate and mean loss per losing trade, the 24 h before T+0 beside the first hour
    after it, each with its stop line (the baseline less the allowed drop, the allowed
    multiple of the baseline's loss)."""
    half = (RIGHT - LEFT) / 2
    parts: list[str] = []
    panels = (
        ("win rate", win_rates, win_floor, f"stop below {win_floor:.0%}", True),
        ("mean loss %", losses, loss_cap, f"stop above {loss_cap:.3g}%", False),
    )
    for i, (name, (before, after), line, said, percent) in enumerate(panels):
        hi = max(before, after, line) * 1.25 or 1.0
        left = LEFT + i * half
        for j, (value, label) in enumerate(((before, "24 h before"), (after, "first hour"))):
            height = value / hi * (BOTTOM - TOP)
            x = left + half * (0.15 + 0.38 * j)
            shown = f"{value:.0%}" if percent else f"{value:.3g}%"
            parts += [
                _group(_rect(x, BOTTOM - height, half * 0.3, height), fill=(BAR, PARTIAL)[j]),
                _text(x + half * 0.15, BOTTOM - height - 3, shown, text_anchor="middle"),
                _text(x + half * 0.15, BOTTOM + 15, label, text_anchor="middle"),
            ]
        y = _y(line, 0, hi)
        parts += [
            _group(_line(left + 4, y, left + half - 4, y), stroke=MARK, stroke_dasharray="5 3"),
            _text(left + half - 4, y - 3, said, text_anchor="end", fill=MARK),
            _text(left + half / 2, BOTTOM + 32, name, text_anchor="middle", font_size="12"),
        ]
    return _uri(
        [
            _group(_line(LEFT, BOTTOM, RIGHT, BOTTOM), stroke=INK),
            *parts,
            _text((LEFT + RIGHT) / 2, 18, "S5: the first hour against the 24 h before T+0",
                  font_size="13", text_anchor="middle"),
        ]
    )  # fmt: skip
