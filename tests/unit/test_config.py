"""Thresholds and Target: defaults, layering, and refusal of unknown keys or bad values."""

from __future__ import annotations

import math
import os
import re

import pytest

from shadowgate.config import ORDERED, RANGES, ConfigError, Range, Target, Thresholds, range_of

DRILL_KEYS = (
    "service.min_uptime_hours",
    "service.auto_restart_window_hours",
    "shadow.min_observation_hours",
    "gates.min_events",
)


def test_defaults_hold_runbook_numbers_and_drill_keys():
    t = Thresholds.load()
    assert t["payload.max_p95_bytes"] == 1500
    assert t["gates.g1_max_share"] == 0.70
    for key in DRILL_KEYS:
        assert key in t


def test_set_overrides_and_is_recorded():
    t = Thresholds.load(sets=["service.min_uptime_hours=0", "gates.min_events=50"])
    assert t["service.min_uptime_hours"] == 0.0
    assert t["gates.min_events"] == 50
    assert dict(t.overrides) == {"service.min_uptime_hours": 0.0, "gates.min_events": 50}
    assert t.digest() != Thresholds.load().digest()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("gates.min_event=5", "unknown threshold key 'gates.min_event'"),
        ("gates.min_events=many", "threshold 'gates.min_events' must be int"),
        ("gates.min_events=-3", "threshold 'gates.min_events' must be >= 1, got -3"),
        ("gates.quorum=5", "threshold 'gates.quorum' must be >= 1 and <= 4, got 5"),
        ("gates.g1_max_share=1.5", "threshold 'gates.g1_max_share' must be >= 0 and <= 1"),
        ("stop.s5_max_loss_ratio=0", "'stop.s5_max_loss_ratio' must be > 0, got 0.0"),
        ("shadow.journal_minutes=nan", "'shadow.journal_minutes' must be > 0 and <= 525600"),
        ("window.precondition_hours=-inf", "'window.precondition_hours' must be > 0"),
        ("monitor.inconclusive_fails=maybe", "'monitor.inconclusive_fails' must be true or false"),
        ("window.read_batch=0", "threshold 'window.read_batch' must be >= 1, got 0"),
        ("no-equals-sign", "--set expects key=value"),
    ],
)
def test_bad_set_is_refused_naming_the_key(item, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Thresholds.load(sets=[item])


def test_every_numeric_key_has_a_range_holding_its_default():
    defaults = Thresholds.load()
    numeric = {k for k, v in defaults.items() if type(v) in (int, float)}
    assert set(RANGES) <= numeric  # RANGES narrows shipped numeric keys only
    assert [k for k in numeric if not range_of(k).holds(defaults[k])] == []


def test_a_key_ranges_does_not_narrow_must_be_finite_and_not_negative():
    assert range_of("a.new_key") == Range(0, math.inf)
    assert range_of("gates.quorum") == RANGES["gates.quorum"]
    assert [range_of("a.new_key").holds(v) for v in (0, 0.5, -0.001, math.inf)] == [
        True,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    "item",
    [
        "service.min_uptime_hours=0",  # the drills on a fresh unit (README)
        "service.auto_restart_window_hours=0",
        "shadow.min_observation_hours=0",
        "weight.min_uptime_hours=0.002",
        "gates.g4_min_outcomes=0",
        "blockers.max_full_consensus_in_shadow=0",
        "stop.s2_slice_minutes=0.083333",
        "gates.quorum=4",
        "window.max_unreadable_share=1",
    ],
)
def test_drill_overrides_stay_in_range(item):
    assert Thresholds.load(sets=[item]).overrides


def test_config_file_layers_and_refuses_unknown(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[gates]\nmin_events = 20\n")
    assert Thresholds.load(good)["gates.min_events"] == 20
    assert Thresholds.load(good)["payload.max_p95_bytes"] == 1500
    bad = tmp_path / "bad.toml"
    bad.write_text("[gates]\nmin_evnts = 20\n")
    with pytest.raises(ConfigError, match=re.escape("unknown threshold key 'gates.min_evnts'")):
        Thresholds.load(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[gates\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Thresholds.load(broken)
    with pytest.raises(ConfigError, match="cannot read threshold file"):
        Thresholds.load(tmp_path / "missing.toml")


def test_target_derives_keys_from_model_and_hides_password():
    t = Target(redis_url="redis://user:s3cret@10.0.0.5:6380/2", model="tft")
    assert (t.shadow_flag, t.model_path_key, t.breakdown_key) == (
        "TFT_SHADOW_ONLY",
        "TFT_MODEL_PATH",
        "tft",
    )
    assert "s3cret" not in str(t.describe())
    assert t.safe_redis_url == "redis://user:***@10.0.0.5:6380/2"


# -- ordered pairs (issue 11): an inverted band is refused at resolve time, naming both keys --


def _low_high_keys_in_ranges() -> set[tuple[str, str]]:
    """Every min/max and lo/hi pair of RANGES by its name, to compare with ORDERED."""
    pairs = set()
    for key in RANGES:
        for low, high in (("_min_", "_max_"), ("_min", "_max"), ("_healthy_min", "_healthy_max")):
            if low in key and key.replace(low, high, 1) in RANGES:
                pairs.add((key, key.replace(low, high, 1)))
    return pairs


def test_every_min_max_pair_of_the_thresholds_is_ordered_and_the_defaults_hold_it():
    assert _low_high_keys_in_ranges() <= set(ORDERED), _low_high_keys_in_ranges() - set(ORDERED)
    defaults = Thresholds.load()
    assert {k for pair in ORDERED for k in pair} <= set(RANGES)
    assert [pair for pair in ORDERED if defaults[pair[0]] > defaults[pair[1]]] == []


@pytest.mark.parametrize(("low", "high"), ORDERED)
def test_an_inverted_pair_is_one_line_naming_both_keys(low, high):
    th = Thresholds.load()
    step = 1 if isinstance(th[high], int) else 0.01
    above = th[high] + step
    if above > RANGES[low].high:  # the low key cannot go above: move the high key below
        sets = [f"{high}={th[low] - step}"]
        said = f"threshold {low!r} ({th[low]!r}) must be <= {high!r} ({th[low] - step!r})"
    else:
        sets = [f"{low}={above}"]
        said = f"threshold {low!r} ({above!r}) must be <= {high!r} ({th[high]!r})"
    with pytest.raises(ConfigError) as refused:
        Thresholds.load(sets=sets)
    assert str(refused.value) == said


@pytest.mark.parametrize(("low", "high"), ORDERED)
def test_an_equal_pair_is_allowed(low, high):
    """A one-point band is strict, not a typo: the operator gets exactly what they set."""
    th = Thresholds.load()
    equal = Thresholds.load(sets=[f"{low}={th[high]}"])
    assert equal[low] == equal[high]


def test_an_inverted_pair_from_a_config_file_is_refused_too(tmp_path):
    inverted = tmp_path / "inverted.toml"
    inverted.write_text("[gates]\ng3_min_agreement = 0.80\n")
    with pytest.raises(ConfigError, match=re.escape("'gates.g3_min_agreement' (0.8) must be <=")):
        Thresholds.load(inverted)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("[gates]\nmin_events = " + "9" * 5000 + "\n"), "is not valid TOML"),
        (lambda p: p.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n"), "nested too deep"),
        (lambda p: p.write_text("# " + "x" * (1 << 20) + "\n"), "larger than 1048576 bytes"),
        (lambda p: os.mkfifo(p), "not a regular file"),
    ],
    ids=["5000-digit-int", "deep-nesting", "huge", "fifo"],
)
def test_a_config_file_that_cannot_be_parsed_in_bounds_is_one_config_error(tmp_path, make, message):
    path = tmp_path / "thresholds.toml"
    make(path)
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        Thresholds.load(path)
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 300


def test_dev_zero_as_config_file_is_refused_at_once():
    with pytest.raises(ConfigError, match="/dev/zero: not a regular file"):
        Thresholds.load("/dev/zero")


def test_a_huge_value_is_shown_cut_to_one_readable_line(tmp_path):
    path = tmp_path / "thresholds.toml"
    path.write_text("[gates]\nquorum = " + "9" * 4000 + "\n")
    for load in (
        lambda: Thresholds.load(path),
        lambda: Thresholds.load(sets=[f"gates.quorum={'9' * 5000}"]),
    ):
        with pytest.raises(ConfigError, match=r"got '?9{30,}\.\.\. \(\d+ characters\)") as refused:
            load()
        assert len(str(refused.value)) < 200
