"""Thread-safe batch progress: counts, active files, elapsed time and ETA.

The core updates it; only the CLI draws it (snapshots are plain data).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vpo.workflow.result import FileResult, FileStatus


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    """A consistent view of the batch at one instant."""

    total: int | None
    completed: int
    failed: int
    skipped: int
    active: tuple[Path, ...]
    elapsed: float
    eta: float | None
    details: Mapping[Path, str] = field(default_factory=dict)  # e.g. encode progress

    def line(self) -> str:
        """``Processing: 3/10 files [2 active, 1 failed] 0:12 elapsed, ETA 0:40``."""
        total = "?" if self.total is None else str(self.total)
        parts = [f"{len(self.active)} active"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        eta = f", ETA {format_duration(self.eta)}" if self.eta is not None else ""
        return (
            f"Processing: {self.completed}/{total} files [{', '.join(parts)}] "
            f"{format_duration(self.elapsed)} elapsed{eta}"
        )


class ProgressTracker:
    """Counts files as workers start and finish them; safe to call from any thread."""

    def __init__(self, total: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._total = total
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._active: dict[Path, float] = {}
        self._details: dict[Path, str] = {}
        self._completed = 0
        self._failed = 0
        self._skipped = 0
        self._busy_seconds = 0.0  # summed wall time of finished files

    def set_total(self, total: int) -> None:
        with self._lock:
            self._total = total

    def start_file(self, path: Path) -> None:
        with self._lock:
            self._active[path] = self._clock()

    def set_detail(self, path: Path, text: str) -> None:
        """What an active file is doing right now (shown beside its name)."""
        with self._lock:
            if path in self._active:
                self._details[path] = text

    def finish_file(self, result: FileResult) -> None:
        with self._lock:
            self._details.pop(result.path, None)
            started = self._active.pop(result.path, None)
            if started is not None:
                self._busy_seconds += self._clock() - started
            self._completed += 1
            if result.status is FileStatus.FAILED:
                self._failed += 1
            elif result.status is FileStatus.SKIPPED:
                self._skipped += 1

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            elapsed = self._clock() - self._started
            eta = None
            if self._total is not None and self._completed > 0:
                remaining = max(0, self._total - self._completed)
                eta = elapsed / self._completed * remaining
            return ProgressSnapshot(
                total=self._total,
                completed=self._completed,
                failed=self._failed,
                skipped=self._skipped,
                active=tuple(self._active),
                elapsed=elapsed,
                eta=eta,
                details=dict(self._details),
            )


def format_duration(seconds: float) -> str:
    """``0:07``, ``12:34``, ``1:02:03``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
