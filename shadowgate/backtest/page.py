"""A backtest as the operator reads it: a CSV (one row per position, setting and check) and a
self-contained HTML page (per check and setting: how often and when it would have fired, a
timeline plot, and what the backtest cannot tell)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from html import escape

from shadowgate.backtest.judge import BACKTESTED, NOT_BACKTESTED, fired
from shadowgate.backtest.sweep import Result, Row
from shadowgate.checks import catalog
from shadowgate.report import drawing
from shadowgate.verdict import Status
from shadowgate.window import MINUTE_MS, plural, utc

CSV_COLUMNS = ("position_utc", "t0_utc", "setting", "check", "status", "fired", "value", "sample")
LIMITS = (
    "S1 is not backtested: it {S1}.",
    "T+0 is placed a fixed time before each position: every position is judged as if the model "
    "had been activated then, whatever the history says it was doing (a shadow history reads "
    "the model's own votes for M2-M4 and S3-S4, but M1 and S2 count only the active voters).",
    "The stream is taken to hold the whole history: the live stream, capped at about 10,000 "
    "entries, may not have reached back as far, and a live run would then be INCONCLUSIVE.",
    "S5's baseline is the 24 h before each T+0 measured from the history (live: the "
    "preactivation record's), so it is never stale.",
    "Statuses only: the verdict texts of the live rules are not rebuilt. M1-M4 and S2-S4 are "
    "computed from running counts with the rules' comparisons (proven equal to the rules on "
    "random histories by tests/unit/backtest); S5 is its rule, called at every position.",
)


def csv_text(result: Result) -> str:
    """One line per position, setting and check (`CSV_COLUMNS`), in that order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    since_ms = result.plan.since_minutes * MINUTE_MS
    for row in result.rows:
        judged = row.judged
        writer.writerow(
            (
                utc(row.at_ms),
                utc(row.at_ms - since_ms),
                row.setting,
                row.check,
                judged.status.value,
                int(fired(row.check, judged.status)),
                "" if judged.value is None else f"{judged.value:.6g}",
                judged.sample,
            )
        )
    return out.getvalue()


@dataclass(frozen=True)
class Tally:
    """How one check fared under one setting over all positions."""

    positions: int
    fired: int
    episodes: int  # runs of consecutive positions at which it fired
    first_ms: int | None
    counts: dict[str, int]

    @classmethod
    def of(cls, rows: list[Row]) -> Tally:
        flags = [fired(r.check, r.judged.status) for r in rows]
        episodes = sum(f and (k == 0 or not flags[k - 1]) for k, f in enumerate(flags))
        first = next((r.at_ms for r, f in zip(rows, flags, strict=True) if f), None)
        counts = {s.value: sum(r.judged.status is s for r in rows) for s in Status}
        return cls(len(rows), sum(flags), episodes, first, {k: n for k, n in counts.items() if n})

    def describe(self) -> str:
        if not self.fired:
            return f"never fired in {plural(self.positions, 'position')}"
        return (
            f"fired at {self.fired} of {self.positions} positions, "
            f"{plural(self.episodes, 'episode')}, first at {utc(self.first_ms)}"
        )


def _fires(check: str) -> str:
    return "FAIL (stop: roll back)" if catalog.get(check).stops else "WARN (outside its band)"


def _plot(result: Result, check: str) -> str:
    first = result.rows_of(result.settings[0].label, check)
    strips = [
        (s.label, [r.judged.status.value for r in result.rows_of(s.label, check)])
        for s in result.settings
    ]
    uri = drawing.timeline(
        f"{check} {catalog.get(check).title}",
        [utc(r.at_ms)[5:16] for r in first],
        [r.judged.value for r in first],
        strips,
        "figure compared",
    )
    return f'<img alt="{escape(check)} timeline" src="{uri}">'


def html(result: Result) -> str:
    """The page: what was read, how the windows sat, a table and a plot per check, the limits."""
    h, plan = result.history, result.plan
    positions = plan.positions(h)
    head = [f"<th>{escape(s.label)}</th>" for s in result.settings]
    rows = []
    for check in BACKTESTED:
        tallies = [Tally.of(result.rows_of(s.label, check)) for s in result.settings]
        cells = [
            f"<td>{escape(t.describe())}<br><small>"
            f"{escape(', '.join(f'{k} {n}' for k, n in t.counts.items()))}</small></td>"
            for t in tallies
        ]
        title = escape(f"{check} {catalog.get(check).title} ({catalog.get(check).section})")
        rows.append(f"<tr><th>{title}<br><small>fires on {_fires(check)}</small></th>")
        rows.append("".join(cells) + "</tr>")
    settings = "".join(
        f"<li><b>{escape(s.label)}</b>: "
        + escape(", ".join(f"{k}={v}" for k, v in s.thresholds.overrides.items()) or "as shipped")
        + "</li>"
        for s in result.settings
    )
    limits = "".join(f"<li>{escape(text.format(**NOT_BACKTESTED))}</li>" for text in LIMITS)
    span = f"{utc(positions[0])} .. {utc(positions[-1])}" if positions else "none"
    plots = "".join(_plot(result, check) for check in BACKTESTED) if positions else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>shadowgate backtest</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;
vertical-align:top}}img{{margin:4px;border:1px solid #eee}}</style></head><body>
<h1>Backtest: when each monitoring rule would have fired</h1>
<p>History: {escape(", ".join(h.files) or "(in memory)")}: {escape(h.describe())}.</p>
<p>{plural(len(positions), "position")} ({escape(span)}), one every {plan.step_minutes} min;
at each, a monitoring run as if T+0 had been {plan.since_minutes} min before it.</p>
<h2>Per check and threshold setting</h2>
<table><tr><th>check</th>{"".join(head)}</tr>{"".join(rows)}</table>
<h2>Timelines</h2>
<p>The line is the figure the rule compares (first setting); each strip below it is one
setting's status at each position: <span style="color:{drawing.MARK}">FAIL</span>,
<span style="color:#e0a030">WARN</span>, <span style="color:{drawing.HISTOGRAM}">PASS</span>,
<span style="color:#999">INCONCLUSIVE</span>.</p>
{plots}
<h2>Settings</h2><ul>{settings}</ul>
<h2>What a backtest cannot tell</h2><ul>{limits}</ul>
</body></html>
"""
