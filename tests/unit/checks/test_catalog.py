"""The check catalog and the live suite agree: collected as an operator's run collects it,
every check test names a catalog ID, runs in exactly its catalog phases and calls one rule
by name; every threshold key a row names exists in thresholds.toml (the rule reads no other:
tests/unit/checks/test_limits.py)."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from shadowgate.checks import catalog, row
from shadowgate.config import Thresholds
from shadowgate.report import render, windows
from shadowgate.testbed import demo
from tests.support import children
from tests.support.paths import REPO

LIVE_PATHS = ("blockers", "gates", "postactivation")
# Catalog IDs whose rule no test in tests/*/checks/ calls yet; a new ID must come with a rule
# test or be named here (and leave once it has one).
WITHOUT_RULE_TEST: frozenset[str] = frozenset()
COLLECT = """
import json, sys, pytest
from shadowgate.plugin.collection import check_of

class Grab:
    items, markers = [], []

    def pytest_collection_finish(self, session):
        Grab.markers = session.config.getini("markers")
        Grab.items = [
            {"name": i.name, "path": str(i.path), "markers": [m.name for m in i.iter_markers()],
             "check": check_of(i) and check_of(i).id}
            for i in session.items
        ]

args = ["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]]
code = pytest.main(args, plugins=[Grab()])
print("COLLECTED " + json.dumps({"items": Grab.items, "markers": Grab.markers}))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def live() -> dict:
    """The live suite as `pytest` collects it from the repo root (--strict-markers included)."""
    done = children.run([sys.executable, "-c", COLLECT, *LIVE_PATHS])
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("COLLECTED "))
    return json.loads(line.removeprefix("COLLECTED "))


@pytest.fixture(scope="module")
def tests_by_id(live: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in live["items"]:
        found.setdefault(item["check"], []).append(item)
    return found


def rule_of(item: dict) -> Callable:
    """The one function of shadowgate.checks the test names (`b.b3_payload_p95`)."""
    tree = ast.parse(Path(item["path"]).read_text())
    modules = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "shadowgate.checks"
        for alias in node.names
    }
    (test,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == item["name"]]
    named = {
        getattr(importlib.import_module(modules[n.value.id]), n.attr)
        for n in ast.walk(test)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
        if n.value.id in modules
    }
    rules = [f for f in named if inspect.isfunction(f)]
    assert len(rules) == 1, f"{item['name']} names {len(rules)} rules"
    return rules[0]


def test_catalog_rows_are_well_formed():
    assert len(set(catalog.ids())) == len(catalog.CHECKS)
    for check in catalog.CHECKS:
        assert check.title and check.section and check.phases, check
        assert set(check.phases) <= set(row.PHASES), check
    assert catalog.ids_of_phase("rollback_ready") == ("P6",)
    assert catalog.ids_of_kind("G") == ("G1", "G2", "G3", "G4")
    with pytest.raises(KeyError, match="'Z9' is not in the check catalog"):
        catalog.get("Z9")


def test_every_threshold_key_of_the_catalog_exists():
    known = set(Thresholds.load())
    for check in catalog.CHECKS:
        assert set(check.threshold_keys) <= known, check.id


def test_phase_markers_are_registered_once_from_the_catalog(live):
    names = [line.partition(":")[0] for line in live["markers"]]
    for phase, meaning in row.PHASES.items():
        assert names.count(phase) == 1, names
        assert f"{phase}: {meaning}" in live["markers"]


def test_every_live_test_names_a_catalog_check(live):
    assert live["items"]
    for item in live["items"]:
        assert item["check"] in catalog.ids(), item["name"]


def test_every_catalog_id_has_exactly_one_test(tests_by_id):
    counts = {check_id: len(tests_by_id.get(check_id, [])) for check_id in catalog.ids()}
    assert counts == dict.fromkeys(catalog.ids(), 1)


def test_each_test_runs_in_exactly_its_catalog_phases(tests_by_id):
    for check_id, (item,) in tests_by_id.items():
        phases = set(item["markers"]) & set(row.PHASES)
        assert phases == set(catalog.get(check_id).phases), item["name"]


def test_each_rule_has_a_rule_test(tests_by_id):
    folders = ("unit/checks", "integration/checks", "support")
    text = "".join(p.read_text() for f in folders for p in (REPO / "tests" / f).glob("*.py"))
    tested = {i for i, (item,) in tests_by_id.items() if f".{rule_of(item).__name__}(" in text}
    assert set(catalog.ids()) - tested == WITHOUT_RULE_TEST


def test_ids_named_by_the_report_and_the_demo_are_catalog_ids():
    rows = render.PRE_ACTIVATION_ROWS + render.HARD_BLOCKER_ROWS
    named = {i for _, ids in rows for i in ids or ()} | set(demo.NO_SYSTEMD_ROWS)
    named |= {i for _, _, ids in render.POST_ACTIVATION_ROWS for i in ids}
    named |= {i for _, _, answers in windows.OBSERVATIONS for _, i in answers}
    assert named <= set(catalog.ids())
    assert {p for _, p, _ in render.POST_ACTIVATION_ROWS} <= set(row.PHASES)
    assert {p for _, phases, _ in windows.OBSERVATIONS for p in phases} <= set(row.PHASES)
