"""The report's two figures as SVG data URIs for an <img>, drawn in pure Python: importing
matplotlib alone cost more than judging a demo-sized day. An <img> SVG runs no script, and
every text is XML-escaped (the model name comes from operator config). Coordinates keep one
decimal, so the same input gives the same, compact bytes."""

from __future__ import annotations

import base64
import math
import re
from collections import Counter
from collections.abc import Sequence
from html import escape  # XML-safe too; xml.sax.saxutils would import urllib (30 ms)
from itertools import repeat
from operator import mul, sub
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shadowgate.metrics import Spread

WIDTH, HEIGHT = 504, 288
LEFT, RIGHT, TOP, BOTTOM = 56, 492, 40, 244  # the plot area, in px
BINS = 30
BAR, HISTOGRAM, MARK, INK = "#4a7ebb", "#6a9f58", "#c62828", "#333"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # invalid even escaped


def _num(x: float) -> str:
    text = f"{x:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _text(x: float, y: float, text: str, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    body = escape(_NOT_XML.sub("\ufffd", text))
    return f'<text x="{_num(x)}" y="{_num(y)}"{extra}>{body}</text>'


def _rect(x: float, y: float, w: float, h: float) -> str:
    return f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"/>'


def _y(count: float, top: float) -> float:
    """The y coordinate in px of `count` on an axis from 0 (the x axis) to `top` (the top)."""
    return BOTTOM - count / top * (BOTTOM - TOP)


def _bar(left: float, right: float, count: int, top: int) -> str:
    """A bar standing on the x axis, as tall as the plot when `count` is `top`; its edges are
    rounded before its width is taken, so that adjacent bars leave no gap between them."""
    left, right, height = round(left, 1), round(right, 1), count / top * (BOTTOM - TOP)
    return _rect(left, BOTTOM - height, right - left, height)


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"/>'


def ticks(lo: float, hi: float, integer: bool = False) -> list[tuple[float, str]]:
    """About five round values (1, 2 or 5 times a power of ten) within [lo, hi], labelled."""
    rough = (hi - lo) / 5
    magnitude = 10.0 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    if integer:
        step = max(step, 1.0)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    return [(k * step, f"{k * step:.{decimals}f}") for k in range(first, last + 1)]


def _axes(
    title: str, xlabel: str, ylabel: str, ymax: int, xticks: list[tuple[float, str]]
) -> list[str]:
    """Title, axis lines, y ticks over 0..ymax (counts), the given x ticks, axis labels."""
    yticks = [(_y(t, ymax), label) for t, label in ticks(0, ymax, True)]
    return frame(title, xlabel, ylabel, yticks, xticks)


def frame(
    title: str,
    xlabel: str,
    ylabel: str,
    yticks: Sequence[tuple[float, str]],
    xticks: Sequence[tuple[float, str]],
    xlabel_y: float = HEIGHT - 8,
) -> list[str]:
    """Axis lines, the ticks where they are placed (pixel, label), the title and axis labels."""
    return [
        f'<g stroke="{INK}">',
        _line(LEFT, TOP, LEFT, BOTTOM),
        _line(LEFT, BOTTOM, RIGHT, BOTTOM),
        *(_line(LEFT - 4, y, LEFT, y) for y, _ in yticks),
        *(_line(x, BOTTOM, x, BOTTOM + 4) for x, _ in xticks),
        '</g><g text-anchor="end">',
        *(_text(LEFT - 7, y + 4, label) for y, label in yticks),
        '</g><g text-anchor="middle">',
        *(_text(x, BOTTOM + 17, label) for x, label in xticks),
        _text((LEFT + RIGHT) / 2, xlabel_y, xlabel, font_size="12"),
        _text((LEFT + RIGHT) / 2, 18, title, font_size="13"),
        _text(-(TOP + BOTTOM) / 2, 16, ylabel, font_size="12", transform="rotate(-90)"),
        "</g>",
    ]


def _uri(parts: list[str]) -> str:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>{"".join(parts)}</svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def consensus(counts: Sequence[int]) -> str:
    """Bar chart of intents per consensus_count 0..len(counts)-1, each bar's share on it."""
    total, top = sum(counts), max(max(counts), 1)
    band = (RIGHT - LEFT) / len(counts)
    bars, labels, xticks = [], [], []
    for k, count in enumerate(counts):
        x = LEFT + band * k
        bars.append(_bar(x + band * 0.1, x + band * 0.9, count, top))
        if count:
            labels.append(_text(x + band / 2, _y(count, top) - 3, f"{count / total:.0%}"))
        xticks.append((x + band / 2, str(k)))
    return _uri(
        [
            f'<g fill="{BAR}" shape-rendering="crispEdges">',
            *bars,
            "</g>",
            '<g text-anchor="middle" font-size="10">',
            *labels,
            "</g>",
            *_axes(
                f"Consensus distribution, latest {total} intents",
                "consensus_count",
                "intents",
                top,
                xticks,
            ),
        ]
    )


