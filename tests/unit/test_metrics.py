"""metrics: exact numbers on hand-made intents, including the runbook's awk cases."""

from __future__ import annotations

import dataclasses
import math

import pytest

from shadowgate import metrics as m
from shadowgate import trades as tr
from shadowgate import votes as vt
from shadowgate.intents import Intent, ModelVote
from shadowgate.outcomes import Outcome

MIN = 60_000
PT = "patchtst"


def vote(
    action: str,
    confidence: float = 0.6,
    model: str = "",
    shadow: bool = False,
    inactive_reason: str | None = None,
):
    """A breakdown entry; the model field defaults to the breakdown key (see `intent`);
    an `inactive_reason` marks it inactive, as the later engine does."""
    return ModelVote(
        action, confidence, model, shadow, inactive_reason is not None, inactive_reason
    )


def shadow_pt(action: str, confidence: float = 0.6) -> ModelVote:
    """PatchTST as the engine tags it in shadow mode."""
    return vote(action, confidence, "patchtst_shadow", shadow=True)


def failed_pt() -> ModelVote:
    return vote("HOLD", 0.50, "patchtst_error")


def intent(
    side: str = "BUY",
    consensus: int = 3,
    total: int = 4,
    *,
    ts: int = 0,
    seq: int = 0,
    symbol: str = "BTCUSDT",
    fallback: bool = False,
    payload: int = 1200,
    **votes: ModelVote | str,
) -> Intent:
    """An Intent; votes given as `xgb="BUY"` or `patchtst=vote(...)`, model name filled in."""
    breakdown = {}
    for name, v in votes.items():
        v = vote(v) if isinstance(v, str) else v
        breakdown[name] = ModelVote(
            v.action, v.confidence, v.model or name, v.shadow, v.inactive, v.inactive_reason
        )
    return Intent(
        entry_id=f"{ts}-{seq}",
        ts_ms=ts,
        symbol=symbol,
        side=side,
        confidence=0.7,
        consensus_count=consensus,
        total_models=total,
        breakdown=breakdown,
        fallback=fallback,
        payload_bytes=payload,
    )


def outcome(side: str, pnl: float, *, ts: int, seq: int = 0, symbol: str = "BTCUSDT") -> Outcome:
    return Outcome(f"{ts}-{seq}", ts, symbol, side, 100.0, 100.0 * (1 + pnl / 100), pnl)


def pt_with(action: ModelVote | str, side: str = "BUY", **kw) -> Intent:
    """A shadow-mode intent with the three voters and the given PatchTST entry."""
    return intent(side, xgb=side, lgbm=side, nhits="HOLD", patchtst=action, **kw)


# --- Ratio ------------------------------------------------------------------------------------


def test_ratio_reads_like_the_runbook_and_keeps_empty_apart():
    assert str(m.Ratio(31, 100)) == "31/100 (31.0%)"
    assert m.Ratio(1, 3).value == pytest.approx(1 / 3)
    assert m.Ratio(0, 0).value is None
    assert str(m.Ratio(0, 0)) == "0/0 (no events)"
    with pytest.raises(ValueError, match="0 <= hits <= total"):
        m.Ratio(3, 2)


# --- consensus --------------------------------------------------------------------------------


def test_consensus_distribution_is_the_awk_uniq_count():
    window = [intent(consensus=c) for c in (4, 3, 4, 1, 2, 4)]
    assert m.consensus_distribution(window) == {1: 1, 2: 1, 3: 1, 4: 3}
    assert list(m.consensus_distribution(window)) == [1, 2, 3, 4]
    assert m.consensus_distribution([]) == {}


FOUR = {"xgb": "BUY", "lgbm": "BUY", "nhits": "BUY", "patchtst": "BUY"}


def test_full_consensus_counts_active_voters_never_total_models():
    assert m.is_full_consensus(intent(consensus=4, total=4, **FOUR))
    assert m.is_full_consensus(intent(consensus=4, total=5, **FOUR))  # total_models is a constant
    assert not m.is_full_consensus(intent(consensus=4, **FOUR, tft="SELL"))  # 4 of 5 voters
    assert m.is_full_consensus(intent(consensus=5, **FOUR, tft="BUY"))
    fallback_lgbm = {**FOUR, "lgbm": vote("SELL", 1.05, inactive_reason="fallback_rules")}
    assert m.is_full_consensus(intent(consensus=3, **fallback_lgbm))  # 3 of 3 active voters
    assert not m.is_full_consensus(intent(consensus=2, **fallback_lgbm))
    assert not m.is_full_consensus(intent(consensus=0, total=0))
    assert not m.is_full_consensus(intent(consensus=1, total=1, fallback=True))  # no voters


