"""The terminal summary of a real run (issue 23): one line per check of at most 160
characters, however long its measured value and threshold (P7's and B4's run to 900); the
causes to act on printed whole, wrapped. There is no engine host here, so the host checks fail
with long causes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shadowgate.plugin.judge import SUMMARY_WIDTH
from shadowgate.testbed import throwaway_redis
from tests.support.suite_runs import DRILL, PhaseRun, fill_engine, run_phase


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Iterator[PhaseRun]:
    with throwaway_redis.start() as server:
        fill_engine(server)
        yield run_phase(server.url, tmp_path_factory.mktemp("reports"), DRILL)


def summary(run: PhaseRun) -> list[str]:
    """The shadowgate section: from its title to pytest-html's line."""
    lines = run.output.splitlines()
    start = next(n for n, line in enumerate(lines) if " shadowgate preactivation: " in line)
    end = next(n for n, line in enumerate(lines) if "Generated html report" in line)
    return lines[start + 1 : end]


def test_every_summary_line_fits_and_a_long_one_is_cut_saying_where_the_rest_is(run):
    lines = summary(run)
    assert lines and all(len(line) <= SUMMARY_WIDTH for line in lines), run.output
    (g1,) = [line for line in lines if line.startswith("G1  PASS ")]
    assert g1.endswith(" ...") and any(
        "every value and threshold is in the report" in x for x in lines
    )
    (entry,) = [check for check in run.record["checks"] if check["id"] == "G1"]
    whole = f"{entry['measured']} [threshold {entry['threshold']}]"  # as the report has it
    shown = g1.removesuffix(" ...").split(": ", 1)[1]  # after "G1  PASS  <title>: "
    assert len(whole) > len(shown) and whole.startswith(shown)


def test_a_cause_longer_than_a_line_is_printed_whole(run):
    said = " ".join(" ".join(summary(run)).split())
    long_ones = [cause for cause in run.record["causes"] if len(cause) > SUMMARY_WIDTH]
    assert long_ones, run.record["causes"]
    for cause in run.record["causes"]:
        assert " ".join(cause.split()) in said
