"""The stand-in engine writes what ARCHITECTURE.md "The data" says the real one writes, and
each scenario behaves as its row in the table claims, against a real throwaway redis-server."""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime

import pytest
import redis

from shadowgate import metrics, trades
from shadowgate import votes as vt
from shadowgate.config import DEFAULT_REDIS_URL
from shadowgate.intents import Foreign, Intent, ParseError, parse_intent
from shadowgate.outcomes import Outcome, parse_outcome
from shadowgate.testbed import scenarios
from shadowgate.testbed.engine import DEFAULT_MAXLEN, Engine
from shadowgate.testbed.production_guard import ProductionRedisRefused
from shadowgate.testbed.simulator import Mode, resolve_mode
from tests.support.simulator_runs import (
    NOW_MS,
    OUTCOMES,
    STREAM,
    engine_argv,
    engine_env,
    raw_entries,
)

HOUR_MS = 3_600_000
ENTRY_FIELDS = {"event_type", "payload", "trace_id", "correlation_id", "timestamp", "source"}
PAYLOAD_KEYS = {
    "symbol", "side", "confidence", "timestamp", "model", "consensus_count", "total_models",
    "model_breakdown", "position_size_usd", "leverage", "entry_price", "stop_loss",
    "take_profit", "regime",
}  # fmt: skip
MODEL_PATH = "/opt/quantum/ai_engine/models/patchtst_v20260109_233444.pth"


def engine(server, name: str, shadow: bool, seed: int = 7, **kw) -> Engine:
    return Engine(server.client(), scenarios.get(name), shadow, rng=random.Random(seed), **kw)


def parsed(server) -> list[Intent | ParseError | Foreign]:
    return [parse_intent(i, f) for i, f in server.client().xrange(STREAM)]


def intents(server) -> list[Intent]:
    entries = parsed(server)
    bad = [e for e in entries if not isinstance(e, Intent)]
    assert not bad, f"{len(bad)} entries did not parse as intents, e.g. {bad[:3]}"
    return entries  # type: ignore[return-value]


def outcomes(server) -> list[Outcome]:
    out = [parse_outcome(i, f) for i, f in server.client().xrange(OUTCOMES)]
    assert all(isinstance(o, Outcome) for o in out), [o for o in out if not isinstance(o, Outcome)]
    return out  # type: ignore[return-value]


def payloads(server) -> list[dict]:
    return [json.loads(f["payload"]) for _, f in raw_entries(server)]


# --- the data -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shadow", [True, False], ids=["shadow", "voting"])
def test_entries_have_the_real_field_set_and_payload_schema(redis_server, shadow):
    engine(redis_server, "healthy_shadow", shadow).backfill(2, NOW_MS)
    entries = raw_entries(redis_server)
    assert len(entries) > 500
    for entry_id, fields in entries:
        assert set(fields) == ENTRY_FIELDS, entry_id
        assert fields["event_type"] == b"trade.intent" and fields["source"] == b"ai-engine"
        assert re.fullmatch(rb"[0-9a-f]{32}", fields["correlation_id"])
        assert datetime.fromisoformat(fields["timestamp"].decode()).utcoffset() is not None
        assert b'"consensus_count": ' in fields["payload"]  # json.dumps default separators
        payload = json.loads(fields["payload"])
        assert set(payload) >= PAYLOAD_KEYS, PAYLOAD_KEYS - set(payload)
        assert payload["side"] in ("BUY", "SELL") and payload["model"] == "ensemble"
        assert {"xgb", "lgbm", "nhits", "patchtst"} <= set(payload["model_breakdown"])
        for vote in payload["model_breakdown"].values():
            assert {"action", "confidence", "model"} <= set(vote)
    # every healthy entry parses: no ParseError, nothing foreign
    assert len(intents(redis_server)) == len(entries)


