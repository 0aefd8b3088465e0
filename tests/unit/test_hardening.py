"""What the operator sees when something is wrong: one line naming it, never a traceback; an
exit status that agrees with the decision; and a Redis password given in any form redis-py
accepts reaching no artefact of a run. Real suite runs, as tests/support/suite_runs.py makes
them."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shadowgate import host
from shadowgate.actions import activate, rollback
from shadowgate.stream import StreamError, StreamReader, connect
from shadowgate.testbed import throwaway_redis
from tests.support.monitor_screens import impossible_reports_dirs
from tests.support.suite_runs import fill_engine, run_phase

DEAD = "redis://127.0.0.1:1/0"  # nothing listens: a run that gets this far fails fast
TRACEBACK_MARKS = ("Traceback", "INTERNALERROR", "\nE   ", "\n>   ")


def assert_one_usage_line(run, message: str) -> None:
    """Exit 4 before anything ran: one `ERROR:` line holding `message`, no traceback."""
    assert run.exit_code == pytest.ExitCode.USAGE_ERROR, run.output
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0], run.output
    assert not any(mark in run.output for mark in TRACEBACK_MARKS), run.output


# -- 1. usage errors: one line, exit 4, nothing written -----------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://x", "--redis-url (env SHADOWGATE_REDIS_URL) must start with redis://, rediss://"),
        ("", "--redis-url (env SHADOWGATE_REDIS_URL) is empty"),
        ("garbage", "must start with redis://, rediss:// or unix://, got 'garbage'"),
        ("redis://:pw@host:notaport", "'redis://:***@host:notaport' is not a Redis URL: Port"),
        ("redis://127.0.0.1:99999/0", "is not a Redis URL: Port out of range"),
        ("redis://127.0.0.1:0/0", "has no valid port (1..65535)"),  # redis-py would use 6379
        ("unix://", "names no socket path"),
    ],
)
def test_bad_redis_url_is_one_usage_line(tmp_path, url, message):
    run = run_phase(url, tmp_path / "r")
    assert_one_usage_line(run, message)
    assert ":pw@" not in run.output
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("gates.quorum=0", "threshold 'gates.quorum' must be >= 1 and <= 4, got 0"),
        ("gates.g1_max_share=5", "threshold 'gates.g1_max_share' must be >= 0 and <= 1, got 5.0"),
        ("gates.g1_max_share=nan", "'gates.g1_max_share' must be >= 0 and <= 1, got nan"),
        ("window.precondition_hours=inf", "'window.precondition_hours' must be > 0 and <= 8760"),
        ("window.snapshot_count=0", "threshold 'window.snapshot_count' must be >= 1, got 0"),
        (
            "gates.g1_min_share=0.8",  # an inverted band: both keys named
            "threshold 'gates.g1_min_share' (0.8) must be <= 'gates.g1_max_share' (0.7)",
        ),
    ],
)
def test_out_of_range_threshold_is_one_usage_line_naming_the_key(tmp_path, setting, message):
    run = run_phase(DEAD, tmp_path / "r", f"--set={setting}")
    assert_one_usage_line(run, message)
    assert not (tmp_path / "r").exists()


def test_config_file_that_is_binary_or_out_of_range_is_one_usage_line(tmp_path):
    binary = tmp_path / "thresholds.toml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\xff\xfe" * 8)
    assert_one_usage_line(
        run_phase(DEAD, tmp_path / "r", f"--config={binary}"),
        f"threshold file {binary} is not UTF-8 text (byte 0xff at offset 8)",
    )
    nan = tmp_path / "nan.toml"
    nan.write_text("[stop]\ns3_hard_disagreement_above = nan\n")
    assert_one_usage_line(
        run_phase(DEAD, tmp_path / "r", f"--config={nan}"),
        "threshold 'stop.s3_hard_disagreement_above' must be >= 0 and <= 1, got nan",
    )


def test_reports_dir_that_cannot_be_written_is_one_usage_line(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    cases = {
        a_file: f"--reports-dir {a_file} is a file, not a directory",
        a_file / "sub": f"--reports-dir {a_file / 'sub'} cannot be created: {a_file} is a file",
        loop: f"--reports-dir {loop} is a symlink that cannot be followed: Too many levels",
        Path("/proc/shadowgate-r"): "--reports-dir /proc/shadowgate-r cannot be created",
    }
    for reports_dir, message in cases.items():
        assert_one_usage_line(run_phase(DEAD, reports_dir), message)


# -- 1. a Redis that dribbles a byte at a time ---------------------------------------------


@pytest.fixture
def dribbling_redis() -> Iterator[int]:
    """A TCP server on a free port that answers AUTH at once and every other command with a
    bulk reply it sends one byte per `0.2 s`, forever: each read of the socket gets a byte
    well within any socket timeout, the reply never completes."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                while not stop.is_set() and (data := conn.recv(65536)):
                    if b"AUTH" in data.upper():
                        conn.sendall(b"+OK\r\n")
                        continue
                    conn.sendall(b"$1000000\r\n")
                    while not stop.wait(0.2):
                        conn.sendall(b"x")
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.close()


