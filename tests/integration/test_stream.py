"""StreamReader against a real throwaway redis-server: windows by count and by time, coverage
of a capped stream, every failure an operator can meet, and proof that only reads are sent."""

from __future__ import annotations

import json
import time

import pytest
import redis

from shadowgate.intents import Intent
from shadowgate.outcomes import Outcome, parse_outcome
from shadowgate.stream import ReadOnlyRedis, StreamError, StreamMissing, StreamReader, connect
from shadowgate.testbed import throwaway_redis
from tests.support.entry_forms import engine_fields, engine_payload, outcome_fields
from tests.support.stream_fill import BASE, KEY, MINUTE, add, fill, needs_real_redis

HOUR = 60 * MINUTE
READS = {"TYPE", "XRANGE", "XREVRANGE", "XLEN", "PING", "TIME"}  # TIME: "now" is Redis's
HANDSHAKE = {"AUTH", "HELLO", "SELECT", "CLIENT"}  # connection setup, no data touched


def reader(server: throwaway_redis.ThrowawayRedis, key: str = KEY, **kwargs) -> StreamReader:
    return StreamReader(connect(server.url, **kwargs), key, server.url)


def ids(window) -> list[str]:
    return [record.entry_id for record in window.records]


# -- "now" is Redis's TIME; entries dated in the future --