def test_payload_size_is_realistic_and_bloat_breaks_the_p95_blocker(redis_server):
    engine(redis_server, "healthy_shadow", True).backfill(1, NOW_MS)
    healthy = intents(redis_server)
    sizes = sorted(i.payload_bytes for i in healthy)
    assert 1100 <= sizes[len(sizes) // 2] <= 1300
    assert metrics.payload_p95(healthy) < 1500
    redis_server.client().delete(STREAM)
    engine(redis_server, "bloat", True).backfill(1, NOW_MS)
    assert metrics.payload_p95(intents(redis_server)) >= 1500


def test_shadow_excludes_patchtst_from_the_vote(redis_server):
    engine(redis_server, "healthy_shadow", True).backfill(3, NOW_MS)
    found = intents(redis_server)
    assert all(i.total_models == 3 and i.consensus_count <= 3 for i in found)
    votes = [i.breakdown["patchtst"] for i in found]
    assert all(v.shadow for v in votes)
    assert {v.model for v in votes} == {"patchtst_shadow", "patchtst_error"}
    assert not any(vt.beyond_others(i, "patchtst") for i in found)
    assert not any(vt.counts_model(i, "patchtst") for i in found)
    fallbacks = [i for i in found if i.fallback]
    assert fallbacks and all(i.consensus_count == 1 for i in fallbacks)


def test_voting_counts_patchtst_with_healthy_full_consensus(redis_server):
    engine(redis_server, "healthy_voting", False).backfill(3, NOW_MS)
    found = intents(redis_server)
    assert all(i.total_models == 4 and i.consensus_count <= 4 for i in found)
    assert all(
        not v.shadow and v.model in ("patchtst", "patchtst_error")
        for v in (i.breakdown["patchtst"] for i in found)
    )
    assert 0.45 <= metrics.full_consensus_share(found).value <= 0.65
    assert all(b'"shadow"' not in f["payload"] for _, f in raw_entries(redis_server))


def test_shadow_leak_tags_shadow_but_counts_the_vote(redis_server):
    engine(redis_server, "shadow_leak", True).backfill(1, NOW_MS)
    found = intents(redis_server)
    assert all(i.breakdown["patchtst"].shadow for i in found)
    assert all(i.total_models == 4 for i in found)
    assert any(i.consensus_count == 4 for i in found)
    assert any(vt.counts_model(i, "patchtst") for i in found)


def test_healthy_model_passes_the_gates_by_a_margin(redis_server):
    engine(redis_server, "healthy_shadow", True).backfill(26, NOW_MS)
    found = intents(redis_server)
    assert 0.58 <= metrics.agreement(found, "patchtst").value <= 0.72
    assert 0.10 <= metrics.hard_disagreement(found, "patchtst").value <= 0.20
    actions = metrics.action_distribution(found, "patchtst")
    assert max(r.value for r in actions.values()) <= 0.60
    assert sum(r.value > 0.15 for r in actions.values()) >= 2
    spread = metrics.confidence_spread(metrics.model_confidences(found, "patchtst"))
    assert 0.17 <= spread.range_p10_p90 <= 0.24 and 0.06 <= spread.std <= 0.10
    pairs = trades.join_outcomes(found, outcomes(redis_server), HOUR_MS)
    buckets = trades.calibration_buckets(pairs, "patchtst", 5)
    assert len(buckets) == 5 and trades.non_decreasing([b.hit_rate for b in buckets])


@pytest.mark.parametrize(
    ("name", "shadow", "check"),
    [
        ("flatline", True, lambda f: {(v.action, v.confidence) for v in _real_votes(f)}
         == {("BUY", 0.615)}),
        ("collapse", True, lambda f: _spread(f).range_p10_p90 < 0.01
         and sum(r.value > 0.15 for r in metrics.action_distribution(f, "patchtst").values()) >= 2),
        ("contrarian", True, lambda f: metrics.hard_disagreement(f, "patchtst").value > 0.30),
        ("redundant", False, lambda f: metrics.full_consensus_share(f).value > 0.85),
    ],
)  # fmt: skip
def test_broken_models_show_their_symptom(redis_server, name, shadow, check):
    engine(redis_server, name, shadow).backfill(2, NOW_MS)
    assert check(intents(redis_server))


def _real_votes(found):
    return [v for i in found if not vt.is_failed(v := i.breakdown["patchtst"], "patchtst")]


def _spread(found):
    return metrics.confidence_spread(metrics.model_confidences(found, "patchtst"))


# --- history, cap, outcomes ---------------------------------------------------------------------


def test_backfill_covers_26h_under_the_cap_with_increasing_ids(redis_server):
    eng = engine(redis_server, "healthy_shadow", True)
    start = time.perf_counter()
    written = eng.backfill(26, NOW_MS)
    assert time.perf_counter() - start < 5
    ids = [i for i, _ in raw_entries(redis_server)]
    assert len(ids) == written and 7000 < written < DEFAULT_MAXLEN
    assert all(i.endswith("-0") for i in ids)
    ms = [int(i.split("-")[0]) for i in ids]
    assert ms == sorted(set(ms))
    assert ms[0] - (NOW_MS - 26 * HOUR_MS) < 60_000 and NOW_MS - ms[-1] < 60_000
    # a restart must not rewrite the past
    assert eng.backfill(26, NOW_MS + 10_000) == 0
    assert redis_server.client().xlen(STREAM) == written


def test_maxlen_is_exact(redis_server):
    engine(redis_server, "healthy_shadow", True, maxlen=500).backfill(2, NOW_MS)
    assert redis_server.client().xlen(STREAM) == 500
    assert redis_server.client().xlen(OUTCOMES) <= 500


def test_outcomes_follow_their_intents_with_matching_sides(redis_server):
    engine(redis_server, "healthy_shadow", True).backfill(6, NOW_MS)
    found, closed = intents(redis_server), outcomes(redis_server)
    assert 0.2 * len(found) < len(closed) < 0.5 * len(found)
    pairs = trades.join_outcomes(found, closed, HOUR_MS)
    assert len(pairs) == len(closed)
    prices = {p["entry_price"] for p in payloads(redis_server)}
    assert {o.entry_price for _, o in pairs} <= prices
    for intent, outcome in pairs:
        assert outcome.side == trades.OUTCOME_SIDE[intent.side]
        assert 60_000 <= outcome.ts_ms - intent.ts_ms <= 900_000
    raw = raw_entries(redis_server, OUTCOMES)[0][1]
    assert {"timestamp", "model_id", "reason", "source", "pnl_usd", "confidence"} <= set(raw)


def test_pnl_degraded_is_worse_after_the_start(redis_server):
    start = NOW_MS - HOUR_MS
    engine(redis_server, "pnl_degraded", True, start_ms=start).backfill(25, NOW_MS)
    closed = outcomes(redis_server)
    before = [o for o in closed if o.ts_ms < start]
    after = [o for o in closed if o.ts_ms >= start + 900_000]  # intents after the start
    assert len(after) > 40
    assert trades.win_rate(after).value < trades.win_rate(before).value - 0.10
    assert trades.mean_loss(after) > 2 * trades.mean_loss(before)


def test_garbage_holds_every_odd_kind_and_still_mostly_parses(redis_server):
    engine(redis_server, "garbage", True).backfill(3, NOW_MS)
    kinds: Counter[str] = Counter()
    for _, f in raw_entries(redis_server):
        if "payload" not in f:
            kinds["data_form"] += 1
            continue
        if f.get("source") != b"ai-engine":
            kinds["foreign"] += 1
            continue
        try:
            body = json.loads(f["payload"].decode())
        except UnicodeDecodeError:
            kinds["non_utf8"] += 1
        except json.JSONDecodeError:
            kinds["bad_json"] += 1
        else:
            if "side" not in body:
                kinds["missing_field"] += 1
            elif not isinstance(body["confidence"], float):
                kinds["wrong_type"] += 1
    assert set(kinds) == set(scenarios.GARBAGE_KINDS), kinds
    entries = parsed(redis_server)
    by_type = Counter(type(e).__name__ for e in entries)
    assert by_type["ParseError"] == sum(
        kinds[k] for k in kinds if k not in ("foreign", "data_form")
    )
    assert by_type["Foreign"] == kinds["foreign"]
    assert 0.03 < by_type["ParseError"] / len(entries) < 0.08
    assert all(f.source == "risk-engine" for f in entries if isinstance(f, Foreign))


def test_same_seed_same_history(redis_server):
    for key in ("a", "b"):
        Engine(
            redis_server.client(),
            scenarios.get("healthy_shadow"),
            True,
            f"s:{key}",
            f"o:{key}",
            rng=random.Random(42),
        ).backfill(1, NOW_MS)
    assert raw_entries(redis_server, "s:a") == raw_entries(redis_server, "s:b")
    assert raw_entries(redis_server, "o:a") == raw_entries(redis_server, "o:b")


def test_publish_one_fast_forwards_and_silent_writes_nothing(redis_server):
    eng = engine(redis_server, "healthy_voting", False)
    published = [eng.publish_one(NOW_MS + k * 1000) for k in range(40)]
    written = [p for p in published if p is not None]
    assert [p.entry_id for p in written] == [i for i, _ in raw_entries(redis_server)]
    silent = Engine(redis_server.client(), scenarios.get("silent"), True, "silent:s", "silent:o")
    assert any(silent.publish_one() for _ in range(20))
    assert redis_server.client().xlen("silent:s") == 0


# --- mode ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "file_text", "scenario", "expected"),
    [
        ({}, None, "healthy_shadow", (True, "scenario default")),
        ({}, None, "healthy_voting", (False, "scenario default")),
        ({}, "PATCHTST_SHADOW_ONLY=true\n", "healthy_voting", (True, "env file")),
        ({}, "PATCHTST_SHADOW_ONLY=TRUE\n", "healthy_voting", (True, "env file")),
        ({}, 'PATCHTST_SHADOW_ONLY="true"\n', "healthy_voting", (True, "env file")),
        ({}, "PATCHTST_SHADOW_ONLY=false\n", "healthy_shadow", (False, "env file")),
        ({}, "# PATCHTST_SHADOW_ONLY=true\n", "healthy_shadow", (False, "env file")),
        ({}, f"PATCHTST_MODEL_PATH={MODEL_PATH}\n", "healthy_shadow", (False, "env file")),
        ({"PATCHTST_SHADOW_ONLY": "true"}, "", "healthy_voting", (True, "environment")),
        ({"PATCHTST_SHADOW_ONLY": "1"}, "PATCHTST_SHADOW_ONLY=true\n", "healthy_shadow",
         (False, "environment")),
        ({"PATCHTST_SHADOW_ONLY": "true"}, None, "healthy_voting", (True, "environment")),
    ],
    ids=["default-shadow", "default-voting", "file-true", "file-TRUE", "file-quoted",
         "file-false", "file-commented", "flag-removed", "env-wins", "env-not-true",
         "env-no-file"],
)  # fmt: skip
def test_mode_resolution(tmp_path, env, file_text, scenario, expected):
    env_file = tmp_path / "ai-engine.env"
    if file_text is not None:
        env_file.write_text(file_text)
    mode = resolve_mode(env, env_file, scenarios.get(scenario))
    assert (mode.shadow, mode.source.split(" /")[0]) == expected


