"""Smoke test of benchmarks/bench_scale.py on 1,000 entries: it seeds, times every row, draws
its plot and writes its results section (the numbers themselves are not asserted; see
benchmarks/)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from shadowgate.testbed.sdbox import repo_root


def _bench():
    path = repo_root() / "benchmarks" / "bench_scale.py"
    spec = importlib.util.spec_from_file_location("bench_scale", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="needs redis-cli (the floor row)")
def test_bench_scale_smoke(tmp_path: Path) -> None:
    bench = _bench()
    measured = bench.measure(1000, repeat=1)
    rows = measured.lines
    assert rows[0].startswith("### ") and "stream entries" in rows[0]
    table = [r for r in rows if r.startswith("| ") and not r.startswith("| operation")]
    assert len(table) == 10  # 2 floors, the runbook's 6 pipelines, pytest, the pipelines' sum
    runbook = table[-1].split("|")
    assert runbook[1].strip().startswith("runbook s.2 + s.5") and float(runbook[2]) > 0
    pytest_row = table[-2].split("|")
    assert pytest_row[1].strip().startswith("pytest -m preactivation")
    assert float(pytest_row[5]) > 0  # x the runbook's pipelines
    assert float(pytest_row[7]) >= float(pytest_row[6]) > 0  # peak RSS: largest, summed
    assert set(measured.runs) == {bench.PYTEST_ROW, "floor: redis-cli XRANGE > /dev/null"}
    bench.plot([measured], tmp_path / "results.png")
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")

    out = tmp_path / "results.md"
    bench.write_section("one", rows, out)
    bench.write_section("two", ["x"], out)
    bench.write_section("one", ["y"], out)
    assert out.read_text().count("## one") == 1 and "\ny\n" in out.read_text()
