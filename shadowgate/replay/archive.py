"""Replay an archived run against the reports dir as the run found it: a replay after T+0
reads T+0 and the earlier runs' records there, and must see none of the records made after
it. Used by `shadowgate backtest --compare` (and the tests that hold replays to live runs)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shadowgate.actions.flow import REPO, suite_argv
from shadowgate.evidence import LOG_NAME

TIMEOUT_S = 300  # a replay takes seconds; a hung child must not hang its caller


def archive_as_of(reports: Path, run_id: str, into: Path) -> Path:
    """A copy of `reports` in the new dir `into` as the run `run_id` found it: the decision
    log cut before its line, the files of that run and of later ones left out."""
    into.mkdir(parents=True)
    lines = (reports / LOG_NAME).read_bytes().splitlines(keepends=True)
    ids = [json.loads(line).get("run_id") for line in lines]
    cut = ids.index(run_id)
    (into / LOG_NAME).write_bytes(b"".join(lines[:cut]))
    for earlier in ids[:cut]:
        for path in reports.glob(f"{earlier}.*"):
            shutil.copy2(path, into / path.name)
    return into


def replay_archived(
    reports: Path, record: Mapping[str, Any], into: Path, options: Sequence[str] = ()
) -> dict[str, Any] | str:
    """The record of `pytest -m PHASE --replay=BUNDLE` of the archived `record` (the bundle's
    target, thresholds and strategy, `options` such as `--set=K=V` on top; none of this
    environment's SHADOWGATE_* settings), run against `archive_as_of` in `into`; what went
    wrong when it recorded nothing."""
    archive = archive_as_of(reports, str(record["run_id"]), into)
    bundle = (reports / str(record["bundle"]["file"])).resolve()
    argv = suite_argv(
        str(record["phase"]), [f"--reports-dir={archive}", f"--replay={bundle}", *options]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHADOWGATE_", "PYTEST_"))}
    try:
        done = subprocess.run(
            argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return f"its replay did not end within {TIMEOUT_S} s"
    lines = (archive / LOG_NAME).read_text(encoding="utf-8").splitlines()
    replayed = json.loads(lines[-1]) if lines else {}
    if "replay" not in replayed:
        said = (done.stdout + done.stderr).strip().splitlines()
        return f"its replay recorded nothing (exit {done.returncode}: {said[-1] if said else ''})"
    return replayed