def test_full_and_low_consensus_shares():
    window = [intent(consensus=c, **FOUR) for c in (4, 4, 3, 1, 0)]
    window.append(intent(consensus=1, fallback=True))
    assert m.full_consensus_share(window) == m.Ratio(2, 6)
    assert m.low_consensus_share(window) == m.Ratio(3, 6)  # 1, 0 and the fallback's forced 1
    assert m.low_consensus_share(window, max_count=3) == m.Ratio(4, 6)
    assert m.full_consensus_share([]) == m.Ratio(0, 0)


# --- B1 / B2 ----------------------------------------------------------------------------------


def test_voting_others_drops_the_model_and_shadow_tagged_votes():
    i = intent(
        xgb="BUY", lgbm="SELL", nhits="BUY", patchtst=shadow_pt("BUY"), tft=vote("BUY", shadow=True)
    )
    assert [v.model for v in vt.voting_others(i, PT)] == ["xgb", "lgbm", "nhits"]
    assert [v.model for v in vt.voting_others(i, "xgb")] == ["lgbm", "nhits"]


@pytest.mark.parametrize(
    ("consensus", "extra", "expected"),
    [
        (3, {}, False),  # shadow mode as it should be: three voters agree
        (4, {}, True),  # the runbook's "consensus=4 in shadow": only reachable via PatchTST
        (4, {"tft": "BUY"}, False),  # TFT votes too: 4 of 5 needs no PatchTST
        (5, {"tft": "BUY"}, True),  # 5 of 5 does
        (4, {"tft": vote("BUY", shadow=True)}, True),  # a shadow TFT is no voter either
    ],
)
def test_beyond_others_is_consensus_only_patchtst_could_reach(consensus, extra, expected):
    i = intent(
        consensus=consensus, xgb="BUY", lgbm="BUY", nhits="BUY", patchtst=shadow_pt("BUY"), **extra
    )
    assert vt.beyond_others(i, PT) is expected


def test_beyond_others_ignores_fallback_and_catches_untagged_shadow_name():
    fb = intent(consensus=4, fallback=True, xgb="BUY", lgbm="BUY", nhits="BUY")
    assert not vt.beyond_others(fb, PT)
    named = intent(
        consensus=4,
        xgb="BUY",
        lgbm="BUY",
        nhits="BUY",
        tft=vote("BUY", model="tft_shadow"),
        patchtst=shadow_pt("BUY"),
    )
    assert vt.beyond_others(named, PT)


@pytest.mark.parametrize(
    ("consensus", "pt", "expected"),
    [
        (2, shadow_pt("BUY"), False),  # xgb + lgbm: PatchTST left out, as shadow requires
        (3, shadow_pt("BUY"), True),  # tagged shadow yet counted: the B2 logic error
        (3, vote("BUY"), True),  # voting openly
        (3, shadow_pt("SELL"), False),  # PatchTST disagrees: cannot be in the consensus
        (3, failed_pt(), False),
    ],
)
def test_counts_model_when_consensus_exceeds_the_other_agreeing_voters(consensus, pt, expected):
    i = intent("BUY", consensus, xgb="BUY", lgbm="BUY", nhits="SELL", patchtst=pt)
    assert vt.counts_model(i, PT) is expected


def test_counts_model_never_for_an_absent_model_and_a_fallback_key_hides_nothing():
    assert not vt.counts_model(intent("BUY", 3, xgb="BUY", lgbm="BUY", nhits="BUY"), PT)
    leak = intent("BUY", 4, fallback=True, xgb="BUY", lgbm="BUY", nhits="BUY", patchtst="BUY")
    assert vt.counts_model(leak, PT)


def test_fallback_key_beside_real_votes_hides_no_leak():
    leak = intent(consensus=4, fallback=True, xgb="BUY", lgbm="BUY", nhits="BUY",
                  patchtst=shadow_pt("BUY"))  # fmt: skip
    assert vt.beyond_others(leak, PT)
    assert not vt.beyond_others(intent(consensus=1, fallback=True), PT)  # fallback alone


