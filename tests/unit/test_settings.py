"""Settings: every option resolved once (command line, then SHADOWGATE_<NAME>, then default),
a bad value refused naming the option, and the same options in argparse as in pytest."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import re
from pathlib import Path

import pytest
from _pytest.config.argparsing import Parser  # pytest's own option parser, as the plugin sees it

from shadowgate import config, settings
from shadowgate.config import ConfigError
from shadowgate.plugin import options
from shadowgate.replay import bundle
from shadowgate.settings import Strategy

URL = "redis://u:p%40ss@10.0.0.5:6380/2"


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser)
    return parser.parse_args(argv)


def resolve(*argv: str, **env: str) -> settings.Settings:
    return settings.resolve(parsed(*argv), env)


def test_defaults_without_command_line_or_environment():
    s = settings.resolve(env={"USER": "oncall"})
    assert s.target == config.Target()
    assert s.strategy == Strategy()
    assert s.reports_dir == Path("reports")
    assert dict(s.thresholds) == dict(config.Thresholds.load())
    assert (s.operator, s.secrets) == ("oncall", ())


def test_command_line_beats_environment_beats_default():
    s = resolve(
        "--stream=from-cli",
        "--reports-dir=/var/log/sg",
        "--weight=10",
        SHADOWGATE_STREAM="from-env",
        SHADOWGATE_UNIT="env.service",
        SHADOWGATE_WEIGHT="20",
        SHADOWGATE_REPORTS_DIR="/srv/env",
    )
    assert (s.target.stream, s.target.unit) == ("from-cli", "env.service")
    assert s.target.model == config.DEFAULT_MODEL
    assert (s.strategy.weight, s.reports_dir) == (10.0, Path("/var/log/sg"))


def test_an_empty_variable_counts_as_unset():
    s = resolve(SHADOWGATE_REPORTS_DIR="", SHADOWGATE_REDIS_URL="", SHADOWGATE_WEIGHT="")
    assert (s.reports_dir, s.target.redis_url) == (Path("reports"), config.DEFAULT_REDIS_URL)
    assert s.strategy.weight is None


def test_environment_sets_then_command_line_sets_the_command_line_winning():
    s = resolve(
        "--set=gates.min_events=7",
        SHADOWGATE_SET="gates.min_events=50, service.min_uptime_hours=0",
    )
    assert dict(s.thresholds.overrides) == {"gates.min_events": 7, "service.min_uptime_hours": 0.0}


def test_config_file_from_the_environment(tmp_path):
    file = tmp_path / "th.toml"
    file.write_text("[gates]\nmin_events = 20\n")
    assert resolve(SHADOWGATE_CONFIG=str(file)).thresholds["gates.min_events"] == 20


def test_strategy_values_as_an_operator_writes_them():
    s = resolve("--weight=10%", "--confidence-cap=None", "--observation-hours=6", "--approved-by=")
    assert s.strategy == Strategy(None, 10.0, "none", 6.0)
    assert resolve("--confidence-cap=0.75").strategy.confidence_cap == 0.75


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (
            ["--weight=ten"],
            {},
            "--weight (env SHADOWGATE_WEIGHT) must be a number > 0 and <= 100, got 'ten'",
        ),
        ([], {"SHADOWGATE_WEIGHT": "0"}, "--weight (env SHADOWGATE_WEIGHT) must be a number > 0"),
        (
            ["--confidence-cap=1.5"],
            {},
            "--confidence-cap (env SHADOWGATE_CONFIDENCE_CAP) must "
            "be a number > 0 and <= 1, got '1.5'",
        ),
        (
            ["--observation-hours=inf"],
            {},
            "--observation-hours (env "
            "SHADOWGATE_OBSERVATION_HOURS) must be a number > 0, got 'inf'",
        ),
        ([], {"SHADOWGATE_SET": "gates.min_evnts=3"}, "unknown threshold key 'gates.min_evnts'"),
        (["--config=/nonexistent.toml"], {}, "cannot read threshold file /nonexistent.toml"),
    ],
)
def test_a_bad_value_is_refused_naming_the_option(argv, env, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve(*argv, **env)


def test_the_strategy_is_checked_before_the_thresholds():
    with pytest.raises(ConfigError, match="--weight"):
        resolve("--weight=ten", "--set=gates.min_evnts=3")


def test_reports_dir_alone_ignores_an_unrelated_bad_option():
    args = parsed("--weight=ten")
    assert settings.reports_dir_of(args, {"SHADOWGATE_REPORTS_DIR": "/srv/r"}) == Path("/srv/r")


def test_operator_from_option_then_sudo_then_login(monkeypatch):
    assert resolve("--operator=oncall-7", SUDO_USER="root-caller").operator == "oncall-7"
    assert resolve(SHADOWGATE_OPERATOR="env-op", USER="me").operator == "env-op"
    assert resolve(SUDO_USER="jane", USER="root").operator == "jane"
    monkeypatch.setattr(getpass, "getuser", lambda: "from-passwd")
    assert resolve().operator == "from-passwd"

    def nameless() -> str:
        raise KeyError("uid 4242")

    monkeypatch.setattr(getpass, "getuser", nameless)
    assert resolve().operator is None  # a bare container: recorded as unknown, not a crash


def test_secrets_come_from_the_url_and_never_show_in_the_repr():
    s = resolve(f"--redis-url={URL}")
    assert set(s.secrets) == {"p%40ss", "p@ss"}
    assert "p%40ss" not in repr(s) and "p@ss" not in repr(s)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolve().reports_dir = Path("elsewhere")  # type: ignore[misc]


def test_only_known_options_can_be_registered():
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser, ["reports_dir"])
    assert parser.parse_args(["--reports-dir", "x"]).sg_reports_dir == "x"
    with pytest.raises(SystemExit):
        parser.parse_args(["--weight=10"])
    with pytest.raises(ValueError, match="no such shadowgate option: report_dir"):
        settings.add_arguments(parser, ["report_dir"])


ARGV = (
    f"--redis-url={URL}",
    "--stream=s",
    "--outcomes-stream=o",
    "--unit=u.service",
    "--env-file=/etc/e.env",
    "--model=tft",
    "--set=gates.min_events=9",
    "--set=service.min_uptime_hours=0",
    "--reports-dir=/r",
    "--operator=op",
    "--approved-by=Jane",
    "--weight=10",
    "--confidence-cap=none",
    "--observation-hours=6",
)


def test_argparse_and_pytest_register_the_same_options():
    pytest_parser = Parser(_ispytest=True)
    options.pytest_addoption(pytest_parser)
    in_pytest = {opt.names()[0]: opt.dest for opt in pytest_parser.getgroup("shadowgate").options}
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser)
    in_argparse = {a.option_strings[0]: a.dest for a in parser._actions if a.option_strings}
    del in_argparse["-h"]
    assert in_pytest == in_argparse
    assert set(in_pytest) == {option.flag for option in settings.OPTIONS}
    env = {"USER": "x"}
    from_pytest = settings.resolve(pytest_parser.parse(list(ARGV)), env)
    assert from_pytest == settings.resolve(parsed(*ARGV), env)
    assert from_pytest.strategy == Strategy("Jane", 10.0, "none", 6.0)
    assert dict(from_pytest.thresholds.overrides) == {
        "gates.min_events": 9,
        "service.min_uptime_hours": 0.0,
    }


# -- found by tests/unit/test_fuzz_options.py: each was a traceback or a message of two lines ------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--config=\x00"], "threshold file '\\x00' holds a NUL byte: no path"),
        (["--config=\n"], "cannot read threshold file '\\n': No such file or directory"),
    ],
)
def test_a_threshold_file_name_with_a_nul_or_a_newline_is_one_line(argv, said):
    with pytest.raises(ConfigError) as refused:
        resolve(*argv)
    assert str(refused.value) == said


def test_a_reports_dir_with_a_nul_or_a_newline_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as refused:
        settings.ensure_reports_dir(Path("a\x00b"))
    assert str(refused.value) == "--reports-dir 'a\\x00b' holds a NUL byte: no file system takes it"
    a_file = tmp_path / "x\ny"
    a_file.write_text("")
    with pytest.raises(ConfigError) as refused:
        settings.ensure_reports_dir(a_file)
    assert str(refused.value) == f"--reports-dir {str(a_file)!r} is a file, not a directory"


# -- issue 19, item 10: each was a traceback (INTERNALERROR) or a hang ------------------------


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["--activated-at=0001-01-01T00:00:00+14:00"],
            "--activated-at (env SHADOWGATE_ACTIVATED_AT): 0001-01-01T00:00:00+14:00 is out of",
        ),
        (
            ["--rollback-started-at=9999-12-31T23:59:59-14:00"],
            "--rollback-started-at (env SHADOWGATE_ROLLBACK_STARTED_AT): 9999-12-31T23:59:59-14:00",
        ),
        (["--activated-at=1969-12-31T23:59:59Z"], "is before 1970: no stream entry is"),
        (["--activated-at=9999-12-31T23:00:00Z"], "is more than a day ahead of this machine's"),
        (["--redis-url=redis://h:1/0?ssl_cert_reqs=bogus"], "unexpected keyword argument"),
        (["--redis-url=rediss://h:1/0?ssl_cert_reqs=bogus"], "Invalid SSL Certificate"),
        (["--redis-url=redis://:pw@h:1/0?socket_timeout=x"], "Invalid value for 'socket_timeout'"),
        (["--redis-url=redis://h:1/0?protocol=9"], "protocol must be either 2 or 3"),
        (["--config=/dev/zero"], "cannot read threshold file /dev/zero: not a regular file"),
        (["--redis-url=redis://:pw#pw@h:1/0"], "the password holds a raw '#'; write it as %23"),
    ],
)
def test_an_option_redis_py_or_datetime_cannot_take_is_one_config_error(argv, said):
    with pytest.raises(ConfigError) as refused:
        resolve(*argv)
    assert said in str(refused.value) and "\n" not in str(refused.value)
    assert "pw" not in str(refused.value).replace("pwd", "")


def test_capture_is_a_switch_on_the_command_line_and_yes_or_no_in_the_environment():
    assert resolve().capture is None  # the phase's default
    assert resolve("--capture-bundle").capture is True
    assert resolve("--no-capture-bundle", SHADOWGATE_CAPTURE_BUNDLE="yes").capture is False
    assert resolve(SHADOWGATE_CAPTURE_BUNDLE="off").capture is False
    with pytest.raises(ConfigError, match="SHADOWGATE_CAPTURE_BUNDLE must be yes or no, got 'x'"):
        resolve(SHADOWGATE_CAPTURE_BUNDLE="x")


def test_replay_names_a_bundle(tmp_path, monkeypatch):
    """The bundle is read when the options are resolved (its run's settings are the replay's:
    tests/unit/replay/test_replay_settings.py)."""
    monkeypatch.chdir(tmp_path)
    for name in ("a.bundle.json.gz", "b.bundle.json.gz"):
        bundle.write(tmp_path / name, bundle.Bundle(phase="preactivation"))
    assert resolve().replay is None
    assert resolve("--replay=a.bundle.json.gz").replay == Path("a.bundle.json.gz")
    assert resolve(SHADOWGATE_REPLAY="b.bundle.json.gz").replay == Path("b.bundle.json.gz")
