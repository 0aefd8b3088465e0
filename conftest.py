"""Thin root conftest: every check and self-test stands on the shadowgate plugin."""

pytest_plugins = ["shadowgate.plugin"]