def test_model_path_is_read_from_env_then_file(tmp_path):
    env_file = tmp_path / "ai-engine.env"
    env_file.write_text(f"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH={MODEL_PATH}\n")
    healthy = scenarios.get("healthy_shadow")
    assert resolve_mode({}, env_file, healthy) == Mode(True, f"env file {env_file}", MODEL_PATH)
    assert resolve_mode({"PATCHTST_MODEL_PATH": "/x.pth"}, env_file, healthy).model_path == "/x.pth"
    assert resolve_mode({}, None, healthy).model_path is None


def test_under_systemd_only_the_delivered_environment_decides(tmp_path):
    """A drop-in may take the flag from the engine while the env file still says true: the
    stand-in then votes, as the real engine does (and an absent flag is voting, not shadow)."""
    env_file = tmp_path / "ai-engine.env"
    env_file.write_text("PATCHTST_SHADOW_ONLY=true\n")
    shadow, voting = scenarios.get("healthy_shadow"), scenarios.get("healthy_voting")
    systemd = "environment (systemd)"
    assert resolve_mode({}, env_file, shadow, from_systemd=True) == Mode(False, systemd, None)
    delivered = {"PATCHTST_SHADOW_ONLY": "false", "PATCHTST_MODEL_PATH": MODEL_PATH}
    assert resolve_mode(delivered, env_file, shadow, True) == Mode(False, systemd, MODEL_PATH)
    on = resolve_mode({"PATCHTST_SHADOW_ONLY": "TRUE"}, None, voting, True)
    assert on == Mode(True, systemd, None)


