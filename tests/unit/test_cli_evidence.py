"""`shadowgate evidence verify|last`: the operator's shell view of what the actions will accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shadowgate.cli import main
from shadowgate.evidence import LOCK_NAME, LOG_NAME, records
from tests.support.evidence_data import add_run, flip_byte


@pytest.fixture
def reports(tmp_path, monkeypatch):
    monkeypatch.delenv("SHADOWGATE_REPORTS_DIR", raising=False)
    return tmp_path / "reports"


def just_now() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=30)


def test_verify_ok(reports, capsys):
    add_run(reports, finished=just_now())
    add_run(reports, "window_30m", finished=just_now())
    assert main(["evidence", "verify", "--reports-dir", str(reports)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "chain OK: 2 records"
    assert out[1].startswith("journal cross-check: not possible (")  # no journal here


def test_verify_reads_the_reports_dir_from_the_environment(reports, capsys, monkeypatch):
    add_run(reports, finished=just_now())
    monkeypatch.setenv("SHADOWGATE_REPORTS_DIR", str(reports))
    assert main(["evidence", "verify"]) == 0
    assert capsys.readouterr().out.startswith("chain OK: 1 records\n")


def test_verify_names_the_first_bad_record(reports, capsys):
    first = add_run(reports, finished=just_now())
    add_run(reports, finished=just_now())
    flip_byte(reports / f"{first.run_id}.html", b"report of")
    assert main(["evidence", "verify", "--reports-dir", str(reports)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"chain BROKEN at {first.run_id} (line 1): the HTML report")
    assert "has changed since the run" in err


@pytest.mark.parametrize("make", [False, True], ids=["missing-dir", "empty-dir"])
def test_verify_without_records_fails(reports, capsys, make):
    if make:
        reports.mkdir()
    assert main(["evidence", "verify", "--reports-dir", str(reports)]) == 1
    assert "no records" in capsys.readouterr().err


def test_last_armed(reports, capsys):
    record = add_run(reports, finished=just_now())
    assert main(["evidence", "last", "preactivation", "--reports-dir", str(reports)]) == 0
    out = capsys.readouterr().out
    assert f"run:       {record.run_id}" in out
    assert f"finished:  {record.finished_at}" in out
    assert "decision:  GO" in out
    assert "fresh:     yes  (limit 15 min)" in out
    assert "chain:     verified" in out
    assert f"report:    {record.run_id}.html" in out
    assert "journal:   not checked  (journal cross-check: not possible (" in out
    assert "ARMED: The latest preactivation record" in out


def test_last_stale_then_allowed_by_a_longer_limit(reports, capsys):
    add_run(reports, finished=datetime.now(UTC) - timedelta(minutes=40))
    args = ["evidence", "last", "preactivation", "--reports-dir", str(reports)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "fresh:     NO  (limit 15 min)" in out
    assert "NOT ARMED" in out
    assert "it is stale: finished 40 min" in out
    assert main([*args, "--fresh-minutes", "60"]) == 0


def test_last_gives_every_reason(reports, capsys):
    add_run(reports, finished=just_now(), passed=False, complete=False)
    (reports / LOG_NAME).write_bytes((reports / LOG_NAME).read_bytes() + b"{")
    assert main(["evidence", "last", "preactivation", "--reports-dir", str(reports)]) == 1
    out = capsys.readouterr().out
    assert "decision:  NO-GO" in out
    assert "complete:  NO" in out
    assert "passed:    NO" in out
    assert "chain:     BROKEN" in out
    assert "the run did not pass (decision NO-GO): B3 FAIL" in out
    assert "the run was incomplete (-k B3 was given" in out
    assert "cut short" in out


def test_last_without_a_record_of_the_phase(reports, capsys):
    add_run(reports, "window_30m", finished=just_now())
    assert main(["evidence", "last", "preactivation", "--reports-dir", str(reports)]) == 1
    assert capsys.readouterr().err == (
        f"no preactivation record in {reports} (phases recorded: window_30m)\n"
    )
    assert main(["evidence", "last", "rollback", "--reports-dir", str(reports / "none")]) == 1
    assert capsys.readouterr().err == f"no rollback record in {reports / 'none'}\n"


def test_usage(capsys):
    """Every usage error exits 4 (ARCHITECTURE.md "Exit codes"), argparse's own included: 2 is
    "refused"."""
    assert main([]) == 4
    assert "evidence" in capsys.readouterr().out
    assert main(["evidence"]) == 4
    assert "verify" in capsys.readouterr().out
    for argv in (["evidence", "last"], ["evidence", "verify", "--bogus"], ["bogus"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 4, argv
        assert "error:" in capsys.readouterr().err


def test_verify_states_reports_no_record_names(reports, capsys):
    add_run(reports, finished=just_now())
    (reports / "20261126T063000Z-preactivation-dead00.html").write_text("<html>killed</html>")
    assert main(["evidence", "verify", "--reports-dir", str(reports)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "1 reports no record names (20261126T063000Z-preactivation-dead00.html): runs killed "
        "or not recorded; they arm nothing (move them out of the reports dir)"
    )


def test_a_planted_lock_symlink_is_one_line_for_verify_and_last(reports, capsys):
    add_run(reports, finished=just_now())
    (reports / LOCK_NAME).unlink()
    (reports / LOCK_NAME).symlink_to(reports / "nowhere")
    assert main(["evidence", "verify", "--reports-dir", str(reports)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"{reports / LOCK_NAME} is a symlink (to {reports / 'nowhere'}): shadowgate never "
        "follows one in the reports dir; remove it and find out who made it\n"
    )
    assert main(["evidence", "last", "preactivation", "--reports-dir", str(reports)]) == 1
    assert capsys.readouterr().err == f"cannot read the decision log: {err}"
    assert not (reports / "nowhere").exists()


def test_a_deeply_nested_line_is_one_line_never_a_recursion_error(reports, capsys, monkeypatch):
    """'[' * 100000 as a log line: verify and last exit 1 naming line 2, the arming refuses,
    readers skip it, and the next append (the suite's recording) still reads the log."""
    add_run(reports, finished=just_now())
    with (reports / LOG_NAME).open("ab") as log:
        log.write(b"[" * 100_000 + b"\n")
    assert main(["evidence", "verify", "--reports-dir", str(reports)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("chain BROKEN at line 2: line 2 of decision-log.jsonl is nested ")
    assert main(["evidence", "last", "preactivation", "--reports-dir", str(reports)]) == 1
    said = capsys.readouterr()
    assert "Traceback" not in said.out + said.err
    assert "chain BROKEN at line 2: line 2 of decision-log.jsonl is nested " in said.out
    assert len(records(reports)) == 1
    add_run(reports, "window_30m", finished=just_now())  # reads the log's last line first
    assert len(records(reports)) == 2


@pytest.mark.parametrize("command", [["verify"], ["last", "preactivation"]])
def test_a_hosts_spec_testinfra_cannot_use_is_one_usage_line(reports, capsys, command):
    """Issue 19, item 10: `--hosts=bogus://x` was a RuntimeError traceback."""
    add_run(reports, finished=just_now())
    argv = ["evidence", *command, "--reports-dir", str(reports), "--hosts=bogus://x"]
    assert main(argv) == 4
    said = capsys.readouterr()
    assert said.out == "" and said.err.splitlines() == [
        "ERROR: --hosts 'bogus://x' is not a host testinfra can use: Unknown connection type "
        "'bogus'"
    ]