@pytest.mark.parametrize(
    ("lgbm", "consensus", "expected"),
    [
        ("BUY", 3, False),  # four voters, PatchTST in shadow: 3 of 3 others
        (vote("SELL", 1.05, inactive_reason="fallback_rules"), 3, True),  # 2 others: leak
        (vote("SELL", 1.05, inactive_reason="fallback_rules"), 2, False),
        (vote("HOLD", 0.0, model="lgbm_model"), 3, True),  # failed: no voter
        (vote("BUY", model="lgbm_error"), 3, True),
    ],
)
def test_beyond_others_counts_active_voters_only(lgbm, consensus, expected):
    i = intent(consensus=consensus, xgb="BUY", lgbm=lgbm, nhits="BUY",
               patchtst=vote("BUY", inactive_reason="shadow_mode"))  # fmt: skip
    assert vt.beyond_others(i, PT) is expected


def test_unreadable_model_vote_still_counts_as_speaking():
    base = intent(consensus=4, xgb="BUY", lgbm="BUY", nhits="BUY")
    unreadable = dataclasses.replace(base, unreadable_votes={PT: "confidence must be a number"})
    assert vt.beyond_others(unreadable, PT)
    assert vt.failure_form(unreadable, PT) == "unreadable patchtst vote"


@pytest.mark.parametrize(
    ("v", "shadow", "excluded"),
    [
        (vote("BUY", shadow=True), True, True),
        (vote("BUY", model="patchtst_shadow"), True, True),
        (vote("BUY", inactive_reason="shadow_mode"), True, True),
        (vote("BUY", inactive_reason="fallback_rules"), False, True),
        (vote("BUY"), False, False),
    ],
)
def test_shadow_evidence_and_exclusion(v, shadow, excluded):
    named = ModelVote(v.action, v.confidence, v.model or "patchtst", v.shadow, v.inactive,
                      v.inactive_reason)  # fmt: skip
    assert (vt.is_shadow(named), vt.is_excluded(named)) == (shadow, excluded)


@pytest.mark.parametrize(
    ("patchtst", "fallback", "form"),
    [
        (vote("HOLD", 0.5, model="patchtst_error"), False, "patchtst_error"),
        (vote("HOLD", 0.0, model="patchtst_model"), False, "HOLD 0.0 as patchtst_model"),
        (None, False, "no patchtst vote"),
        (vote("HOLD", 0.0, model="patchtst_shadow"), False, None),  # a shadow HOLD placeholder
        (vote("HOLD", 0.01, model="patchtst_model"), False, None),
        (vote("BUY", 0.0, model="patchtst_model"), False, None),
        (shadow_pt("BUY"), False, None),
    ],
)
def test_failure_forms_are_recognised_and_named(patchtst, fallback, form):
    votes = {"xgb": "BUY"} if patchtst is None else {"xgb": "BUY", "patchtst": patchtst}
    assert vt.failure_form(intent(fallback=fallback, **votes), PT) == form


def test_fallback_alone_is_its_own_failure_form_and_forms_are_counted():
    window = [intent(fallback=True), intent(xgb="BUY"), intent(xgb="BUY"), pt_with(failed_pt())]
    assert vt.failure_forms(window, PT) == {
        "no patchtst vote": 2, "fallback only": 1, "patchtst_error": 1
    }  # fmt: skip


def test_odd_confidences_are_counted_by_model():
    window = [intent(lgbm=vote("SELL", 1.05), xgb="BUY"), intent(lgbm=vote("BUY", 1.01))]
    assert vt.odd_confidences(window) == {"lgbm": 2}
    assert vt.odd_confidences([pt_with("BUY")]) == {}


# --- agreement (runbook s.5 metrics 2 and 3) -------------------------------------------------


def awk_window() -> list[Intent]:
    return [
        pt_with(shadow_pt("BUY"), "BUY"),  # agrees
        pt_with(shadow_pt("SELL"), "BUY"),  # hard disagreement
        pt_with(shadow_pt("HOLD"), "SELL"),  # neither: HOLD is not agreeing
        pt_with(failed_pt(), "SELL"),  # failed: in the awk's denominator, as HOLD
        intent("BUY", xgb="BUY", lgbm="BUY", nhits="BUY"),  # no patchtst: not in the awk's total
    ]


def test_agreement_and_hard_disagreement_follow_the_awk():
    assert m.agreement(awk_window(), PT) == m.Ratio(1, 4)
    assert m.hard_disagreement(awk_window(), PT) == m.Ratio(1, 4)
    assert m.failed_predictions(awk_window(), PT) == m.Ratio(1, 4)
    assert m.agreement(awk_window(), "xgb") == m.Ratio(5, 5)
    assert m.agreement(awk_window(), "nhits") == m.Ratio(1, 5)  # HOLD never agrees
    assert m.agreement([], PT).value is None