# --- never the production Redis -----------------------------------------------------------------

PRODUCTION_URLS = [
    DEFAULT_REDIS_URL,
    "redis://127.0.0.1:6379/5",
    "redis://[::1]:6379/0",
    "redis://localhost",  # no port: redis-py's 6379
    "rediss://:secret@LOCALHOST:6379/2",
    "redis://0.0.0.0:6379/0",
]
OTHER_URLS = ["redis://localhost:6380/0", "redis://10.1.2.3:6379/0", "unix:///run/redis.sock"]


@pytest.fixture
def no_connections(monkeypatch):
    """Opening any Redis connection fails the test instead of reaching a server."""

    def refuse(self):
        raise AssertionError(f"a Redis connection was attempted: {self!r}")

    for cls in (
        redis.connection.Connection,
        redis.connection.SSLConnection,
        redis.connection.UnixDomainSocketConnection,
    ):
        monkeypatch.setattr(cls, "_connect", refuse)


@pytest.mark.parametrize("url", PRODUCTION_URLS)
def test_engine_refuses_the_production_redis_before_connecting(no_connections, url):
    with pytest.raises(ProductionRedisRefused, match="--force-production-redis") as refused:
        Engine(redis.Redis.from_url(url), scenarios.get("healthy_shadow"), True)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize("url", OTHER_URLS)
