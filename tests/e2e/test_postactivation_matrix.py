"""The post-activation suite, run inside a real systemd against the stand-in engine switched
from shadow to voting as the runbook's s.4 does it (back up the env file, delete the flag line,
`systemctl restart`), and rolled back as s.6 does it (append the flag, restart): for each
engine state, the windows decide exactly what DECISIONS.md says, with exactly the expected IDs.

T+0 is the unit's start after that restart (`systemctl show`, to the microsecond, UTC) given
as `--activated-at`, as an operator who activated by hand would.

Drill settings (time in seconds, not hours; every one of them a `--set` the run records):
the engine publishes ~34 intents a second (RATE 40 decisions, 15% HOLD) and closes its trades
0.5..2 s after opening them; S2's slices are SLICE_S seconds (3 of them, >= 5 intents each),
the engine is silent after MAX_AGE_S without an intent, S5's "first hour" is ~11 s and W1's
"24 h of uptime" ~7 s (W2/W3 judge the first hour after T+0, which has not ended yet). The
thresholds themselves (85%, 30%, 0.01, 10 points, 2x) are the runbook's.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from shadowgate.checks import catalog
from shadowgate.intents import Intent, parse_intent
from shadowgate.testbed import installer
from shadowgate.testbed.suiterun import DRILL, SuiteRun, box_runner, run_suite
from tests.support.matrix_support import (
    ENGINE_OPTIONS,
    MAX_AGE_S,
    RATE,
    S5_AFTER_S,
    SETTLE_S,
    SLICE_S,
    WINDOW_DRILL,
)
from tests.support.replays import assert_replays_alike

WINDOWS = ("window_30m", "window_2h", "window_6h")
STOP = "STOP: roll back now (runbook s.6)"

pytestmark = pytest.mark.systemd


def _show(box, *props: str) -> dict[str, str]:
    shown = box.systemctl(
        "show", "--timestamp=us+utc", "-p", ",".join(props), installer.ENGINE_UNIT
    )
    return dict(line.partition("=")[::2] for line in shown.stdout.splitlines())


def _moment(text: str) -> datetime | None:
    """systemctl's "Thu 2026-01-10 08:00:00.123456 UTC"."""
    if not text or text == "n/a":
        return None
    _, day, clock, _ = text.split()
    return datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)


