"""The stand-in engine writes every form of the real engine's later versions (ARCHITECTURE.md "The
data"), each behind a scenario option that is off by default, read back the way the suite
reads them (parse_intent / parse_outcome, shadowgate.votes, shadowgate.host.forms)."""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import sys
from collections import Counter

import pytest

from shadowgate import host, metrics, trades
from shadowgate import votes as vt
from shadowgate.intents import Foreign, Intent, parse_intent
from shadowgate.outcomes import Outcome, parse_outcome
from shadowgate.testbed import scenarios
from shadowgate.testbed.engine import Engine, Published
from shadowgate.testbed.engine_journal import Journal
from tests.support.simulated_entries import entries, intents
from tests.support.simulator_runs import (
    NOW_MS,
    OUTCOMES,
    STREAM,
    engine_argv,
    engine_env,
    raw_entries,
)

HOUR_MS = 3_600_000


MIN_MS = 60_000


def scenario(name: str = "healthy_shadow", *options: str) -> scenarios.Scenario:
    return scenarios.with_options(scenarios.get(name), options)


def run(server, name: str, *options: str, shadow: bool = True, hours: float = 3, **kw) -> Engine:
    """`hours` of `name` with `options` (FIELD=VALUE) backfilled up to NOW_MS."""
    eng = Engine(server.client(), scenario(name, *options), shadow, rng=random.Random(5), **kw)
    eng.backfill(hours, NOW_MS)
    return eng


def breakdowns(server) -> list[dict]:
    return [json.loads(f["payload"])["model_breakdown"] for _, f in raw_entries(server)]


def test_options_default_to_the_earlier_engine_and_parse_from_text():
    healthy = scenarios.get("healthy_shadow")
    assert scenario("healthy_shadow") is healthy
    changed = scenario(
        "healthy_shadow", "shadow_form=inactive", "lgbm_fallback_rate=1", 'error_forms=["missing"]',
        "hold_placeholder=0", "dead_zone=[0.61, 0.62]", "publish_filter=true", "foreign_ratio=6",
    )  # fmt: skip
    assert (changed.shadow_form, changed.lgbm_fallback_rate, changed.error_forms) == (
        "inactive", 1.0, ("missing",))  # fmt: skip
    assert (changed.hold_placeholder, changed.dead_zone, changed.foreign_ratio) == (
        0.0, (0.61, 0.62), 6)  # fmt: skip
    assert changed.publish_filter is True and changed.name == "healthy_shadow"


@pytest.mark.parametrize(
    "option",
    ["shadow_form=shadow", "nope=1", "publish_filter=1", "lgbm_fallback_rate=true",
     'error_forms=["timeout"]', "foreign_ratio=-1", "name=x", "shadow_form"],
)  # fmt: skip
def test_bad_options_are_refused(option):
    with pytest.raises(ValueError):
        scenario("healthy_shadow", option)