def test_engine_accepts_other_addresses(no_connections, url):
    Engine(redis.Redis.from_url(url), scenarios.get("healthy_shadow"), True)


def test_engine_accepts_the_production_redis_when_forced(no_connections):
    client = redis.Redis.from_url(DEFAULT_REDIS_URL)
    Engine(client, scenarios.get("healthy_shadow"), True, force=True)


# --- the process --------------------------------------------------------------------------------


def test_process_shadow_vs_voting_journal(redis_server, tmp_path):
    """Both modes side by side: [SHADOW] rate-limited in shadow, absent in voting."""
    env_file = tmp_path / "ai-engine.env"
    env_file.write_text(f"PATCHTST_MODEL_PATH={MODEL_PATH}\n")  # the flag deleted: voting
    common = (
        "--scenario",
        "healthy_shadow",
        "--rate",
        "10",
        "--shadow-log-interval",
        "1",
        "--duration",
        "3",
        "--seed",
        "1",
    )
    shadow = subprocess.Popen(
        engine_argv(redis_server, *common, "--stream", "s", "--outcomes-stream", "o"),
        stdout=subprocess.PIPE,
        text=True,
        env=engine_env(),
    )
    voting = subprocess.Popen(
        engine_argv(redis_server, *common, "--env-file", str(env_file)),
        stdout=subprocess.PIPE,
        text=True,
        env=engine_env(),
    )
    out_s, _ = shadow.communicate(timeout=20)
    out_v, _ = voting.communicate(timeout=20)
    assert shadow.returncode == 0 and voting.returncode == 0

    assert "[OK] PatchTST agent loaded (weight: 20.0%)" in out_s
    assert "[OK] PatchTST shadow mode: SHADOW_ONLY" in out_s
    shadow_lines = [line for line in out_s.splitlines() if line.startswith("[SHADOW] PatchTST |")]
    assert 2 <= len(shadow_lines) <= 4, shadow_lines  # 3 s at one per second
    assert all(line.endswith("| mode=SHADOW_ONLY") for line in shadow_lines)
    telemetry = [json.loads(line) for line in out_s.splitlines() if line.startswith("{")]
    assert all(set(t) == {"ts", "level", "msg"} for t in telemetry)
    published = [t for t in telemetry if t["msg"].startswith("[TELEMETRY] Publishing trade.intent")]
    assert len(published) == redis_server.client().xlen("s") > 10

    # the real agent's start: the file it uses, not found on this host, the [OK] line anyway
    assert (
        out_v.index(f"[PatchTST] Using PATCHTST_MODEL_PATH env var: {MODEL_PATH}")
        < out_v.index("[PatchTST] Using uninitialized model with random weights")
        < out_v.index("[OK] PatchTST agent loaded (weight: 20.0%)")
    )
    assert "[SHADOW]" not in out_v and "shadow mode: SHADOW_ONLY" not in out_v
    voted = intents(redis_server)
    assert voted and all(i.total_models == 4 for i in voted)


