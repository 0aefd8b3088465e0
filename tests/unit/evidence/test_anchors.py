"""T+0 and the rollback's start (shadowgate.evidence.anchors): from the actions' records in
the decision log or from the operator, the later winning; and the options that give them."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shadowgate import settings
from shadowgate.config import ConfigError
from shadowgate.evidence import LOG_NAME
from shadowgate.evidence.anchors import ACTIVATE, ROLLBACK, Anchor, parse_moment, resolve
from tests.support.suite_runs import run_phase

UNIT = "quantum-ai-engine.service"
TARGET = {"unit": UNIT}
T0 = datetime(2026, 11, 27, 14, 5, 0, 123456, tzinfo=UTC)


def action(kind: str = ACTIVATE, restarted: str = "2026-11-27T14:05:00.123456Z", **extra) -> dict:
    return {
        "action": kind, "run_id": f"20261127T140500Z-{kind}-abc123",
        "started_at": "2026-11-27T14:04:58Z", "restarted_at": restarted,
        "invocation_id": "f" * 32, "target": {"unit": UNIT},
    } | extra  # fmt: skip


def log(reports: Path, *lines: dict | str) -> Path:
    reports.mkdir(exist_ok=True)
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    (reports / LOG_NAME).write_text(text)
    return reports


def test_t0_from_the_activation_record(tmp_path):
    anchor = resolve(log(tmp_path, action()), ACTIVATE, None, "--activated-at", TARGET)
    assert anchor == Anchor(
        T0, "activate record 20261127T140500Z-activate-abc123", "f" * 32,
        datetime(2026, 11, 27, 14, 4, 58, tzinfo=UTC),
    )  # fmt: skip
    assert anchor.ms == int(T0.timestamp() * 1000)
    assert (
        anchor.describe()
        == "2026-11-27T14:05:00Z (activate record 20261127T140500Z-activate-abc123)"
    )


def test_t0_from_the_operator_without_a_record(tmp_path):
    given = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    anchor = resolve(tmp_path / "none", ACTIVATE, given, "--activated-at", TARGET)
    assert anchor == Anchor(given, "--activated-at", None, given)
    assert resolve(tmp_path / "none", ACTIVATE, None, "--activated-at", TARGET) is None


@pytest.mark.parametrize(
    ("given", "source"),
    [
        (datetime(2026, 11, 27, 15, 0, tzinfo=UTC), "--activated-at"),  # a manual re-activation
        (datetime(2026, 11, 27, 13, 0, tzinfo=UTC), "activate record"),
    ],
)
def test_the_later_of_record_and_operator_wins(tmp_path, given, source):
    anchor = resolve(log(tmp_path, action()), ACTIVATE, given, "--activated-at", TARGET)
    assert anchor.source.startswith(source)
    assert anchor.at == max(given, T0)


def test_the_latest_record_of_this_unit_and_kind_counts(tmp_path):
    reports = log(
        tmp_path,
        action(restarted="2026-11-27T10:00:00Z"),
        action(),
        action(restarted="2026-11-27T16:00:00Z", target={"unit": "other.service"}),
        action(ROLLBACK, restarted="2026-11-27T17:00:00Z"),
        {"run_id": "a run record", "phase": "window_30m"},
    )
    assert resolve(reports, ACTIVATE, None, "--activated-at", TARGET).at == T0
    assert resolve(reports, ACTIVATE, None, "--activated-at").at.hour == 16  # any unit
    assert resolve(reports, ROLLBACK, None, "--rollback-started-at", TARGET).at.hour == 17


@pytest.mark.parametrize(
    "damaged",
    [
        action(restarted="yesterday"),
        {k: v for k, v in action().items() if k != "restarted_at"},
        action(started_at="not a time"),
        "{not json",
    ],
)
def test_a_malformed_record_is_skipped_for_the_one_before(tmp_path, damaged):
    reports = log(tmp_path, action(), damaged)
    assert resolve(reports, ACTIVATE, None, "--activated-at", TARGET).at == T0


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-11-27T14:05:00Z", datetime(2026, 11, 27, 14, 5, tzinfo=UTC)),
        ("2026-11-27T14:05:00", datetime(2026, 11, 27, 14, 5, tzinfo=UTC)),  # no zone: UTC
        ("2026-11-27T16:05:00+02:00", datetime(2026, 11, 27, 14, 5, tzinfo=UTC)),
    ],
)
def test_iso_times_are_read_as_utc(text, moment):
    assert parse_moment(text) == moment


@pytest.mark.parametrize("name", ["activated_at", "rollback_started_at"])
def test_time_options_from_command_line_or_environment(name):
    flag, env = f"--{name.replace('_', '-')}", f"SHADOWGATE_{name.upper()}"
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser, [name])
    given = settings.resolve(parser.parse_args([f"{flag}=2026-11-27T14:05:00Z"]), {})
    assert getattr(given, name) == datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    from_env = settings.resolve(None, {env: "2026-11-27T16:05:00+02:00"})
    assert getattr(from_env, name) == datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    assert getattr(settings.resolve(None, {env: ""}), name) is None


@pytest.mark.parametrize("name", ["activated_at", "rollback_started_at"])
def test_a_bad_time_is_a_usage_error_naming_the_option(name):
    flag, env = f"--{name.replace('_', '-')}", f"SHADOWGATE_{name.upper()}"
    with pytest.raises(ConfigError) as error:
        settings.resolve(None, {env: "14:05 yesterday"})
    assert str(error.value) == (
        f"{flag} (env {env}): not an ISO-8601 time: '14:05 yesterday' (e.g. 2026-11-27T14:05:00Z)"
    )


def test_a_bad_time_stops_a_pytest_run_with_one_error_line(tmp_path):
    run = run_phase("redis://127.0.0.1:1/0", tmp_path / "r", "--activated-at=soon",
                    markexpr="window_30m")  # fmt: skip
    assert run.exit_code == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: --activated-at (env SHADOWGATE_ACTIVATED_AT): not an ISO-8601 time: 'soon'" in (
        run.output
    )
    assert "Traceback" not in run.output and not (tmp_path / "r").exists()