def test_dribbling_redis_times_out_naming_redis_and_the_url_without_password(dribbling_redis):
    url = f"redis://oncall@127.0.0.1:{dribbling_redis}/0?password=Dribble-pw"
    started = time.monotonic()
    with pytest.raises(StreamError) as failure:
        StreamReader(connect(url, read_timeout=0.5), "k").latest(1)
    assert time.monotonic() - started < 1.5  # one deadline for the whole reply, no retry
    said = str(failure.value)
    assert "Redis did not answer within 0.5 s" in said
    assert f"redis://oncall@127.0.0.1:{dribbling_redis}/0?password=***" in said
    assert "Dribble-pw" not in said


def test_dribbling_redis_is_a_no_go_cause_in_a_real_run(dribbling_redis, tmp_path):
    """Before: every stream check held until pytest-timeout's stack dump (120 s each)."""
    url = f"redis://127.0.0.1:{dribbling_redis}/0?password=Dribble-pw"
    run = run_phase(url, tmp_path / "r")
    assert run.exit_code == 1, run.output
    assert not any(mark in run.output for mark in ("Traceback", "INTERNALERROR", "Timeout"))
    assert "Dribble-pw" not in run.output
    cause = (
        f"NO-GO cause: cannot read stream 'quantum:stream:trade.intent' at redis://127.0.0.1:"
        f"{dribbling_redis}/0?password=***: Redis did not answer within 5.0 s"
    )
    assert cause in run.output
    assert run.record["decision"] == "NO-GO"


# -- 2. exit status and honest lines --------------------------------------------------------


@pytest.fixture(scope="module")
def engine_redis() -> Iterator[throwaway_redis.ThrowawayRedis]:
    with throwaway_redis.start() as server:
        fill_engine(server)
        yield server


def test_passing_partial_run_exits_non_zero_under_its_no_go(engine_redis, tmp_path):
    run = run_phase(engine_redis.url, tmp_path, "-k", "B3")
    assert run.record["passed"] is True and run.record["decision"] == "NO-GO"
    assert run.exit_code == pytest.ExitCode.TESTS_FAILED, run.output
    assert "shadowgate preactivation: NO-GO (incomplete run)" in run.output
    assert run.output.rstrip().endswith(f"record: {run.file('.json')}")  # once it is written


def test_a_record_that_was_not_written_is_not_announced(engine_redis, tmp_path):
    reports = tmp_path / "r"
    reports.mkdir()
    (reports / "decision-log.jsonl").mkdir()  # the log cannot be appended to
    run = run_phase(engine_redis.url, reports, "-k", "B3")
    assert "this run was NOT recorded" in run.output, run.output
    assert "record: " not in run.output and "Traceback" not in run.output
    assert run.exit_code == pytest.ExitCode.TESTS_FAILED  # it arms nothing; 3 is a bug


