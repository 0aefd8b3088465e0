"""The report's figures as drawn: bars as tall as their counts, the histogram's bins, P10/P90
where they belong, escaped texts, and the same bytes for the same input (no Redis, no browser:
test_report.py checks that Chromium draws them)."""

from __future__ import annotations

import base64
from array import array
from xml.etree import ElementTree

import pytest

from shadowgate.metrics import Spread, confidence_spread
from shadowgate.report import drawing
from shadowgate.report.drawing import BOTTOM, LEFT, RIGHT, TOP

SVG = "{http://www.w3.org/2000/svg}"
PLOT_HEIGHT = BOTTOM - TOP
PX = 0.11  # coordinates keep one decimal


def parse(uri: str) -> ElementTree.Element:
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    root = ElementTree.fromstring(base64.b64decode(uri.removeprefix(prefix), validate=True))
    assert root.tag == f"{SVG}svg" and (root.get("width"), root.get("height")) == ("504", "288")
    return root


def groups(root: ElementTree.Element, **attrs: str) -> list[ElementTree.Element]:
    """The children of the <g> elements with these attributes (e.g. fill=..., stroke=...)."""
    return [
        child
        for g in root.iter(f"{SVG}g")
        if all(g.get(k.replace("_", "-")) == v for k, v in attrs.items())
        for child in g
    ]


def floats(element: ElementTree.Element, *names: str) -> tuple[float, ...]:
    return tuple(float(element.get(n)) for n in names)