def unit_start(box) -> datetime:
    """The unit's last start, as shadowgate reads it: the later of entering active and the main
    process starting."""
    shown = _show(box, "ActiveEnterTimestamp", "ExecMainStartTimestamp")
    starts = [_moment(shown[p]) for p in ("ActiveEnterTimestamp", "ExecMainStartTimestamp")]
    return max(t for t in starts if t is not None)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class Drill:
    """One engine through the runbook: shadow, activation by hand, windows, rollback."""

    box: object
    redis_url: str
    reports: Path
    engine_unit: object
    t0: datetime | None = None
    backups: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # what the runs printed, for the matrix

    def start(self, scenario: str, rate: float = RATE, options: tuple[str, ...] = ()) -> None:
        unit = self.engine_unit(scenario, backfill_hours=26, rate=rate, seed=5,
                                options=(*ENGINE_OPTIONS, *options))  # fmt: skip
        installer.settle(unit, SETTLE_S)

    def suite(self, phase: str, *args: str) -> SuiteRun:
        """The phase in the box, captured; its bundle replayed here judges it the same way."""
        began = time.monotonic()
        args = ("--capture-bundle", *args)
        run = run_suite(box_runner(self.box), self.redis_url, self.reports, phase, *args)
        took = time.monotonic() - began
        replayed_into = self.reports.parent / f"replay-{run.record.run_id}"
        assert_replays_alike(self.reports, run.record.run_id, replayed_into, *args)
        said = headline_of(run, phase)
        verdicts = ", ".join(f"{cid} {c.status}" for cid, c in sorted(run.checks.items()))
        self.runs.append(f"{phase} ({took:.1f} s): {said} | {verdicts}")
        print(self.runs[-1])
        return run

    def preactivation(self) -> SuiteRun:
        return self.suite("preactivation", *DRILL)

    def activate(self) -> datetime:
        """Runbook s.4 steps 1, 2, 5 as written; T+0 is the unit's start after the restart."""
        env = installer.ENV_FILE
        script = (
            f'b="{env}.bak.activation.$(date +%Y%m%d_%H%M%S)" && cp {env} "$b" && '
            f"sed -i '/^PATCHTST_SHADOW_ONLY=/d' {env} && "
            f'systemctl restart {installer.ENGINE_UNIT} && echo "$b"'
        )
        done = self.box.exec(["sh", "-c", script], check=True)
        self.backups.append(done.stdout.strip())
        self.t0 = unit_start(self.box)
        return self.t0

    def window(self, phase: str, *args: str) -> SuiteRun:
        assert self.t0 is not None
        return self.suite(phase, f"--activated-at={iso(self.t0)}", *WINDOW_DRILL, *args)

    def rollback(self) -> datetime:
        """Runbook s.6's single command, up to the restart; its start is R4's clock."""
        started = datetime.now(UTC)
        env = installer.ENV_FILE
        script = (
            f'echo "PATCHTST_SHADOW_ONLY=true" >> {env} && '
            f"systemctl restart {installer.ENGINE_UNIT}"
        )
        self.box.exec(["sh", "-c", script], check=True)
        return started

    def seconds_since_t0(self) -> float:
        assert self.t0 is not None
        return (datetime.now(UTC) - self.t0).total_seconds()

    def wait_until_t0_plus(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds - self.seconds_since_t0()))

    def latest_intents(self, count: int) -> list[Intent]:
        client = redis.Redis.from_url(self.redis_url)
        try:
            entries = client.xrevrange("quantum:stream:trade.intent", count=count)
        finally:
            client.close()
        parsed = [parse_intent(entry_id, fields) for entry_id, fields in entries]
        return [p for p in parsed if isinstance(p, Intent)]


def headline_of(run: SuiteRun, phase: str) -> str:
    found = re.findall(rf"^=+ shadowgate {phase}: (.*?) =+$", run.output, re.M)
    return found[-1] if found else "(no headline)"


@pytest.fixture
def drill(box, redis_server, engine_unit, tmp_path):
    made = Drill(box, redis_server.url, tmp_path / "reports", engine_unit)
    yield made
    for backup in made.backups:  # the runbook's own backups: the box outlives this test
        box.exec(["rm", "-f", "--", backup])


def statuses(run: SuiteRun) -> dict[str, str | None]:
    return {cid: c.status for cid, c in run.checks.items()}


def failing_stops(run: SuiteRun) -> set[str]:
    return {cid for cid, c in run.checks.items() if c.outcome == "failed" and c.status == "FAIL"}


# -- the healthy model -----------------------------------------------------------------------


def test_healthy_voting_activates_and_every_window_is_ok(drill):
    drill.start("healthy_voting")  # the env file's flag keeps it in shadow until s.4
    pre = drill.preactivation()
    assert pre.exit_code == 0, pre.output  # GO, and its record holds the model and S5 baseline
    drill.activate()
    run = drill.window("activation")
    assert run.exit_code == 0, run.output
    assert statuses(run) == dict.fromkeys(catalog.ids_of_phase("activation"), "PASS"), run.output
    drill.wait_until_t0_plus(3 * SLICE_S + 1)  # S2 judges three whole slices since T+0
    for phase in WINDOWS:
        if phase != "window_30m":
            drill.wait_until_t0_plus(S5_AFTER_S + 3)  # S5's "first hour" over
        run = drill.window(phase)
        assert run.record.decision == "OK", run.output
        assert headline_of(run, phase) == "OK", run.output
        assert set(run.checks) == set(catalog.ids_of_phase(phase))
        assert set(statuses(run).values()) == {"PASS"}, run.output
    drill.wait_until_t0_plus(8)  # W1: up > 7.2 s
    run = drill.window("window_24h")
    assert run.exit_code == 0 and run.record.decision == "OK", run.output
    assert statuses(run) == dict.fromkeys(catalog.ids_of_phase("window_24h"), "PASS"), run.output
    # W2/W3 judged the first hour since T+0 so far (not over: a drill's W1 says "up > 7 s")
    assert "h1 " in run.checks["W2"].message and "T+0..T+1 h" in run.checks["W2"].message


