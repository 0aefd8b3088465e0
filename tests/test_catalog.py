"""The check catalog and the live suite agree: collected as an operator's run collects it,
every check test carries a catalog ID, runs in exactly its catalog phases and calls one rule
by name, whose threshold keys are the catalog's and exist in thresholds.toml."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from shadowgate.checks import catalog
from shadowgate.config import Thresholds
from shadowgate.plugin.judge import check_id_of
from shadowgate.report import render, windows
from shadowgate.testbed import demo

REPO = Path(__file__).resolve().parent.parent
LIVE_PATHS = ("blockers", "gates", "postactivation")
# Catalog IDs whose rule no tests/test_checks_*.py calls yet; a new ID must come with a rule
# test or be named here (and leave once it has one).
WITHOUT_RULE_TEST: frozenset[str] = frozenset()
COLLECT = """
import json, sys, pytest

class Grab:
    items, markers = [], []

    def pytest_collection_finish(self, session):
        Grab.markers = session.config.getini("markers")
        Grab.items = [
            {"name": i.name, "path": str(i.path), "markers": [m.name for m in i.iter_markers()]}
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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHADOWGATE_", "PYTEST_"))}
    done = subprocess.run(
        [sys.executable, "-c", COLLECT, *LIVE_PATHS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("COLLECTED "))
    return json.loads(line.removeprefix("COLLECTED "))


@pytest.fixture(scope="module")
def tests_by_id(live: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for item in live["items"]:
        found.setdefault(check_id_of(item["name"]), []).append(item)
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


def keys_read(rule: Callable, seen: set[Callable] | None = None) -> set[str]:
    """The threshold keys written out in the rule's body and in the helpers of
    shadowgate.checks it calls by name (the stream guard reads its keys for every rule)."""
    seen = set() if seen is None else seen
    seen.add(rule)
    known = set(Thresholds.load())
    tree = ast.parse(inspect.getsource(rule))
    keys = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in known}
    for node in ast.walk(tree):
        helper = rule.__globals__.get(node.id) if isinstance(node, ast.Name) else None
        ours = inspect.isfunction(helper) and helper.__module__.startswith("shadowgate.checks")
        if ours and helper not in seen:
            keys |= keys_read(helper, seen)
    return keys


def test_catalog_rows_are_well_formed():
    assert len(set(catalog.ids())) == len(catalog.CHECKS)
    for check in catalog.CHECKS:
        assert check.title and check.section and check.phases, check
        assert set(check.phases) <= set(catalog.PHASES), check
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
    for phase, meaning in catalog.PHASES.items():
        assert names.count(phase) == 1, names
        assert f"{phase}: {meaning}" in live["markers"]


def test_every_test_carries_a_catalog_id(live):
    assert live["items"]
    for item in live["items"]:
        assert check_id_of(item["name"]) in catalog.ids(), item["name"]


def test_every_catalog_id_has_exactly_one_test(tests_by_id):
    counts = {check_id: len(tests_by_id.get(check_id, [])) for check_id in catalog.ids()}
    assert counts == dict.fromkeys(catalog.ids(), 1)


def test_each_test_runs_in_exactly_its_catalog_phases(tests_by_id):
    for check_id, (item,) in tests_by_id.items():
        phases = set(item["markers"]) & set(catalog.PHASES)
        assert phases == set(catalog.get(check_id).phases), item["name"]


def test_each_test_calls_one_rule_reading_the_catalog_threshold_keys(tests_by_id):
    for check_id, (item,) in tests_by_id.items():
        rule = rule_of(item)
        assert keys_read(rule) == set(catalog.get(check_id).threshold_keys), rule.__name__


def test_each_rule_has_a_rule_test(tests_by_id):
    text = "".join(p.read_text() for p in (REPO / "tests").glob("test_checks_*.py"))
    tested = {i for i, (item,) in tests_by_id.items() if f".{rule_of(item).__name__}(" in text}
    assert set(catalog.ids()) - tested == WITHOUT_RULE_TEST


def test_ids_named_by_the_report_and_the_demo_are_catalog_ids():
    rows = render.PRE_ACTIVATION_ROWS + render.HARD_BLOCKER_ROWS
    named = {i for _, ids in rows for i in ids or ()} | set(demo.NO_SYSTEMD_ROWS)
    named |= {i for _, _, ids in render.POST_ACTIVATION_ROWS for i in ids}
    named |= {i for _, _, answers in windows.OBSERVATIONS for _, i in answers}
    assert named <= set(catalog.ids())
    assert {p for _, p, _ in render.POST_ACTIVATION_ROWS} <= set(catalog.PHASES)
    assert {p for _, phases, _ in windows.OBSERVATIONS for p in phases} <= set(catalog.PHASES)
