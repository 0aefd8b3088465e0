"""The password never leaves a run: its written and percent-decoded forms are scrubbed from
strings, containers and pytest's (mutable dataclass) report objects."""

from __future__ import annotations

from dataclasses import dataclass

from shadowgate.redact import REDACTED, scrubbed, url_secrets


@dataclass
class Report:
    text: str
    lines: list


def test_url_secrets_gives_both_forms_or_nothing():
    assert set(url_secrets("redis://:p%40ss@h:6379/0")) == {"p%40ss", "p@ss"}
    assert url_secrets("redis://h:6379/0") == ()


def test_scrubbed_reaches_into_containers_and_report_objects():
    secrets = url_secrets("redis://u:p%40ss@h:6379/0")
    report = Report("url redis://u:p%40ss@h", ["p@ss", ("x p@ss",)])
    value = {"k p@ss": [report], "n": 3}
    out = scrubbed(value, secrets)
    assert out == {f"k {REDACTED}": [report], "n": 3}
    assert report.text == f"url redis://u:{REDACTED}@h"
    assert report.lines == [REDACTED, (f"x {REDACTED}",)]
