"""The pure part of watching: which names count, and when a file has settled.

No I/O here: the watcher passes in stat results and clock readings.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vpo.library.records import StatKey

TEMP_MARK = ".vpo-"  # every temp, journal and backup name vpo writes contains it


@dataclass(frozen=True, slots=True)
class WatchFolder:
    """One watched folder and the policy (a name in policy_dir or a path) for its files."""

    path: Path
    policy: str


def parse_folder(entry: str, default_policy: str | None) -> WatchFolder:
    """``"DIR"`` (uses ``default_policy``) or ``"DIR=POLICY"``; ValueError with one line."""
    folder, sep, policy = entry.partition("=")
    folder, policy = folder.strip(), policy.strip()
    if not folder:
        raise ValueError(f"watch folder {entry!r} has no directory")
    if sep and not policy:
        raise ValueError(f"watch folder {entry!r}: nothing after '='")
    chosen = policy or default_policy
    if not chosen:
        raise ValueError(
            f"watch folder {folder!r} has no policy: write {folder}=POLICY or set [watch] policy"
        )
    return WatchFolder(Path(folder).expanduser(), chosen)


@dataclass(frozen=True, slots=True)
class NameFilter:
    """Media extensions, then include globs (any must match, when given), then exclude globs.

    Globs match the file name and the path relative to the watched folder.
    """

    extensions: frozenset[str]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def wanted(self, path: Path, folder: Path) -> bool:
        name = path.name
        if TEMP_MARK in name or name.startswith("."):
            return False
        if path.suffix.lower().lstrip(".") not in self.extensions:
            return False
        try:
            relative = path.relative_to(folder).as_posix()
        except ValueError:
            relative = name
        if self.include and not _any_match((name, relative), self.include):
            return False
        return not _any_match((name, relative), self.exclude)

    def ignored_dir(self, path: Path) -> bool:
        """vpo's own temp folders and hidden folders are not walked."""
        return TEMP_MARK in path.name or path.name.startswith(".")


def _any_match(names: Iterable[str], globs: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, glob) for name in names for glob in globs)


@dataclass(slots=True)
class _Pending:
    last_event: float  # monotonic
    seen: StatKey | None = None  # the stat at the previous sweep


@dataclass(slots=True)
class Settler:
    """Coalesces events per path; a path is due when nothing happened to it for
    ``stable_seconds``, its stat did not change between two sweeps and its
    modification time is ``stable_seconds`` old (a share without events)."""

    stable_seconds: float
    _pending: dict[Path, _Pending] = field(default_factory=dict)

    def note(self, path: Path, now: float) -> None:
        entry = self._pending.get(path)
        if entry is None:
            self._pending[path] = _Pending(now)
        else:
            entry.last_event = now

    def __len__(self) -> int:
        return len(self._pending)

    def candidates(self, now: float) -> list[Path]:
        """Paths quiet for ``stable_seconds`` (the watcher stats these and calls ``settle``)."""
        return sorted(
            path
            for path, entry in self._pending.items()
            if now - entry.last_event >= self.stable_seconds
        )

    def settle(self, path: Path, key: StatKey | None, wall_now: float, now: float) -> bool:
        """True (and forgotten) when ``path`` is settled; ``key`` None: it is gone."""
        entry = self._pending.get(path)
        if entry is None:
            return False
        if key is None:
            del self._pending[path]
            return True
        if self.stable_seconds == 0:
            del self._pending[path]
            return True
        if entry.seen != key:
            if entry.seen is not None:
                entry.last_event = now  # it changed without an event (a network share)
            entry.seen = key
            return False
        if wall_now - key.mtime_ns / 1e9 < self.stable_seconds:
            return False
        del self._pending[path]
        return True
