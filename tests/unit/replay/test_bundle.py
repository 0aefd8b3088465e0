"""A bundle keeps what a run read byte for byte and nothing secret; a replay answers every
read the live run made exactly as it was answered, and a read it never made as such."""

from __future__ import annotations

import fakeredis
import pytest
from testinfra.backend.base import CommandResult

from shadowgate import dayscan, stream
from shadowgate.host import HostError, chain, files, unit
from shadowgate.intents import parse_intent
from shadowgate.readonly import ReadOnlyRedis
from shadowgate.replay import bundle
from shadowgate.replay.capture import RecordingHost, RecordingRedis, Tape
from shadowgate.replay.serve import ReplayHost, ReplayRedis

KEY = "quantum:stream:trade.intent"
PASSWORD = "s3cr3t-pw"
READ_KEYS = frozenset({"PATCHTST_SHADOW_ONLY", "PATCHTST_MODEL_PATH"})


class _Host:
    """A host whose commands answer from a table."""

    def __init__(self, answers: dict[tuple[str, ...], tuple[int, bytes]]) -> None:
        self.answers = answers
        self.backend = self

    def get_pytest_id(self) -> str:
        return "ssh://ops@engine-vps"

    def run(self, command: str, *args: str) -> CommandResult:
        rc, out = self.answers[(command, *args)]
        return CommandResult(None, rc, command.encode(), out, b"")


def _live_redis() -> ReadOnlyRedis:
    server = fakeredis.FakeRedis(decode_responses=False)
    for i in range(1, 8):
        server.xadd(KEY, {b"payload": b"\xff not utf-8 " + str(i).encode()}, id=f"{i}000-0")
    return ReadOnlyRedis(server, f"redis://:{PASSWORD}@engine:6379/0")


def _read_all(client: ReadOnlyRedis) -> list:
    reader = stream.StreamReader(client, KEY, parser=parse_intent, batch=3, clock=lambda: 9000)
    reads = [reader.latest(2), reader.window(2000), reader.window(0, 5000, batch=2)]
    return [(w.first_id, w.last_id, len(w.errors), w.oldest_ms) for w in reads]


def _captured(tape: Tape) -> bundle.Bundle:
    return tape.bundle((PASSWORD,), READ_KEYS, phase="preactivation")


def test_a_replay_reads_what_the_live_run_read(tmp_path):
    tape = Tape()
    live = _read_all(RecordingRedis(_live_redis(), tape))
    path = tmp_path / "run.bundle.json.gz"
    bundle.write(path, _captured(tape))
    assert _read_all(ReplayRedis(bundle.read(path))) == live


def test_entries_keep_their_bytes(tmp_path):
    tape = Tape()
    RecordingRedis(_live_redis(), tape).xrange(KEY, "-", "+", 100)
    path = tmp_path / "run.bundle.json.gz"
    bundle.write(path, _captured(tape))
    served = ReplayRedis(bundle.read(path)).xrange(KEY, "-", "+", 100)
    assert served == _live_redis().xrange(KEY, "-", "+", 100)


def test_a_read_the_live_run_never_made_is_served_from_the_captured_entries():
    tape = Tape()
    RecordingRedis(_live_redis(), tape).xrange(KEY, "-", "+", 100)
    served = ReplayRedis(_captured(tape)).xrevrange(KEY, "+", "-", 2)
    assert [entry_id for entry_id, _ in served] == [b"7000-0", b"6000-0"]


def test_time_is_the_captured_time_in_order_then_the_last():
    tape = Tape()
    client = RecordingRedis(_live_redis(), tape)
    first, second = client.time_ms(), client.time_ms()
    captured = _captured(tape)
    assert captured.now_ms == first
    replay = ReplayRedis(captured)
    assert [replay.time_ms() for _ in range(3)] == [first, second, second]