def test_action_distribution_leaves_failed_votes_out():
    window = [*awk_window(), pt_with(shadow_pt("BUY")), pt_with(vote("SELL"))]
    dist = m.action_distribution(window, PT)
    assert dist == {"BUY": m.Ratio(2, 5), "SELL": m.Ratio(2, 5), "HOLD": m.Ratio(1, 5)}
    assert m.largest_share(dist) == ("BUY", m.Ratio(2, 5))


def test_action_distribution_empty_and_unknown_action():
    empty = m.action_distribution([], PT)
    assert empty == {a: m.Ratio(0, 0) for a in ("BUY", "SELL", "HOLD")}
    assert m.largest_share(empty) is None
    odd = m.action_distribution([pt_with(vote("WAIT"))], PT)
    assert odd["WAIT"] == m.Ratio(1, 1)
    assert m.largest_share(odd) == ("WAIT", m.Ratio(1, 1))


# --- distributions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),  # numpy.percentile(values, q) with the default method
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4], 10, 1.3),
        ([1, 2, 3, 4], 90, 3.7),
        ([4, 1, 3, 2], 0, 1),
        ([4, 1, 3, 2], 100, 4),
        ([0.62], 90, 0.62),
        ([0.5, 0.5, 0.9], 75, 0.7),
    ],
)
def test_percentile_is_type_7(values, q, expected):
    assert m.percentile(values, q) == pytest.approx(expected)


def test_percentile_refuses_empty_and_bad_q():
    with pytest.raises(ValueError, match="no values"):
        m.percentile([], 50)
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        m.percentile([1.0], 101)


def test_confidence_spread_exact():
    s = m.confidence_spread([0.8, 0.4, 0.6, 0.5, 0.7])
    assert s is not None
    assert (s.n, s.mean, s.p50) == (5, pytest.approx(0.6), pytest.approx(0.6))
    assert s.std == pytest.approx(math.sqrt(0.02))  # population std
    assert (s.p10, s.p90) == (pytest.approx(0.44), pytest.approx(0.76))
    assert s.range_p10_p90 == pytest.approx(0.32)
    assert str(s).startswith("n=5 mean=0.6000 std=0.1414 P10=0.4400")
    assert m.confidence_spread([]) is None


def test_confidence_spread_of_a_flatlined_model_is_zero():
    s = m.confidence_spread([0.1] * 7)
    assert s is not None
    assert (s.std, s.range_p10_p90, s.mean) == (0.0, 0.0, 0.1)


def test_model_confidences_keep_shadow_and_drop_failed_hold_and_odd():
    window = [*awk_window(), pt_with(vote("BUY", 0.71)), pt_with(vote("SELL", 1.02))]
    assert m.model_confidences(window, PT) == [0.6, 0.6, 0.71]  # the shadow HOLD 0.6 is out


def test_hold_placeholders_do_not_fake_a_spread():
    """A near-constant BUY model with HOLD placeholders at 0.5 must not look spread (G2)."""
    window = [pt_with(vote("BUY", 0.615)) for _ in range(8)]
    window += [pt_with(vote("HOLD", 0.5)) for _ in range(8)]
    spread = m.confidence_spread(m.model_confidences(window, PT))
    assert (spread.n, spread.range_p10_p90, spread.std) == (8, 0.0, 0.0)


def test_payload_p95():
    window = [intent(payload=size) for size in range(1, 101)]
    assert m.payload_p95(window) == pytest.approx(95.05)
    assert m.payload_p95([intent(payload=1200)]) == 1200
    assert m.payload_p95([]) is None


# --- time -------------------------------------------------------------------------------------


def test_time_slices_last_three_ten_minute_slices_oldest_first():
    end = 100 * MIN
    times = [
        end + 1,
        end,
        end - 1,
        end - 10 * MIN,
        end - 10 * MIN - 1,
        end - 25 * MIN,
        end - 30 * MIN,
        end - 30 * MIN + 1,
    ]
    window = [intent(ts=t) for t in times]
    slices = m.time_slices(window, end, 10 * MIN, 3)
    assert [[i.ts_ms - end for i in s] for s in slices] == [
        [-25 * MIN, -30 * MIN + 1],  # (end - 30 min, end - 20 min]
        [-10 * MIN, -10 * MIN - 1],
        [0, -1],  # (end - 10 min, end]: the event exactly at end is in, the future is out
    ]
    assert m.time_slices([], end, 10 * MIN, 3) == [[], [], []]
    with pytest.raises(ValueError):
        m.time_slices(window, end, 0, 3)


