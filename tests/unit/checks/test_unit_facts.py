"""The unit checks (P4 service stable, B4 restart loop) on hand-made unit states: a production
unit with Restart=always keeps NRestarts at 1 forever after one old crash, so neither check may
fail on NRestarts alone; each condition failing alone, the uptime edge to the microsecond,
and what cannot be proven INCONCLUSIVE. Status and value are asserted, not only the text."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from shadowgate.checks import preconditions
from shadowgate.checks.hostfacts import UNIT_FACT, PreviousUnit, unit_fact
from shadowgate.config import Thresholds
from shadowgate.host import AutoRestart
from shadowgate.verdict import Status
from tests.support.evidence_data import make_record
from tests.support.unit_scenes import INVOCATION, NOW, QUIET, TARGET, TH, b4, previous, unit

US = timedelta(microseconds=1)


# -- P4 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "th", "status", "value"),
    [
        (unit(up=timedelta(hours=24)), TH, Status.PASS, 24.0),  # exactly at the edge: inside
        (unit(up=timedelta(hours=24) - US), TH, Status.FAIL, (86400 - 1e-6) / 3600),
        (unit(up=timedelta(hours=2)), TH, Status.FAIL, 2.0),
        (unit(up=timedelta(seconds=3)), Thresholds.load(sets=["service.min_uptime_hours=0"]),
         Status.PASS, 3 / 3600),  # the drill on a fresh unit
        (unit("activating", "auto-restart", 3), TH, Status.FAIL, None),
        (unit("failed", "failed"), TH, Status.FAIL, None),
        (replace(unit(), active_enter=None, exec_main_start=None), TH, Status.INCONCLUSIVE, None),
    ],
)  # fmt: skip
def test_p4_active_and_up_long_enough_since_the_last_start(state, th, status, value):
    v = preconditions.p4_service_stable(state, NOW, th)
    assert v.status is status, v.message()
    assert v.value == (value if value is None else pytest.approx(value, rel=0, abs=1e-12))
    hours = th.number("service.min_uptime_hours")
    assert v.threshold == f"active (running), up >= {hours:g} h since the last start"


def test_p4_reports_an_old_automatic_restart_and_does_not_fail_on_it():
    v = preconditions.p4_service_stable(unit(restarts=1, up=timedelta(days=3)), NOW, TH)
    assert (v.status, v.value) == (Status.PASS, 72.0)
    assert "NRestarts=1" in v.measured and "up 72 h since 2026-11-23 12:00:00" in v.measured
    assert "began with an automatic restart at 2026-11-23 12:00:00" in v.measured
    young = preconditions.p4_service_stable(unit(restarts=3, up=timedelta(hours=2)), NOW, TH)
    assert young.status is Status.FAIL and "up 2 h since" in young.measured
    down = preconditions.p4_service_stable(unit("activating", "auto-restart", 3), NOW, TH)
    assert "not running" in down.measured and "began with" not in down.measured


# -- B4 ---------------------------------------------------------------------------------------


OLD_CRASH = unit(restarts=1, up=timedelta(days=3))  # Restart=always: NRestarts 1 for good


@pytest.mark.parametrize(
    ("first", "now", "recent", "prev", "status", "shown"),
    [
        (None, None, QUIET, None, Status.PASS, "no previous preactivation record"),
        (OLD_CRASH, None, QUIET, previous(restarts=1), Status.PASS, "same InvocationID, "
         "NRestarts 1 -> 1"),
        # each condition failing alone
        (None, unit("failed", "failed"), QUIET, None, Status.FAIL, "failed (failed), not active"),
        (None, None, AutoRestart(True, "was restarted automatically at 11:55"), None,
         Status.FAIL, "was restarted automatically at 11:55"),
        (None, None, AutoRestart(None, "started by hand: cannot tell"), None,
         Status.INCONCLUSIVE, "cannot prove no automatic restart in the last 1 h"),
        (None, unit(restarts=1), QUIET, None, Status.FAIL, "restarted during the run"),
        # a restart by hand resets NRestarts: a new InvocationID or start counts alone
        (OLD_CRASH, replace(OLD_CRASH, invocation_id="f" * 32), QUIET, None, Status.FAIL,
         "restarted during the run"),
        (None, unit(up=timedelta(seconds=5)), QUIET, None, Status.FAIL, "restarted during the run"),
        (OLD_CRASH, None, QUIET, previous(restarts=0), Status.FAIL, "NRestarts grew since"),
        # a new invocation since the previous record is reported: window and P4 judge it
        (OLD_CRASH, None, QUIET, previous("e" * 32, 0), Status.PASS, "restarted since "
         "(InvocationID changed, NRestarts 0 -> 1); this run began with an automatic restart"),
        (None, None, QUIET, previous("e" * 32, 2), Status.PASS, "this run was started by hand"),
        (None, None, QUIET, previous(None, None), Status.PASS, "holds no unit facts"),
    ],
)  # fmt: skip
def test_b4_restart_loop_each_condition(first, now, recent, prev, status, shown):
    v = b4(first, now, recent, prev)
    assert (v.status, v.value) == (status, (now or first or unit()).n_restarts), v.message()
    assert shown in v.message()


def test_b4_window_comes_from_its_threshold():
    drill = Thresholds.load(sets=["service.auto_restart_window_hours=0"])
    v = b4(th=drill)
    assert v.status is Status.PASS
    assert "no automatic restart in the last 0 h" in v.threshold


# -- the previous record ----------------------------------------------------------------------


def record(run_id: str, phase: str = "preactivation", facts: dict | None = None, **kw):
    return replace(make_record(run_id, phase, **kw), facts=facts or {})


def test_previous_unit_is_the_latest_preactivation_record_of_this_target():
    seen = {UNIT_FACT: unit_fact(OLD_CRASH)}
    other = dict(TARGET.describe(), unit="other.service")
    records = [
        record("r1", facts={UNIT_FACT: unit_fact(unit(invocation="a" * 32))}),
        record("r2", facts=seen),
        record("r3", "window_30m", facts={UNIT_FACT: unit_fact(unit(invocation="b" * 32))}),
        record("r4", facts={UNIT_FACT: unit_fact(unit(invocation="c" * 32))}, target=other),
    ]
    found = PreviousUnit.latest(records, TARGET)
    assert found == PreviousUnit("r2", "2026-11-26T06:30:00Z", INVOCATION, 1)
    assert PreviousUnit.latest(records[2:], TARGET) is None
    old = PreviousUnit.latest([record("r0")], TARGET)  # written before records kept facts
    assert old is not None and (old.invocation_id, old.n_restarts) == (None, None)


def test_unit_fact_keeps_the_start_to_the_microsecond():
    fact = unit_fact(unit(up=timedelta(hours=1) - US))
    assert fact == {
        "unit": TARGET.unit,
        "invocation_id": INVOCATION,
        "n_restarts": 0,
        "started": "2026-11-26T11:00:00.000001+00:00",
    }
