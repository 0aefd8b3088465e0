"""The day's scan split in two: the halves' accumulators joined (`DayScan.absorb`,
`WindowSummary.then`, `Hits.then`, `OutcomeJoin.absorb`) give every figure one pass gives, for
any split point; the live split (a forked process reading the later half of a real stream)
gives what the single pass gives; and a failing or dying second process is the operator's one
line, never a partial day."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from shadowgate import dayscan, forked, stream
from shadowgate import metrics as m
from shadowgate import trades as tr
from shadowgate.config import Target, Thresholds
from shadowgate.dayscan import DayScan, scan_stream, scan_window
from shadowgate.intents import parse_intent
from shadowgate.outcomes import parse_outcome
from shadowgate.plugin import sources
from shadowgate.testbed.suiterun import DRILL, local_runner, run_suite
from tests.support.dayscans import figures
from tests.support.engine_data import HOUR_MS, NOW_MS, backfill
from tests.support.forking import single_threaded
from tests.support.handmade import timed
from tests.support.metric_strategies import PT, intents, outcome_lists

MIN = 60_000
START = NOW_MS - 24 * HOUR_MS
JOIN_MS = 60 * MIN


@st.composite
def split_windows(draw: st.DrawFn) -> tuple[list, int]:
    """Intents in stream order with several sharing a symbol, and where to split them."""
    found = sorted(
        (draw(intents(seq)) for seq in range(draw(st.integers(0, 20)))), key=tr.stream_order
    )
    return found, draw(st.integers(0, len(found)))


@settings(max_examples=300, deadline=None)
@given(split_windows(), outcome_lists(), st.sampled_from([MIN, 20 * MIN]))
def test_joined_halves_measure_what_one_pass_measures(split, outcomes, window_ms):
    ordered, at = split
    joined_outcomes = timed(outcomes, 0)
    whole = scan_window(timed(ordered, 0), PT, joined_outcomes, window_ms)
    first = scan_window(timed(ordered[:at], 0), PT, joined_outcomes, window_ms)
    first.absorb(scan_window(timed(ordered[at:], 0), PT, joined_outcomes, window_ms))
    assert figures(first) == figures(whole)
    assert first.joined(joined_outcomes, window_ms) == whole.joined(joined_outcomes, window_ms)


@pytest.mark.parametrize(
    ("first", "later", "joined"),
    [
        (m.Hits(), m.Hits(), m.Hits()),
        (m.Hits(1, ("a",)), m.Hits(), m.Hits(1, ("a",))),
        (m.Hits(), m.Hits(2, ("c", "d")), m.Hits(2, ("c", "d"))),
        (m.Hits(2, ("a", "b")), m.Hits(2, ("c", "d")), m.Hits(4, ("a", "b", "c"))),
        (m.Hits(5, ("a", "b", "c")), m.Hits(1, ("d",)), m.Hits(6, ("a", "b", "c"))),
    ],
)
def test_hits_then_counts_both_and_quotes_the_first_ids(first, later, joined):
    assert first.then(later) == joined


def test_absorb_refuses_a_scan_of_another_model_or_join():
    outcomes = timed([], 0)
    day = DayScan(PT, outcomes, JOIN_MS)
    for other in (DayScan("xgb", outcomes, JOIN_MS), DayScan(PT, outcomes, 1.0), DayScan(PT)):
        with pytest.raises(ValueError, match="other models, outcomes or join windows"):
            day.absorb(other)


# -- the live split, on a real stream --


def engine_stream(server) -> tuple[stream.StreamReader, stream.Window]:
    """Two days of the stand-in engine: garbage, foreign entries and outcomes in every form."""
    backfill(server, "garbage", maxlen=50_000)
    backfill(server, "later_engine", hours=3.0, seed=5, maxlen=50_000)
    client = stream.connect(server.url)
    target = Target()
    reader = stream.StreamReader(client, target.stream, batch=97, clock=lambda: NOW_MS)
    outcomes = stream.StreamReader(
        client, target.outcomes_stream, parser=parse_outcome, clock=lambda: NOW_MS
    ).window(START)
    return reader, outcomes


class Forks:
    """Counts the scan's forks (the figures alone cannot tell a split scan from one pass)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        single_threaded()
        self.made = 0
        real = forked.Forked

        def counted(*args, **kwargs):
            self.made += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(dayscan.forked, "Forked", counted)


def test_the_split_scan_equals_the_single_pass_on_a_real_stream(redis_server, monkeypatch):
    reader, outcomes = engine_stream(redis_server)
    forks = Forks(monkeypatch)
    single = scan_stream(reader, START, PT, outcomes, JOIN_MS)
    assert forks.made == 0  # split_entries 0: never
    split = scan_stream(reader, START, PT, outcomes, JOIN_MS, split_entries=1)
    assert forks.made == 1
    assert split.window == single.window
    assert split.window.n_errors > 0 and split.window.foreign > 0
    assert split.window.n_records > 1000 and split.window.covered is True
    assert figures(split) == figures(single)
    assert split.joined(outcomes, JOIN_MS) == single.joined(outcomes, JOIN_MS)
    assert split.joined(outcomes, JOIN_MS)


@pytest.mark.parametrize("start", [START, NOW_MS - 40 * HOUR_MS])  # covered, and not
@pytest.mark.parametrize("hours", [-30.0, -25.0, -12.0, -1.0, -0.01, 0.5])
def test_a_window_summed_from_two_reads_is_the_window_read_once(redis_server, start, hours):
    """`WindowSummary.then` at split points before the stream, inside it and after it."""
    reader, _ = engine_stream(redis_server)
    middle = max(NOW_MS + int(hours * HOUR_MS), start + 1)
    once = reader.summary(start, lambda _: None)
    first = reader.summary(start, lambda _: None, middle)
    later = reader.summary(middle, lambda _: None)
    assert first.then(later, once.oldest_ms, NOW_MS) == once
    assert once.covered is (start == START)