# --- outcomes ---------------------------------------------------------------------------------


def test_join_takes_latest_matching_intent_within_the_window():
    buy_old = intent("BUY", ts=0)
    buy_new = intent("BUY", ts=10 * MIN)
    sell = intent("SELL", ts=20 * MIN)
    eth = intent("BUY", ts=25 * MIN, symbol="ETHUSDT")
    long_ = outcome("LONG", 1.0, ts=30 * MIN)  # -> buy_new (latest BUY; SELL and ETH don't match)
    short = outcome("SHORT", -1.0, ts=20 * MIN)  # same millisecond as its intent: joins
    late = outcome("SHORT", 1.0, ts=200 * MIN, symbol="ETHUSDT")  # no ETH SELL at all
    pairs = tr.join_outcomes([buy_old, buy_new, sell, eth], [long_, short, late], 60 * MIN)
    assert pairs == [(sell, short), (buy_new, long_)]  # in outcome order


def test_join_window_edge_and_outcome_before_intent():
    i = intent("BUY", ts=MIN)
    assert tr.join_outcomes([i], [outcome("LONG", 1, ts=61 * MIN)], 60 * MIN) == [
        (i, outcome("LONG", 1, ts=61 * MIN))
    ]
    assert tr.join_outcomes([i], [outcome("LONG", 1, ts=61 * MIN + 1)], 60 * MIN) == []
    assert tr.join_outcomes([i], [outcome("LONG", 1, ts=MIN - 1)], 60 * MIN) == []
    assert tr.join_outcomes([], [], 60 * MIN) == []


def test_join_gives_each_intent_one_outcome_and_never_an_older_one():
    old, new = intent("BUY", ts=0), intent("BUY", ts=5 * MIN)
    first = outcome("LONG", 1.0, ts=10 * MIN)
    second = outcome("LONG", 2.0, ts=11 * MIN)  # latest intent taken by `first`: stays unjoined
    assert tr.join_outcomes([new, old], [second, first], 60 * MIN) == [(new, first)]


def test_join_orders_same_millisecond_by_entry_sequence_numerically():
    i9, i10 = intent("BUY", ts=MIN, seq=9), intent("BUY", ts=MIN, seq=10)
    assert tr.join_outcomes([i10, i9], [outcome("LONG", 1, ts=2 * MIN)], 60 * MIN)[0][0] is i10


@pytest.mark.parametrize(
    ("pt", "side", "pnl", "expected"),
    [
        ("BUY", "LONG", 1.5, True),  # price up, PatchTST said BUY
        ("SELL", "LONG", 1.5, False),
        ("SELL", "SHORT", 0.8, True),  # short won: price down
        ("BUY", "SHORT", -0.8, True),  # short lost: price up
        ("BUY", "LONG", 0.0, False),  # flat: neither up nor down
        ("SELL", "LONG", 0.0, False),
        ("HOLD", "LONG", 1.5, None),
        (failed_pt(), "LONG", 1.5, None),
    ],
)
def test_model_hit(pt, side, pnl, expected):
    i = pt_with(pt if isinstance(pt, ModelVote) else shadow_pt(pt))
    assert tr.model_hit(i, outcome(side, pnl, ts=0), PT) is expected
    assert tr.model_hit(intent(), outcome(side, pnl, ts=0), PT) is None


def pair(confidence: float, hit: bool) -> tuple[Intent, Outcome]:
    return pt_with(shadow_pt("BUY", confidence)), outcome("LONG", 1.0 if hit else -1.0, ts=0)


def test_calibration_buckets_equal_count_lowest_first():
    pairs = [
        pair(c, h)
        for c, h in [
            (0.9, True),
            (0.5, False),
            (0.6, True),
            (0.55, False),
            (0.8, True),
            (0.7, False),
            (0.65, True),
        ]
    ]
    pairs.append((pt_with(shadow_pt("HOLD", 0.99)), outcome("LONG", 1.0, ts=0)))  # no direction
    buckets = tr.calibration_buckets(pairs, PT, 3)
    assert [(b.lo, b.hi, b.n, b.hits) for b in buckets] == [
        (0.5, 0.55, 2, 0),
        (0.6, 0.65, 2, 2),
        (0.7, 0.9, 3, 2),
    ]
    assert str(buckets[0]) == "0.500..0.550: 0/2 (0.0%)"
    assert not tr.non_decreasing([b.hit_rate for b in buckets])
    assert tr.non_decreasing([0.0, 0.5, 0.5, 1.0])
    assert tr.non_decreasing([])


