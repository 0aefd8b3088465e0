"""Thresholds and Target: defaults, layering, and refusal of unknown keys or bad values."""

from __future__ import annotations

import re

import pytest

from shadowgate.config import ConfigError, Target, Thresholds

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
        ("gates.min_events=-3", "threshold 'gates.min_events' must not be negative"),
        ("monitor.inconclusive_fails=maybe", "'monitor.inconclusive_fails' must be true or false"),
        ("window.read_batch=0", "threshold 'window.read_batch' must be at least 1, got 0"),
        ("no-equals-sign", "--set expects key=value"),
    ],
)
def test_bad_set_is_refused_naming_the_key(item, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Thresholds.load(sets=[item])


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