def test_no_split_when_the_stream_is_shorter_than_the_setting(redis_server, monkeypatch):
    reader, outcomes = engine_stream(redis_server)
    forks = Forks(monkeypatch)
    entries = reader.length()
    scan_stream(reader, START, PT, outcomes, JOIN_MS, split_entries=entries + 1)
    assert forks.made == 0
    scan_stream(reader, START, PT, outcomes, JOIN_MS, split_entries=entries)
    assert forks.made == 1


def test_no_split_while_another_thread_runs(redis_server, monkeypatch):
    reader, outcomes = engine_stream(redis_server)
    forks = Forks(monkeypatch)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        day = scan_stream(reader, START, PT, outcomes, JOIN_MS, split_entries=1)
    finally:
        stop.set()
        other.join()
    assert forks.made == 0 and day.window.n_records > 1000


def test_no_split_of_a_window_after_the_newest_entry_or_of_one_millisecond(redis_server):
    add = redis_server.client().xadd
    key = Target().stream
    add(key, {"source": "trading-bot"}, id=f"{NOW_MS}-0")
    reader = stream.StreamReader(stream.connect(redis_server.url), key)
    assert dayscan._middle(reader, NOW_MS + 1, 1) is None  # nothing to scan
    assert dayscan._middle(reader, NOW_MS, 1) is None  # one millisecond cannot be halved
    add(key, {"source": "trading-bot"}, id=f"{NOW_MS + 1}-0")
    assert dayscan._middle(reader, NOW_MS, 1) == NOW_MS + 1
    assert dayscan._middle(reader, NOW_MS - 10, 1) == NOW_MS + 1  # from the oldest entry
    add(key, {"source": "trading-bot"}, id=f"{NOW_MS + 10}-0")
    assert dayscan._middle(reader, 0, 1) == NOW_MS + 5
    assert dayscan._middle(reader, 0, 3) == NOW_MS + 5  # three entries: long enough
    assert dayscan._middle(reader, 0, 4) is None
    assert dayscan._middle(reader, 0, 0) is None  # 0: never


class FailsLater(stream.ReadOnlyRedis):
    """Reads fail in the forked process only: the second half's Redis went away."""

    __slots__ = ("parent",)

    def xrange_batches(self, *args, **kwargs):
        if os.getpid() != self.parent:
            raise redis.ConnectionError("Connection refused")
        yield from super().xrange_batches(*args, **kwargs)


def test_a_redis_failure_in_the_second_half_is_the_operators_stream_error(redis_server):
    reader, outcomes = engine_stream(redis_server)
    single_threaded()
    client = FailsLater(redis.Redis.from_url(redis_server.url), redis_server.url)
    client.parent = os.getpid()
    failing = stream.StreamReader(client, reader.key, clock=lambda: NOW_MS)
    with pytest.raises(stream.StreamError, match="connection refused: nothing listens") as caught:
        scan_stream(failing, START, PT, outcomes, JOIN_MS, split_entries=1)
    assert (caught.value.key, caught.value.url) == (reader.key, client.url)


def test_a_second_process_that_dies_is_named_with_the_way_round_it(redis_server):
    reader, outcomes = engine_stream(redis_server)
    parent = os.getpid()

    def dies_in_the_child(entry_id, fields):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return parse_intent(entry_id, fields)

    dying = stream.StreamReader(reader.client, reader.key, parser=dies_in_the_child)
    single_threaded()
    with pytest.raises(forked.ForkedError) as caught:
        scan_stream(dying, START, PT, outcomes, JOIN_MS, split_entries=1)
    message = str(caught.value)
    assert "the process scanning the second half of the window" in message
    assert "killed by signal 9" in message
    assert "--set window.split_scan_entries=0 scans in one process" in message


def test_the_preactivation_run_judges_the_same_split_or_not(redis_server, tmp_path):
    """The whole suite, as an operator runs it, on 23 h of the stand-in engine (the window
    reaches back past all of it, so the two runs read the same intents)."""
    backfill(redis_server, "garbage", hours=23.0, now_ms=int(time.time() * 1000))
    runs = [
        run_suite(
            local_runner,
            redis_server.url,
            tmp_path / f"split-{entries}",
            "preactivation",
            *DRILL,
            f"--set=window.split_scan_entries={entries}",
        )
        for entries in (1, 0)
    ]
    judged = [
        {
            c["id"]: (c["status"], c["measured"], c["value"], c["sample"])
            for c in run.record.to_dict()["checks"]
        }
        for run in runs
    ]
    assert judged[0] == judged[1]
    assert judged[0]["G3"][0] != "NOT_EVALUATED" and judged[0]["G3"][3] > 1000  # the day ran


@pytest.mark.parametrize(("entries", "forks_made"), [("1", 1), ("0", 0)])
def test_the_day_fixture_splits_as_the_threshold_says(
    redis_server, monkeypatch, entries, forks_made
):
    reader, _ = engine_stream(redis_server)
    forks = Forks(monkeypatch)
    thresholds = Thresholds.load(sets=[f"window.split_scan_entries={entries}"])
    day = sources._scan(reader, 24.0, NOW_MS, Target(), thresholds)
    assert forks.made == forks_made and day.window.n_records > 1000
