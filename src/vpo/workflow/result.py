"""Typed outcomes of processing one file, aggregated by the batch coordinator."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from vpo.media.model import MediaFile


class FileStatus(str, enum.Enum):
    """What happened to one file, as counted in the summary."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # busy, still growing, filtered by skip_when, stopped before start
    FAILED = "failed"


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
    worker: str | None = None  # thread name, for tests and logs
    started_at: float = 0.0  # time.monotonic() at start, for overlap checks
    finished_at: float = 0.0

    @property
    def tools(self) -> tuple[str, ...]:
        return tuple(p.tool for p in self.phases if p.tool)