def redis_now(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return seconds * 1000 + micros // 1000


class StepAhead(ReadOnlyRedis):
    """The Redis host's clock an hour ahead of this machine's: its TIME is what counts."""

    def time_ms(self) -> int:
        return super().time_ms() + HOUR


def test_now_is_redis_time_not_this_machines_clock(redis_server):
    client = redis_server.client()
    ahead = add(client, f"{redis_now(client) + 50 * MINUTE}-0")  # made on the stepped clock
    read = StreamReader(StepAhead(client, redis_server.url), KEY)
    window = read.window(BASE)
    assert ids(window) == [ahead] and window.future == 0
    assert window.read_at_ms >= time.time() * 1000 + HOUR - 5_000
    assert window.age_ms <= 10 * MINUTE + 5_000  # measured against Redis, not this machine


def test_entries_dated_in_the_future_are_counted_shown_and_never_the_newest(redis_server):
    """An id ahead of Redis TIME by more than `max_future_ms` (a clock step, a hand-made id):
    no record of any window, never its newest; counted and said. Within the margin, a record."""
    client = redis_server.client()
    now = redis_now(client)
    live = [add(client, f"{now - (30 - i) * 1000}-0") for i in range(30)]
    live.append(add(client, f"{now + 60_000}-0"))  # 60 s ahead: inside the 120 s margin
    add(client, f"{now + 10 * MINUTE}-0")
    add(client, "99999999999999-0")
    read = reader(redis_server)
    seen = []
    summary = read.summary(now - HOUR, seen.append)
    for window in (read.latest(10), read.window(now - HOUR), summary):
        assert (window.future, window.future_newest_id) == (2, "99999999999999-0")
        assert (window.last_id, window.newest_ms) == (live[-1], now + 60_000)
        assert window.entries == window.n_records
        assert "; 2 entries dated in the future, newest ID 99999999999999-0 is " in (
            window.describe()
        )
    assert ids(read.latest(10)) == live[-10:]
    assert [r.entry_id for r in seen] == live
    strict = StreamReader(connect(redis_server.url), KEY, max_future_ms=1_000)
    assert strict.latest(100).future == 3  # the margin is the reader's own


# -- windows by count --


def test_latest_returns_the_newest_in_chronological_order(redis_server):
    added = fill(redis_server.client(), 30)
    window = reader(redis_server).latest(10)
    assert ids(window) == added[-10:]
    assert all(isinstance(r, Intent) for r in window)
    assert (window.requested_count, window.start_ms, window.covered) == (10, None, None)
    assert (window.first_id, window.last_id) == (added[-10], added[-1])
    assert window.oldest_ms == BASE


def test_latest_counts_parse_errors_and_foreign_entries(redis_server):
    client = redis_server.client()
    fill(client, 5)
    add(client, f"{BASE + 10 * MINUTE}-0", {"data": "{}", "source": "risk-guard"})
    add(client, f"{BASE + 11 * MINUTE}-0", engine_fields(engine_payload(side="buy")))
    add(client, f"{BASE + 12 * MINUTE}-0", {"data": json.dumps({"event_type": "heartbeat"})})
    window = reader(redis_server).latest(3)
    assert (len(window), len(window.errors), window.foreign, window.entries) == (3, 1, 2, 6)
    assert (window.owned, window.reached_end) == (4, False)
    assert window.errors[0].reason == "payload: side must be BUY or SELL, got 'buy'"
    assert window.describe() == (
        f"{KEY} entries 1764138120000-0 (2025-11-26 06:22:00Z) .. 1764138720000-0 (06:32:00Z): "
        "3 intents, 1 parse error, 2 foreign entries skipped; latest 3 intents requested"
    )


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_latest_reads_back_past_other_publishers_until_enough_intents(redis_server, batch):
    """Another publisher writing six entries per engine entry must not shrink the snapshot."""
    client = redis_server.client()
    engine = []
    for i in range(120):
        engine.append(add(client, f"{BASE + i * MINUTE}-0"))
        for seq in range(1, 7):  # same millisecond: batches must step back across sequences
            add(client, f"{BASE + i * MINUTE}-{seq}", {"source": "trading-bot", "data": "{}"})
    add(client, f"{BASE + 200 * MINUTE}-0", engine_fields(engine_payload(side="buy")))
    read_at = BASE + 300 * MINUTE
    read = StreamReader(connect(redis_server.url), KEY, batch=batch, clock=lambda: read_at)
    window = read.latest(100)
    assert ids(window) == engine[-100:]
    assert (window.foreign, len(window.errors), window.reached_end) == (600, 1, False)
    assert (window.first_id, window.last_id) == (engine[20], f"{BASE + 200 * MINUTE}-0")
    assert window.read_at_ms == read_at and window.newest_ms == BASE + 119 * MINUTE


def test_latest_says_when_the_stream_ends_before_enough_intents(redis_server):
    client = redis_server.client()
    fill(client, 3)
    add(client, f"{BASE + 10 * MINUTE}-0", {"source": "trading-bot", "data": "{}"})
    window = reader(redis_server).latest(100)
    assert (len(window), window.foreign, window.reached_end) == (3, 1, True)
    assert window.describe().endswith(
        "latest 100 intents requested, only 3 found back to the stream's oldest entry "
        "(2025-11-26 06:20:00Z)"
    )


def test_latest_reads_back_to_the_smallest_ids(redis_server):
    client = redis_server.client()
    add(client, "0-1")
    add(client, "0-2", {"source": "trading-bot", "data": "{}"})
    window = StreamReader(connect(redis_server.url), KEY, batch=1).latest(2)
    assert (ids(window), window.foreign, window.reached_end) == (["0-1"], 1, True)


# -- windows by time --


def test_time_window_is_half_open_and_batches_across_ids_sharing_a_millisecond(redis_server):
    client = redis_server.client()
    added = [add(client, f"{BASE + m * MINUTE}-{seq}") for m in range(12) for seq in range(3)]
    read = reader(redis_server)
    whole = read.window(BASE, batch=1000)
    assert ids(whole) == added
    for batch in (1, 2, 3, 4, 7):
        assert read.window(BASE, batch=batch) == whole
    part = read.window(BASE + 5 * MINUTE, BASE + 10 * MINUTE, batch=2)
    assert ids(part) == added[15:30]  # minutes 5..9, every sequence number; minute 10 excluded
    assert (part.start_ms, part.end_ms, part.requested_count) == (
        BASE + 5 * MINUTE,
        BASE + 10 * MINUTE,
        None,
    )


def test_iter_range_reads_batch_by_batch(redis_server):
    class CountingReads(ReadOnlyRedis):
        __slots__ = ("batches",)

        def xrange_batches(self, *args, **kwargs):
            for batch in super().xrange_batches(*args, **kwargs):
                self.batches += 1
                yield batch

    fill(redis_server.client(), 100)
    client = CountingReads(redis.Redis.from_url(redis_server.url), redis_server.url)
    client.batches = 0
    entries = StreamReader(client, KEY, batch=10).iter_range(BASE)
    assert client.batches == 0  # key checked, nothing read yet
    next(entries)
    assert client.batches == 1
    assert sum(1 for _ in entries) == 99
    assert client.batches == 11  # ten full batches of the reader's batch, then an empty one
    client.batches = 0
    assert sum(1 for _ in StreamReader(client, KEY, batch=10).iter_range(BASE, batch=50)) == 100
    assert client.batches == 3  # a call's own batch wins over the reader's


def test_window_covered_while_the_stream_reaches_back_far_enough(redis_server):
    fill(redis_server.client(), 60)
    window = reader(redis_server).window(BASE, BASE + HOUR)
    assert (len(window), window.covered, window.oldest_ms) == (60, True, BASE)
    assert window.describe() == (
        f"{KEY} entries {BASE}-0 (2025-11-26 06:20:00Z) .. {BASE + 59 * MINUTE}-0 (07:19:00Z): "
        "60 intents, 0 parse errors, 0 foreign entries skipped; "
        "1 h window from 2025-11-26 06:20:00Z covered (oldest entry 2025-11-26 06:20:00Z)"
    )


def test_window_older_than_the_capped_stream_is_not_covered_and_says_why(redis_server):
    client = redis_server.client()
    fill(client, 60)
    client.xtrim(KEY, maxlen=30, approximate=False)  # what the engine's cap does over time
    read = reader(redis_server)
    window = read.window(BASE)
    assert (len(window), window.covered, window.oldest_ms) == (30, False, BASE + 30 * MINUTE)
    assert window.describe().endswith(
        "window since 2025-11-26 06:20:00Z NOT covered (oldest entry 2025-11-26 06:50:00Z: "
        "the stream, capped by the engine at about 10,000 entries, does not reach back that "
        "far; earlier events cannot be counted)"
    )
    assert not read.coverage(BASE)
    assert read.coverage(BASE + 30 * MINUTE).covered
    assert window.describe().endswith(read.coverage(BASE).describe())


def test_empty_window_describes_itself_as_empty(redis_server):
    fill(redis_server.client(), 5)
    window = reader(redis_server).window(BASE + 24 * HOUR)
    assert (len(window), window.entries, window.first_id, window.covered) == (0, 0, None, True)
    assert window.describe() == (
        f"{KEY}: empty, no entries read; window since 2025-11-27 06:20:00Z covered "
        "(oldest entry 2025-11-26 06:20:00Z)"
    )


def test_stream_with_no_entries_left_is_not_covered(redis_server):
    client = redis_server.client()
    client.xdel(KEY, add(client, f"{BASE}-0"))
    read = reader(redis_server)
    assert read.window(BASE).describe() == (
        f"{KEY}: empty, no entries read; window since 2025-11-26 06:20:00Z NOT covered "
        "(the stream holds no entries)"
    )
    assert (
        read.latest(5)
        .describe()
        .endswith("latest 5 intents requested, only 0 found back to the stream's oldest entry (?)")
    )


def test_outcomes_read_the_same_way(redis_server):
    client = redis_server.client()
    client.xadd("quantum:stream:trade.closed", outcome_fields(), id=f"{BASE}-0")
    client.xadd("quantum:stream:trade.closed", {"event_type": "heartbeat"}, id=f"{BASE}-1")
    url = redis_server.url
    read = StreamReader(connect(url), "quantum:stream:trade.closed", url, parser=parse_outcome)
    window = read.window(BASE - HOUR)
    assert [type(r) for r in window] == [Outcome]
    assert "1 outcome, 0 parse errors, 1 foreign entry skipped" in window.describe()


def test_bad_arguments_are_refused(redis_server):
    read = reader(redis_server)
    with pytest.raises(ValueError, match="count must be at least 1"):
        read.latest(0)
    with pytest.raises(ValueError, match="batch >= 1"):
        read.window(BASE, batch=0)
    with pytest.raises(ValueError, match="batch >= 1"):
        StreamReader(read.client, KEY, batch=0).window(BASE)


# -- failures an operator meets: one clear message naming URL (no password) and key --


def test_missing_stream(redis_server):
    with pytest.raises(StreamMissing) as caught:
        reader(redis_server).latest(100)
    assert str(caught.value) == (
        f"stream {KEY!r} does not exist at {redis_server.url}: the engine has not published "
        "there, or the key name is wrong"
    )
    assert (caught.value.key, caught.value.url) == (KEY, redis_server.url)


def test_key_of_the_wrong_type(redis_server):
    redis_server.client().hset(KEY, "a", "b")
    with pytest.raises(StreamError, match=f"key '{KEY}' at .* is a hash, not a stream"):
        reader(redis_server).window(BASE)


def test_redis_down():
    url = f"redis://:s3cret@127.0.0.1:{throwaway_redis.free_port()}/0"
    started = time.monotonic()
    with pytest.raises(StreamError) as caught:
        StreamReader(connect(url), KEY, url).latest(100)
    assert time.monotonic() - started < 2
    message = str(caught.value)
    assert message.startswith(f"cannot read stream {KEY!r} at redis://:***@127.0.0.1:")
    assert "connection refused: nothing listens there (is Redis running? right port?)" in message
    assert "s3cret" not in message


def test_wrong_or_missing_password():
    with throwaway_redis.start(password="pw") as server:
        server.client().xadd(KEY, engine_fields(engine_payload()))
        wrong = server.url.replace(":pw@", ":n0t-the-pw@")
        with pytest.raises(StreamError) as caught:
            StreamReader(connect(wrong), KEY, wrong).latest(1)
        assert "Redis refused the password in the URL" in str(caught.value)
        assert "n0t-the-pw" not in str(caught.value)
        assert ":***@" in str(caught.value)
        bare = server.url.replace(":pw@", "")
        with pytest.raises(StreamError, match="Redis requires a password and the URL has none"):
            StreamReader(connect(bare), KEY, bare).latest(1)
        assert len(StreamReader(connect(server.url), KEY, server.url).latest(1)) == 1


def test_slow_redis_times_out_with_the_stated_limit(redis_server):
    needs_real_redis(redis_server)
    admin = redis_server.client()
    admin.xadd(KEY, engine_fields(engine_payload()))
    read = reader(redis_server, read_timeout=0.3)
    admin.execute_command("CLIENT", "PAUSE", "1000", "ALL")  # every client waits 1 s
    started = time.monotonic()
    with pytest.raises(StreamError, match=r"Redis did not answer within 0\.3 s"):
        read.latest(100)
    assert time.monotonic() - started < 0.9  # once, no retries, before the pause ended
    time.sleep(max(0.0, started + 1.1 - time.monotonic()))
    assert len(read.latest(100)) == 1  # the next read reconnects


# -- read-only, by construction and on the wire --


def test_read_only_client_exposes_no_write():
    client = connect("redis://:pw@127.0.0.1:1/0")
    public = {name for name in dir(client) if not name.startswith("_")}
    reads = {"ping", "time_ms", "type", "xlen", "xrange", "xrange_batches", "xrevrange"}
    facts = {"close", "url", "has_password", "connect_timeout", "read_timeout", "forkable"}
    assert public == reads | facts
    assert client.url == "redis://:***@127.0.0.1:1/0"
    with pytest.raises(AttributeError):
        client.execute_command  # noqa: B018 - no pass-through to redis.Redis


def test_monitor_sees_only_read_commands_during_reads(redis_server):
    needs_real_redis(redis_server)
    admin = redis_server.client()
    fill(admin, 25)
    with admin.monitor() as monitor:
        read = reader(redis_server)
        read.latest(10)
        read.window(BASE, batch=7)
        read.coverage(BASE)
        read.client.ping()
        read.client.xlen(KEY)
        read.client.close()
        redis_server.client().echo("shadowgate-monitor-end")
        commands = []
        while "shadowgate-monitor-end" not in (command := monitor.next_command()["command"]):
            commands.append(command)
    names = [command.split()[0].upper() for command in commands]
    assert set(names) - HANDSHAKE <= READS, commands
    assert {"TYPE", "XRANGE", "XREVRANGE"} <= set(names)
    assert names.count("XRANGE") == 4 + 3  # 25 entries in batches of 7, 3 oldest-entry reads
