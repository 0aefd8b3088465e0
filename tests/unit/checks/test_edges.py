"""Edges and operator-facing texts of the rules that the table-driven tests left open: each
test pins a status and value on both sides of one edge, or the exact text an operator reads
(measured, threshold, detail, evidence). Written against the mutants that survived them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shadowgate.checks import activation, preconditions
from shadowgate.checks.activation import ObservedModel
from shadowgate.checks.hostfacts import MODEL_FACT
from shadowgate.checks.preconditions import Backup
from shadowgate.config import Thresholds
from shadowgate.envfile import parse_env
from shadowgate.verdict import EPSILON, Status
from tests.support import activation_scenes as act
from tests.support import envchains
from tests.support import hostfact_scenes as hostt
from tests.support import weight_scenes as wt
from tests.support.dayscans import g4, scanned
from tests.support.evidence_data import make_record
from tests.support.handmade import HOUR, MINUTE, NOW, SECOND, intent, series, timed, voting

T0 = act.T0
S = act.S

# -- A1: the observed model, the weight line ---------------------------------------------------


def record(run_id, finished, facts):
    r = make_record(run_id, "preactivation", finished=finished, target=act.TARGET.describe())
    return replace(r, facts=facts)


def test_observed_model_of_two_records_before_t0_is_the_newest():
    old = record("old", T0 - timedelta(hours=2), {MODEL_FACT: {"path": "/old", "sha256": "00"}})
    new = record("new", T0 - S, {MODEL_FACT: {"path": act.MODEL, "sha256": act.SHA}})
    assert ObservedModel.latest([old, new], act.TARGET, T0) == ObservedModel(
        "new", act.MODEL, act.SHA
    )


@pytest.mark.parametrize("empty", ["", 0, 7, None, ["x"]])
def test_observed_model_empty_or_not_text_path_and_sha_read_as_not_observed(empty):
    r = record("r", T0 - S, {MODEL_FACT: {"path": empty, "sha256": empty}})
    observed = ObservedModel.latest([r], act.TARGET, T0)
    assert observed == ObservedModel("r", None, None)
    v = act.a1(observed=observed)
    assert (v.status, v.value) == (Status.INCONCLUSIVE, 1), v.message()
    assert "preactivation record r holds no model path and sha256" in v.detail


def test_a1_a_run_started_exactly_at_t0_is_the_restart():
    v = act.a1(anchor=act.MANUAL, state=act.unit(T0, None))
    assert (v.status, v.value) == (Status.PASS, 0), v.message()
    late = act.a1(anchor=act.MANUAL, state=act.unit(T0 - act.US, None))
    assert (late.status, late.value) == (Status.INCONCLUSIVE, 1)


OK20 = act.OK10.replace("10.0", "20.0")
OK10_5 = act.OK10.replace("10.0", "10.5")


@pytest.mark.parametrize(
    ("lines", "status", "value", "shown"),
    [
        # two weight lines: the latest counts
        ((act.CHOSEN, act.READ, act.OK10, OK20), Status.WARN, 1, "weight 20%"),
        ((act.CHOSEN, act.READ, OK20, act.OK10), Status.PASS, 0, "weight 10%"),
        # half a point off is a mismatch, not float noise
        ((act.CHOSEN, act.READ, OK10_5), Status.WARN, 1, "weight 10.5%"),
    ],
)
def test_a1_the_latest_weight_line_against_weight(lines, status, value, shown):
    v = act.a1(lines=act.journal(*lines))
    assert (v.status, v.value) == (status, value), v.message()
    assert f"; 0 shadow line(s); {shown} vs requested 10%" in v.measured
    if status is Status.WARN:
        assert v.detail == (
            f"{shown} is not the requested 10%; the engine may hard-code it (runbook s.3, s.8)"
        )
    else:
        assert v.detail == ""


# -- P5: the clock runs from the newest voting intent ------------------------------------------

DAY = NOW - 24 * HOUR


def p5(records, covered=True, now=NOW):
    return preconditions.p5_observation_long_enough(
        scanned(timed(records, DAY, covered)), act.TARGET, act.TH, now
    )


def test_p5_two_voting_intents_the_clock_runs_from_the_newest():
    newer = intent(DAY + HOUR, patchtst=voting())
    v = p5([intent(DAY - HOUR, patchtst=voting()), newer, *series(98)])
    assert (v.status, v.value) == (Status.FAIL, pytest.approx(23.0)), v.message()
    assert v.evidence == (newer.entry_id,)
    assert "since the newest intent where patchtst voted" in v.measured


@pytest.mark.parametrize("voted", [DAY, DAY - HOUR], ids=["exactly 24 h", "25 h"])
def test_p5_a_stale_window_with_an_old_enough_voting_intent_is_inconclusive(voted):
    stale = [intent(voted, patchtst=voting()), *series(99, newest=NOW - 20 * MINUTE)]
    v = p5(stale)
    assert v.status is Status.INCONCLUSIVE, v.message()
    fresh = p5([intent(voted, patchtst=voting()), *series(99)])
    assert (fresh.status, fresh.value) == (Status.PASS, pytest.approx((NOW - voted) / HOUR))


def test_p5_a_stale_window_with_a_recent_voting_intent_still_fails():
    v = p5([intent(DAY + HOUR, patchtst=voting()), *series(99, newest=NOW - 20 * MINUTE)])
    assert (v.status, v.value) == (Status.FAIL, pytest.approx(23.0))


def test_p5_a_voting_intent_after_the_clock_counts_zero_hours():
    v = p5([*series(99, newest=NOW - HOUR), intent(NOW - 10 * SECOND, patchtst=voting())],
           now=NOW - HOUR)  # fmt: skip
    assert (v.status, v.value) == (Status.FAIL, 0.0), v.message()
    assert v.measured.startswith("0.0 h of shadow data (since the newest intent where patchtst")


# -- P6: every finding reported, in order ------------------------------------------------------


def test_p6_a_live_file_with_two_findings_reports_both():
    v = hostt.p6([hostt.GOOD], hostt.HEALTHY_ENV.rstrip("\n"), writable=False)
    assert (v.status, v.value) == (Status.FAIL, 2), v.message()
    assert "does not end with a newline" in v.detail and "is not writable" in v.detail


def test_p6_backup_findings_come_before_the_live_files():
    bad = Backup("b", parse_env(f"{hostt.FLAG}=true\n"))
    v = hostt.p6([bad], hostt.HEALTHY_ENV.rstrip("\n"), writable=False)
    assert (v.status, v.value) == (Status.FAIL, 3), v.message()
    texts = v.detail.split("; ")
    assert texts[0] == "backup: systemd sets no PATCHTST_MODEL_PATH"
    assert len(texts) == 3
    none = hostt.p6([], hostt.HEALTHY_ENV.rstrip("\n"), writable=False)
    assert none.value == 3 and none.detail.startswith("no backup: create one with cp ")
    broken = Backup("x", None, "is empty")
    unread = hostt.p6([broken], hostt.HEALTHY_ENV.rstrip("\n"), writable=False)
    assert unread.value == 3
    assert unread.detail.startswith("the newest backup cannot be read: is empty; ")


# -- W2/W3: an hour of exactly min_n intents is judged -----------------------------------------


@pytest.mark.parametrize(
    ("figures", "status", "in_band"),
    [((20, 0), Status.FAIL, 23), ((8, 12), Status.PASS, 24), ((19, 0), Status.INCONCLUSIVE, 23)],
)
def test_w2_an_hour_of_exactly_min_intents_is_judged(figures, status, in_band):
    v = wt.w2(wt.hours(wt.one_hour(5, figures)))
    assert (v.status, v.value) == (status, in_band), v.message()
    if status is Status.FAIL:
        assert v.detail == "out of band: h6 20/20 (100.0%)"


def test_w2_thin_hours_name_the_end_only_before_it():
    end = wt.T0_MS + 24 * HOUR
    thin = wt.one_hour(5, (9, 10))
    early = wt.w2(wt.hours(thin, read_at=end - 1))
    assert early.status is Status.INCONCLUSIVE, early.message()
    assert early.detail == (
        "too few intents to judge h6; T+24 h is 2025-12-31 23:00:00Z: cannot prove it stable"
    )
    at_end = wt.w2(wt.hours(thin, read_at=end))
    assert at_end.detail == "too few intents to judge h6: cannot prove it stable"


# -- B3 / B4 / B6 / the window text ------------------------------------------------------------

from shadowgate.checks import blockers, gate_rules  # noqa: E402
from tests.support import gate_scenes as gt  # noqa: E402
from tests.support import unit_scenes as ut  # noqa: E402
from tests.support.handmade import outcome, shadow, snapshot  # noqa: E402


def test_b3_evidence_is_the_largest_payloads_largest_first():
    records = series(100, payload_bytes=1000)
    big = {17: 1400, 60: 1450, 3: 1300, 90: 1200}
    records = [replace(r, payload_bytes=big.get(k, 1000)) for k, r in enumerate(records)]
    v = blockers.b3_payload_p95(snapshot(records), act.TH)
    assert v.status is Status.PASS, v.message()
    assert v.evidence == (records[60].entry_id, records[17].entry_id, records[3].entry_id)
    assert v.measured == "p95 1000 bytes (max 1450)"


def test_window_text_names_the_first_parse_error():
    v = blockers.b3_payload_p95(snapshot(series(98), errors=2), act.TH)
    assert f"; first parse error {NOW}-7: payload: not JSON;" in v.window


@pytest.mark.parametrize("invocation", [ut.INVOCATION, None])
def test_b4_measured_names_both_invocations(invocation):
    v = ut.b4(ut.unit(invocation=invocation))
    shown = invocation or "-"
    assert f", InvocationID {shown}; at run start NRestarts=0, InvocationID {shown}, started " in (
        v.measured
    )


@pytest.mark.parametrize("prev", [ut.previous(ut.INVOCATION, None), ut.previous(None, 0)])
def test_b4_a_previous_record_with_one_unit_fact_holds_no_unit_facts(prev):
    v = ut.b4(previous=prev)
    assert (v.status, v.value) == (Status.PASS, 0), v.message()
    assert v.measured.endswith(
        f"previous record {prev.run_id} ({prev.finished_at}) holds no unit facts (written before "
        "records kept them)"
    )


def test_b6_one_event_is_judged_when_the_snapshot_minimum_is_lowered():
    th1 = Thresholds.load(sets=["window.min_snapshot_intents=1"])
    one = snapshot([intent(NOW - 10 * SECOND, patchtst=shadow("BUY"))])
    v = blockers.b6_hard_disagreement(one, act.TARGET, th1)
    assert (v.status, v.value, v.sample) == (Status.PASS, 0.0, 1), v.message()
    none = snapshot([intent(NOW - 10 * SECOND, missing=True)])
    assert blockers.b6_hard_disagreement(none, act.TARGET, th1).status is Status.INCONCLUSIVE


# -- G2 / G4 / the quorum ----------------------------------------------------------------------


def test_g2_without_a_buy_sell_vote_counts_zero_events():
    v = gate_rules.g2_confidence_spread(gt.day((300, "HOLD", 0.0, "BUY")), act.TARGET, act.TH)
    assert (v.status, v.sample) == (Status.INCONCLUSIVE, 0), v.message()
    assert v.measured == "only 0 events"


CONFS = (0.55, 0.65, 0.75)


def joined_at(delay_ms: int, n: int = 30):
    """n BUY votes (confidences 0.55/0.65/0.75) on their own symbols, each LONG closing
    `delay_ms` after its intent, and a fresh intent now."""
    first = NOW - HOUR - (n + 1) * MINUTE
    intents = [
        intent(first + k * MINUTE, symbol=f"S{k}", patchtst=shadow("BUY", CONFS[k % 3]))
        for k in range(n)
    ]
    outcomes = [outcome(i.ts_ms + delay_ms, i.symbol, k % 2 == 0) for k, i in enumerate(intents)]
    fresh = intent(NOW - 10 * SECOND, symbol="ZZZ", patchtst=shadow("BUY"))
    return timed([*intents, fresh], gt.DAY), timed(outcomes, gt.DAY)


def test_g4_join_window_edge():
    inside = g4(*joined_at(HOUR))
    assert inside.status is not Status.DEFERRED, inside.message()
    assert inside.sample == 30 and "30 of 30 outcomes (" in inside.measured
    outside = g4(*joined_at(HOUR + 1))
    assert (outside.status, outside.sample) == (Status.DEFERRED, 0), outside.message()
    assert outside.measured.startswith("0 of 30 outcomes (")


def test_g4_texts():
    intents, outcomes = gt.calibrated([(0.55, 4, 10), (0.65, 5, 10), (0.75, 7, 10)])
    v = g4(intents, outcomes)
    assert v.threshold == (
        "hit rate non-decreasing over 3 confidence buckets and top minus bottom >= 5 points, on "
        ">= 30 joined outcomes with a patchtst BUY/SELL prediction"
    )
    from shadowgate.window import utc

    first, last = utc(outcomes.records[0].ts_ms), utc(outcomes.records[-1].ts_ms)
    assert v.measured.startswith(f"30 of 30 outcomes ({first} .. {last}) joined to intents, 30 ")
    assert v.measured.endswith("; top minus bottom +30.0 points")


@pytest.mark.parametrize(("min_outcomes", "n", "status"), [(1, 1, Status.FAIL), (0, 0, None)])
def test_g4_at_least_one_usable_outcome_even_with_the_minimum_lowered(min_outcomes, n, status):
    th = Thresholds.load(sets=[f"gates.g4_min_outcomes={min_outcomes}"])
    intents, outcomes = gt.calibrated([(0.6, 1, 1)])
    if n == 0:  # an outcome joined to no intent
        outcomes = timed([outcome(NOW - 5 * MINUTE, "NOPE", True)], gt.DAY)
    v = g4(intents, outcomes, th)
    assert (v.status, v.sample) == (status or Status.DEFERRED, n), v.message()


def test_g4_deferred_without_outcomes_counts_none():
    intents = gt.calibrated([(0.55, 4, 10)])[0]
    for outcomes in (None, timed([], gt.DAY)):
        v = g4(intents, outcomes)
        assert (v.status, v.sample) == (Status.DEFERRED, 0)


def test_gate_verdicts_give_each_gate_by_its_rule_and_refuse_any_other_rule():
    window = gt.day((140, "BUY", 0.6, "BUY"), (60, "SELL", 0.6, "BUY"))
    run = gate_rules.GateVerdicts(window, None, act.TARGET, act.TH)
    assert run.of(gate_rules.g1_action_diversity) is run.all()[0]
    assert run.of(gate_rules.g4_calibration) is run.all()[3]
    with pytest.raises(ValueError, match="b5_quorum is not one of the gates G1-G4"):
        run.of(gate_rules.b5_quorum)


@pytest.mark.parametrize(
    ("raw", "detail"),
    [((gt.P,) * 4, ""), ((gt.P, gt.P, gt.P, gt.F), "not passed: G4"),
     ((gt.P, gt.P, gt.F, gt.D), "not passed: G3"),
     ((gt.P, gt.U, gt.F, gt.D), "not passed: G2, G3")],
)  # fmt: skip
def test_b5_names_the_gates_not_passed(raw, detail):
    v = gate_rules.b5_quorum(gate_rules.with_quorum(gt.verdicts(*raw), act.TH), act.TH)
    assert v.detail == detail


# -- S1-S5 -------------------------------------------------------------------------------------

from shadowgate.checks import rollback, stops  # noqa: E402
from shadowgate.checks.stops import PnlBaseline  # noqa: E402
from shadowgate.outcomes import Outcome  # noqa: E402
from shadowgate.window import utc  # noqa: E402
from tests.support import rollback_scenes as rt  # noqa: E402
from tests.support import stop_scenes as st  # noqa: E402


def test_s1_an_automatic_restart_exactly_at_t0_is_not_after_it():
    v = stops.s1_service_crashed(st.unit(st.T0, restarts=1), st.FRESH, st.anchor(invocation=None),
                                 st.TH)  # fmt: skip
    assert v.status is Status.PASS, v.message()


def test_s1_intents_newer_than_the_read_are_zero_minutes_of_silence():
    v = stops.s1_service_crashed(st.unit(), st.since(series(30), read_at=NOW - MINUTE), st.anchor(),
                                 st.TH)  # fmt: skip
    assert (v.status, v.value) == (Status.PASS, 0.0), v.message()


@pytest.mark.parametrize("invocation", [st.INVOCATION, None])
def test_s1_texts(invocation):
    v = stops.s1_service_crashed(st.unit(invocation=invocation), st.FRESH,
                                 st.anchor(invocation=invocation), st.TH)  # fmt: skip
    assert v.status is Status.PASS, v.message()
    newest = utc(st.FRESH.newest_ms)
    assert v.measured.endswith(
        f", InvocationID {invocation or '-'}; newest own intent {newest} since T+0, silent 0.2 "
        "min at the read"
    )
    assert v.threshold == (
        f"active (running); no restart since T+0 (the activation's InvocationID "
        f"{invocation or 'unknown'}; no automatic restart; started at most 30 s after T+0); "
        "newest own intent at most 15 min old"
    )


def test_s2_one_intent_above_the_line_in_the_latest_slice_is_a_red_flag():
    window = st.since(st.slices((5, 10), (5, 10), (1, 1)), NOW - 35 * MINUTE)
    v = stops.s2_full_consensus_sustained(window, st.anchor(), st.TH)
    assert (v.status, v.value) == (Status.WARN, 1.0), v.message()


def test_s3_exactly_min_intents_is_judged():
    v = stops.s3_hard_disagreement(st.since(st.disagreeing(20, 6), NOW - 2 * HOUR), st.anchor(),
                                   st.TARGET, st.TH)  # fmt: skip
    assert (v.status, v.value) == (Status.PASS, pytest.approx(0.3)), v.message()


def test_s4_exactly_min_votes_is_judged_and_no_vote_counts_zero():
    window = st.since(st.confident([0.60] * 10 + [0.62] * 10), NOW - 2 * HOUR)
    v = stops.s4_confidence_collapse(window, st.anchor(), st.TARGET, st.TH)
    assert (v.status, v.sample) == (Status.PASS, 20), v.message()
    holds = st.since(st.confident([0.5] * 100, "HOLD"), NOW - 2 * HOUR)
    none = stops.s4_confidence_collapse(holds, st.anchor(), st.TARGET, st.TH)
    assert none.status is Status.INCONCLUSIVE, none.message()
    assert none.measured == "only 0 BUY/SELL votes of the model, need 20"


def test_baseline_of_no_stream_is_empty_and_a_zero_pnl_is_no_loss():
    assert PnlBaseline.measure(None, 5, 9) == PnlBaseline(5, 9, False, 0, 0, 0, None, 0)
    pnls = [1.0, 0.0, -0.5, -2.0]
    outcomes = [
        Outcome(f"{NOW - k * MINUTE}-0", NOW - k * MINUTE, "BTCUSDT", "LONG", 100.0, 101.0, p)
        for k, p in enumerate(pnls)
    ][::-1]
    measured = PnlBaseline.measure(timed(outcomes, NOW - HOUR), NOW - HOUR, NOW)
    assert (measured.outcomes, measured.wins, measured.losses) == (4, 1, 2)


def test_baseline_describe():
    b = st.BASELINE
    span_text = f"baseline (record {b.run_id}) {utc(b.start_ms)} .. {utc(b.end_ms)}: win rate "
    assert b.describe() == span_text + "30/50 (60.0%), mean loss 1% over 20 losing trades"
    none = replace(b, losses=0, mean_loss=None)
    assert none.describe() == span_text + "30/50 (60.0%), no losing trade over 0 losing trades"


@pytest.mark.parametrize(
    ("baseline", "status"),
    [
        (replace(st.BASELINE, outcomes=10, wins=6, losses=4), Status.PASS),
        (replace(st.BASELINE, start_ms=st.S5_T0 - 25 * HOUR, end_ms=st.S5_T0 - HOUR), Status.PASS),
        (replace(st.BASELINE, start_ms=st.S5_T0 - 25 * HOUR - 1, end_ms=st.S5_T0 - HOUR - 1),
         Status.INCONCLUSIVE),
        (replace(st.BASELINE, outcomes=49, wins=29, unreadable=1), Status.PASS),  # 2% unreadable
        (replace(st.BASELINE, outcomes=48, wins=29, unreadable=2), Status.INCONCLUSIVE),
    ],
)  # fmt: skip
def test_s5_baseline_doubts_at_their_edges(baseline, status):
    v = st.s5(st.closed(12, 8), baseline)
    assert v.status is status, v.message()


def test_s5_an_outcome_at_the_end_of_the_hour_is_not_in_it():
    late = Outcome(f"{st.S5_T0 + HOUR}-0", st.S5_T0 + HOUR, "BTCUSDT", "LONG", 100.0, 99.0, -9.0)
    v = st.s5([*st.closed(12, 8), late])
    assert (v.status, v.value, v.sample) == (Status.PASS, pytest.approx(0.0), 20), v.message()


def test_s5_exactly_min_outcomes_is_judged():
    v = st.s5(st.closed(6, 4))
    assert (v.status, v.value, v.sample) == (Status.PASS, pytest.approx(0.0), 10), v.message()
    assert v.detail == ""


def test_s5_a_first_hour_ending_now_is_over():
    t0 = NOW - HOUR
    v = st.s5(st.closed(12, 8, t0=t0), t0=t0)
    assert v.status is Status.PASS and v.detail == "", v.message()


def test_s5_texts():
    v = st.s5(st.closed(12, 8, 1.5))
    end = st.S5_T0 + HOUR
    assert v.threshold == (
        "over the first 1 h after T+0: win rate more than 10 points below the baseline, or mean "
        "loss more than 2x the baseline's, stops; >= 10 outcomes on each side"
    )
    assert v.measured == (
        f"first 1 h ({utc(st.S5_T0)} .. {utc(end, date=False)}): win rate 12/20 (60.0%), mean "
        f"loss 1.5%; {st.BASELINE.describe()}; win rate 0.0 points below the baseline; mean "
        "loss 1.50x the baseline's"
    )
    wins = st.s5(st.closed(20, 0))
    assert (wins.status, wins.value) == (Status.PASS, pytest.approx(-0.4)), wins.message()
    assert wins.measured == (
        f"first 1 h ({utc(st.S5_T0)} .. {utc(end, date=False)}): win rate 20/20 (100.0%), no "
        f"losing trade; {st.BASELINE.describe()}; win rate 40.0 points above the baseline"
    )
    drop = st.s5(st.closed(9, 11))
    assert "; win rate 15.0 points below the baseline;" in drop.measured


# -- texts of A0 / A1 / load findings / R2 -----------------------------------------------------


def test_a0_measured_names_both_samples():
    v = activation.a0_service_active(act.samples(), act.RECORDED, act.TH)
    first = act.unit()
    from shadowgate.checks.hostfacts import precise

    assert v.measured == (
        f"{first.describe()}, InvocationID {act.INV}, started {precise(first.started)} (5.0 s "
        f"after T+0); at {precise(first.started + 10 * S)}: active (running), MainPID 4242, "
        f"InvocationID {act.INV}"
    )
    bare = act.unit(T0 + 3 * S, None, None)
    none = activation.a0_service_active(act.samples(bare), act.MANUAL, act.TH)
    assert none.measured == (
        f"{bare.describe()}, InvocationID -, started {precise(bare.started)} (3.0 s after T+0); "
        f"at {precise(bare.started + 10 * S)}: active (running), MainPID -, InvocationID -"
    )


def test_a1_names_the_first_shadow_line_cut_at_160_characters_and_the_run():
    from shadowgate.checks.hostfacts import precise

    long = act.SHADOW_PLAIN + " x" * 100
    lines = [*act.LOADED, *act.journal(act.SHADOW_PLAIN, long)]
    lines[-1] = replace(lines[-1], ts=lines[-1].ts + 5 * S)
    v = act.a1(lines=lines)
    first = lines[-2]
    assert f"2 shadow line(s) since the restart, first at {precise(first.ts)}: " in v.detail
    assert repr(first.message[:160]) in v.detail
    one = act.a1(lines=[*act.LOADED, *act.journal(long)])
    msg = [*act.LOADED, *act.journal(long)][-1].message
    assert repr(msg[:160]) in one.detail and repr(msg[:161]) not in one.detail
    started = act.unit()
    assert v.window == (
        f"journal of {started.unit} since its start at {precise(started.started)} (InvocationID "
        f"{act.INV}), T+0 {act.RECORDED.describe()}"
    )
    bare = act.a1(anchor=act.MANUAL, state=act.unit(invocation=None))
    assert "(InvocationID -), T+0" in bare.window


def test_load_findings_name_the_last_other_file_and_cut_the_failure_at_160():
    other = hostt.CHOSEN.replace(hostt.MODEL, "/a.pth")
    other2 = hostt.CHOSEN.replace(hostt.MODEL, "/b.pth")
    read_a = hostt.READ.replace(hostt.NAME, "a.pth")
    read_b = hostt.READ.replace(hostt.NAME, "b.pth")
    v = hostt.p7(lines=hostt.journal(other, other2, read_a, read_b, hostt.OK))
    assert f"the agent chose /b.pth, not {hostt.MODEL}" in v.detail
    assert f"weights loaded from b.pth, not {hostt.NAME}" in v.detail
    lines = hostt.journal(other, hostt.CHOSEN, read_a, hostt.READ,
                          hostt.OK.replace("20.0", "10.0"), hostt.OK)  # fmt: skip
    summary = hostt.p7(lines=lines).measured
    assert (
        f"file chosen {hostt.MODEL}; weights loaded from {hostt.NAME}; 0 load failure line(s); "
        "agent loaded with weight 20%"
    ) in summary
    long = hostt.RANDOM + " y" * 100
    failed = hostt.p7(lines=hostt.journal(hostt.CHOSEN, hostt.READ, long, hostt.OK))
    msg = hostt.journal(long)[0].message
    assert repr(msg[:160]) in failed.detail and repr(msg[:161]) not in failed.detail


def test_key_views_strip_the_carriage_return_and_show_three_lines():
    flag = hostt.FLAG

    def p1(text: str):
        return preconditions.p1_shadow_flag(parse_env(text), act.TARGET, envchains.sole(text))

    assert f"`{flag}=true` (line 1)" in p1(f"{flag}=true\r\n").measured
    assert "(line 3); " in p1(f"{flag}=true\n" * 3).measured
    assert "(line 3), ...; " in p1(f"{flag}=true\n" * 4).measured


def test_r2_names_the_first_shadow_line_and_the_run():
    from shadowgate.checks.hostfacts import precise

    journal = rt.read(rt.line(S, rt.SHADOW_PLAIN), rt.line(20 * S, rt.SHADOW_PLAIN))
    v = rollback.r2_shadow_lines_returning(journal, rt.RECORDED, rt.TARGET, rt.TH)
    assert v.measured.startswith(
        f"2 shadow line(s) in 2 lines, the first at {precise(rt.RESTART + S)}; journal read"
    )
    assert f"(InvocationID {rt.INV}); rollback " in v.window
    bare = rt.read(rt.line(S, rt.SHADOW_PLAIN), state=rt.unit(invocation=None))
    none = rollback.r2_shadow_lines_returning(bare, rt.MANUAL, rt.TARGET, rt.TH)
    assert "(InvocationID -); rollback " in none.window


# -- the float-noise margins are inclusive -----------------------------------------------------
# Each rule compares with a margin of verdict.EPSILON so that 0.12 - 0.10 counts as the 0.02 it
# is. A threshold set so that the margin lands exactly on the measured value pins which
# side the edge itself is on: inside, as at every other edge of the rules.

import math  # noqa: E402

from shadowgate.checks import monitoring, weight  # noqa: E402
from tests.support import monitoring_scenes as mt  # noqa: E402


def landing_on(value: float, sign: int) -> float:
    """The threshold t with t + sign * EPSILON == value exactly, in floats."""
    t = value - sign * EPSILON
    for direction in (math.inf, -math.inf):
        x = t
        for _ in range(64):
            if x + sign * EPSILON == value:
                return x
            x = math.nextafter(x, direction)
    raise AssertionError(f"no threshold lands on {value!r}")


def with_key(key: str, value: float) -> Thresholds:
    return Thresholds.load(sets=[f"{key}={value!r}"])


def test_m4_a_range_exactly_at_either_line_minus_noise_is_inside():
    window = mt.confidences(0.60, 0.65)
    r = monitoring.m4_confidence_distribution(window, mt.T0, mt.TARGET, mt.TH).value
    t = landing_on(r, -1)
    th = Thresholds.load(sets=[f"monitor.m4_healthy_min={t!r}", f"monitor.m4_warn_below={t!r}"])
    v = monitoring.m4_confidence_distribution(window, mt.T0, mt.TARGET, th)
    assert v.status is Status.PASS, v.message()
    assert v.measured.endswith("; within the healthy >= 0.05")


def test_s3_hard_disagreement_exactly_at_the_limit_plus_noise_passes():
    window = st.since(st.disagreeing(20, 6), NOW - 2 * HOUR)
    th = with_key("stop.s3_hard_disagreement_above", landing_on(0.3, 1))
    v = stops.s3_hard_disagreement(window, st.anchor(), st.TARGET, th)
    assert v.status is Status.PASS, v.message()


def test_s4_range_plus_noise_exactly_at_the_limit_passes():
    window = st.since(st.confident([0.25] * 10 + [0.375] * 10), NOW - 2 * HOUR)
    r = stops.s4_confidence_collapse(window, st.anchor(), st.TARGET, st.TH).value
    th = with_key("stop.s4_min_p10_p90", r + EPSILON)
    assert r + EPSILON == th.number("stop.s4_min_p10_p90")
    v = stops.s4_confidence_collapse(window, st.anchor(), st.TARGET, th)
    assert v.status is Status.PASS, v.message()


def test_s5_drop_and_loss_ratio_exactly_at_the_limit_plus_noise_pass():
    drop = st.s5(st.closed(9, 11)).value
    v = st.s5(st.closed(9, 11), thresholds=with_key("stop.s5_max_win_rate_drop",
                                                    landing_on(drop, 1)))  # fmt: skip
    assert v.status is Status.PASS, v.message()
    ratio = st.s5(st.closed(12, 8, 1.5), thresholds=with_key("stop.s5_max_loss_ratio",
                                                              landing_on(1.5, 1)))  # fmt: skip
    assert ratio.status is Status.PASS, ratio.message()


def test_w4_drop_exactly_at_the_limit_plus_noise_passes():
    change = weight.w4_pnl_not_worse(wt.closed(50, 50), wt.BASE, wt.T0, wt.TH).value
    th = with_key("weight.max_win_rate_drop", landing_on(-change, 1))
    v = weight.w4_pnl_not_worse(wt.closed(50, 50), wt.BASE, wt.T0, th)
    assert v.status is Status.PASS, v.message()


def test_g4_lift_exactly_at_the_minimum_minus_epsilon_passes():
    intents, outcomes = gt.calibrated([(0.55, 4, 10), (0.65, 5, 10), (0.75, 7, 10)])
    lift = g4(intents, outcomes).value
    th = with_key("gates.g4_min_lift", landing_on(lift, -1))
    v = g4(intents, outcomes, th)
    assert v.status is Status.PASS, v.message()


def test_p7_texts_show_a_missing_sha256_and_invocation_as_a_dash():
    from shadowgate.checks.hostfacts import precise

    v = hostt.p7()
    assert v.window == (
        f"{act.TARGET.env_file}; journal of {act.TARGET.unit} since its start (InvocationID "
        "0123456789abcdef0123456789abcdef)"
    )
    assert f"sha256={'cd' * 32} changed {precise(hostt.STARTED - timedelta(1))}" in v.measured
    bare = hostt.p7(facts=hostt.model(sha256=None), state=replace(hostt.unit(), invocation_id=None))
    assert bare.window.endswith("since its start (InvocationID -)")
    assert "sha256=- changed" in bare.measured


def test_p5_without_a_voting_intent_runs_since_the_window_start():
    v = p5(series(100))
    assert (v.status, v.evidence) == (Status.PASS, ()), v.message()
    assert v.measured == (
        "24.0 h of shadow data (since the window's start, at least: the window reaches no "
        "further); 0 intents without a patchtst prediction neither reset nor extend it"
    )


def test_s3_names_the_oldest_of_the_latest_intents():
    w = st.since(st.disagreeing(150, 50), NOW - 2 * HOUR)
    v = stops.s3_hard_disagreement(w, st.anchor(), st.TARGET, st.TH)
    assert v.measured == (
        f"0/100 (0.0%) of the latest 100 of 150 intents since T+0 from entry "
        f"{w.records[50].entry_id} carrying a patchtst vote"
    )


def test_w4_texts():
    v = weight.w4_pnl_not_worse(wt.closed(49, 51), wt.BASE, wt.T0, wt.TH)
    assert v.threshold == "win rate since T+0 at most 5 points below the baseline's"
    assert v.measured == "win rate since T+0 49/100 (49.0%), baseline 55/100 (55.0%): -6.0 points"
