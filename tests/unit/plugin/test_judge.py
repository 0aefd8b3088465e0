"""Whether an INCONCLUSIVE verdict fails is decided by the run's phase (ARCHITECTURE.md
"Verdicts")."""

from __future__ import annotations

import pytest

from shadowgate.plugin.judge import inconclusive_fails


@pytest.mark.parametrize("phase", ["preactivation", "activation"])
@pytest.mark.parametrize("monitor_fails", [True, False])
def test_fails_before_and_at_activation_whatever_the_check_phases(phase, monitor_fails):
    assert inconclusive_fails(phase, ["window_30m"], monitor_fails) is True


@pytest.mark.parametrize("phase", ["window_30m", "window_2h", "window_6h", "rollback_ready"])
def test_later_phases_follow_the_monitor_setting_even_for_preactivation_tests(phase):
    assert inconclusive_fails(phase, ["preactivation", phase], True) is True
    assert inconclusive_fails(phase, ["preactivation", phase], False) is False


@pytest.mark.parametrize(
    ("markers", "monitor_fails", "fails"),
    [
        (["preactivation", "rollback_ready"], False, True),
        (["activation"], False, True),
        (["window_30m"], False, False),
        (["window_30m"], True, True),
        ([], False, False),
    ],
)
def test_without_a_single_phase_the_check_phases_decide(markers, monitor_fails, fails):
    assert inconclusive_fails(None, markers, monitor_fails) is fails
