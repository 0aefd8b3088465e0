"""Never a traceback from an option: whatever the operator types for --redis-url, --set,
--config, --reports-dir, the times and the strategy (on the command line or in SHADOWGATE_*),
settings either resolve or raise one ConfigError of one line; nothing else escapes."""

from __future__ import annotations

import argparse
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from shadowgate import settings
from shadowgate.config import ConfigError, Thresholds
from tests.support import strategies as sg
from tests.support.fuzz_profiles import budget

free_text = st.text(max_size=20)
path_text = st.one_of(free_text, st.sampled_from(["", "\x00", "a\x00b", ".", "/", "/proc/x/y"]))
options = st.fixed_dictionaries(
    {},
    optional={
        "redis_url": sg.url_values,
        "set": st.lists(sg.set_items, max_size=3),
        "config": path_text,
        "reports_dir": path_text,
        "operator": free_text,
        "weight": free_text | sg.numbers.map(repr),
        "confidence_cap": free_text | sg.numbers.map(repr),
        "observation_hours": free_text | sg.numbers.map(repr),
        "activated_at": free_text | st.sampled_from(["2026-11-27T14:05:00", "2026-13-01", "now"]),
        "rollback_started_at": free_text,
        "stream": free_text,
        "model": free_text,
    },
)


def assert_resolves_or_one_line(resolve) -> object | None:
    """The result, or None after checking the ConfigError is one line saying something."""
    try:
        return resolve()
    except ConfigError as exc:
        said = str(exc)
        assert said.strip() and "\n" not in said, said
        return None


def _namespace(given_options: dict) -> argparse.Namespace:
    return argparse.Namespace(**{f"sg_{name}": value for name, value in given_options.items()})


@budget(default=100, fuzz=2000)
@given(options, st.booleans())
def test_any_option_resolves_or_is_one_config_error(given_options, from_env):
    """From the command line, or the same values from SHADOWGATE_* (comma-joined --set)."""
    if from_env:
        env = {
            f"SHADOWGATE_{name.upper()}": ",".join(v) if isinstance(v, list) else v
            for name, v in given_options.items()
        }
        env = {k: v for k, v in env.items() if "\x00" not in v}  # no NUL in a real environment
        assert_resolves_or_one_line(lambda: settings.resolve(None, env))
    else:
        assert_resolves_or_one_line(lambda: settings.resolve(_namespace(given_options), {}))


@budget(default=50, fuzz=1000)
@given(sg.toml_texts | st.binary(max_size=60))
def test_any_threshold_file_loads_or_is_one_config_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("cfg") / "thresholds.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8", errors="surrogatepass")
    loaded = assert_resolves_or_one_line(lambda: Thresholds.load(path))
    assert loaded is None or len(loaded) == len(Thresholds.load())


name_parts = st.text(st.characters(blacklist_characters="/", codec="utf-8"), min_size=1, max_size=8)


@budget(default=50, fuzz=500)
@given(st.lists(name_parts.filter(lambda p: p not in (".", "..")), min_size=1, max_size=3))
def test_any_reports_dir_name_is_made_or_one_config_error(tmp_path_factory, parts):
    """Names under a tmp dir only (a fuzzer must not create directories elsewhere); NUL bytes,
    odd characters and over-long names included."""
    reports = Path(tmp_path_factory.mktemp("reports"), *parts)
    made = assert_resolves_or_one_line(lambda: settings.ensure_reports_dir(reports))
    assert made is None or made.is_dir()
