"""Every command's --help speaks to the operator (issue 23): no module or class names, a
sentence for every option, its exit codes; rollback.py offers no activation-only option; the
demo lists every scenario with its summary."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from shadowgate import cli
from shadowgate.actions import activate, rollback
from shadowgate.config import Thresholds
from shadowgate.exitcodes import USAGE
from shadowgate.testbed import demo, drill, scenarios

STRATEGY_FLAGS = {"--approved-by", "--weight", "--confidence-cap", "--observation-hours"}
# Dotted words an operator meets outside the code: threshold keys, file and unit names, streams.
DOTTED_OK = {*Thresholds.load().keys(), "e.g", "trade.intent", "trade.closed"}
FILE_SUFFIXES = (
    ".py",
    ".sh",
    ".toml",
    ".env",
    ".service",
    ".md",
    ".json",
    ".jsonl",
    ".html",
    ".csv",
)


def _commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _commands(sub)


PARSERS = [
    *_commands(cli.build_parser()),
    activate.build_parser(),
    rollback.build_parser(),
    demo.build_parser(),
]
LEAVES = [
    p for p in PARSERS if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)
]


def by_prog(parsers: list[argparse.ArgumentParser]):
    return pytest.mark.parametrize("parser", parsers, ids=[p.prog for p in parsers])


@by_prog(PARSERS)
def test_help_names_no_module_class_or_design_document(parser):
    text = parser.format_help()
    dotted = set(re.findall(r"\b[A-Za-z_]+\.[A-Za-z_]+\b", text))
    internal = {d for d in dotted if d not in DOTTED_OK and not d.endswith(FILE_SUFFIXES)}
    assert not internal, text
    assert not re.search(r"DESIGN|ARCHITECTURE|fixture|rollback_ready", text), text


@by_prog(PARSERS)
def test_every_option_and_argument_has_a_sentence(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            assert all(len((h or "").split()) >= 3 for h in helps.values()), helps
            continue
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings
        assert len(action.help.split()) >= 3, (action.option_strings, action.help)


@by_prog(LEAVES)
def test_every_command_ends_with_its_exit_codes(parser):
    said = " ".join(parser.format_help().split())
    assert re.search(r"Exit codes: 0 .+; 1 .+; (2 .+; )?4 a usage error\.$", said), said


def test_rollback_offers_no_activation_only_option():
    flags = {flag for a in rollback.build_parser()._actions for flag in a.option_strings}
    assert not flags & STRATEGY_FLAGS
    assert {f for a in activate.build_parser()._actions for f in a.option_strings} >= STRATEGY_FLAGS
    assert "--approved-by" not in rollback.build_parser().format_help()


def test_rollback_refuses_an_activation_only_option_as_a_usage_error(capsys):
    with pytest.raises(SystemExit) as done:
        rollback.main(["--weight=10"])
    assert done.value.code == USAGE
    assert "unrecognized arguments: --weight=10" in capsys.readouterr().err


def test_the_monitor_help_says_what_it_shows_not_how_it_is_built():
    (monitor,) = [p for p in PARSERS if p.prog == "shadowgate monitor"]
    text = " ".join(monitor.format_help().split())
    assert "StreamReader" not in text and "unit_state" not in text
    assert "the stop conditions S1-S4" in text


def test_demo_help_lists_every_scenario_with_its_summary():
    text = demo.build_parser().format_help()
    said = " ".join(text.split())
    assert "usage: ./demo" in text
    for name, scenario in scenarios.SCENARIOS.items():
        assert re.search(rf"^  {name} ", text, re.MULTILINE), name
        assert f"{name} {' '.join(scenario.summary.split())}" in said, name
    for name in drill.DRILL_SCENARIOS:
        assert re.search(rf"{name} [^\[]*\[--drill plays it\]", said), name