def test_process_crash_loop_exits_nonzero_after_loading(redis_server):
    start = time.monotonic()
    done = subprocess.run(
        engine_argv(redis_server, "--scenario", "crash_loop"),
        capture_output=True,
        text=True,
        timeout=20,
        env=engine_env(),
    )
    assert done.returncode != 0
    assert 2.0 <= time.monotonic() - start <= 6.0
    assert "[OK] PatchTST agent loaded" in done.stdout


def test_process_once_voting_behaves_as_its_scenario_only_when_voting(redis_server, tmp_path):
    """--once-voting (the drill's STOP): shadow stays the --scenario; voting is the other."""
    flag_gone = tmp_path / "voting.env"
    flag_gone.write_text(f"PATCHTST_MODEL_PATH={MODEL_PATH}\n")
    shadow = tmp_path / "shadow.env"
    shadow.write_text(f"PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH={MODEL_PATH}\n")
    for env_file, stream in ((shadow, "s"), (flag_gone, "v")):
        done = subprocess.run(
            engine_argv(redis_server, "--scenario", "healthy_shadow", "--once-voting", "flatline",
                  "--env-file", str(env_file), "--stream", stream, "--rate", "20",
                  "--duration", "1.5", "--seed", "1"),
            capture_output=True, text=True, timeout=20, env=engine_env(),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    voted = {
        stream: _real_votes([parse_intent(i, f) for i, f in redis_server.client().xrange(stream)])
        for stream in ("s", "v")
    }
    assert len(voted["s"]) > 5 and {(v.action, v.confidence) for v in voted["v"]} == {
        ("BUY", 0.615)
    }
    assert len({v.confidence for v in voted["s"]}) > 5  # healthy in shadow: a spread


def test_process_silent_publishes_nothing(redis_server):
    done = subprocess.run(
        engine_argv(redis_server, "--scenario", "silent", "--duration", "1.5", "--rate", "10"),
        capture_output=True,
        text=True,
        timeout=20,
        env=engine_env(),
    )
    assert done.returncode == 0
    assert "[OK] PatchTST agent loaded" in done.stdout and "[TELEMETRY]" not in done.stdout
    assert redis_server.client().exists(STREAM) == 0


def test_process_sigterm_exits_zero(redis_server):
    proc = subprocess.Popen(
        engine_argv(
            redis_server,
            "--scenario",
            "healthy_shadow",
            "--rate",
            "20",
            "--backfill-hours",
            "1",
            "--maxlen",
            "200",
        ),
        stdout=subprocess.PIPE,
        text=True,
        env=engine_env(),
    )
    try:
        for line in proc.stdout:
            if "[TELEMETRY]" in line:
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert redis_server.client().xlen(STREAM) == 200  # --maxlen honoured by the process too


def test_process_refuses_the_production_redis_with_one_line_and_exit_2():
    # --duration 0 and no backfill: even a broken guard would make no Redis call.
    done = subprocess.run(
        [sys.executable, "-m", "shadowgate.testbed.simulator", "--redis-url",
         "redis://127.0.0.1:6379/3", "--scenario", "healthy_shadow", "--duration", "0"],
        capture_output=True,
        text=True,
        timeout=20,
        env=engine_env(),
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "production Redis" in done.stderr and "--force-production-redis" in done.stderr


def test_module_runs_as_documented():
    """`python -m shadowgate.testbed.simulator --help` lists every option the unit file uses."""
    done = subprocess.run(
        [sys.executable, "-m", "shadowgate.testbed.simulator", "--help"],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    for option in (
        "--redis-url",
        "--scenario",
        "--backfill-hours",
        "--rate",
        "--env-file",
        "--stream",
        "--outcomes-stream",
        "--maxlen",
        "--shadow-log-interval",
        "--duration",
        "--seed",
        "--with",
    ):
        assert option in done.stdout
