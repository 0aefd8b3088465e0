"""The pytest-html hook class of a recorded run: the only part of the report that knows pytest.

For a run the plugin records (`-m` names a phase), the plugin registers a DecisionLogReport
that shows the run's record, so report and record never disagree: the verdict in the title;
the decision log and checklist (`render`); per-check columns (ID, status, measured, threshold,
window, entries) with WARN rows in yellow; each verdict as an HTML extra; the plots (`plots`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import pytest
import pytest_html

from shadowgate import evidence
from shadowgate.config import Thresholds
from shadowgate.report.actions import action_of, activation_html, rollback_html
from shadowgate.report.plots import plots_html, window_plots_html
from shadowgate.report.render import (
    STYLE,
    _cell,
    _cls,
    checklist_html,
    decision_log_html,
    facts_html,
    run_block_html,
    verdict_html,
)
from shadowgate.report.windows import POST_PHASES, latest_windows, observations_html, window_html
from shadowgate.wording import NOT_EVALUATED, cause_of, failure_text, headline

COLUMNS = (  # (data key, header, sortable): inserted after pytest-html's "Test" column
    ("checkid", "ID", True),
    ("status", "Status", True),
    ("measured", "Measured", False),
    ("threshold", "Threshold", False),
    ("window", "Window", False),
    ("entries", "Entries", False),
)


def _verdict_of(report: pytest.TestReport) -> dict[str, Any] | None:
    verdict = dict(report.user_properties).get("verdict")  # the plugin's Verdict.as_record()
    return verdict if isinstance(verdict, dict) else None


def _row_values(report: pytest.TestReport, check_id: str) -> tuple[str, ...]:
    verdict = _verdict_of(report)
    if verdict is not None:
        return (
            check_id,
            verdict["status"],
            verdict["measured"] + (f" (n={verdict['sample']})" if verdict["sample"] else ""),
            verdict["threshold"],
            verdict["window"],
            "\n".join(verdict["evidence"]),
        )
    if report.failed or report.skipped:
        cause = cause_of(failure_text(report))
        return check_id, NOT_EVALUATED, cause, "", "", ""
    return check_id, "", "", "", "", ""


def verdict_extra(verdict: Mapping[str, Any]) -> str:
    """Under the check's row, what its columns do not show: each fact is shown once."""
    fields = ("title", "section", "detail")
    rows = [f"<tr><th>{f}</th>{_cell(verdict[f])}</tr>" for f in fields if verdict[f]]
    return f'<table class="sg-table">{"".join(rows)}</table>'


def _is_verdict_text(report: pytest.TestReport, verdict: Mapping[str, Any], log: str) -> bool:
    """Whether a log entry is pytest's copy of the verdict's message (a FAIL, a skip's
    INCONCLUSIVE or DEFERRED), which the row's columns already show."""
    return log.startswith(escape(report.longreprtext)) and (
        f"{verdict['id']} {verdict['status']}: " in report.longreprtext
    )


class DecisionLogReport:
    """pytest-html hooks of one recorded run, registered by the plugin. `state` is the run's
    recording state (its `collected` IDs and, once the session finishes, its `record`);
    `windows` gives what the checks read (intent windows, outcomes, S5's baseline), for the
    plots; `thresholds` the run's, for the lines the plots draw."""

    def __init__(
        self,
        state: Any,
        windows: Callable[[], Mapping[str, object]],
        thresholds: Thresholds,
    ) -> None:
        self.state = state
        self.windows = windows
        self.thresholds = thresholds
        self.rollback_s = thresholds.number("rollback.max_seconds")
        self.report_data: Any = None  # pytest-html's ReportData, to retitle when decided

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report) -> None:
        self.report_data = report
        report.title = f"shadowgate {self.state.phase or '(no single phase)'}: running"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix, summary, postfix, session) -> None:
        record = self.state.record
        if self.report_data is not None:
            self.report_data.title = headline(record)
        prefix += [STYLE, verdict_html(record)]
        later = latest_windows([*self._logged(), record], record["target"])
        if record["phase"] == "preactivation":
            summary += [decision_log_html(record), checklist_html(record, self.rollback_s, later)]
        else:
            summary.append(run_block_html(record))
            if record["phase"] == "activation":
                summary.append(activation_html(record, action_of(record, self._actions())))
            if record["phase"] == "rollback":
                action = action_of(record, self._actions())
                summary.append(rollback_html(record, action, self.rollback_s))
            if record["phase"] in POST_PHASES:
                summary.append(window_html(record))
        summary.append(observations_html(later))
        postfix += [self._plots(record), facts_html(record)]

    def _plots(self, record: Mapping[str, Any]) -> str:
        """A window's metrics since T+0 where the run read them, else the distributions."""
        observed, model = self.windows(), record["target"]["model"]
        if "since_t0" not in observed:
            return plots_html(observed, model)
        return window_plots_html(observed, model, self.thresholds)

    def _logged(self) -> list[dict[str, Any]]:
        """The log's run records, oldest first: the post-activation rows come from them. An
        unreadable log leaves those rows to the operator rather than failing the report."""
        try:
            return [r.to_dict() for r in evidence.run_records(self.state.reports_dir)]
        except (evidence.EvidenceError, OSError):
            return []

    def _actions(self) -> list[dict[str, Any]]:
        """The log's action records (activate, rollback), oldest first; an unreadable log
        leaves the s.7 action block saying it found none."""
        try:
            return [r for r in evidence.records(self.state.reports_dir) if "action" in r]
        except (evidence.EvidenceError, OSError):
            return []

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells[2:2] = [  # class col-KEY: render.STYLE sizes the columns by it
            f'<th class="sortable col-{key}" data-column-type="{key}">{name}</th>'
            if sortable
            else f'<th class="col-{key}">{name}</th>'
            for key, name, sortable in COLUMNS
        ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        check_id = self.state.collected.get(report.nodeid)
        values = _row_values(report, check_id) if check_id else ("",) * len(COLUMNS)
        status = values[1]
        cells[2:2] = [
            f'<td class="col-{key}{" " + _cls(status) if key == "status" and status else ""}">'
            f"{escape(value).replace(chr(10), '<br/>')}</td>"
            for (key, _, _), value in zip(COLUMNS, values, strict=True)
        ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        """The verdict's message only once: in the row, not again as the failure's log."""
        verdict = _verdict_of(report)
        if verdict is not None and report.longreprtext:
            data[:] = [log for log in data if not _is_verdict_text(report, verdict, log)]
            data[:] = data or ["No other output: the verdict is the row above."]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        verdict = _verdict_of(report) if report.when == "call" else None
        if verdict is not None:
            extra = pytest_html.extras.html(verdict_extra(verdict))
            report.extras = [*getattr(report, "extras", []), extra]
        return report

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        config.pluginmanager.unregister(self)
