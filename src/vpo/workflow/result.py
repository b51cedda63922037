"""Typed outcomes of processing one file, aggregated by the batch coordinator."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vpo.media.model import MediaFile
from vpo.outcome import FileOutcome

if TYPE_CHECKING:
    from vpo.policy.phases import FileEvaluation


FileStatus = FileOutcome  # what happened to one file: the library stores the same values


class PhaseStatus(str, enum.Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """One phase on one file."""

    phase: str
    status: PhaseStatus
    kind: str | None = None  # PlanKind value when a plan was made
    tool: str | None = None
    seconds: float = 0.0
    message: str | None = None
    changes: tuple[str, ...] = ()  # human summary of what changed, one entry per change
    original_size: int | None = None  # bytes before this phase changed the file
    bytes_saved: int | None = None  # original_size minus the size after (positive = smaller)
    encode_seconds: float | None = None  # wall time of the encode; None: not an encode
    encode_speed: float | None = None  # seconds of media per second of encoding


@dataclass(frozen=True, slots=True)
class FileResult:
    """Everything the coordinator needs to report and record one file."""

    path: Path
    status: FileStatus
    phases: tuple[PhaseResult, ...] = ()
    seconds: float = 0.0
    error: str | None = None  # one line for FAILED
    skip_reason: str | None = None  # one line for SKIPPED
    bytes_written: int = 0
    before: MediaFile | None = field(default=None, repr=False, compare=False)
    after: MediaFile | None = field(default=None, repr=False, compare=False)
    stops_batch: bool = False  # on_error: fail fired for this file
    after_ctime_ns: int | None = None  # of ``after`` as last stat-ed by the worker; cache key
    worker: str | None = None  # thread name, for tests and logs
    started_at: float = 0.0  # time.monotonic() at start, for overlap checks
    finished_at: float = 0.0
    # the plans the file was processed by (dry-run renders them); None before planning
    evaluation: FileEvaluation | None = field(default=None, repr=False, compare=False)
    # finished by the coordinator from the library's cached probe (nothing new to store)
    from_cache: bool = False
    # FAILED because Ctrl-C/SIGTERM stopped its tool (the original is unchanged)
    aborted: bool = False

    @property
    def tools(self) -> tuple[str, ...]:
        return tuple(p.tool for p in self.phases if p.tool)

    @property
    def original_size(self) -> int | None:
        """The size before the first phase that changed the file (None: nothing changed)."""
        return next((p.original_size for p in self.phases if p.original_size is not None), None)

    @property
    def bytes_saved(self) -> int:
        """Bytes the file shrank by over all its applied phases (negative: it grew)."""
        return sum(p.bytes_saved for p in self.phases if p.bytes_saved is not None)

    @property
    def encode_seconds(self) -> float | None:
        """Wall time of the encode phases together; None when nothing was encoded."""
        timed = [p.encode_seconds for p in self.phases if p.encode_seconds is not None]
        return sum(timed) if timed else None

    @property
    def encode_speed(self) -> float | None:
        """Media seconds per wall second over the encodes (weighted by their time)."""
        timed = [
            (p.encode_speed * p.encode_seconds, p.encode_seconds)
            for p in self.phases
            if p.encode_speed is not None and p.encode_seconds
        ]
        wall = sum(seconds for _, seconds in timed)
        return sum(media for media, _ in timed) / wall if wall else None
