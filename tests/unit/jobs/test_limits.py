"""--max-files, --max-duration and --end-by decide whether another file starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from vpo.jobs.limits import StartGate, StopKind, end_by_deadline
from vpo.jobs.model import JobLimits


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 22, 0)

    def __call__(self) -> datetime:
        return self.now


def test_max_files_admits_exactly_that_many() -> None:
    gate = StartGate(None, JobLimits(max_files=2), Clock())
    assert gate.admit() is None
    assert gate.admit() is None
    refused = gate.admit()
    assert refused is not None
    assert (refused.kind, refused.reason) == (StopKind.LIMIT, "--max-files 2 reached")


def test_max_duration_counts_from_the_gate_opening() -> None:
    clock = Clock()
    gate = StartGate(None, JobLimits(max_duration=60), clock)
    clock.now += timedelta(seconds=59)
    assert gate.admit() is None
    clock.now += timedelta(seconds=1)
    assert gate.admit() is not None


def test_end_by_after_midnight() -> None:
    clock = Clock()
    gate = StartGate(None, JobLimits(end_by="06:00"), clock)
    assert end_by_deadline(clock.now, "06:00") == datetime(2026, 12, 4, 6, 0)
    clock.now = datetime(2026, 12, 4, 5, 59)
    assert gate.admit() is None
    clock.now = datetime(2026, 12, 4, 6, 0)
    refused = gate.admit()
    assert refused is not None
    assert refused.reason == "--end-by 06:00 reached"
