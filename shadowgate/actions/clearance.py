"""May this action run now? Every unmet condition, one line each, before anything is touched.

activate: the latest preactivation record of the same target and thresholds arms it (passed,
complete, fresh within --max-age, chain verified: evidence.last), the model file still has the
sha256 that record holds, the env file names that file, and --approved-by is given.
rollback: the latest record that ran the rollback_ready checks arms it
(evidence.rollback_armed), unless --break-glass with a --reason. Both: the env file edit must
be one systemd reads as intended (envedit), else nothing can be done safely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shadowgate import envedit, evidence
from shadowgate.actions.engine import Engine
from shadowgate.checks.hostfacts import MODEL_FACT
from shadowgate.envchain import edit_refusals
from shadowgate.envfile import parse_env
from shadowgate.evidence import lifecycle
from shadowgate.evidence.disk import sha256_file
from shadowgate.evidence.trust import check_reports_dir
from shadowgate.host import HostError
from shadowgate.settings import Settings

BREAK_GLASS_HINT = "in a real emergency: --break-glass --reason TEXT (recorded as such)"


@dataclass(frozen=True)
class Clearance:
    """What the clearance found: the reasons it refuses (empty: go), the record that armed the
    action (None: none did, or break-glass) and the edit the action will make."""

    refusals: list[str]
    armed_by: str | None
    edit: envedit.Edit | None


def _edit(
    settings: Settings, remove: bool, engine: Engine
) -> tuple[envedit.Edit | None, list[str]]:
    target = settings.target
    try:
        snapshot = envedit.read(Path(target.env_file))
        make = envedit.without_flag if remove else envedit.with_flag
        edit = make(snapshot, target.shadow_flag, target.model_path_key)
    except envedit.EnvEditError as exc:
        return None, [f"env file: {exc}"]
    return edit, _decides(engine, edit, settings, remove)


def _decides(engine: Engine, edit: envedit.Edit, settings: Settings, remove: bool) -> list[str]:
    """The edit reaches the engine: the env file decides in the whole chain (envchain)."""
    target = settings.target
    try:
        chain = engine.env_chain()
    except HostError as exc:
        return [f"cannot tell what systemd delivers to {target.unit}: {exc}"]
    after = parse_env(edit.text)
    flag, key = target.shadow_flag, target.model_path_key
    return edit_refusals(chain, target.env_file, after, flag, key, remove)


def _model(record: evidence.RunRecord, edit: envedit.Edit | None, key: str) -> list[str]:
    """The model file is the one the preactivation run observed (runbook s.4 step 4)."""
    model = record.facts.get(MODEL_FACT) or {}
    path, recorded = model.get("path"), model.get("sha256")
    if not path or not recorded:
        return [
            f"the preactivation record {record.run_id} holds no model file sha256 (P7 did "
            "not inspect the file): nothing to compare the file with"
        ]
    named = edit.before.env.systemd_value(key) if edit else None
    reasons = []
    if edit is not None and named != path:
        reasons.append(f"the env file names {key}={named!r}, the preactivation run observed {path}")
    try:
        now = sha256_file(Path(path))
    except OSError as exc:
        return [*reasons, f"the model file {path} cannot be read: {exc.strerror}"]
    if now != recorded:
        reasons.append(
            f"the model file {path} changed since the preactivation run (sha256 "
            f"{recorded[:12]}... in the record, {now[:12]}... now)"
        )
    return reasons


def _judged(
    settings: Settings, judge: Callable[[], evidence.LastRun | None]
) -> tuple[evidence.LastRun | None, str | None]:
    """The arming record, once what a killed append left is rolled forward (evidence.settle),
    or the one line saying why the decision log cannot be read or trusted (a symlinked lock, a
    log that is not a regular file, a reports dir another account may write): a refusal,
    never a traceback."""
    try:
        check_reports_dir(settings.reports_dir)
        evidence.settle(settings.reports_dir)
        return judge(), None
    except evidence.EvidenceError as exc:
        return None, f"decision log: {exc}"


def for_activation(
    settings: Settings, max_age_minutes: float, now: datetime | None, engine: Engine
) -> Clearance:
    edit, refusals = _edit(settings, remove=True, engine=engine)
    if not settings.strategy.approved_by:
        refusals.append("no --approved-by NAME: who approved the activation (runbook s.7)")
    found, unreadable = _judged(
        settings,
        lambda: evidence.last(
            settings.reports_dir,
            "preactivation",
            now=now,
            fresh_minutes=max_age_minutes,
            target=settings.target.describe(),
            thresholds_digest=settings.thresholds.digest(),
        ),
    )
    if unreadable:
        return Clearance([*refusals, unreadable], None, edit)
    if found is None:
        refusals.append(
            f"no preactivation record in {settings.reports_dir}: run "
            "`pytest -m preactivation` first"
        )
        return Clearance(refusals, None, edit)
    refusals += [f"preactivation record {found.record.run_id}: {r}" for r in found.reasons]
    refusals += _model(found.record, edit, settings.target.model_path_key)
    if not found.reasons:  # the GO arms by itself: does the lifecycle let it (ARMED)?
        refusals += _not_armed(settings, max_age_minutes, now)
    return Clearance(refusals, found.record.run_id, edit)


def _not_armed(settings: Settings, max_age_minutes: float, now: datetime | None) -> list[str]:
    """Activation runs only at ARMED (ARCHITECTURE.md "The lifecycle"): an activation in force, or a
    rollback or conclusion after the GO, leaves the GO arming nothing."""
    try:
        life = lifecycle.current(
            settings.reports_dir,
            now=now or datetime.now(UTC),
            target=settings.target.describe(),
            thresholds_digest=settings.thresholds.digest(),
            fresh_minutes=max_age_minutes,
        )
    except evidence.EvidenceError as exc:
        return [f"decision log: {exc}"]
    if life.state is lifecycle.State.ARMED:
        return []
    return [f"not ARMED: the state is {life.headline()}; next: {life.allowed}"]


def for_rollback(
    settings: Settings,
    max_age_minutes: float,
    now: datetime | None,
    break_glass: bool,
    engine: Engine,
) -> Clearance:
    edit, refusals = _edit(settings, remove=False, engine=engine)
    if break_glass:
        return Clearance(refusals, None, edit)
    found, unreadable = _judged(
        settings,
        lambda: evidence.rollback_armed(
            settings.reports_dir,
            target=settings.target.describe(),
            thresholds_digest=settings.thresholds.digest(),
            fresh_minutes=max_age_minutes,
            now=now,
        ),
    )
    if unreadable:
        return Clearance([*refusals, unreadable, BREAK_GLASS_HINT], None, edit)
    if found is None:
        refusals.append(
            f"no record in {settings.reports_dir} ran the rollback_ready checks: "
            "run `pytest -m rollback_ready`, or --break-glass --reason TEXT"
        )
        return Clearance(refusals, None, edit)
    refusals += [f"{found.what} {found.record.run_id}: {r}" for r in found.reasons]
    if refusals and found.reasons:
        refusals.append(BREAK_GLASS_HINT)
    return Clearance(refusals, found.record.run_id, edit)
