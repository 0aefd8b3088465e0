"""Thin root conftest: every check and self-test stands on the shadowgate plugin; recorded
runs get the decision-log report."""

pytest_plugins = ["shadowgate.plugin"]
