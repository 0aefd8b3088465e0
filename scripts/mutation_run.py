"""Mutation run of the rules (scripts/mutation): mutmut with the project's operator set, then the
score per file and the surviving mutants.

mutmut's own operator set also rewrites string literals, drops call arguments and assigns None;
on rule code those are mostly message-text noise. The run here replaces it with the changes that
move a verdict: comparison edges (< <=, > >=, == !=, is / is not, in / not in), and <-> or,
dropping `not`, True <-> False, number +1 and -1, min <-> max, `*` <-> `/` and `+` <-> `-`.
Which files and which tests are in [tool.mutmut] of pyproject.toml; this module is also the
pytest plugin there that keeps the fast tests only. Run from the repo root:

    python scripts/mutation_run.py [--jobs N]      # a fresh run, then the report
    python scripts/mutation_run.py --report        # the report of the last run in mutants/
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path

import libcst as cst
from mutmut.mutation import mutators

DETECTED = {"killed", "timeout", "caught by type check", "segfault"}
# the tests that boot the systemd box (the slow ones): never run against a mutant
BOX_FIXTURES = {"systemd_box", "box", "box_host", "engine_unit"}


def pytest_collection_modifyitems(config, items) -> None:
    """Loaded with `-p scripts.mutation_run` ([tool.mutmut] pytest_add_cli_args): keeps the fast
    tests only, dropping any that uses a box fixture (directly or through another fixture) or
    carries the `systemd` mark; whole slow files are --ignore'd in [tool.mutmut] as well."""
    slow = [
        i for i in items if BOX_FIXTURES & set(i.fixturenames) or i.get_closest_marker("systemd")
    ]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [i for i in items if i not in slow]


_EDGES = {
    cst.LessThan: cst.LessThanEqual,
    cst.LessThanEqual: cst.LessThan,
    cst.GreaterThan: cst.GreaterThanEqual,
    cst.GreaterThanEqual: cst.GreaterThan,
    cst.Equal: cst.NotEqual,
    cst.NotEqual: cst.Equal,
    cst.Is: cst.IsNot,
    cst.IsNot: cst.Is,
    cst.In: cst.NotIn,
    cst.NotIn: cst.In,
}


def comparison_edge(node: cst.ComparisonTarget):
    swapped = _EDGES.get(type(node.operator))
    if swapped:
        yield node.with_changes(operator=swapped())


def and_or(node: cst.BooleanOperation):
    yield node.with_changes(operator=cst.Or() if isinstance(node.operator, cst.And) else cst.And())


def drop_not(node: cst.UnaryOperation):
    if isinstance(node.operator, cst.Not):
        yield node.expression


def true_false(node: cst.Name):
    if node.value in ("True", "False"):
        yield node.with_changes(value="False" if node.value == "True" else "True")


def _number(value: int | float) -> cst.BaseExpression:
    if value < 0:
        return cst.UnaryOperation(operator=cst.Minus(), expression=_number(-value))
    return cst.Integer(repr(value)) if isinstance(value, int) else cst.Float(repr(value))


def plus_minus_one(node: cst.BaseNumber):
    if isinstance(node, cst.Integer | cst.Float):
        value = node.evaluated_value
        for changed in (value + 1, value - 1):
            if changed == changed and abs(changed) != float("inf"):  # not nan, not inf
                yield _number(changed)


_ARITHMETIC = {
    cst.Multiply: cst.Divide,
    cst.Divide: cst.Multiply,
    cst.Add: cst.Subtract,
    cst.Subtract: cst.Add,
}
_TEXT = (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)


def arithmetic(node: cst.BinaryOperation):
    """`*` <-> `/`, `+` <-> `-`: a span written in the wrong unit, a ratio turned upside down.
    Not on text: `"a" + b` -> `"a" - b` only raises, a mutant no test needs to kill."""
    swapped = _ARITHMETIC.get(type(node.operator))
    if swapped and not isinstance(node.left, _TEXT) and not isinstance(node.right, _TEXT):
        yield node.with_changes(operator=swapped())


def min_max(node: cst.Call):
    if isinstance(node.func, cst.Name) and node.func.value in ("min", "max"):
        other = "max" if node.func.value == "min" else "min"
        yield node.with_changes(func=node.func.with_changes(value=other))


OPERATORS = [
    (cst.ComparisonTarget, comparison_edge),
    (cst.BooleanOperation, and_or),
    (cst.UnaryOperation, drop_not),
    (cst.Name, true_false),
    (cst.BaseNumber, plus_minus_one),
    (cst.Call, min_max),
    (cst.BinaryOperation, arithmetic),
]


def run_mutmut(jobs: int) -> int:
    """A fresh mutmut run (mutants/ rebuilt), OPERATORS in place of mutmut's set: its exit code."""
    # file_mutation imported this very list: replacing its items swaps the operators everywhere,
    # including in the forked workers that write the mutants
    mutators.mutation_operators[:] = OPERATORS
    from mutmut.__main__ import cli

    shutil.rmtree("mutants", ignore_errors=True)
    try:
        cli(["run", "--max-children", str(jobs)], standalone_mode=False)
    except SystemExit as stop:
        if stop.code not in (None, 0):
            return int(stop.code) if isinstance(stop.code, int) else 1
    return 0


