"""What the fuzz tests share: a stream that must fail, and the ONE adapter through which every
property test calls the rules (`verdicts_of`), so a change of the rules' signatures is adapted
here, once. Example budgets: tests/support/fuzz_profiles.py."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import fakeredis
import redis

from shadowgate import stream
from shadowgate.checks import blockers, gate_rules, preconditions
from shadowgate.config import Target, Thresholds
from shadowgate.dayscan import scan_stream
from shadowgate.envfile import EnvFile, parse_env
from shadowgate.outcomes import parse_outcome
from shadowgate.verdict import Status
from tests.support.entry_forms import engine_payload

# -- a stream on which every stream blocker and gate fails ---------------------------------

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the windows' read time
STEP_MS = 5 * 60_000
INTENTS = 300  # 25 h at one per 5 min: the 24 h window is covered and holds >= 200 events
FAILING = ("B1", "B2", "B3", "B6", "P3", "G1", "G2", "G3", "B5")
NEVER_PASSES = (Status.FAIL, Status.INCONCLUSIVE)
FLAG_ON = "PATCHTST_SHADOW_ONLY=true\nPATCHTST_MODEL_PATH=/opt/m.pth\n"
Entry = Mapping[Any, Any]


def failing_fields(k: int) -> dict[bytes, bytes]:
    """Intent k of the failing stream: every 10th a consensus of 4 with PatchTST (tagged
    shadow) siding with it (B1, B2, P3); the rest PatchTST BUY against an ensemble SELL (hard
    disagreement: B6, G3); always BUY at 0.60 (G1, G2); payloads padded past 1,500 bytes (B3).
    G1-G3 failing takes the quorum (B5) with them."""
    hit = k % 10 == 0
    side = "BUY" if hit else "SELL"
    payload = engine_payload(side=side, consensus=4 if hit else 3, patchtst=("BUY", 0.6))
    payload["debug"] = "p" * 1000
    return {b"source": b"ai-engine", b"payload": json.dumps(payload).encode()}


def failing_stream() -> list[tuple[int, Entry]]:
    """(ms, fields) of the failing stream, oldest first; the newest 10 s before NOW."""
    newest = NOW - 10_000
    return [(newest - (INTENTS - 1 - k) * STEP_MS, failing_fields(k)) for k in range(INTENTS)]


def mixed(
    base: Sequence[tuple[int, Entry]], extra: Sequence[tuple[int, Entry]]
) -> list[tuple[str, Entry]]:
    """`extra` entries, each placed right after the base entry at its index (mod the base's
    length), as ids <ms>-<seq> in stream order."""
    after: dict[int, list[Entry]] = {}
    for at, fields in extra:
        after.setdefault(at % len(base), []).append(fields)
    out = []
    for k, (ms, fields) in enumerate(base):
        out += [(f"{ms}-{seq}", f) for seq, f in enumerate([fields, *after.get(k, [])])]
    return out


def _raw(value: Any) -> bytes:
    """What Redis would store for a field name or value: bytes (text as UTF-8, lone surrogates
    kept; anything else as its JSON)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


def _client(
    server: redis.Redis, key: str, entries: Sequence[tuple[str, Entry]]
) -> stream.ReadOnlyRedis:
    """`server` holding just `entries` under `key`, behind the suite's read-only client."""
    server.delete(key)
    with server.pipeline(transaction=False) as pipe:
        for entry_id, fields in entries:
            raw = {_raw(name): _raw(value) for name, value in fields.items()}
            pipe.xadd(key, raw or {b"": b""}, id=entry_id)
        pipe.execute()
    return stream.ReadOnlyRedis(server, "redis://test/0")


# -- the one adapter -----------------------------------------------------------------------


def verdicts_of(
    intents: Sequence[tuple[str, Entry]],
    outcomes: Sequence[tuple[str, Entry]],
    target: Target,
    th: Thresholds,
    env: EnvFile | None = None,
    server: redis.Redis | None = None,
) -> dict[str, Status]:
    """Every stream rule of preactivation over these entries, read as the plugin reads them
    (the latest snapshot; the outcomes since the 24 h window's start; that window scanned in
    one pass, joined against them), by check ID. The entries are written to `server` (a
    throwaway redis-server: five times faster than the default, a fakeredis).

    THE place that knows the rules' signatures: adapt it when they change."""
    env = env or parse_env(FLAG_ON)
    server = server or fakeredis.FakeRedis(server=fakeredis.FakeServer())
    clock = lambda: NOW  # noqa: E731
    reader = stream.StreamReader(
        _client(server, target.stream, intents), target.stream, clock=clock
    )
    start = NOW - int(th.number("window.precondition_hours") * 3_600_000)
    snapshot = reader.latest(int(th["window.snapshot_count"]))
    closed = stream.StreamReader(
        _client(server, target.outcomes_stream, outcomes), target.outcomes_stream,
        parser=parse_outcome, clock=clock,
    ).window(start) if outcomes else None  # fmt: skip
    day = scan_stream(reader, start, target.breakdown_key, closed, gate_rules.join_window_ms(th))
    judged = gate_rules.GateVerdicts(day, closed, target, th).all()
    found = [
        blockers.b1_consensus_in_shadow(snapshot, target, th),
        blockers.b2_voting_while_flag_on(snapshot, env, target, th),
        blockers.b3_payload_p95(snapshot, th),
        blockers.b6_hard_disagreement(snapshot, target, th),
        preconditions.p3_no_full_consensus_24h(day, target, th),
        preconditions.p5_observation_long_enough(day, target, th, NOW),
        *judged,
        gate_rules.b5_quorum(judged, th),
    ]
    return {verdict.check_id: verdict.status for verdict in found}
