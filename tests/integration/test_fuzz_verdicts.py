"""Bad data never turns a FAIL into a PASS: a hostile mix of entries (every real form, foreign
publishers, broken bodies, wrong types, NaN, huge and nested payloads, odd votes, any bytes)
written beside a stream on which B1-B3, B6, P3, G1-G3 and B5 fail leaves each of them FAIL, or
at worst INCONCLUSIVE, and no rule raises. The mix is at most 4% of the stream: more valid
intents than that would be new data, not bad data (G1 judges shares)."""

from __future__ import annotations

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from shadowgate.config import Target, Thresholds
from shadowgate.verdict import Status
from tests.support import fuzz_support as fs
from tests.support import strategies as sg
from tests.support.fuzz_profiles import budget

TARGET, TH = Target(), Thresholds.load()
BASE = fs.failing_stream()
placed = st.tuples(st.integers(0, fs.INTENTS - 1), sg.intent_entries)
placed_outcomes = st.tuples(st.integers(fs.INTENTS - 290, fs.INTENTS - 1), sg.outcome_entries)


def test_the_failing_stream_fails_every_check_it_is_meant_to():
    """Without it the property below would prove nothing."""
    found = fs.verdicts_of(fs.mixed(BASE, []), [], TARGET, TH)
    assert {i: found[i] for i in fs.FAILING} == dict.fromkeys(fs.FAILING, Status.FAIL)


def test_the_adapter_sees_a_passing_check_pass():
    """The adapter can report a PASS at all (P5 on this stream: no vote was ever counted)."""
    assert fs.verdicts_of(fs.mixed(BASE, []), [], TARGET, TH)["P5"] is Status.PASS


@pytest.fixture(scope="module")
def server(redis_module) -> redis.Redis:
    """The module's throwaway redis-server (each example rewrites the two streams)."""
    return redis.Redis.from_url(redis_module.url)


@budget(default=15, fuzz=1000)
@given(st.lists(placed, max_size=12), st.lists(placed_outcomes, max_size=12))
def test_hostile_entries_never_turn_a_fail_into_a_pass(server, hostile, outcomes):
    found = fs.verdicts_of(fs.mixed(BASE, hostile), _outcomes(outcomes), TARGET, TH, server=server)
    turned = {i: found[i].value for i in fs.FAILING if found[i] not in fs.NEVER_PASSES}
    assert not turned, turned


def _outcomes(placed_entries: list[tuple[int, fs.Entry]]) -> list[tuple[str, fs.Entry]]:
    """Outcomes a second after the base intents they follow, in stream order."""
    ordered = sorted(placed_entries, key=lambda item: item[0])
    return [(f"{BASE[at][0] + 1000}-{seq}", fields) for seq, (at, fields) in enumerate(ordered)]