def _function_start_lines(source: str) -> dict[str, int]:
    """mutmut's key of each function (x_name, xǁClassǁname) -> line of its `def`."""
    starts: dict[str, int] = {}

    def visit(body, cls: str | None) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                key = f"xǁ{cls}ǁ{node.name}" if cls else f"x_{node.name}"
                starts[key] = node.lineno
            elif isinstance(node, ast.ClassDef):
                visit(node.body, node.name if cls is None else f"{cls}.{node.name}")

    visit(ast.parse(source).body, None)
    return starts


def _change(name: str, path: Path, source: str) -> tuple[int | None, str]:
    """(line in the source file, `old -> new`) of one mutant."""
    from mutmut.mutation.diff_apply import (
        read_functions_from_index,
        read_mutant_function,
        read_mutants_module,
        read_original_function,
    )

    functions = read_functions_from_index(name, path)
    if functions is None:
        module = read_mutants_module(path)
        functions = (read_original_function(module, name), read_mutant_function(module, name))
    # the functions as written, without the comments above them
    orig, mutant = (
        cst.Module([f.with_changes(leading_lines=[])]).code.splitlines() for f in functions
    )
    key = name.rsplit(".", 1)[-1].split("__mutmut_")[0]
    start = _function_start_lines(source).get(key)
    for i, (a, b) in enumerate(zip(orig, mutant, strict=False)):
        if a != b:
            if orig[0].lstrip().startswith("@"):  # decorators: the def is further down
                i -= next(j for j, line in enumerate(orig) if not line.lstrip().startswith("@"))
            return (start + i if start else None), _short(a, b)
    return start, "(no textual change)"


def _short(a: str, b: str) -> str:
    """The changed part of a line pair, with a little context either side."""
    a, b = a.strip(), b.strip()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    blocks = matcher.get_matching_blocks()
    head = blocks[0].size if blocks and blocks[0].a == 0 and blocks[0].b == 0 else 0
    tail = 0
    while tail < min(len(a), len(b)) - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    lo = max(0, head - 30)
    if lo and " " in a[lo:head]:  # start the context at a word
        lo = a.index(" ", lo, head) + 1
    old, new = a[lo : len(a) - tail], b[lo : len(b) - tail]
    end = a[len(a) - tail :][:25]
    return f"{'…' if lo else ''}{old}{end}  ->  {new}{end}"


def report() -> int:
    from mutmut.__main__ import walk_mutatable_files
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code

    rows = []
    survivors: dict[str, list[str]] = defaultdict(list)
    total = Counter()
    for path in sorted(walk_mutatable_files()):
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key:
            continue
        source = Path(path).read_text()
        counts = Counter()
        for name, code in data.exit_code_by_key.items():
            status = status_by_exit_code[code]
            counts["detected" if status in DETECTED else status] += 1
            if status in DETECTED:
                continue
            line, change = _change(name, Path(path), source)
            function = name.rsplit(".", 1)[-1].split("__mutmut_")[0]
            function = re.sub(r"^x_|^xǁ", "", function).replace("ǁ", ".")
            note = "" if status == "survived" else f"  [{status}]"
            survivors[str(path)].append(f"{path}:{line} {function}: {change}{note}")
        n = sum(counts.values())
        rows.append((str(path), counts["detected"], n, counts))
        total += counts
    if not rows:
        print("no mutation results in mutants/: run scripts/mutation first", file=sys.stderr)
        return 1

    def score(killed: int, n: int) -> str:
        return f"{killed:5d} / {n:<5d} {100 * killed / n:5.1f}%" if n else "    - / 0"

    width = max(len(r[0]) for r in rows)
    print("\nmutation score (killed / mutants, against the fast tests)")
    groups: dict[str, Counter] = defaultdict(Counter)
    for path, killed, n, counts in rows:
        other = {k: v for k, v in counts.items() if k not in ("detected", "survived")}
        extra = "  " + ", ".join(f"{v} {k}" for k, v in sorted(other.items())) if other else ""
        print(f"  {path:<{width}}  {score(killed, n)}{extra}")
        group = "shadowgate/checks/" if "/checks/" in path else "metrics + trades + votes"
        groups[group]["killed"] += killed
        groups[group]["n"] += n
    for group, c in groups.items():
        print(f"  {group + ' overall':<{width}}  {score(c['killed'], c['n'])}")
    n_all = sum(total.values())
    print(f"  {'all':<{width}}  {score(total['detected'], n_all)}")

    if total["not checked"]:
        print(f"  ({total['not checked']} mutants not checked: the run was cut short)")
    print("\nsurviving mutants (file:line function: original -> mutant):")
    for path in sorted(survivors):
        for line in sorted(survivors[path], key=_by_line):
            print(f"  {line}")
    if not survivors:
        print("  none")
    return 0


def _by_line(text: str) -> int:
    match = re.match(r"[^:]+:(\d+)", text)
    return int(match.group(1)) if match else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")))
    parser.add_argument("--report", action="store_true", help="only report the last run")
    args = parser.parse_args()
    if not args.report and (code := run_mutmut(args.jobs)):
        print(f"mutmut stopped (exit {code}): no score; see its output above", file=sys.stderr)
        return code
    return report()


if __name__ == "__main__":
    sys.exit(main())
