"""``[paths] map``: how the coordinator's paths read on a (remote) worker.

Pure. Each entry is ``"FROM=TO"`` (every worker) or ``"WORKER:FROM=TO"`` (only the
Dask worker named, or started with the resource tag, ``WORKER``). FROM is a
prefix of the coordinator's paths, TO what the worker sees in its place; the
longest matching prefix wins, a worker's own entries before the shared ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from vpo.errors import ConfigError


@dataclass(frozen=True, slots=True)
class PathRule:
    source: str  # coordinator prefix, no trailing slash
    target: str  # worker prefix, no trailing slash
    worker: str | None = None  # None: every worker


@dataclass(frozen=True, slots=True)
class PathMap:
    rules: tuple[PathRule, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> PathMap:
        """The rules of ``[paths] map``; ConfigError naming a malformed entry."""
        return cls(tuple(_parse_rule(entry) for entry in entries))

    def for_worker(self, names: Sequence[str]) -> tuple[tuple[str, str], ...]:
        """(source, target) pairs that apply to a worker known by ``names`` (its
        name and its resource tags), most specific first."""
        own = [r for r in self.rules if r.worker is not None and r.worker in names]
        shared = [r for r in self.rules if r.worker is None]
        return tuple(
            (r.source, r.target)
            for group in (own, shared)
            for r in sorted(group, key=lambda r: len(r.source), reverse=True)
        )


def translate(path: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``path`` with the first matching source prefix replaced by its target."""
    for source, target in pairs:
        if path == source or path.startswith(source + "/") or source == "/":
            rest = path[len(source) :] if source != "/" else path
            return target + rest if rest.startswith("/") or not rest else f"{target}/{rest}"
    return path


def reverse(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The pairs that map a worker's paths back to the coordinator's."""
    return tuple(sorted(((t, s) for s, t in pairs), key=lambda pair: len(pair[0]), reverse=True))


def _parse_rule(entry: str) -> PathRule:
    worker: str | None = None
    text = entry.strip()
    if not text.startswith("/"):
        worker, sep, text = text.partition(":")
        if not sep or not worker:
            raise ConfigError(f"[paths] map: {entry!r} is not FROM=TO or WORKER:FROM=TO")
    source, sep, target = text.partition("=")
    source, target = source.strip(), target.strip()
    if not sep or not source.startswith("/") or not target.startswith("/"):
        raise ConfigError(
            f"[paths] map: {entry!r} is not FROM=TO or WORKER:FROM=TO with absolute paths"
        )
    return PathRule(_clean(source), _clean(target), worker)


def _clean(path: str) -> str:
    return str(PurePosixPath(path))