def texts(root: ElementTree.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def spread(values, p10: float, p90: float) -> Spread:
    return Spread(n=len(values), mean=0.5, std=0.1, p10=p10, p50=0.5, p90=p90)


# -- consensus ---------------------------------------------------------------------------------

COUNTS = [3, 0, 12, 41, 44]


def test_consensus_has_a_bar_per_count_as_tall_as_its_count():
    bars = groups(parse(drawing.consensus(COUNTS)), fill=drawing.BAR)
    assert len(bars) == len(COUNTS)
    heights = [floats(b, "height")[0] for b in bars]
    assert max(heights) == PLOT_HEIGHT
    for height, count in zip(heights, COUNTS, strict=True):
        assert height == pytest.approx(count / max(COUNTS) * PLOT_HEIGHT, abs=PX)
    for bar in bars:  # standing on the x axis, left to right
        y, height = floats(bar, "y", "height")
        assert y + height == pytest.approx(BOTTOM, abs=PX)
    xs = [floats(b, "x")[0] for b in bars]
    assert xs == sorted(xs) and LEFT < xs[0] < xs[-1] < RIGHT


def test_consensus_labels_each_bar_with_its_share_but_not_an_empty_one():
    root = parse(drawing.consensus(COUNTS))
    labels = groups(root, font_size="10")
    assert [t.text for t in labels] == ["3%", "12%", "41%", "44%"]  # 100 intents, 0 unlabelled
    bars = [b for b in groups(root, fill=drawing.BAR) if float(b.get("height"))]
    for label, bar in zip(labels, bars, strict=True):
        x, width, y = floats(bar, "x", "width", "y")
        assert float(label.get("x")) == pytest.approx(x + width / 2, abs=PX)
        assert float(label.get("y")) < y  # above its bar
    words = texts(root)
    assert "Consensus distribution, latest 100 intents" in words
    assert "consensus_count" in words and "intents" in words
    assert {"0", "1", "2", "3", "4", "40"} <= set(words)  # x ticks per count; y ticks


# -- confidence --------------------------------------------------------------------------------


def test_histogram_bins_match_a_hand_count():
    assert drawing.histogram([1, 2, 2, 3, 4, 5, 10], bins=3) == (1, 10, [4, 2, 1])
    lo, hi, counts = drawing.histogram([0.0, 0.5, 1.0, 1.0, 2.75, 3.0])
    assert (lo, hi, len(counts)) == (0.0, 3.0, 30)
    assert {k: n for k, n in enumerate(counts) if n} == {0: 1, 5: 1, 10: 2, 27: 1, 29: 1}


def test_confidence_bars_are_the_nonempty_bins_and_sum_to_n():
    values = [0.0, 0.5, 1.0, 1.0, 2.75, 3.0, 3.0, 3.0]
    root = parse(drawing.confidence(values, spread(values, 0.5, 3.0), "patchtst"))
    bars = groups(root, fill=drawing.HISTOGRAM)
    heights = [floats(b, "height")[0] for b in bars]
    bins = [round(h / PLOT_HEIGHT * 3, 2) for h in heights]  # the tallest bin holds 3
    assert bins == [1, 1, 2, 1, 3] and sum(bins) == len(values)
    width = (RIGHT - LEFT) / 30
    assert [floats(b, "x")[0] for b in bars] == pytest.approx(
        [LEFT + k * width for k in (0, 5, 10, 27, 29)], abs=PX
    )
    words = texts(root)
    assert "patchtst confidence, n=8, P10..P90=2.500" in words
    assert "patchtst confidence" in words and "predictions" in words


def test_p10_and_p90_are_dashed_lines_at_their_values():
    values = [0.0, 0.2, 0.25, 0.5, 0.75, 1.0]
    root = parse(drawing.confidence(values, spread(values, 0.25, 0.75), "patchtst"))
    lines = groups(root, stroke=drawing.MARK)
    p10, p90 = LEFT + (RIGHT - LEFT) / 4, LEFT + (RIGHT - LEFT) * 3 / 4
    assert [x for line in lines for x in floats(line, "x1", "x2")] == pytest.approx(
        [p10, p10, p90, p90], abs=PX
    )
    for line in lines:
        assert floats(line, "y1", "y2") == (TOP, BOTTOM)
    (dashed,) = [g for g in root.iter(f"{SVG}g") if g.get("stroke") == drawing.MARK]
    assert dashed.get("stroke-dasharray") == "5 3"
    assert "P10" in texts(root) and "P90" in texts(root)


def test_all_equal_values_make_one_full_bar_around_them():
    values = [0.7] * 5
    assert drawing.histogram(values) == (0.7 - 0.5, 0.7 + 0.5, [0] * 15 + [5] + [0] * 14)
    root = parse(drawing.confidence(values, confidence_spread(values), "patchtst"))
    (bar,) = groups(root, fill=drawing.HISTOGRAM)
    assert floats(bar, "y", "height") == (TOP, PLOT_HEIGHT)
    middle = (LEFT + RIGHT) / 2
    assert [floats(line, "x1")[0] for line in groups(root, stroke=drawing.MARK)] == [middle] * 2
    assert "patchtst confidence, n=5, P10..P90=0.000" in texts(root)


def test_a_model_name_with_markup_is_escaped_text():
    model = 'x<script>&"\x01'
    values = [0.1, 0.9]
    uri = drawing.confidence(values, confidence_spread(values), model)
    assert b"<script>" not in base64.b64decode(uri.split(",", 1)[1])
    words = texts(parse(uri))
    assert 'x<script>&"\ufffd confidence' in words  # the text as written, bar a control char
    assert not [e for e in parse(uri).iter() if e.tag.removeprefix(SVG) == "script"]


def test_the_same_input_draws_the_same_bytes():
    values = [0.31, 0.42, 0.42, 0.77, 0.93]
    first = drawing.confidence(values, confidence_spread(values), "patchtst")
    assert drawing.confidence(list(values), confidence_spread(values), "patchtst") == first
    assert drawing.confidence(values[:-1], confidence_spread(values), "patchtst") != first
    assert drawing.consensus(COUNTS) == drawing.consensus(list(COUNTS))


def test_a_million_confidences_are_binned():
    values = array("d", (k % 1000 / 1000 for k in range(1_000_000)))
    lo, hi, counts = drawing.histogram(values)
    assert (lo, hi, sum(counts)) == (0.0, 0.999, 1_000_000)
    assert min(counts) > 30_000
    root = parse(drawing.confidence(values, spread(values, 0.1, 0.9), "patchtst"))
    assert len(groups(root, fill=drawing.HISTOGRAM)) == 30
    assert "patchtst confidence, n=1000000, P10..P90=0.800" in texts(root)


@pytest.mark.parametrize(
    ("lo", "hi", "integer", "expected"),
    [
        (0, 1, False, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
        (0.17, 0.97, False, ["0.2", "0.4", "0.6", "0.8"]),
        (0, 44, True, ["0", "10", "20", "30", "40"]),
        (0, 1, True, ["0", "1"]),
        (0.7001, 0.7004, False, ["0.7001", "0.7002", "0.7003", "0.7004"]),
    ],
)
def test_ticks_are_round_values_within_the_range(lo, hi, integer, expected):
    found = drawing.ticks(lo, hi, integer)
    assert [label for _, label in found] == expected
    assert all(lo - 1e-12 <= value <= hi + 1e-12 for value, _ in found)
