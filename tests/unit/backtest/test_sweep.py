"""The backtest's incremental sweep says at every position what the rules say on the window
built from scratch, and the shipped examples fire what they exist to show."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

from hypothesis import given, reject, settings
from hypothesis import strategies as st

from shadowgate.backtest import history, sweep
from shadowgate.backtest.judge import BACKTESTED, fired
from shadowgate.checks import monitoring, stops
from shadowgate.config import ConfigError, Target, Thresholds
from shadowgate.evidence.anchors import Anchor
from shadowgate.intents import Intent, ParseError, parse_intent
from shadowgate.outcomes import Outcome, parse_outcome
from shadowgate.replay import bundle
from shadowgate.testbed import examples, scenarios
from shadowgate.verdict import Status, Verdict
from shadowgate.window import HOUR_MS, Window, covers, id_ms

TARGET = Target()
SCENARIOS = ("healthy_shadow", "flatline", "contrarian", "redundant", "garbage", "collapse",
             "later_engine", "pnl_degraded", "dead_zone")  # fmt: skip


def _window(records: list, errors: list, oldest: int | None, t0_ms: int, at_ms: int, key: str):
    def inside(ts: int) -> bool:
        return t0_ms <= ts <= at_ms

    kept = tuple(r for r in records if inside(r.ts_ms))
    bad = tuple(e for e in errors if inside(id_ms(e.entry_id)))
    return Window(
        key=key, records=kept, errors=bad, foreign=0,
        first_id=kept[0].entry_id if kept else None, last_id=kept[-1].entry_id if kept else None,
        first_ms=kept[0].ts_ms if kept else None, last_ms=kept[-1].ts_ms if kept else None,
        start_ms=t0_ms, end_ms=None, requested_count=None, covered=covers(oldest, t0_ms),
        oldest_ms=oldest, noun="intent" if key == TARGET.stream else "outcome", read_at_ms=at_ms,
    )  # fmt: skip


def _parsed(entries: list[bundle.Entry], parse) -> tuple[list, list[ParseError]]:
    records, errors = [], []
    for entry_id, fields in entries:
        parsed = parse(entry_id, {bundle.raw_of(k): bundle.raw_of(v) for k, v in fields.items()})
        if isinstance(parsed, (Intent, Outcome)):
            records.append(parsed)
        elif isinstance(parsed, ParseError):
            errors.append(parsed)
    return records, errors


class FromScratch:
    """Each backtested rule called as a live window would call it, on windows built anew from
    the parsed streams."""

    def __init__(self, streams: dict[str, list[bundle.Entry]]) -> None:
        intents_raw = streams[TARGET.stream]
        self.outcomes_raw = streams.get(TARGET.outcomes_stream, [])
        self.intents, self.intent_errors = _parsed(intents_raw, parse_intent)
        self.outcomes, self.outcome_errors = _parsed(self.outcomes_raw, parse_outcome)
        self.oldest_i = id_ms(intents_raw[0][0])
        self.oldest_o = id_ms(self.outcomes_raw[0][0]) if self.outcomes_raw else None

    def _outcomes(self, lo: int, hi: int) -> Window:
        return _window(
            self.outcomes, self.outcome_errors, self.oldest_o, lo, hi, TARGET.outcomes_stream
        )

    def verdicts(self, t0: Anchor, at_ms: int, th: Thresholds) -> dict[str, Verdict]:
        since = _window(
            self.intents, self.intent_errors, self.oldest_i, t0.ms, at_ms, TARGET.stream
        )
        start = t0.ms - int(th.number("stop.s5_before_hours") * HOUR_MS)
        baseline = stops.PnlBaseline.measure(self._outcomes(start, t0.ms - 1), start, t0.ms)
        closed = self._outcomes(t0.ms, at_ms) if self.outcomes_raw else None
        return {
            "M1": monitoring.m1_consensus_distribution(since, t0, th),
            "M2": monitoring.m2_agreement(since, t0, TARGET, th),
            "M3": monitoring.m3_hard_disagreement(since, t0, TARGET, th),
            "M4": monitoring.m4_confidence_distribution(since, t0, TARGET, th),
            "S2": stops.s2_full_consensus_sustained(since, t0, th),
            "S3": stops.s3_hard_disagreement(since, t0, TARGET, th),
            "S4": stops.s4_confidence_collapse(since, t0, TARGET, th),
            "S5": stops.s5_pnl_degradation(closed, baseline, t0, at_ms, th),
        }


@cache
def recorded(
    scenario: str, shadow_hours: float, voting_hours: float, spacing_s: float, seed: int, cap: int
) -> bundle.Bundle:
    return examples.history(
        scenarios.get(scenario), shadow_hours=shadow_hours, voting_hours=voting_hours,
        spacing_s=spacing_s, seed=seed, maxlen=cap,
    )  # fmt: skip


small_histories = st.builds(
    recorded,
    st.sampled_from(SCENARIOS),
    st.sampled_from((0.5, 1.5)),
    st.sampled_from((0.5, 1.0)),
    st.sampled_from((30.0, 90.0)),
    st.integers(0, 2),
    st.sampled_from((60, 10_000)),  # a cap: windows not covered
)


@st.composite
def thresholds(draw: st.DrawFn) -> Thresholds:
    """Thresholds moved so that every branch of every rule is reached on small histories."""
    sets = {
        "monitor.min_intents": draw(st.integers(1, 40)),
        "window.snapshot_count": (count := draw(st.integers(1, 60))),
        "window.min_snapshot_intents": draw(st.integers(1, count)),
        "window.max_age_minutes": draw(st.sampled_from((0.5, 2.0, 15.0))),
        "window.max_unreadable_share": draw(st.sampled_from((0.0, 0.05, 0.2))),
        "monitor.m1_healthy_min": draw(st.sampled_from((0.2, 0.4))),
        "monitor.m1_warn_above": draw(st.sampled_from((0.7, 0.8, 0.9))),
        "monitor.m1_low_warn_above": draw(st.sampled_from((0.01, 0.05, 0.3))),
        "monitor.m3_warn_above": draw(st.sampled_from((0.05, 0.15, 0.25))),
        "monitor.m4_warn_below": draw(st.sampled_from((0.0, 0.02, 0.05))),
        "stop.s2_slices": draw(st.integers(1, 4)),
        "stop.s2_slice_minutes": draw(st.sampled_from((2.0, 5.0, 10.0))),
        "monitor.min_slice_intents": draw(st.integers(1, 6)),
        "stop.s2_full_consensus_above": draw(st.sampled_from((0.3, 0.6, 0.85))),
        "stop.s3_hard_disagreement_above": draw(st.sampled_from((0.05, 0.15, 0.3))),
        "stop.s4_min_p10_p90": draw(st.sampled_from((0.0, 0.01, 0.2))),
        "stop.s5_before_hours": draw(st.sampled_from((0.25, 1.0))),
        "stop.s5_after_hours": draw(st.sampled_from((0.1, 0.25, 2.0))),
        "stop.s5_min_outcomes": draw(st.integers(1, 8)),
        "stop.s5_max_win_rate_drop": draw(st.sampled_from((0.0, 0.1))),
    }
    try:
        return Thresholds.load(sets=[f"{k}={v}" for k, v in sets.items()])
    except ConfigError:
        reject()


@settings(max_examples=25, deadline=None)
@given(
    captured=small_histories,
    th=thresholds(),
    since=st.sampled_from((10, 25, 60)),
    step=st.integers(1, 7),
)
def test_incremental_sweep_says_what_the_rules_say_on_windows_built_from_scratch(
    captured: bundle.Bundle, th: Thresholds, since: int, step: int
) -> None:
    streams = {k: list(v) for k, v in captured.streams.items()}
    h = history.from_streams(streams, TARGET, captured.now_ms)
    plan = sweep.Plan(since, step)
    moments = list(plan.moments(h))
    rows = list(sweep.sweep(h, th, "drawn", moments))
    assert len(rows) == len(moments) * len(BACKTESTED)
    scratch, by_position = FromScratch(streams), iter(rows)
    for t0, at_ms in moments:
        expected = scratch.verdicts(t0, at_ms, th)
        for check in BACKTESTED:
            row = next(by_position)
            rule = expected[check]
            assert (row.check, row.at_ms) == (check, at_ms)
            where = f"{check} at {at_ms} (T+0 {t0.ms}): {rule.measured}"
            assert row.judged.status is Status(rule.status), where
            if rule.status is not Status.INCONCLUSIVE:
                assert row.judged.value == rule.value, where
                assert row.judged.sample == rule.sample, where


EXAMPLES = Path(examples.__file__).resolve().parent.parent / "examples"


@cache
def fired_counts(name: str) -> tuple[int, Counter[str]]:
    h = history.load(EXAMPLES / f"{name}{bundle.SUFFIX}", TARGET)
    result = sweep.run(h, [sweep.Setting("shipped", Thresholds.load())], sweep.Plan())
    positions = len(sweep.Plan().positions(h))
    return positions, Counter(r.check for r in result.rows if fired(r.check, r.judged.status))


def test_the_p04_example_stops_on_confidence_collapse_at_every_position() -> None:
    """The P0.4 model (every vote BUY at 0.615) flatlines: S4 stops and M4 flags everywhere,
    while its hard disagreement (SELL share about 20%) never reaches S3's 30%."""
    positions, counts = fired_counts("p04_flatline")
    assert positions > 300
    assert counts["S4"] == counts["M4"] == positions
    assert counts["S3"] == 0


def test_the_healthy_example_never_collapses_nor_disagrees() -> None:
    _, counts = fired_counts("healthy")
    assert counts["S3"] == counts["S4"] == counts["M4"] == counts["M2"] == 0


def test_the_shipped_histories_are_what_the_builder_makes() -> None:
    """Rebuilt from the stand-in engine with its seed, byte for byte: no hand-edited example
    (the replay examples need the systemd box: tests/integration/replay replays them)."""
    for example in examples.EXAMPLES:
        built = bundle.encode(examples.history(scenarios.get(example.scenario)))
        name = f"{example.name}{bundle.SUFFIX}"
        assert built == (EXAMPLES / name).read_bytes(), name