def test_same_seed_same_bytes_whatever_the_hash_seed(redis_server):
    """The ensemble's confidence once summed over a set: bytes varied with PYTHONHASHSEED."""
    code = (
        "import hashlib, random, sys, redis\n"
        "from shadowgate.testbed import scenarios\n"
        "from shadowgate.testbed.engine import Engine\n"
        "c = redis.Redis.from_url(sys.argv[1]); s, o = sys.argv[2] + ':s', sys.argv[2] + ':o'\n"
        "Engine(c, scenarios.get('flatline'), False, s, o, rng=random.Random(3)"
        f").backfill(3, {NOW_MS})\n"
        "print(hashlib.sha256(repr(c.xrange(s)).encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code, redis_server.url, f"h{seed}"],
            env={**engine_env(), "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for seed in (0, 1, 2, 3)
    }
    assert len(digests) == 1, digests


def test_inactive_shadow_form_marks_patchtst_without_a_shadow_tag(redis_server):
    run(redis_server, "healthy_shadow", "shadow_form=inactive")
    found = intents(redis_server)
    assert len(found) > 500 and all(i.total_models == 4 for i in found)
    for raw in breakdowns(redis_server):
        vote = raw["patchtst"]
        assert "shadow" not in vote and vote["inactive"] is True
        assert vote["inactive_reason"] == "shadow_mode"
        assert vote["model"] in ("patchtst_model", "patchtst_error")
    assert all(vt.is_shadow(i.breakdown["patchtst"]) for i in found)
    assert not any(vt.beyond_others(i, "patchtst") for i in found)
    assert max(i.consensus_count for i in found) == 3


def test_inactive_form_voting_is_patchtst_model_unmarked(redis_server):
    run(redis_server, "healthy_voting", "shadow_form=inactive", shadow=False)
    votes = [b["patchtst"] for b in breakdowns(redis_server)]
    assert {v["model"] for v in votes} == {"patchtst_model", "patchtst_error"}
    assert not any("inactive" in v or "shadow" in v for v in votes)
    assert any(i.consensus_count == 4 for i in intents(redis_server))


def test_lgbm_on_fallback_rules_is_inactive_and_odd(redis_server):
    run(redis_server, "healthy_shadow", "lgbm_fallback_rate=1")
    found = intents(redis_server)
    lgbm = [i.breakdown["lgbm"] for i in found]
    assert {(v.model, v.inactive, v.inactive_reason) for v in lgbm} == {
        ("lgbm_fallback_rules", True, "fallback_rules")}  # fmt: skip
    confidences = [v.confidence for v in lgbm]
    assert max(confidences) <= 1.05 and sum(c > 1 for c in confidences) > 0.05 * len(lgbm)
    assert vt.odd_confidences(found) == {"lgbm": sum(c > 1 for c in confidences)}
    assert all(set(vt.active_voters(i)) <= {"xgb", "nhits"} for i in found)
    assert max(i.consensus_count for i in found) == 2  # shadow: never above the 2 active
    assert not any(vt.beyond_others(i, "patchtst") for i in found)


def test_lgbm_on_fallback_rules_part_time(redis_server):
    run(redis_server, "healthy_shadow", "lgbm_fallback_rate=0.5")
    models = Counter(i.breakdown["lgbm"].model for i in intents(redis_server))
    assert 0.4 < models["lgbm_fallback_rules"] / models.total() < 0.6
    assert set(models) == {"lgbm_fallback_rules", "lightgbm"}


def test_leak_with_lgbm_on_rules_reaches_3_with_2_other_voters(redis_server):
    run(redis_server, "shadow_leak_lgbm_fallback")
    found = intents(redis_server)
    threes = [i for i in found if i.consensus_count == 3]
    assert threes and max(i.consensus_count for i in found) == 3
    for intent in threes:
        assert len(vt.voting_others(intent, "patchtst")) == 2
        assert vt.beyond_others(intent, "patchtst") and vt.counts_model(intent, "patchtst")
        assert intent.breakdown["patchtst"].shadow


def test_every_failure_form_is_written(redis_server):
    forms = '["error", "hold_zero", "missing", "fallback_only"]'
    run(redis_server, "healthy_shadow", f"error_forms={forms}", "error_rate=0.2")
    found = intents(redis_server)
    counted = vt.failure_forms(found, "patchtst")
    assert set(counted) == {
        "patchtst_error",
        "HOLD 0.0 as patchtst_model",
        "no patchtst vote",
        "fallback only",
    }
    assert max(counted.values()) - min(counted.values()) <= 1  # in turn  # fmt: skip
    raw = breakdowns(redis_server)
    only = [b for b in raw if "patchtst" not in b and set(b) == {"fallback"}]
    assert only and all(b["fallback"]["model"] == "rule_based" for b in only)
    alone = [i for i in found if i.fallback and not i.breakdown]
    assert len(alone) == len(only) and all(i.consensus_count == 1 for i in alone)
    zero = [b["patchtst"] for b in raw if b.get("patchtst", {}).get("model") == "patchtst_model"]
    assert zero and all(v["action"] == "HOLD" and v["confidence"] == 0.0 for v in zero)


def test_default_failures_stay_patchtst_error(redis_server):
    run(redis_server, "healthy_shadow", "error_rate=0.2")
    assert set(vt.failure_forms(intents(redis_server), "patchtst")) == {"patchtst_error"}


def test_leak_with_fallback_null_beside_the_votes(redis_server):
    run(redis_server, "shadow_leak_fallback_null")
    raw = breakdowns(redis_server)
    assert all("fallback" in b and len(b) == 5 for b in raw)
    assert Counter(b["fallback"] is None for b in raw)[True] > 0.95 * len(raw)
    found = intents(redis_server)
    assert all(i.fallback and "patchtst" in i.breakdown for i in found)
    assert any(i.consensus_count == 4 and vt.beyond_others(i, "patchtst") for i in found)


@pytest.mark.parametrize("placeholder", [0.5, 0.0])
def test_hold_placeholders(redis_server, placeholder):
    run(redis_server, "healthy_shadow", f"hold_placeholder={placeholder}", "error_rate=0")
    holds = [v for b in breakdowns(redis_server) for v in b.values() if v["action"] == "HOLD"]
    assert {v["confidence"] for v in holds} == {placeholder}
    assert {v["model"] for v in holds} >= {"xgboost", "lightgbm", "nhits", "patchtst_shadow"}


def test_dead_zone_fails_g2_only_on_buy_sell_votes(redis_server):
    run(redis_server, "dead_zone", hours=26)
    found = intents(redis_server)
    votes = [i.breakdown["patchtst"] for i in found]
    assert {v.action for v in votes} == {"BUY", "HOLD"}
    assert all(0.61 <= v.confidence <= 0.62 for v in votes if v.action == "BUY")
    assert {v.confidence for v in votes if v.action == "HOLD"} == {0.0}
    directional = metrics.confidence_spread(metrics.model_confidences(found, "patchtst"))
    assert directional.range_p10_p90 < 0.12 and directional.std < 0.05  # G2 fails
    pooled = metrics.confidence_spread(v.confidence for v in votes)
    assert pooled.range_p10_p90 >= 0.12 and pooled.std >= 0.05  # would pass if HOLDs counted
    assert 0.57 <= metrics.agreement(found, "patchtst").value <= 0.63  # G3 passes
    assert metrics.hard_disagreement(found, "patchtst").value < 0.10
    buy = metrics.action_distribution(found, "patchtst")["BUY"].value
    assert 0.60 <= buy <= 0.68  # G1: two actions, the largest <= 70%


def test_foreign_publisher_writes_n_per_engine_entry(redis_server):
    eng = run(redis_server, "healthy_shadow", "foreign_ratio=6", hours=1, maxlen=100_000)
    parsed = entries(redis_server)
    kinds = Counter(type(e).__name__ for e in parsed)
    assert kinds["Foreign"] == 6 * kinds["Intent"] > 0
    assert {(f.source, f.event_type) for f in parsed if isinstance(f, Foreign)} == {
        ("trading-bot", "trade.intent")}  # fmt: skip
    # the same payload shape: read as the trading bot's own, each is an intent
    bot = [
        parse_intent(i, f, source="trading-bot") for i, f in redis_server.client().xrange(STREAM)
    ]
    theirs = [b for b in bot if isinstance(b, Intent)]
    assert len(theirs) == kinds["Foreign"] and all(b.consensus_count == 4 for b in theirs)
    before = redis_server.client().xlen(STREAM)
    published = [eng.publish_one(NOW_MS + 10_000 + k * 1000) for k in range(20)]
    written = sum(p is not None for p in published)
    assert redis_server.client().xlen(STREAM) - before == 7 * written


@pytest.mark.parametrize("form", ["executor", "bus", "mixed"])
def test_outcome_forms_parse_and_join(redis_server, form):
    run(redis_server, "healthy_shadow", f"outcome_form={form}", hours=4)
    raw = [f for _, f in raw_entries(redis_server, OUTCOMES)]
    closed = [parse_outcome(i, f) for i, f in redis_server.client().xrange(OUTCOMES)]
    assert len(closed) > 100 and all(isinstance(o, Outcome) for o in closed)
    shapes = Counter(
        "bus" if "payload" in f else "executor" if f["side"] in (b"BUY", b"SELL") else "flat"
        for f in raw
    )
    if form == "mixed":
        assert set(shapes) == {"flat", "executor", "bus"}
        assert max(shapes.values()) - min(shapes.values()) <= 1
    else:
        assert set(shapes) == {form}
    executor = [f for f in raw if "payload" not in f and f["side"] in (b"BUY", b"SELL")]
    assert all("entry_price" not in f for f in executor)
    bus = [json.loads(f["payload"]) for f in raw if "payload" in f]
    assert all(isinstance(b["exit_price"], float) and b["side"] in ("LONG", "SHORT") for b in bus)
    pairs = trades.join_outcomes(intents(redis_server), closed, HOUR_MS)
    assert len(pairs) == len(closed)
    assert all(o.side == trades.OUTCOME_SIDE[i.side] for i, o in pairs)


def test_publishing_filter(redis_server):
    eng = run(redis_server, "healthy_shadow", "publish_filter=true", hours=26, maxlen=100_000)
    history = intents(redis_server)
    assert 150 < len(history) < 2000  # few intents: 26 h at one decision per 10 s
    # live, at 2 decisions a second for 20 minutes: the per-minute cap binds too
    live = [eng.publish_one(NOW_MS + 500 * k) for k in range(2400)]
    found = intents(redis_server)
    assert len(found) == len(history) + sum(p is not None for p in live)
    assert all(i.confidence >= 0.75 for i in found)
    last: dict[str, int] = {}
    for intent in found:
        assert intent.ts_ms - last.get(intent.symbol, -10 * MIN_MS) >= 120_000
        last[intent.symbol] = intent.ts_ms
    times = [i.ts_ms for i in found]
    per_minute = [sum(t <= u < t + MIN_MS for u in times) for t in times]
    assert max(per_minute) == 6


def test_no_filter_by_default(redis_server):
    run(redis_server, "healthy_shadow", hours=1)
    assert min(i.confidence for i in intents(redis_server)) < 0.75


def test_stale_engine_stopped_publishing_but_still_decides(redis_server):
    eng = run(redis_server, "stale", "foreign_ratio=1", maxlen=100_000)
    found = intents(redis_server)
    assert NOW_MS - 125 * MIN_MS < max(i.ts_ms for i in found) <= NOW_MS - 120 * MIN_MS
    live = [eng.publish_one(NOW_MS + 1000 * k) for k in range(30)]
    assert any(p is not None for p in live) and all(p.entry_id is None for p in live if p)
    assert len(intents(redis_server)) == len(found)  # the engine wrote nothing live,
    top = redis_server.client().xrevrange(STREAM, count=1)[0]
    assert top[1][b"source"] == b"trading-bot"  # while the stream stays busy


def _published(vote: dict | None) -> Published:
    return Published("1-0", "intent", NOW_MS, "BTCUSDT", "BUY", 0.8, vote)


def _journal(*options: str, model_path: str | None = None) -> list[str]:
    out = io.StringIO()
    journal = Journal(out, scenario("healthy_shadow", *options), 30.0, lambda: 0.0)
    journal.model_load(model_path, scenario("healthy_shadow", *options))
    for vote in (
        {"action": "BUY", "confidence": 0.615, "model": "patchtst_shadow", "shadow": True},
        {"action": "HOLD", "confidence": 0.5, "model": "patchtst_error", "shadow": True},
        None,
    ):
        journal.shadow(_published(vote))
    return out.getvalue().splitlines()


def test_shadow_line_has_the_real_four_decimals():
    lines = _journal()
    assert lines[-1] == (
        "[SHADOW] PatchTST | BTCUSDT | action=BUY conf=0.6150 | prob=0.6150 logit=0.4684 "
        "| mode=SHADOW_ONLY"
    )
    assert sum(host.is_shadow_line(line, "PatchTST") for line in lines) == 1  # predictions only


@pytest.mark.parametrize(("lines", "expected"), [("qsc", 1), ("both", 2)])
def test_qsc_shadow_lines(lines, expected):
    written = _journal(f"shadow_lines={lines}")
    qsc = [line for line in written if line.startswith("[QSC] patchtst INACTIVE: shadow mode")]
    assert len(qsc) == 1
    assert sum(host.is_shadow_line(line, "PatchTST") for line in written) == expected


def test_json_journal_records_carry_the_text_in_msg():
    lines = _journal("journal_form=json", "shadow_lines=both")
    records = [json.loads(line) for line in lines]
    keys = {"ts", "level", "service", "event", "correlation_id", "msg", "exception"}
    assert all(set(r) == keys and r["service"] == "ai-engine" for r in records)
    msgs = [r["msg"] for r in records]
    assert sum(host.is_shadow_line(m, "PatchTST") for m in msgs) == 2
    assert host.loaded_weight(msgs[0], "PatchTST") == 20.0


def test_model_load_from_the_file(tmp_path):
    model = tmp_path / "patchtst_v20260109_233444.pth"
    model.write_bytes(b"weights")
    lines = _journal(model_path=str(model))[:3]
    assert host.model_path_used(lines[0], "PatchTST") == str(model)
    assert host.weights_loaded_from(lines[1], "PatchTST") == model.name
    assert host.loaded_weight(lines[2], "PatchTST") == 20.0
    assert not any(host.load_failure(line, "PatchTST") for line in lines)


@pytest.mark.parametrize("case", ["random_weights", "missing"])
def test_bad_model_load_still_prints_ok(tmp_path, case):
    model = tmp_path / "patchtst.pth"
    if case == "random_weights":
        model.write_bytes(b"not a state dict")
    options = ("model_load=random_weights",) if case == "random_weights" else ()
    lines = _journal(*options, model_path=str(model))
    failures = [host.load_failure(line, "PatchTST") for line in lines]
    assert host.RANDOM_WEIGHTS in failures
    assert (host.NOT_FOUND in failures) == (case == "missing")
    assert not any(host.weights_loaded_from(line, "PatchTST") for line in lines)
    ok = next(n for n, line in enumerate(lines) if host.loaded_weight(line, "PatchTST"))
    assert failures.index(host.RANDOM_WEIGHTS) < ok


def test_process_with_options_writes_json_journal_and_inactive_votes(redis_server):
    done = subprocess.run(
        engine_argv(redis_server, "--scenario", "later_engine", "--rate", "10", "--duration", "2",
              "--shadow-log-interval", "1", "--seed", "2", "--with", "foreign_ratio=2"),
        capture_output=True, text=True, timeout=30, env=engine_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    msgs = [r["msg"] for r in records]
    assert any(m.startswith("[QSC] patchtst INACTIVE: shadow mode") for m in msgs)
    shadow = [m for m in msgs if m.startswith("[SHADOW] PatchTST |")]
    assert shadow and all(
        re.search(r"conf=\d\.\d{4} \| prob=\d\.\d{4} logit=-?\d", m) for m in shadow
    )
    parsed = entries(redis_server)
    mine = [e for e in parsed if isinstance(e, Intent)]
    assert mine and len(parsed) == 3 * len(mine)
    assert all(
        v.inactive and v.inactive_reason == "shadow_mode"
        for i in mine if (v := i.breakdown.get("patchtst")) is not None
    )  # fmt: skip


def test_process_refuses_an_unknown_option(redis_server):
    done = subprocess.run(
        engine_argv(redis_server, "--scenario", "healthy_shadow", "--duration", "0",
              "--with", "shadow_form=hidden"),
        capture_output=True, text=True, timeout=30, env=engine_env(),
    )  # fmt: skip
    assert done.returncode != 0 and "shadow_form must be one of" in done.stderr
    assert redis_server.client().exists(STREAM) == 0