def test_missing_directory_and_symlink_loop_are_named_as_such(tmp_path):
    local = host.connect("local://")
    env = tmp_path / "gone" / "engine.env"
    gone = re.escape(f"its directory {tmp_path / 'gone'} does not exist")
    with pytest.raises(host.HostError, match=gone):
        host.read_text(local, str(env))
    with pytest.raises(host.HostError, match=r"backups of .*: its directory .* does not exist"):
        host.backups(local, str(env))
    loop = tmp_path / "loop.env"
    loop.symlink_to(loop)
    with pytest.raises(host.HostError, match="is a symlink loop"):
        host.read_text(local, str(loop))
    assert host.file_facts(local, str(loop)).absence.startswith("is a symlink that leads nowhere")
    dangling = tmp_path / "dangling.env"
    dangling.symlink_to(tmp_path / "nothing")
    with pytest.raises(host.HostError, match=re.escape(f"a symlink to {tmp_path / 'nothing'},")):
        host.read_text(local, str(dangling))
    with pytest.raises(host.HostError, match=r"engine\.env on local does not exist$"):
        host.read_text(local, str(tmp_path / "engine.env"))


def test_recorded_causes_name_the_missing_directory(engine_redis, tmp_path):
    run = run_phase(engine_redis.url, tmp_path / "r", "-k", "P6")
    causes = " ".join(run.record["causes"])
    assert "its directory /nonexistent/shadowgate does not exist" in causes, causes
    assert "not readable" not in causes


# -- 3. the password in the query (and every other form) reaches nothing ----------------


def test_query_password_reaches_no_artefact_of_a_real_run(tmp_path):
    password = "Qpw-" + os.urandom(8).hex()
    server = throwaway_redis.start(password=password)
    if server.kind != "redis-server":
        server.stop()
        pytest.skip("needs redis-server for --requirepass")
    try:
        fill_engine(server, hours=2)
        url = f"redis://default@127.0.0.1:{server.port}/0?password={password}"
        reports = tmp_path / "reports"
        junit = tmp_path / "elsewhere" / "run.junit.xml"
        run = run_phase(url, reports, f"--junitxml={junit}", "-rA", "--tb=long", "-s")
    finally:
        server.stop()
    assert "WRONGPASS" not in run.output and "requires a password" not in run.output
    assert run.record["checks"] and any(c["outcome"] == "passed" for c in run.record["checks"])
    assert password not in run.output  # stdout and stderr of the run
    written = [p for p in (*reports.iterdir(), junit) if p.is_file()]
    assert {p.suffix for p in written} >= {".html", ".xml", ".json", ".jsonl"}
    hits = {p.name: p.read_bytes().count(password.encode()) for p in written}
    assert sum(hits.values()) == 0, hits
    target_url = run.record["target"]["redis_url"]
    assert target_url == f"redis://default@127.0.0.1:{server.port}/0?password=***"


# -- 4. the actions probe the reports dir before the env file is touched --------------------


@pytest.mark.parametrize("script", ["activate", "rollback"])
def test_an_action_whose_record_cannot_be_written_is_one_line_exit_4_env_untouched(
    bed, tmp_path, capsys, script
):
    """Probed as the suite probes it (settings.ensure_reports_dir): before, the edit and the
    restart ran and the record's write failed after them, with a traceback."""
    cases = {**impossible_reports_dirs(tmp_path), Path("/proc/self"): "is not writable"}
    main = {"activate": activate.main, "rollback": rollback.main}[script]
    extra = {"activate": ("--approved-by=alice",), "rollback": ("--break-glass", "--reason=x")}
    before = bed.env.read_bytes()
    for reports_dir, said in cases.items():
        argv = [*bed.options(*extra[script]), f"--reports-dir={reports_dir}"]
        code = main(argv, engine=bed.engine)
        lines = capsys.readouterr().out.splitlines()
        assert code == 4, lines
        assert len(lines) == 1 and lines[0].startswith("ERROR: --reports-dir") and said in lines[0]
    assert bed.env.read_bytes() == before and not bed.engine.restarts
