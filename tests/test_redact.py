"""The password never leaves a run: its written and percent-decoded forms are scrubbed from
strings, containers and pytest's (mutable dataclass) report objects."""

from __future__ import annotations

from dataclasses import dataclass

from shadowgate.redact import REDACTED, password_of, redact_url, scrubbed, url_secrets


@dataclass
class Report:
    text: str
    lines: list


def test_url_secrets_gives_both_forms_or_nothing():
    assert set(url_secrets("redis://:p%40ss@h:6379/0")) == {"p%40ss", "p@ss"}
    assert url_secrets("redis://h:6379/0") == ()
    assert url_secrets("redis://:@h:6379/0") == ()  # an empty password hides nothing


def test_password_of_tells_an_empty_password_from_none():
    assert password_of("redis://u:p%40ss@h:6379/0") == "p%40ss"
    assert password_of("redis://:@h:6379/0") == ""
    assert password_of("redis://h:6379/0") is None


def test_redact_url_hides_the_password_and_keeps_the_rest():
    assert redact_url("redis://user:s3cret@10.0.0.5:6380/2") == "redis://user:***@10.0.0.5:6380/2"
    assert redact_url("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redact_url("redis://h:1/0") == "redis://h:1/0"


def test_scrubbed_reaches_into_containers_and_report_objects():
    secrets = url_secrets("redis://u:p%40ss@h:6379/0")
    report = Report("url redis://u:p%40ss@h", ["p@ss", ("x p@ss",)])
    value = {"k p@ss": [report], "n": 3}
    out = scrubbed(value, secrets)
    assert out == {f"k {REDACTED}": [report], "n": 3}
    assert report.text == f"url redis://u:{REDACTED}@h"
    assert report.lines == [REDACTED, (f"x {REDACTED}",)]
