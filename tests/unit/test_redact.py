"""The password never leaves a run: its written and percent-decoded forms are scrubbed from
strings, containers and pytest's (mutable dataclass) report objects."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

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


@dataclass(frozen=True)
class Sealed:
    text: str


def test_scrubbed_leaves_frozen_dataclasses_and_dataclass_classes_alone():
    secrets = ("p@ss",)
    sealed = Sealed("p@ss")
    assert scrubbed(sealed, secrets) is sealed and sealed.text == "p@ss"  # cannot be changed
    assert scrubbed(Report, secrets) is Report and not hasattr(Report, "text")


URL_FORMS = [
    ("redis://user:PW@h:6379/0", "redis://user:***@h:6379/0"),
    ("redis://:PW@h:6379/0", "redis://:***@h:6379/0"),
    ("redis://user@h/0?password=PW", "redis://user@h/0?password=***"),
    ("rediss://:PW@h:6380/1", "rediss://:***@h:6380/1"),
    ("unix://user:PW@/run/redis.sock?db=0", "unix://user:***@/run/redis.sock?db=0"),
    ("unix:///run/redis.sock?db=1&password=PW", "unix:///run/redis.sock?db=1&password=***"),
    ("redis://h/0?p%61ssword=PW&x=1", "redis://h/0?p%61ssword=***&x=1"),  # parse_qs decodes keys
    ("redis://:PW@h:notaport/0", "redis://:***@h:notaport/0"),  # urllib's .port would raise
]


@pytest.mark.parametrize(("url", "shown"), URL_FORMS)
def test_every_url_form_redis_py_accepts_is_redacted_and_its_password_found(url, shown):
    assert redact_url(url) == shown
    assert "PW" in url_secrets(url) and password_of(url) == "PW"


def test_query_password_is_found_in_every_form_redis_py_decodes():
    secrets = set(url_secrets("redis://h/0?password=a+b%21&db=0"))
    assert secrets == {"a+b%21", "a+b!", "a b!"}  # as written, unquoted, unquoted_plus
    assert url_secrets("redis://h/0?password=") == ()


# Issue 19, item 9: forms whose password was shown in the clear.
HIDDEN_FORMS = [
    ("redis://:pa#PW@h:6379/0", "redis://:***@h:6379/0"),  # a raw `#` inside the password
    ("redis://user:pa#PW@h:6379/0", "redis://user:***@h:6379/0"),
    ("redis://h:6379/0#password=PW", "redis://h:6379/0#***"),  # a fragment: never sent, hidden
    ("redis://h/0?password=PW#x", "redis://h/0?password=***#***"),
    ("redis://u%3APW@h:1/0", "redis://u%3A***@h:1/0"),  # redis-py decodes `u:PW` as the user
    ("redis://u%3aPW@h:1/0", "redis://u%3a***@h:1/0"),
    ("rediss://%3APW@h:1/0", "rediss://%3A***@h:1/0"),
]


@pytest.mark.parametrize(("url", "shown"), HIDDEN_FORMS)
def test_fragment_and_percent_encoded_userinfo_are_redacted_and_their_password_found(url, shown):
    assert redact_url(url) == shown
    assert "PW" not in redact_url(url)
    assert any(secret.endswith("PW") for secret in url_secrets(url))
    assert "PW" not in scrubbed(f"redis-py said: {url}", url_secrets(url))
