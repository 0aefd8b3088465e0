"""A check test names its check with one marker; the catalog gives its phases at collection,
before `-m` selects, and the judge and the record take the ID from that row, never from the
test's name. A phase marker written by hand can never put a check in another phase."""

from __future__ import annotations

import pytest

from shadowgate import evidence
from shadowgate.checks import catalog

pytest_plugins = ["pytester"]

VERDICT = """
import pytest

from shadowgate.verdict import Status, Verdict


def verdict(check_id, status):
    return Verdict(check_id, "a title", status, measured="m", threshold="t", section="s")
"""


def refused(result: pytest.RunResult, *said: str) -> None:
    """The run stopped before any test, with one usage error saying all of `said`."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    error = result.stderr.str()
    assert all(part in error for part in said), error
    assert "Traceback" not in error


def selected(result: pytest.RunResult) -> list[str]:
    return sorted(line.rpartition("::")[2] for line in result.outlines if "::" in line)


def test_a_check_id_not_in_the_catalog_refuses_the_collection(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.check("Z9")
        def test_new():
            pass
        """
    )
    refused(
        pytester.runpytest("--collect-only"),
        "test_a_check_id_not_in_the_catalog_refuses_the_collection.py::test_new",
        "'Z9' is not in the check catalog",
    )


@pytest.mark.parametrize(
    ("marks", "said"),
    [
        ('@pytest.mark.check("B3", "B1")', "names one check ID, got 'B3', 'B1'"),
        ("@pytest.mark.check()", "names one check ID, got nothing"),
    ],
)
def test_a_check_marker_names_exactly_one_id(pytester, marks, said):
    pytester.makepyfile(f"import pytest\n\n{marks}\ndef test_b3():\n    pass\n")
    refused(pytester.runpytest("--collect-only"), "::test_b3", said)


def test_two_check_markers_naming_different_ids_are_refused(pytester):
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.check("B1")

        @pytest.mark.check("B3")
        def test_b3():
            pass
        """
    )
    refused(pytester.runpytest("--collect-only"), "::test_b3", "names one check ID")


def test_a_hand_written_phase_marker_disagreeing_with_the_catalog_is_refused(pytester):
    """B3 is a preactivation check: a `window_30m` marker may not make it run in a window,
    written on the test or on its module."""
    pytester.makepyfile(
        test_on_test="""
        import pytest

        @pytest.mark.window_30m
        @pytest.mark.check("B3")
        def test_b3():
            pass
        """
    )
    said = ("check B3 is marked window_30m by hand", "the catalog runs it in preactivation")
    refused(pytester.runpytest("--collect-only", "test_on_test.py"), "::test_b3", *said)
    pytester.makepyfile(
        test_on_module="""
        import pytest

        pytestmark = [pytest.mark.preactivation, pytest.mark.window_2h]

        @pytest.mark.check("B3")
        def test_b3():
            pass
        """
    )
    refused(
        pytester.runpytest("--collect-only", "test_on_module.py"),
        "marked preactivation, window_2h by hand",
    )


def test_a_phase_marker_on_a_test_naming_no_check_is_refused(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.preactivation
        def test_b3_payload():
            pass
        """
    )
    refused(
        pytester.runpytest("--collect-only"),
        "::test_b3_payload is marked preactivation but names no check",
        '@pytest.mark.check("ID")',
    )


def test_minus_m_selects_by_the_catalog_phases(pytester):
    """The phases are on each test before pytest's own `-m` deselects: B4 runs in the
    monitoring windows too, M2 only from window_2h, P6 also when the rollback is armed; a
    hand-written marker that says exactly the catalog's phases is accepted."""
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.check("B4")
        def test_restarts():
            pass

        @pytest.mark.check("M2")
        def test_agreement():
            pass

        @pytest.mark.check("P6")
        def test_backup():
            pass

        @pytest.mark.preactivation
        @pytest.mark.check("B3")
        def test_payload():
            pass
        """
    )
    expected = {
        "preactivation": ["test_backup", "test_payload", "test_restarts"],
        "window_30m": ["test_backup", "test_restarts"],
        "window_2h": ["test_agreement", "test_backup", "test_restarts"],
        "rollback_ready": ["test_backup"],
        "activation": [],
    }
    for phase, tests in expected.items():
        result = pytester.runpytest("--collect-only", "-q", "-m", phase)
        assert selected(result) == tests, (phase, result.stdout.str())


def test_the_judge_takes_the_id_from_the_row_whatever_the_test_is_called(pytester):
    """Oddly named tests: the row says which check each is. S5's INCONCLUSIVE follows its own
    key (`monitor.s5_inconclusive_fails`, false) and skips; M2's fails (a window's default)."""
    pytester.makepyfile(
        VERDICT
        + """

@pytest.mark.check("B3")
def test_payload(judge):
    judge(verdict("B3", Status.PASS))

@pytest.mark.check("S5")
def test_pnl(judge):
    judge(verdict("S5", Status.INCONCLUSIVE))

@pytest.mark.check("M2")
def test_agreement(judge):
    judge(verdict("M2", Status.INCONCLUSIVE))
"""
    )
    result = pytester.runpytest("-rA")
    result.assert_outcomes(passed=1, skipped=1, failed=1)
    result.stdout.fnmatch_lines(
        ["PASSED *::test_payload", "SKIPPED *S5 INCONCLUSIVE*", "FAILED *::test_agreement*"]
    )


def test_the_judge_refuses_a_verdict_of_another_check_and_a_test_naming_none(pytester):
    pytester.makepyfile(
        VERDICT
        + """

@pytest.mark.check("B1")
def test_B3_payload(judge):
    judge(verdict("B3", Status.PASS))

def test_unnamed(judge):
    judge(verdict("B3", Status.PASS))
"""
    )
    result = pytester.runpytest("-rA")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            'test_unnamed judges a verdict but names no check: @pytest.mark.check("ID")',
            "test_B3_payload runs check B1 but judged a B3 verdict",
        ]
    )


def test_the_record_takes_the_id_and_the_phases_from_the_row(pytester):
    pytester.makepyfile(
        VERDICT
        + """

@pytest.mark.check("P6")
def test_backup(judge):
    judge(verdict("P6", Status.PASS))
"""
    )
    reports = pytester.path / "reports"
    pytester.runpytest("-m", "rollback_ready", f"--reports-dir={reports}", "-p", "no:html")
    (record,) = evidence.run_records(reports)
    (entry,) = record.checks
    assert (entry.check_id, entry.nodeid.rpartition("::")[2]) == ("P6", "test_backup")
    assert set(entry.phases) == {"preactivation", "rollback_ready", *catalog.MONITORING}
