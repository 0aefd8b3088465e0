"""The read-only client's pipelined range read against a real redis-server: the next batch is
asked for before this one is handed on, an abandoned read leaves no reply behind for another
command, connections are reused, and each reply is bounded by the read timeout."""

from __future__ import annotations

import time

import pytest
import redis

from shadowgate.readonly import ReadOnlyRedis, connect, next_id, previous_id
from shadowgate.testbed import throwaway_redis
from tests.support.stream_fill import KEY, fill, needs_real_redis

MAX_SEQ = 2**64 - 1


def xrange_calls(server: throwaway_redis.ThrowawayRedis) -> int:
    return server.client().info("commandstats").get("cmdstat_xrange", {}).get("calls", 0)


def calls_settle(server: throwaway_redis.ThrowawayRedis, expected: int) -> int:
    """XRANGE calls the server has run, once it has run `expected` or 2 s have passed."""
    deadline = time.monotonic() + 2.0
    while (calls := xrange_calls(server)) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return calls


def test_next_batch_is_asked_for_before_this_one_is_handed_on(redis_server):
    added = fill(redis_server.client(), 30)
    batches = connect(redis_server.url).xrange_batches(KEY, "-", "+", 10)
    first = next(batches)
    assert len(first) == 10
    assert calls_settle(redis_server, 2) == 2  # the second batch is on its way, unread
    time.sleep(0.05)
    assert xrange_calls(redis_server) == 2  # and no third until the second is taken
    rest = list(batches)
    assert [len(batch) for batch in rest] == [10, 10, 0]  # a full last batch needs an empty one
    assert [entry_id.decode() for batch in [first, *rest] for entry_id, _ in batch] == added
    assert xrange_calls(redis_server) == 4


def test_a_short_batch_ends_the_read_without_another_request(redis_server):
    fill(redis_server.client(), 25)
    batches = list(connect(redis_server.url).xrange_batches(KEY, "-", "+", 10))
    assert [len(batch) for batch in batches] == [10, 10, 5]
    assert xrange_calls(redis_server) == 3


def test_an_abandoned_read_leaves_no_reply_for_the_next_command(redis_server):
    fill(redis_server.client(), 30)
    client = connect(redis_server.url)
    batches = client.xrange_batches(KEY, "-", "+", 10)
    next(batches)
    calls_settle(redis_server, 2)  # the second reply is waiting on the connection
    batches.close()
    assert client.xlen(KEY) == 30  # not the second batch's reply
    assert [len(b) for b in client.xrange_batches(KEY, "-", "+", 20)] == [20, 10]


def test_reads_to_the_end_reuse_one_connection(redis_server):
    fill(redis_server.client(), 5)
    client = connect(redis_server.url)
    for _ in range(20):
        assert sum(len(batch) for batch in client.xrange_batches(KEY, "-", "+", 2)) == 5
    assert client.xlen(KEY) == 5
    clients = redis_server.client().client_list()
    assert len(clients) == 2  # this reader's one connection, and the admin asking


def test_each_batch_reply_is_bounded_by_the_read_timeout(redis_server):
    needs_real_redis(redis_server)
    admin = redis_server.client()
    fill(admin, 3)
    client = connect(redis_server.url, read_timeout=0.3)
    client.ping()  # connected before the pause
    admin.execute_command("CLIENT", "PAUSE", "1000", "ALL")
    started = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        next(client.xrange_batches(KEY, "-", "+", 10))
    assert time.monotonic() - started < 0.9
    time.sleep(max(0.0, started + 1.1 - time.monotonic()))
    assert [len(b) for b in client.xrange_batches(KEY, "-", "+", 10)] == [3]  # reconnects


def test_a_redis_error_reply_surfaces_and_the_connection_stays_usable(redis_server):
    admin = redis_server.client()
    admin.set("not-a-stream", "x")
    client = connect(redis_server.url)
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        next(client.xrange_batches("not-a-stream", "-", "+", 10))
    fill(admin, 2)
    assert [len(b) for b in client.xrange_batches(KEY, "-", "+", 10)] == [2]


def test_the_read_only_client_wraps_any_redis_client(redis_server):
    fill(redis_server.client(), 4)
    client = ReadOnlyRedis(redis.Redis.from_url(redis_server.url), redis_server.url)
    assert [len(b) for b in client.xrange_batches(KEY, "-", "+", 3)] == [3, 1]


@pytest.mark.parametrize(
    ("entry_id", "after", "before"),
    [
        ("5-3", "5-4", "5-2"),
        ("5-0", "5-1", f"4-{MAX_SEQ}"),
        (f"5-{MAX_SEQ}", "6-0", f"5-{MAX_SEQ - 1}"),
        ("1-1", "1-2", "1-0"),
    ],
)
def test_next_and_previous_ids_step_one_entry_id(entry_id, after, before):
    assert next_id(entry_id) == after
    assert previous_id(entry_id) == before
