"""When a job may start its next file: run window, --max-files, --max-duration, --end-by.

Pure: the clock is passed in, so tests move time by hand. Files already running
always finish; these rules only decide whether another one starts.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from vpo.jobs.model import JobLimits
from vpo.jobs.window import RunWindow

Clock = Callable[[], datetime]  # local wall-clock time


class StopKind(enum.Enum):
    WINDOW = "window"  # outside the run window: the job waits for the next one
    LIMIT = "limit"  # a limit of the job was reached: the job is done


@dataclass(frozen=True, slots=True)
class Refusal:
    kind: StopKind
    reason: str


@dataclass(slots=True)
class StartGate:
    """Asked before each file starts; counts the files it let start."""

    window: RunWindow | None
    limits: JobLimits
    clock: Clock
    opened_at: datetime = field(init=False)
    started: int = 0

    def __post_init__(self) -> None:
        self.opened_at = self.clock()

    def refusal(self) -> Refusal | None:
        now = self.clock()
        if self.window is not None and not self.window.is_open(now):
            return Refusal(StopKind.WINDOW, f"outside the run window {self.window}")
        limits = self.limits
        if limits.max_files is not None and self.started >= limits.max_files:
            return Refusal(StopKind.LIMIT, f"--max-files {limits.max_files} reached")
        if limits.max_duration is not None and now - self.opened_at >= timedelta(
            seconds=limits.max_duration
        ):
            return Refusal(StopKind.LIMIT, f"--max-duration {limits.max_duration:g} s reached")
        if limits.end_by is not None and now >= end_by_deadline(self.opened_at, limits.end_by):
            return Refusal(StopKind.LIMIT, f"--end-by {limits.end_by} reached")
        return None

    def admit(self) -> Refusal | None:
        """``refusal()``, and when there is none, count one more started file."""
        refused = self.refusal()
        if refused is None:
            self.started += 1
        return refused


def end_by_deadline(opened_at: datetime, end_by: str) -> datetime:
    """The first HH:MM after ``opened_at`` (tomorrow's when today's has passed)."""
    hour, minute = (int(part) for part in end_by.split(":"))
    deadline = datetime.combine(opened_at.date(), time(hour, minute), opened_at.tzinfo)
    return deadline if deadline > opened_at else deadline + timedelta(days=1)
