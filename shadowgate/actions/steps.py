"""An action's steps, each with its wall time and result, and the action record they end in.

The record is what the windows read T+0 from (evidence.anchors): `action`, `started_at`,
`restarted_at` (ISO-8601 UTC to the microsecond), `invocation_id`, `target`, `run_id`, plus
who, why and every step; an activation's `strategy` is what the later phases judge by. It is
appended as soon as the engine has been changed and restarted, before the verification suite,
so a window run that starts meanwhile finds its T+0.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def iso_us(moment: datetime) -> str:
    """2026-11-26T06:30:00.123456Z: to the microsecond, as anchors read it."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class StepFailed(RuntimeError):
    """A step did not do what it must; the steps after it were not run."""


@dataclass
class StepLog:
    """The steps run so far, printed as they end; `say` is where the operator reads them."""

    say: Callable[[str], None] = print
    steps: list[dict[str, Any]] = field(default_factory=list)

    def run(self, name: str, do: Callable[[], T], describe: Callable[[T], str] = str) -> T:
        """Run one step, timed; a failure is recorded and raised as StepFailed."""
        began, start = datetime.now(UTC), time.monotonic()
        try:
            result = do()
        except Exception as exc:
            self._add(name, began, start, False, str(exc))
            raise StepFailed(f"{name}: {exc}") from exc
        self._add(name, began, start, True, describe(result))
        return result

    def _add(self, name: str, began: datetime, start: float, ok: bool, detail: str) -> None:
        seconds = round(time.monotonic() - start, 6)
        self.steps.append(
            {
                "step": name,
                "started_at": iso_us(began),
                "seconds": seconds,
                "ok": ok,
                "detail": detail,
            }
        )
        mark = "ok  " if ok else "FAIL"
        self.say(f"  [{mark}] {name:<26} {seconds:7.3f} s  {detail}")


def action_record(
    kind: str,
    run_id: str,
    started: datetime,
    target: Mapping[str, Any],
    steps: StepLog,
    restarted_at: datetime | None,
    invocation_id: str | None,
    **fields: Any,
) -> dict[str, Any]:
    """The record in anchors' format, plus `fields` (who, why, the backup, the arming run)."""
    return {
        "run_id": run_id,
        "action": kind,
        "started_at": iso_us(started),
        "restarted_at": iso_us(restarted_at) if restarted_at else None,
        "invocation_id": invocation_id,
        "target": dict(target),
        "finished_at": iso_us(datetime.now(UTC)),
        "steps": list(steps.steps),
        **fields,
    }
