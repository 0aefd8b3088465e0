"""The samples of the windows' Prometheus textfile, as node_exporter would read them."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families


def samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A textfile's samples: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }


def states(path: Path) -> dict[str, float]:
    return {
        dict(labels)["state"]: value
        for (name, labels), value in samples(path).items()
        if name == "shadowgate_lifecycle_state"
    }
