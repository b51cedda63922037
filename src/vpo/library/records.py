"""Plain data that goes into and comes out of the library database.

Nothing here touches SQLite; these are the types the scan, the batch
coordinator and the report commands exchange with ``Library``.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from vpo.errors import FatalError
from vpo.media.model import MediaFile
from vpo.outcome import FileOutcome as FileOutcome  # the workflow's FileStatus, too


class LibraryError(FatalError):
    """The database cannot be opened, migrated or written: nothing is touched."""


class FileStatus(str, enum.Enum):
    """What the library knows about a file on disk."""

    OK = "ok"  # probed; the tracks are cached
    ERROR = "error"  # the last probe failed; ``last_error`` says why
    MISSING = "missing"  # it was in the library but has vanished from disk


class RunOutcome(str, enum.Enum):
    """How a processing run ended; RUNNING until ``finish_run`` (after a crash: until the
    next start finds its vpo gone and closes it as INTERRUPTED)."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"  # stopped because on_error said so
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class StatKey:
    """The identity a cache hit must match: same size, mtime, inode and ctime means same bytes.

    ``ctime_ns`` is there because no user tool can set it: an in-place header edit
    that restored the mtime (preserve_mtime) still changes it. None (a row written
    before schema 2) never matches.
    """

    size: int
    mtime_ns: int
    inode: int | None
    device: int | None
    ctime_ns: int | None

    def matches(self, other: StatKey) -> bool:
        """Same file content as far as a stat can tell (the device is not compared:
        it may change across reboots for network and removable filesystems)."""
        if self.ctime_ns is None or other.ctime_ns is None:
            return False
        return (self.size, self.mtime_ns, self.inode, self.ctime_ns) == (
            other.size,
            other.mtime_ns,
            other.inode,
            other.ctime_ns,
        )

    @classmethod
    def of(cls, info: os.stat_result) -> StatKey:
        return cls(info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev, info.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class FileState:
    """The library's row for one path, without its tracks (cheap to fetch per file)."""

    path: Path
    key: StatKey
    status: FileStatus
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ProbeFailure:
    """A file that exists but could not be probed; the key says which version failed."""

    path: Path
    key: StatKey
    error: str


@dataclass(frozen=True, slots=True)
class ProbedFile:
    """A fresh probe with the ctime of the stat taken before it: what the cache stores.

    ``ctime_ns`` None stores the tracks but never gives a cache hit.
    """

    media: MediaFile
    ctime_ns: int | None


@dataclass(frozen=True, slots=True)
class MovedFile:
    """A stored file renamed on disk; its row, tracks and history follow it.

    A rename changes the ctime, so the new one is stored (when the row had one).
    """

    old: Path
    new: Path
    ctime_ns: int | None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One file's result in one processing run, as the batch coordinator reports it.

    ``after`` must describe the file as it now is on disk (final path, size, mtime,
    inode) and ``after_ctime_ns`` be its ctime from a stat that matches those: it
    refreshes the cache so the next run needs no probe (None: stored, never a hit).
    Sizes and encode figures are None when unknown; ``bytes_saved`` is
    ``original_size`` minus the final size (positive = smaller).
    """

    path: Path
    outcome: FileOutcome
    plan_kind: str | None = None  # the heaviest PlanKind value over the phases
    tool: str | None = None  # tools used, comma-separated when several
    phase: str | None = None  # the phase(s) that ran, comma-separated
    before: MediaFile | None = None
    after: MediaFile | None = None
    changes: tuple[str, ...] = ()  # one human line per change ("audio 2: default on")
    bytes_written: int = 0
    seconds: float = 0.0
    error: str | None = None  # one line for FAILED, the reason for SKIPPED
    after_ctime_ns: int | None = None
    original_size: int | None = None
    bytes_saved: int | None = None
    encode_seconds: float | None = None  # wall time of the encode phase(s); None: no encode
    encode_speed: float | None = None  # seconds of media per second of encoding
    refresh_cache: bool = True  # False: ``after`` came from the cache, which is still right


@dataclass(frozen=True, slots=True)
class RunCounts:
    """Outcome counts of one run, written by ``finish_run``."""

    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_written: int = 0

    @property
    def total(self) -> int:
        return self.changed + self.unchanged + self.skipped + self.failed

    @classmethod
    def from_mapping(cls, counts: Mapping[str, int], bytes_written: int = 0) -> RunCounts:
        """Accepts BatchResult.counts (outcome value → count)."""
        return cls(
            changed=counts.get(FileOutcome.CHANGED.value, 0),
            unchanged=counts.get(FileOutcome.UNCHANGED.value, 0),
            skipped=counts.get(FileOutcome.SKIPPED.value, 0),
            failed=counts.get(FileOutcome.FAILED.value, 0),
            bytes_written=bytes_written,
        )


@dataclass(frozen=True, slots=True)
class RunRow:
    """One processing run as reports show it."""

    run_id: int
    batch_id: str
    policy_name: str | None
    policy_hash: str | None
    started_at: float
    finished_at: float | None
    workers: int
    outcome: RunOutcome
    counts: RunCounts
    bytes_saved: int | None = None  # sum over its records; None: recorded before schema 2

    @property
    def seconds(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True, slots=True)
class FileResultRow:
    """One per-file processing record joined with its run, as reports show it."""

    run_id: int
    batch_id: str
    policy_name: str | None
    recorded_at: float
    path: Path
    outcome: FileOutcome
    plan_kind: str | None
    tool: str | None
    phase: str | None
    before_summary: str | None
    after_summary: str | None
    changes: tuple[str, ...]
    bytes_written: int
    seconds: float
    error: str | None
    original_size: int | None = None  # None: unknown (recorded before schema 2)
    bytes_saved: int | None = None
    encode_seconds: float | None = None
    encode_speed: float | None = None


@dataclass(frozen=True, slots=True)
class LibraryTotals:
    """What ``vpo status`` shows: counts over the files currently in the library."""

    files: int
    total_bytes: int
    by_status: Mapping[str, int]
    by_container: Mapping[str, int]
    by_video_codec: Mapping[str, int]
    by_audio_language: Mapping[str, int]  # files having at least one audio track in it
    by_subtitle_language: Mapping[str, int]
    never_processed: int
    recent_runs: tuple[RunRow, ...]
    bytes_saved: int = 0  # over every processing record that knows it
    saved_by_policy: Mapping[str, int] = field(default_factory=dict)  # non-zero, largest first
