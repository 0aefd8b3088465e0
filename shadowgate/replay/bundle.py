"""The replay bundle: what one run read, in one gzip'd JSON file beside its record, so the run
can be judged again from the archive (ARCHITECTURE.md "Replay").

The file is `<record stem>.bundle.json.gz`, one UTF-8 JSON object of format
`shadowgate-bundle/1`: the phase, Redis TIME at the read, the stream entries the run read (in
id order, fields as Redis returned them), the host commands the checks ran and their output
(journal queries apart), the env chain, thresholds (and which of them its `--set` gave),
strategy and target as the run used them.
Two additions let a replay answer exactly as the live host did: `redis` holds every Redis reply
in call order (a stream that grew during the run reads back as it was at each read), and each
host command's output is kept with the command that produced it.

Redis bytes are kept as text decoded with `surrogateescape`, so an entry that is not UTF-8 reads
back byte for byte (JSON escapes the odd bytes; orjson refuses them, hence the json module).
Nothing secret is written: the capture scrubs before this module sees anything.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shadowgate.evidence import disk

FORMAT = "shadowgate-bundle/1"
SUFFIX = ".bundle.json.gz"

Fields = dict[str, str]
Entry = tuple[str, Fields]  # (entry id, fields), both as text (`text_of`)
Call = tuple[Any, ...]  # a command and its arguments, e.g. ("XRANGE", key, lo, hi, count)


class BundleError(ValueError):
    """A bundle cannot be read or used; the message names the file and what is wrong."""


def text_of(raw: bytes) -> str:
    """Bytes from Redis or a host command as bundle text: UTF-8, odd bytes kept."""
    return raw.decode("utf-8", "surrogateescape")


def raw_of(text: str) -> bytes:
    """The bytes `text_of` was given."""
    return text.encode("utf-8", "surrogateescape")


def bundle_path(record_path: Path) -> Path:
    """The bundle beside a record: `<record stem>.bundle.json.gz`."""
    return record_path.with_name(record_path.stem + SUFFIX)


@dataclass(frozen=True)
class Bundle:
    """One run's reads. `redis_time` is Redis TIME (seconds, microseconds) at the run's first
    read: its "now". `redis` is every Redis reply in call order, as (call, reply) where an
    XRANGE/XREVRANGE reply is the list of entry ids (their fields are in `streams`); `host` and
    `journal` hold (call, result) pairs of the commands run on the engine's host."""

    phase: str = ""
    redis_time: tuple[int, int] | None = None
    streams: Mapping[str, list[Entry]] = field(default_factory=dict)
    redis: list[tuple[Call, Any]] = field(default_factory=list)
    host: Mapping[str, Any] = field(default_factory=dict)
    journal: list[Any] = field(default_factory=list)
    env_chain: Mapping[str, Any] = field(default_factory=dict)
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # the run's --set, in thresholds
    strategy: Mapping[str, Any] = field(default_factory=dict)
    target: Mapping[str, Any] = field(default_factory=dict)

    @property
    def now_ms(self) -> int | None:
        """Redis TIME at the read in ms (the stream ids' clock); None when not captured."""
        if self.redis_time is None:
            return None
        seconds, micros = self.redis_time
        return seconds * 1000 + micros // 1000

    def entries(self, key: str) -> list[Entry]:
        """The captured entries of stream `key` in id order; [] when none was read."""
        return list(self.streams.get(key, ()))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "phase": self.phase,
            "captured_at": {"redis_time": list(self.redis_time) if self.redis_time else None},
            "streams": {k: [[i, f] for i, f in v] for k, v in self.streams.items()},
            "redis": [[list(call), reply] for call, reply in self.redis],
            "host": dict(self.host),
            "journal": list(self.journal),
            "env_chain": dict(self.env_chain),
            "thresholds": dict(self.thresholds),
            "overrides": dict(self.overrides),
            "strategy": dict(self.strategy),
            "target": dict(self.target),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], origin: str = "bundle") -> Bundle:
        """A Bundle from its JSON object; BundleError when it is not one of this format."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            got = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise BundleError(f"{origin} is not a {FORMAT} bundle (format {got!r})")
        try:
            at = (data.get("captured_at") or {}).get("redis_time")
            return cls(
                phase=str(data.get("phase", "")),
                redis_time=(int(at[0]), int(at[1])) if at else None,
                streams={
                    str(k): [(str(i), dict(f)) for i, f in v]
                    for k, v in (data.get("streams") or {}).items()
                },
                redis=[(tuple(call), reply) for call, reply in data.get("redis") or []],
                host=dict(data.get("host") or {}),
                journal=list(data.get("journal") or []),
                env_chain=dict(data.get("env_chain") or {}),
                thresholds=dict(data.get("thresholds") or {}),
                overrides=dict(data.get("overrides") or {}),
                strategy=dict(data.get("strategy") or {}),
                target=dict(data.get("target") or {}),
            )
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise BundleError(f"{origin} is malformed: {type(exc).__name__}: {exc}") from None


def encode(bundle: Bundle) -> bytes:
    """The file's bytes: gzip (no timestamp, so equal bundles are equal files) of the JSON."""
    text = json.dumps(bundle.to_json(), ensure_ascii=True, separators=(",", ":"))
    return gzip.compress(text.encode("ascii"), compresslevel=6, mtime=0)


def decode(data: bytes, origin: str = "bundle") -> Bundle:
    try:
        obj = json.loads(gzip.decompress(data))
    except (OSError, EOFError, ValueError) as exc:  # BadGzipFile is an OSError
        raise BundleError(f"{origin} is not a gzip'd JSON bundle: {exc}") from None
    return Bundle.from_json(obj, origin)


def write(path: Path, bundle: Bundle) -> str:
    """Write `bundle` at `path` (whole or absent, never through a symlink); its sha256."""
    data = encode(bundle)
    disk.write_atomic(path, data)
    return disk.sha256(data)


def read(path: Path) -> Bundle:
    """The bundle at `path`; BundleError when it cannot be read or is not a bundle."""
    return read_with_digest(path)[0]


def read_with_digest(path: Path) -> tuple[Bundle, str]:
    """The bundle at `path` and its file's sha256, from one read (never through a symlink);
    BundleError when it cannot be read or is not a bundle."""
    try:
        data = disk.read_file(path)
    except OSError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc.strerror or exc}") from None
    except disk.EvidenceError as exc:
        raise BundleError(f"cannot read bundle {path}: {exc}") from None
    return decode(data, str(path)), disk.sha256(data)


def read_all(path: Path) -> list[Bundle]:
    """A bundle file, or every `*.bundle.json.gz` of a directory in name order (a history)."""
    if path.is_dir():
        return [read(p) for p in sorted(path.glob("*" + SUFFIX))]
    return [read(path)]


def merged_streams(bundles: Iterable[Bundle]) -> dict[str, list[Entry]]:
    """Every stream's entries over several bundles, each id once, in id order."""
    merged: dict[str, dict[str, Fields]] = {}
    for bundle in bundles:
        for key, entries in bundle.streams.items():
            merged.setdefault(key, {}).update(entries)
    return {k: sorted(v.items(), key=lambda e: id_key(e[0])) for k, v in merged.items()}


def id_key(entry_id: str) -> tuple[int, int]:
    """A stream entry id as what orders it: (ms, seq)."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