def histogram(values: Sequence[float], bins: int = BINS) -> tuple[float, float, list[int]]:
    """`bins` equal bins over [min, max], the last one closed: (min, max, counts). One pass at
    C speed (a day holds a million confidences). All values equal: the middle bin of
    [value - 0.5, value + 0.5] holds them."""
    lo, hi = min(values), max(values)
    if lo == hi:
        return lo - 0.5, hi + 0.5, [len(values) if k == bins // 2 else 0 for k in range(bins)]
    found = Counter(map(int, map(mul, map(sub, values, repeat(lo)), repeat(bins / (hi - lo)))))
    counts = [found[k] for k in range(bins)]
    counts[-1] += found[bins]  # the maximum itself
    return lo, hi, counts


def confidence(values: Sequence[float], spread: Spread, model: str) -> str:
    """Histogram of the model's confidences with P10 and P90 marked as dashed lines."""
    lo, hi, counts = histogram(values)
    top, width = max(counts), (RIGHT - LEFT) / len(counts)

    def px(x: float) -> float:
        return LEFT + (x - lo) / (hi - lo) * (RIGHT - LEFT)

    bars = [
        _bar(LEFT + k * width, LEFT + (k + 1) * width, n, top) for k, n in enumerate(counts) if n
    ]
    marks = [(name, px(x)) for name, x in (("P10", spread.p10), ("P90", spread.p90))]
    title = f"{model} confidence, n={spread.n}, P10..P90={spread.range_p10_p90:.3f}"
    return _uri(
        [
            f'<g fill="{HISTOGRAM}" shape-rendering="crispEdges">',
            *bars,
            "</g>",
            f'<g stroke="{MARK}" stroke-dasharray="5 3">',
            *(_line(x, TOP, x, BOTTOM) for _, x in marks),
            "</g>",
            *(_text(x + 3, TOP + 11, name) for name, x in marks),
            *_axes(
                title,
                f"{model} confidence",
                "predictions",
                top,
                [(px(t), label) for t, label in ticks(lo, hi)],
            ),
        ]
    )


STATUS_FILL = {"PASS": HISTOGRAM, "WARN": "#e0a030", "FAIL": MARK, "INCONCLUSIVE": "#bbb"}
STRIP = 12  # px per status strip under a timeline


def _runs(statuses: Sequence[str]) -> list[tuple[int, int, str]]:
    """(first index, last index + 1, status) of each run of equal statuses."""
    runs: list[tuple[int, int, str]] = []
    for k, status in enumerate(statuses):
        if runs and runs[-1][2] == status:
            runs[-1] = (runs[-1][0], k + 1, status)
        else:
            runs.append((k, k + 1, status))
    return runs


def timeline(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    strips: Sequence[tuple[str, Sequence[str]]],
    ylabel: str,
) -> str:
    """A figure at evenly spaced moments (`labels` name them; gaps where a value is None),
    above one strip per threshold setting coloured by status (`STATUS_FILL`): when a check
    would have fired, at a glance (the backtest page)."""
    n = max(len(labels), 1)
    known = [v for v in values if v is not None]
    lo, hi = min([0.0, *known]), max([1.0 if not known else max(known), 1e-3])
    if hi - lo < 1e-9:
        hi = lo + 1
    low = BOTTOM - STRIP * len(strips) - 6  # the value axis ends above the strips

    def px(k: float) -> float:
        return LEFT + (k + 0.5) / n * (RIGHT - LEFT)

    def py(v: float) -> float:
        return low - (v - lo) / (hi - lo) * (low - TOP)

    paths: list[str] = []
    path = ""
    for k, v in enumerate(values):
        if v is None:
            paths, path = ([*paths, path] if path else paths), ""
            continue
        path += f"{'L' if path else 'M'}{_num(px(k))},{_num(py(v))}"
    paths = [*paths, path] if path else paths
    rects = []
    for row, (name, statuses) in enumerate(strips):
        top = low + 6 + STRIP * row
        for first, end, status in _runs(statuses):
            fill = STATUS_FILL.get(status, "#fff")
            x0, x1 = LEFT + first / n * (RIGHT - LEFT), LEFT + end / n * (RIGHT - LEFT)
            rects.append(f'<g fill="{fill}">{_rect(x0, top, x1 - x0, STRIP - 2)}</g>')
        rects.append(_text(LEFT + 3, top + STRIP - 4, name, font_size="9"))
    step = max(1, n // 5)
    xticks = [(px(k), labels[k]) for k in range(0, len(labels), step)]
    yticks = [(py(t), label) for t, label in ticks(lo, hi)]
    return _uri(
        [
            *(f'<path d="{p}" fill="none" stroke="{BAR}" stroke-width="1.2"/>' for p in paths),
            '<g shape-rendering="crispEdges">',
            *rects,
            f'</g><g stroke="{INK}">',
            _line(LEFT, TOP, LEFT, low),
            _line(LEFT, BOTTOM, RIGHT, BOTTOM),
            *(_line(LEFT - 4, y, LEFT, y) for y, _ in yticks),
            *(_line(x, BOTTOM, x, BOTTOM + 4) for x, _ in xticks),
            '</g><g text-anchor="end">',
            *(_text(LEFT - 7, y + 4, label) for y, label in yticks),
            '</g><g text-anchor="middle" font-size="9">',
            *(_text(x, BOTTOM + 15, label) for x, label in xticks),
            "</g>",
            _text((LEFT + RIGHT) / 2, 18, title, font_size="13", text_anchor="middle"),
            _text(
                -(TOP + low) / 2,
                16,
                ylabel,
                font_size="12",
                transform="rotate(-90)",
                text_anchor="middle",
            ),
        ]
    )