def test_calibration_keeps_ties_together_so_fewer_buckets_come_back():
    pairs = [pair(0.6, True), pair(0.6, False), pair(0.6, True), pair(0.7, True)]
    assert [(b.lo, b.n, b.hits) for b in tr.calibration_buckets(pairs, PT, 3)] == [
        (0.6, 3, 2),
        (0.7, 1, 1),
    ]
    assert tr.calibration_buckets([], PT, 3) == []
    with pytest.raises(ValueError):
        tr.calibration_buckets(pairs, PT, 0)


def test_win_rate_and_mean_loss():
    trades = [outcome("LONG", p, ts=0) for p in (2.0, -1.0, 0.0, -3.0, 0.5)]
    assert tr.win_rate(trades) == m.Ratio(2, 5)
    assert tr.mean_loss(trades) == pytest.approx(2.0)
    assert tr.mean_loss(trades[:1]) is None
    assert tr.win_rate([]).value is None


@pytest.mark.parametrize(
    ("pt", "side", "pnl", "expected"),
    [
        ("BUY", "LONG", 0.5, True), ("BUY", "LONG", -0.5, False),
        ("SELL", "LONG", -0.5, True), ("SELL", "LONG", 0.5, False),
        ("BUY", "SHORT", -0.5, True), ("BUY", "SHORT", 0.5, False),
        ("SELL", "SHORT", 0.5, True), ("SELL", "SHORT", -0.5, False),
        ("BUY", "SHORT", 0.0, False), ("SELL", "SHORT", 0.0, False),  # flat short: no direction
    ],
)  # fmt: skip
def test_model_hit_under_one_percent_and_flat_shorts(pt, side, pnl, expected):
    assert tr.model_hit(pt_with(shadow_pt(pt)), outcome(side, pnl, ts=0), PT) is expected


@pytest.mark.parametrize(
    ("confidences", "expected"),
    [
        # a tie at the first boundary stays together
        ([0.6, 0.6, 0.7], [(0.6, 0.6, 2), (0.7, 0.7, 1)]),
        # the tie is with the entry just before the boundary, not two before
        ([0.5, 0.6, 0.6, 0.7, 0.8, 0.9], [(0.5, 0.6, 3), (0.7, 0.7, 1), (0.8, 0.9, 2)]),
        ([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [(0.5, 0.6, 2), (0.7, 0.8, 2), (0.9, 1.0, 2)]),
        ([0.5, 0.6], [(0.5, 0.5, 1), (0.6, 0.6, 1)]),  # fewer pairs than buckets
    ],
)
def test_calibration_bucket_boundaries(confidences, expected):
    pairs = [pair(c, True) for c in confidences]
    assert [(b.lo, b.hi, b.n) for b in tr.calibration_buckets(pairs, PT, 3)] == expected


def test_fallback_only_needs_the_fallback_flag_and_an_empty_breakdown():
    assert vt.failure_form(intent(fallback=True), PT) == "fallback only"
    assert vt.failure_form(intent(fallback=True, xgb="BUY"), PT) == "no patchtst vote"
    assert vt.failure_form(intent(fallback=False), PT) == "no patchtst vote"


def test_arguments_out_of_range_are_refused():
    with pytest.raises(ValueError):
        m.Ratio(-1, 5)
    with pytest.raises(ValueError):
        m.percentile([0.1, 0.2], -1)
    with pytest.raises(ValueError):
        m.time_slices([], 0, 1000, -1)
    assert m.time_slices([], 0, 1000, 0) == []


def test_low_consensus_is_zero_or_one_by_default():
    assert m.low_consensus_share([intent(consensus=c) for c in (0, 1, 2, 3)]) == m.Ratio(2, 4)


def test_stream_order_puts_an_unnumbered_sequence_before_zero():
    odd = dataclasses.replace(intent(ts=MIN), entry_id=f"{MIN}-x")
    zero = intent(ts=MIN, seq=0)
    assert sorted([zero, odd], key=tr.stream_order) == [odd, zero]
