"""ProgressTracker: counts stay exact under concurrent updates; the line says what users need."""

from __future__ import annotations

import threading
from pathlib import Path

from vpo.batch.progress import ProgressTracker, format_duration
from vpo.workflow.result import FileResult, FileStatus


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_line_shows_counts_active_failures_elapsed_and_eta() -> None:
    clock = FakeClock()
    tracker = ProgressTracker(10, clock=clock)
    for name in ("a", "b", "c", "d", "e"):
        tracker.start_file(Path(name))
    clock.now += 12
    tracker.finish_file(FileResult(Path("a"), FileStatus.CHANGED))
    tracker.finish_file(FileResult(Path("b"), FileStatus.FAILED, error="x"))
    tracker.finish_file(FileResult(Path("c"), FileStatus.UNCHANGED))
    snapshot = tracker.snapshot()
    assert snapshot.active == (Path("d"), Path("e"))
    assert snapshot.line() == "Processing: 3/10 files [2 active, 1 failed] 0:12 elapsed, ETA 0:28"


def test_no_eta_before_the_first_file_finishes() -> None:
    tracker = ProgressTracker(4, clock=FakeClock())
    assert tracker.snapshot().eta is None
    assert "ETA" not in tracker.snapshot().line()


def test_concurrent_updates_lose_nothing() -> None:
    tracker = ProgressTracker(8 * 500)
    barrier = threading.Barrier(8)

    def work(worker: int) -> None:
        barrier.wait()
        for i in range(500):
            path = Path(f"{worker}/{i}")
            tracker.start_file(path)
            status = FileStatus.FAILED if i % 5 == 0 else FileStatus.CHANGED
            tracker.finish_file(FileResult(path, status))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snapshot = tracker.snapshot()
    assert snapshot.completed == 4000
    assert snapshot.failed == 800
    assert snapshot.active == ()


def test_format_duration() -> None:
    assert format_duration(7.4) == "0:07"
    assert format_duration(754) == "12:34"
    assert format_duration(3723) == "1:02:03"
    assert format_duration(-3) == "0:00"
