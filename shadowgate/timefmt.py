"""Durations as the runbook says them, so a window, an age and a limit read alike everywhere."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """`24 h`, `30 min`, `1 h 30 min`, `4 min 12 s`, `45 s` (sign dropped: callers say
    "ago" or "in the future"); zero parts are left out, whole seconds rounded."""
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    parts.append(f"{secs} s" if secs or not (hours or minutes) else "")
    return " ".join(p for p in parts if p)