def _crash_loop_restarted(box, timeout: float = 15.0) -> None:
    """Until systemd has restarted the activated engine automatically (NRestarts >= 1 again
    after the restart by hand reset it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(_show(box, "NRestarts")["NRestarts"] or 0) >= 1:
            return
        time.sleep(0.2)
    raise AssertionError("the activated crash_loop engine was never restarted")


STOPS = {
    # scenario -> (window, seconds after T+0 to run it at, failing IDs, the headline's IDs,
    #              {ID: text its message must carry})
    "redundant": ("window_30m", 3 * SLICE_S + 1, {"S2"}, "S2",
                  {"S2": "sustained: roll back (runbook s.6)"}),
    "contrarian": ("window_30m", 3.0, {"S3"}, "S3", {"S3": "> 30% stops"}),
    "collapse": ("window_30m", 3.0, {"S4"}, "S4", {"S4": "P10..P90=0.00"}),
    "pnl_degraded": ("window_2h", 5.0, {"S5"}, "S5", {"S5": "points below the baseline"}),
    "crash_loop": ("window_30m", 0.0, {"B4", "S1"}, "B4, S1",
                   {"S1": "restarted automatically at", "B4": "restarted automatically"}),
    # nothing since T+0: S2-S4 and M1 cannot be judged (INCONCLUSIVE), S1 FAILs on silence
    "silent": ("window_30m", MAX_AGE_S + 1, {"S1", "S2", "S3", "S4", "M1"}, "S1",
               {"S1": "engine silent: no intent"}),
}  # fmt: skip


@pytest.mark.parametrize("scenario", sorted(STOPS))
def test_bad_model_after_activation_is_stop_naming_the_stop_condition(drill, box, scenario):
    phase, at, failing, named, texts = STOPS[scenario]
    drill.start(scenario)
    if scenario == "pnl_degraded":  # S5's baseline: the 24 h before, kept by this record
        drill.preactivation()
    drill.activate()
    if scenario == "crash_loop":
        _crash_loop_restarted(box)
    drill.wait_until_t0_plus(at)
    run = drill.window(phase)
    assert run.exit_code == 1
    assert run.failing() == failing, run.output
    stops = {cid for cid in named.split(", ")}
    assert failing_stops(run) == stops, run.output  # the others failed as INCONCLUSIVE
    assert run.record.decision == "STOP"
    assert f"shadowgate {phase}: {STOP}: {named} " in run.output  # the terminal's headline
    for check_id, text in texts.items():
        assert text in run.checks[check_id].message, run.checks[check_id].message
    if scenario == "redundant":  # and roll back as s.6 says
        _rollback_restores_shadow(drill)


def _rollback_restores_shadow(drill: Drill) -> None:
    started = drill.rollback()
    run = drill.suite("rollback", f"--rollback-started-at={iso(started)}", *WINDOW_DRILL)
    assert run.exit_code == 0, run.output
    assert statuses(run) == dict.fromkeys(catalog.ids_of_phase("rollback"), "PASS"), run.output
    print(run.checks["R4"].message)
    assert run.checks["R4"].status == "PASS" and "< 60 s" in run.checks["R4"].message
    assert headline_of(run, "rollback") == "OK"
    restarted = unit_start(drill.box)
    latest = [i for i in drill.latest_intents(20) if i.ts_ms >= restarted.timestamp() * 1000]
    assert len(latest) >= 5
    votes = [i.breakdown["patchtst"] for i in latest if "patchtst" in i.breakdown]
    assert votes and all(v.shadow for v in votes)  # back in shadow: every vote tagged


# -- red flags and thin data: never a false STOP ---------------------------------------------

BURST_AFTER_S = 2 * SLICE_S + 1  # the engine copies the ensemble from T+0 + 11 s on


def test_redundancy_burst_in_the_latest_slice_only_is_a_warn_not_a_stop(drill):
    """Two healthy slices, then one where every model copies the ensemble: a red flag, not
    (yet) sustained; the window is OK with S2 named as a red flag."""
    drill.start("healthy_voting", options=(f"copy_after_s={BURST_AFTER_S:g}",))
    drill.activate()
    # read ~SLICE_S after the burst began (a run reads ~1 s after its start): the latest slice
    # lies in the burst, the one before it in the healthy part
    drill.wait_until_t0_plus(BURST_AFTER_S + SLICE_S)
    run = drill.window("window_30m")
    s2 = run.checks["S2"]
    print(s2.message)
    assert s2.status == "WARN", s2.message
    assert "red flag: above the line, not proven sustained" in s2.message
    shares = [float(x) for x in re.findall(r"\(([\d.]+)%\)", s2.message)]
    assert len(shares) == 3 and shares[0] <= 85 and shares[1] <= 85 < shares[2], s2.message
    assert "too thin" not in s2.message  # three judged slices: a burst, not thin data
    assert run.exit_code == 0 and run.failing() == set(), run.output
    assert run.record.decision == "OK"
    # M1 may flag the burst too (full consensus above its healthy 70%): S2 must be among them
    said = next(x for x in run.output.splitlines() if "shadowgate window_30m: OK (red flags:" in x)
    assert "S2" in said.partition("red flags:")[2], run.output


THIN_RATE = 0.6  # a decision every 1.7 s: at most 3 intents in a 5 s slice, fewer than 5


def test_thin_engine_is_inconclusive_or_warn_never_stop(drill):
    drill.start("healthy_voting", rate=THIN_RATE)
    drill.activate()
    drill.wait_until_t0_plus(3 * SLICE_S + 1)
    run = drill.window("window_30m")
    assert run.record.decision == "INCONCLUSIVE", run.output
    assert failing_stops(run) == set() and "STOP" not in headline_of(run, "window_30m")
    assert run.checks["S1"].status == "PASS", run.checks["S1"].message  # thin, not silent
    s2 = run.checks["S2"]
    assert s2.status in ("WARN", "INCONCLUSIVE"), s2.message
    assert s2.message.count("(too thin)") == 3, s2.message
    for check_id in ("S3", "S4", "M1"):  # fewer than monitor.min_intents (20) since T+0
        assert run.checks[check_id].status == "INCONCLUSIVE", run.checks[check_id].message
    assert run.failing() == {"S3", "S4", "M1"} | ({"S2"} if s2.status == "INCONCLUSIVE" else set())
    assert headline_of(run, "window_30m").startswith("INCONCLUSIVE: cannot prove healthy: ")


# -- the stand-in's burst option ------------------------------------------------------------


def test_copy_after_s_makes_every_model_side_with_the_ensemble_from_then_on():
    import random

    from shadowgate.testbed.engine_entries import EntryMaker
    from shadowgate.testbed.scenarios import get, with_options

    scenario = with_options(get("healthy_voting"), ["copy_after_s=10", "error_rate=0",
                                                    "fallback_rate=0", "hold_rate=0"])  # fmt: skip
    maker = EntryMaker(scenario, False, random.Random(1), start_ms=0)

    def full(ts_ms: int) -> float:
        made = [maker.entry(ts_ms, {}) for _ in range(300)]
        return sum(m.decision.payload["consensus_count"] == 4 for m in made) / len(made)

    assert 0.4 < full(9_999) < 0.7  # healthy before
    assert full(10_000) == 1.0  # copying from copy_after_s on
    # before it fires the option changes no draw: the same seed writes the same entries
    plain = EntryMaker(get("healthy_voting"), False, random.Random(2), start_ms=0)
    later = with_options(get("healthy_voting"), ["copy_after_s=1000"])
    waiting = EntryMaker(later, False, random.Random(2), start_ms=0)
    for ts in range(0, 200_000, 1000):
        a, b = plain.entry(ts, {}), waiting.entry(ts, {})
        assert (a and a.fields) == (b and b.fields)