def test_secrets_never_reach_the_bundle(tmp_path):
    env = (
        b"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH=/models/p.pt\n"
        b"REDIS_URL=redis://:" + PASSWORD.encode() + b"@engine:6379/0\nAPI_TOKEN=tok-123\n"
        b'QUOTED="two words"\n'
    )
    host = _Host(
        {
            (files.READ_SCRIPT, "/etc/engine.env"): (0, env),
            (chain.MANAGER_COMMAND,): (0, b"LANG=C\nSOME_KEY=hidden-1\n"),
            (unit.ENVIRON_SCRIPT, "42"): (0, b"API_TOKEN=tok-123\x00PATCHTST_SHADOW_ONLY=true\x00"),
            (chain.CAT_COMMAND, "engine.service"): (
                0,
                b'[Service]\nEnvironment="API_TOKEN=tok 123" PATCHTST_MODEL_PATH=/m.pt\n'
                b"EnvironmentFile=/etc/engine.env\n",
            ),
        }
    )
    tape = Tape()
    recording = RecordingHost(host, tape)
    for call in host.answers:
        recording.run(*call)
    stream_tape = Tape()
    client = _live_redis()
    client._client.xadd(KEY, {b"url": f"redis://:{PASSWORD}@x".encode()}, id="8000-0")
    RecordingRedis(client, stream_tape).xrange(KEY, "-", "+", 100)
    tape.redis, tape.entries = stream_tape.redis, stream_tape.entries
    path = tmp_path / "run.bundle.json.gz"
    bundle.write(path, _captured(tape))
    text = bundle.gzip.decompress(path.read_bytes()).decode()
    for secret in (PASSWORD, "tok-123", "tok 123", "123", "two words", "hidden-1"):
        assert secret not in text
    served = ReplayHost(bundle.read(path), "replay")
    read = served.run(files.READ_SCRIPT, "/etc/engine.env").stdout_bytes
    assert b"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH=/models/p.pt\n" in read
    assert b"API_TOKEN=xxx-000\n" in read
    cat = served.run(chain.CAT_COMMAND, "engine.service").stdout_bytes
    assert b'Environment="API_TOKEN=xxx 000" PATCHTST_MODEL_PATH=/m.pt\n' in cat
    assert b"EnvironmentFile=/etc/engine.env" in cat


def test_a_host_command_the_live_run_never_ran_cannot_be_judged():
    tape = Tape()
    RecordingHost(_Host({("date +%s.%N",): (0, b"1.5\n")}), tape).run("date +%s.%N")
    served = ReplayHost(_captured(tape), "replay of x")
    assert served.backend.get_pytest_id() == "ssh://ops@engine-vps"  # messages read the same
    assert served.run("date +%s.%N").stdout_bytes == b"1.5\n"
    with pytest.raises(
        HostError, match=r"no answer to .journalctl -u %s. with engine\.service: the live run never"
    ):
        served.run("journalctl -u %s", "engine.service")


def test_journal_queries_are_kept_apart():
    tape = Tape()
    host = _Host({("journalctl -u %s -o json", "e"): (0, b"{}\n"), ("date",): (0, b"1\n")})
    recording = RecordingHost(host, tape)
    recording.run("journalctl -u %s -o json", "e")
    recording.run("date")
    captured = bundle.Bundle.from_json(_captured(tape).to_json())
    assert [call[0] for call, _ in captured.journal] == ["journalctl -u %s -o json"]
    assert [call[0] for call, _ in captured.host["runs"]] == ["date"]


def test_what_is_not_a_bundle_is_said(tmp_path):
    path = tmp_path / "x.bundle.json.gz"
    path.write_bytes(b"not gzip")
    with pytest.raises(bundle.BundleError, match="is not a gzip'd JSON bundle"):
        bundle.read(path)
    path.write_bytes(bundle.gzip.compress(b'{"format": "other/1"}'))
    with pytest.raises(bundle.BundleError, match="is not a shadowgate-bundle/1 bundle"):
        bundle.read(path)


def test_a_captured_day_scan_is_read_in_this_process_whole():
    """A long stream's scan is split over a forked process, whose reads would never reach the
    tape: a capturing client reads it in one."""
    tape = Tape()
    reader = stream.StreamReader(RecordingRedis(_live_redis(), tape), KEY, clock=lambda: 9000)
    dayscan.scan_stream(reader, 0, "patchtst", split_entries=1)
    read = {i for call, ids in tape.redis if call[0] == "XRANGE" for i in ids}
    assert read == {f"{i}000-0" for i in range(1, 8)}
