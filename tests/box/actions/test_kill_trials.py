"""The kill trials (tests/support/kill_trials.py) in the systemd box: the real unit, `systemctl`
and journal, so a kill between a record's line and its anchor is tried too."""

from __future__ import annotations

import pytest

from tests.support import kill_trials


@pytest.mark.systemd
@pytest.mark.parametrize("kind", kill_trials.KINDS)
def test_kill_trials_in_the_box_roll_forward_a_record_killed_before_its_anchor(kind, box, tmp_path):
    """The real systemd and journal: killed at every point, exactly there (at "recorded": the
    line written, its anchor not), the next action finishes the job and the log verifies
    against the journal, the killed record marked never anchored."""
    figures = kill_trials.run_trials(kind, 1, box=box, workdir=tmp_path)
    assert "recorded#1" in figures.points, figures.points
    assert figures.problems == [], figures.line(kind)
    assert figures.counts["never anchored"] >= 1, figures.line(kind)
