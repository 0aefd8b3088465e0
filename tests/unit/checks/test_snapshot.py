"""Snapshot and 24 h rules (P2, P3, P5, B1, B2, B3, B6) over hand-made windows: every guard
(empty, too few, stale, unreadable, not covered) and every threshold just inside and just
outside its edge, asserting status and value."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shadowgate.checks import blockers, preconditions
from shadowgate.config import Target, Thresholds
from shadowgate.envfile import parse_env
from shadowgate.host import JournalLine
from shadowgate.verdict import Status
from tests.support.dayscans import scanned
from tests.support.handmade import (
    HOUR,
    MINUTE,
    NOW,
    SECOND,
    intent,
    series,
    shadow,
    snapshot,
    timed,
    vote,
    voting,
)

TARGET = Target()
TH = Thresholds.load()
SHADOW_LINE = JournalLine(
    None, "[SHADOW] PatchTST | BTCUSDT | action=BUY conf=0.6150 | prob=0.6150"
)
QSC_LINE = JournalLine(None, "[QSC] patchtst INACTIVE: shadow mode (PATCHTST_SHADOW_ONLY=true)")
FLAG_ON = parse_env("PATCHTST_SHADOW_ONLY=true\n")
INACTIVE_SHADOW = vote("BUY", 0.6, "patchtst", inactive=True, inactive_reason="shadow_mode")


def th(**sets: object) -> Thresholds:
    return Thresholds.load(sets=[f"{key.replace('__', '.')}={v}" for key, v in sets.items()])


def p2(window, lines=(SHADOW_LINE,), thresholds=TH):
    return preconditions.p2_shadow_behaviour(window, list(lines), TARGET, thresholds)


SNAPSHOT_RULES = {
    "P2": lambda w: p2(w),
    "B1": lambda w: blockers.b1_consensus_in_shadow(w, TARGET, TH),
    "B2": lambda w: blockers.b2_voting_while_flag_on(w, FLAG_ON, TARGET, TH),
    "B3": lambda w: blockers.b3_payload_p95(w, TH),
    "B6": lambda w: blockers.b6_hard_disagreement(w, TARGET, TH),
}
GUARD_CASES = [  # (case, window, status, value of an INCONCLUSIVE verdict)
    ("100 fresh", snapshot(series(100)), Status.PASS, None),
    ("empty", snapshot([]), Status.INCONCLUSIVE, 0),
    ("49 found", snapshot(series(49)), Status.INCONCLUSIVE, 49),
    ("50 found", snapshot(series(50)), Status.PASS, None),
    ("15 min old", snapshot(series(100, newest=NOW - 15 * MINUTE)), Status.PASS, None),
    (
        "15 min 6 s old",
        snapshot(series(100, newest=NOW - 15 * MINUTE - 6 * SECOND)),
        Status.INCONCLUSIVE,
        15.1,
    ),
    ("2% unreadable", snapshot(series(98), errors=2), Status.PASS, None),
    ("3% unreadable", snapshot(series(97), errors=3), Status.INCONCLUSIVE, 0.03),
]


@pytest.mark.parametrize("rule", sorted(SNAPSHOT_RULES))
@pytest.mark.parametrize(("case", "window", "status", "value"), GUARD_CASES, ids=lambda x: x)
def test_every_snapshot_rule_is_inconclusive_on_data_that_proves_nothing(
    rule, case, window, status, value
):
    verdict = SNAPSHOT_RULES[rule](window)
    assert verdict.status is status, verdict.message()
    if status is Status.INCONCLUSIVE:
        assert verdict.value == pytest.approx(value)
        assert "cannot prove it safe" in verdict.detail
    if window.records:
        assert "newest intent" in verdict.window and "outside 0..1: none" in verdict.window
    else:
        assert verdict.window.endswith("no intent read")


def test_guard_names_every_reason_and_the_silence():
    verdict = blockers.b3_payload_p95(snapshot(series(40, newest=NOW - HOUR), errors=2), TH)
    assert verdict.status is Status.INCONCLUSIVE
    assert verdict.measured == (
        "engine silent since 2025-12-31 23:00:00Z (1 h before the read); 2/42 (4.8%) of the "
        "engine's entries unreadable; only 40 of the latest 100 intents found"
    )
    assert verdict.value == pytest.approx(60.0) and verdict.sample == 40
    assert verdict.threshold.startswith("p95 < 1500 bytes; judged only with newest intent")


def future(window, n: int, newest_id: str = "99999999999999-0"):
    """`window` as read with `n` entries dated in the future beside it."""
    return replace(window, future=n, future_newest_id=newest_id)


def test_a_few_entries_dated_in_the_future_are_shown_and_the_rest_judged():
    """One entry ahead of Redis TIME is no data and no silence: counted, shown, not judged."""
    ahead = f"{NOW + 10 * MINUTE}-0"
    verdict = blockers.b3_payload_p95(future(snapshot(series(100)), 1, ahead), TH)
    assert verdict.status is Status.PASS
    assert f"1 entry dated in the future, newest ID {ahead} is 600 s ahead of Redis TIME" in (
        verdict.window
    )


def test_entries_dated_in_the_future_above_the_unreadable_share_are_inconclusive():
    verdict = blockers.b3_payload_p95(future(snapshot(series(100)), 3), TH)
    assert verdict.status is Status.INCONCLUSIVE
    assert verdict.measured.startswith("3/103 (2.9%) of the entries read dated in the future")
    assert "window.max_future_seconds" in verdict.threshold


def test_a_silent_engine_says_what_hides_behind_it_in_the_future():
    verdict = blockers.b3_payload_p95(future(snapshot(series(100, newest=NOW - HOUR)), 1), TH)
    assert verdict.status is Status.INCONCLUSIVE
    assert verdict.measured.startswith(
        "engine silent since 2025-12-31 23:00:00Z (1 h before the read); behind 1 entry dated "
        "in the future, newest ID 99999999999999-0"
    )


def test_odd_confidences_are_counted_in_the_window_text():
    odd_lgbm = {"xgb": vote(), "lgbm": vote("BUY", 1.05), "nhits": vote()}
    verdict = blockers.b3_payload_p95(snapshot(series(100, others=odd_lgbm)), TH)
    assert verdict.status is Status.PASS
    assert "votes with a confidence outside 0..1: lgbm 100" in verdict.window


# -- B1 / P3: a consensus only PatchTST's vote can explain --

LEAK = {"patchtst": voting(), "consensus": 4}
ON_FALLBACK = {"xgb": vote(), "lgbm": vote(inactive=True, inactive_reason="fallback_rules"),
               "nhits": vote()}  # fmt: skip


@pytest.mark.parametrize(
    ("leaks", "limit", "status"),
    [(0, 0, Status.PASS), (1, 0, Status.FAIL), (1, 1, Status.PASS), (2, 1, Status.FAIL)],
)
def test_b1_counts_consensus_beyond_the_other_active_voters(leaks, limit, status):
    records = series(100 - leaks, newest=NOW - MINUTE) + [
        intent(NOW - k * SECOND, **LEAK) for k in range(leaks, 0, -1)
    ]
    verdict = blockers.b1_consensus_in_shadow(
        snapshot(records), TARGET, th(blockers__max_full_consensus_in_shadow=limit)
    )
    assert (verdict.status, verdict.value) == (status, leaks)


def test_b1_catches_a_leak_while_lgbm_runs_on_fallback_rules():
    clean = snapshot(series(100, others=ON_FALLBACK, consensus=2))
    assert blockers.b1_consensus_in_shadow(clean, TARGET, TH).status is Status.PASS
    leak = snapshot(series(100, others=ON_FALLBACK, consensus=3, patchtst=voting()))
    verdict = blockers.b1_consensus_in_shadow(leak, TARGET, TH)
    assert (verdict.status, verdict.value) == (Status.FAIL, 100)
    hidden = snapshot(series(100, fallback=True, **LEAK))  # a fallback key hides nothing
    assert blockers.b1_consensus_in_shadow(hidden, TARGET, TH).status is Status.FAIL


def test_b1_a_leak_is_a_finding_even_in_a_thin_or_stale_snapshot():
    thin = snapshot(series(10, newest=NOW - HOUR, **LEAK))
    verdict = blockers.b1_consensus_in_shadow(thin, TARGET, TH)
    assert (verdict.status, verdict.value) == (Status.FAIL, 10)


DAY = NOW - 24 * HOUR


@pytest.mark.parametrize(
    ("records", "covered", "status", "value"),
    [
        (series(200), True, Status.PASS, 0),
        ([*series(199), intent(NOW - SECOND, **LEAK)], True, Status.FAIL, 1),
        (series(200), False, Status.INCONCLUSIVE, None),
        ([*series(199), intent(NOW - SECOND, **LEAK)], False, Status.FAIL, 1),
        (series(200, newest=NOW - 16 * MINUTE), True, Status.INCONCLUSIVE, 16.0),
    ],
    ids=["clean", "leak", "not covered", "leak in the part held", "stale"],
)
def test_p3_zero_events_over_the_whole_day(records, covered, status, value):
    verdict = preconditions.p3_no_full_consensus_24h(
        scanned(timed(records, DAY, covered)), TARGET, TH
    )
    assert (verdict.status, verdict.value) == (status, value), verdict.message()


# -- B2: PatchTST's vote counted while systemd delivers the flag true --


@pytest.mark.parametrize(
    ("env", "status"),
    [
        ("PATCHTST_SHADOW_ONLY=true\n", Status.FAIL),
        ("PATCHTST_SHADOW_ONLY=true  \n", Status.FAIL),  # trailing blanks: systemd says true
        ('PATCHTST_SHADOW_ONLY="true"\n', Status.FAIL),
        ("  PATCHTST_SHADOW_ONLY=true\n", Status.FAIL),  # grep misses it, systemd reads it
        ("PATCHTST_SHADOW_ONLY=true\nPATCHTST_SHADOW_ONLY=false\n", Status.PASS),
        ("PATCHTST_SHADOW_ONLY=false\n", Status.PASS),
    ],
)
def test_b2_flag_is_what_systemd_delivers(env, status):
    counted = snapshot(series(100, patchtst=voting(), consensus=4))
    verdict = blockers.b2_voting_while_flag_on(counted, parse_env(env), TARGET, TH)
    assert (verdict.status, verdict.value) == (status, 100)


def test_b2_a_shadow_vote_not_counted_passes():
    verdict = blockers.b2_voting_while_flag_on(snapshot(series(100)), FLAG_ON, TARGET, TH)
    assert (verdict.status, verdict.value) == (Status.PASS, 0)


# -- B3 / B6: sizes and shares at their edges --


@pytest.mark.parametrize(("size", "status"), [(1499, Status.PASS), (1500, Status.FAIL)])
def test_b3_p95_strictly_below_the_limit(size, status):
    verdict = blockers.b3_payload_p95(snapshot(series(100, payload_bytes=size)), TH)
    assert (verdict.status, verdict.value) == (status, size)


@pytest.mark.parametrize(("hard", "status"), [(30, Status.PASS), (31, Status.FAIL)])
def test_b6_hard_disagreement_at_most_the_limit(hard, status):
    records = series(100 - hard, newest=NOW - MINUTE) + [
        intent(NOW - k * SECOND, patchtst=shadow("SELL")) for k in range(hard, 0, -1)
    ]
    verdict = blockers.b6_hard_disagreement(snapshot(records), TARGET, TH)
    assert (verdict.status, verdict.value) == (status, hard / 100)


def test_b6_without_any_patchtst_vote_is_inconclusive():
    verdict = blockers.b6_hard_disagreement(snapshot(series(100, missing=True)), TARGET, TH)
    assert verdict.status is Status.INCONCLUSIVE and verdict.sample == 0


# -- P2: shadow by behaviour --

FAILED_FORMS = [
    intent(NOW - 4 * SECOND, patchtst=vote("HOLD", 0.0, "patchtst_error")),
    intent(NOW - 3 * SECOND, patchtst=vote("HOLD", 0.0, "patchtst_model")),
    intent(NOW - 2 * SECOND, missing=True),
    intent(NOW - 1 * SECOND, missing=True, unreadable_votes={"patchtst": "not an object"}),
]


@pytest.mark.parametrize(
    ("last", "status", "value"),
    [
        (intent(NOW - SECOND), Status.PASS, 0),
        (intent(NOW - SECOND, patchtst=INACTIVE_SHADOW), Status.PASS, 0),
        (intent(NOW - SECOND, patchtst=voting()), Status.FAIL, 1),
        (
            intent(
                NOW - SECOND,
                patchtst=vote(
                    "BUY", 0.6, "patchtst", inactive=True, inactive_reason="fallback_rules"
                ),
            ),
            Status.FAIL,
            1,
        ),
        (intent(NOW - SECOND, patchtst=shadow("BUY", 1.05)), Status.FAIL, 1),
        (intent(NOW - SECOND, patchtst=shadow("BUY", 1.0)), Status.PASS, 0),
    ],
    ids=["tagged", "inactive shadow_mode", "voting", "inactive fallback", "odd 1.05", "1.0"],
)
def test_p2_every_prediction_is_shadow_evidence_within_0_1(last, status, value):
    verdict = p2(snapshot([*series(99, newest=NOW - MINUTE), last]))
    assert (verdict.status, verdict.value) == (status, value), verdict.message()
    assert verdict.evidence == ((last.entry_id,) if value else ())


def test_p2_counts_the_predictions_that_are_shadow_evidence():
    verdict = p2(
        snapshot([*series(99, newest=NOW - MINUTE), intent(NOW - SECOND, patchtst=voting())])
    )
    assert "99/100 patchtst predictions are shadow evidence (1 voting, " in verdict.measured


def test_p2_failed_predictions_are_named_and_do_not_fail():
    verdict = p2(snapshot([*series(96, newest=NOW - MINUTE), *FAILED_FORMS]))
    assert (verdict.status, verdict.value) == (Status.PASS, 0)
    assert "4 of 100 intents without a prediction (1x patchtst_error, 1x HOLD 0.0 as " in (
        verdict.measured
    )
    assert "1x no patchtst vote, 1x unreadable patchtst vote)" in verdict.measured


def test_p2_only_failed_predictions_is_inconclusive():
    records = series(60, patchtst=vote("HOLD", 0.0, "patchtst_error"))
    verdict = p2(snapshot(records))
    assert (verdict.status, verdict.value) == (Status.INCONCLUSIVE, 0)
    assert "only failures" in verdict.detail and "60x patchtst_error" in verdict.measured


@pytest.mark.parametrize(
    ("lines", "needed", "status"),
    [
        ((), 1, Status.FAIL),
        ((SHADOW_LINE,), 1, Status.PASS),
        ((QSC_LINE,), 1, Status.PASS),
        ((JournalLine(None, "[OK] PatchTST agent loaded (weight: 20.0%)"),), 1, Status.FAIL),
        ((SHADOW_LINE,), 2, Status.FAIL),
        ((SHADOW_LINE, QSC_LINE), 2, Status.PASS),
    ],
)
def test_p2_journal_needs_enough_shadow_lines_in_either_form(lines, needed, status):
    verdict = p2(snapshot(series(100)), lines, th(shadow__min_journal_lines=needed))
    assert (verdict.status, verdict.value) == (status, 0)
    assert f"{sum(ln in (SHADOW_LINE, QSC_LINE) for ln in lines)} shadow journal lines" in (
        verdict.measured
    )


# -- P5: the continuous shadow period ending now --


@pytest.mark.parametrize(
    ("records", "covered", "status", "value"),
    [
        (series(100), True, Status.PASS, 24.0),
        ([intent(DAY, patchtst=voting()), *series(99)], True, Status.PASS, 24.0),
        ([intent(DAY + 36 * SECOND, patchtst=voting()), *series(99)], True, Status.FAIL, 23.99),
        ([intent(DAY + HOUR, patchtst=voting()), *series(99)], False, Status.FAIL, 23.0),
        (series(100), False, Status.INCONCLUSIVE, None),
        (series(100, newest=NOW - 20 * MINUTE), True, Status.INCONCLUSIVE, 20.0),
    ],
    ids=[
        "no vote",
        "voted 24 h ago",
        "voted 23.99 h ago",
        "voted, not covered",
        "not covered",
        "stale",
    ],
)
def test_p5_runs_since_the_newest_voting_intent(records, covered, status, value):
    verdict = preconditions.p5_observation_long_enough(
        scanned(timed(records, DAY, covered)), TARGET, TH, NOW
    )
    assert verdict.status is status, verdict.message()
    assert verdict.value == (None if value is None else pytest.approx(value))


def test_p5_failed_and_missing_votes_neither_reset_nor_extend_it():
    records = [
        intent(DAY + HOUR, patchtst=voting()),
        *series(96, newest=NOW - MINUTE),
        *FAILED_FORMS,
    ]
    verdict = preconditions.p5_observation_long_enough(
        scanned(timed(records, DAY)), TARGET, TH, NOW
    )
    assert (verdict.status, verdict.value) == (Status.FAIL, 23.0)
    assert "4 intents without a patchtst prediction neither reset nor extend it" in verdict.measured
    assert verdict.evidence == (f"{DAY + HOUR}-0",)
