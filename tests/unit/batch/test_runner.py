"""The coordinator's decisions: order, on_error=fail stops, skip goes on, external stop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import NoReturn

import pytest

from vpo.batch.runner import BatchLimits, BatchResult, BatchTally, Job, run_batch
from vpo.workflow.result import FileResult, FileStatus


class Recorder:
    """Observer that records the order of events."""

    def __init__(self) -> None:
        self.started: list[Path] = []
        self.finished: list[Path] = []
        self._lock = threading.Lock()

    def file_started(self, path: Path) -> None:
        with self._lock:
            self.started.append(path)

    def file_finished(self, result: FileResult) -> None:
        self.finished.append(result.path)


def outcome(failing: set[str]) -> Callable[[Path], FileResult]:
    def process(path: Path) -> FileResult:
        status = FileStatus.FAILED if path.name in failing else FileStatus.CHANGED
        return FileResult(path, status, error="boom" if status is FileStatus.FAILED else None)

    return process


PATHS = [Path(f"f{i:02d}") for i in range(10)]


def jobs(paths: Iterable[Path], process: Callable[[Path], FileResult]) -> Iterator[Job]:
    """Each path with the work a worker does for it."""
    return ((path, partial(process, path)) for path in paths)


def test_one_worker_is_strictly_sequential_in_order() -> None:
    recorder = Recorder()
    with ThreadPoolExecutor(1) as executor:
        result = run_batch(
            jobs(PATHS, outcome(set())), executor=executor, workers=1, stop_on_failure=False,
            observer=recorder,
        )  # fmt: skip
    assert recorder.started == PATHS
    assert [r.path for r in result.results] == PATHS
    assert result.counts["changed"] == 10
    assert not result.stopped_early


def test_fail_stops_after_the_failing_file_with_nothing_new_started() -> None:
    recorder = Recorder()
    with ThreadPoolExecutor(1) as executor:
        result = run_batch(
            jobs(PATHS, outcome({"f03"})), executor=executor, workers=1, stop_on_failure=True,
            observer=recorder,
        )  # fmt: skip
    assert recorder.started == PATHS[:4]
    assert result.stopped_early
    assert result.stop_reason is not None and "f03 failed: boom" in result.stop_reason
    assert result.count(FileStatus.FAILED) == 1


def test_fail_with_several_workers_lets_in_flight_files_finish_and_starts_no_more() -> None:
    f01_running = threading.Event()
    failure_seen = threading.Event()
    started: list[Path] = []

    class SeesFailure(Recorder):
        def file_finished(self, result: FileResult) -> None:
            if result.status is FileStatus.FAILED:
                failure_seen.set()

    def process(path: Path) -> FileResult:
        started.append(path)
        if path.name == "f00":
            assert f01_running.wait(5)
            return FileResult(path, FileStatus.FAILED, error="boom")
        f01_running.set()
        assert failure_seen.wait(5)  # still in flight when the coordinator sees the failure
        return FileResult(path, FileStatus.CHANGED)

    with ThreadPoolExecutor(2) as executor:
        result = run_batch(
            jobs(PATHS, process), executor=executor, workers=2, stop_on_failure=True,
            observer=SeesFailure(),
        )  # fmt: skip
    assert set(started) == {Path("f00"), Path("f01")}
    assert {r.path.name: r.status for r in result.results} == {
        "f00": FileStatus.FAILED,
        "f01": FileStatus.CHANGED,
    }
    assert result.stopped_early


def test_skip_reports_every_failure_and_processes_everything() -> None:
    with ThreadPoolExecutor(3) as executor:
        result = run_batch(
            jobs(PATHS, outcome({"f02", "f07"})), executor=executor, workers=3,
            stop_on_failure=False,
        )  # fmt: skip
    assert len(result.results) == 10
    assert sorted(r.path.name for r in result.failed) == ["f02", "f07"]
    assert not result.stopped_early


def test_external_stop_starts_no_new_file_and_says_interrupted() -> None:
    stop = threading.Event()

    def process(path: Path) -> FileResult:
        if path.name == "f01":
            stop.set()  # as the Ctrl-C handler would
        return FileResult(path, FileStatus.CHANGED)

    with ThreadPoolExecutor(1) as executor:
        result = run_batch(
            jobs(PATHS, process), executor=executor, workers=1, stop_on_failure=False, stop=stop
        )
    assert [r.path.name for r in result.results] == ["f00", "f01"]
    assert result.stopped_early
    assert result.stop_reason == "interrupted"


def test_a_stop_after_the_last_file_started_is_no_interruption_unless_it_cut_one_short() -> None:
    """A SIGTERM that arrives while the last files finish normally ends a complete
    batch (a daemon job is not requeued); one that stopped a tool is an interruption."""
    for cut_short, expected in ((False, None), (True, "interrupted")):
        stop = threading.Event()

        def process(
            path: Path, cut_short: bool = cut_short, stop: threading.Event = stop
        ) -> FileResult:
            if path.name == "f02":
                stop.set()  # the last file: the signal arrives while it runs
                if cut_short:
                    return FileResult(path, FileStatus.FAILED, error="aborted", aborted=True)
            return FileResult(path, FileStatus.CHANGED)

        with ThreadPoolExecutor(1) as executor:
            result = run_batch(
                jobs(PATHS[:3], process),
                executor=executor,
                workers=1,
                stop_on_failure=False,
                stop=stop,
            )
        assert len(result.results) == 3
        assert not result.stopped_early
        assert result.stop_reason == expected


def test_an_exception_in_the_workflow_becomes_a_failed_result_not_a_crash() -> None:
    def process(path: Path) -> FileResult:
        raise RuntimeError("bug")

    with ThreadPoolExecutor(2) as executor:
        result = run_batch(
            jobs(PATHS[:3], process), executor=executor, workers=2, stop_on_failure=False
        )
    assert result.count(FileStatus.FAILED) == 3
    assert all("internal error: RuntimeError: bug" in (r.error or "") for r in result.results)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_lazy_submission_never_holds_more_than_workers_in_flight(workers: int) -> None:
    lock = threading.Lock()
    active = 0
    peak = 0

    def process(path: Path) -> FileResult:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        with lock:
            active -= 1
        return FileResult(path, FileStatus.UNCHANGED)

    submitted = 0

    def paths() -> Iterator[Path]:
        nonlocal submitted
        for path in PATHS:
            submitted += 1
            yield path

    with ThreadPoolExecutor(8) as executor:
        run_batch(jobs(paths(), process), executor=executor, workers=workers, stop_on_failure=False)
    assert peak <= workers
    assert submitted == 10


class FakeClock:
    """Wall-clock seconds that advance only when a file is processed."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def run_limited(limits: BatchLimits, clock: FakeClock, step: float = 10.0) -> BatchResult:
    def process(path: Path) -> FileResult:
        clock.now += step  # each file takes ten seconds
        return FileResult(path, FileStatus.CHANGED)

    with ThreadPoolExecutor(1) as executor:
        return run_batch(
            jobs(PATHS, process), executor=executor, workers=1, stop_on_failure=False,
            limits=limits, clock=clock,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("limits", "done", "reason"),
    [
        (BatchLimits(max_files=3), 3, "limit reached: 3 files"),
        (BatchLimits(max_duration=25.0), 3, "limit reached: 25 s of processing"),
        (BatchLimits(end_by=1_045.0), 5, "limit reached: the end time has passed"),
    ],
)
def test_limits_start_no_new_file_once_reached(limits: BatchLimits, done: int, reason: str) -> None:
    result = run_limited(limits, FakeClock())
    assert [r.path for r in result.results] == PATHS[:done]
    assert result.stopped_early and result.stop_reason == reason


def test_a_limit_that_is_reached_by_the_last_file_is_not_stopping_early() -> None:
    result = run_limited(BatchLimits(max_files=10), FakeClock())
    assert result.total == 10 and not result.stopped_early and result.stop_reason is None


def test_the_window_is_asked_before_each_file_and_active_files_finish() -> None:
    open_for = iter([True, True, False])
    result = run_limited(BatchLimits(window=lambda: next(open_for)), FakeClock())
    assert result.total == 2
    assert result.stop_reason == "outside the processing window" and result.stopped_early


def test_a_result_known_in_the_coordinator_never_reaches_the_executor() -> None:
    class NoExecutor(ThreadPoolExecutor):
        def submit(self, *args: object, **kwargs: object) -> NoReturn:
            raise AssertionError("submitted")

    known = [(path, FileResult(path, FileStatus.UNCHANGED)) for path in PATHS]
    recorder = Recorder()
    result = run_batch(
        known, executor=NoExecutor(1), workers=2, stop_on_failure=False, observer=recorder
    )
    assert result.count(FileStatus.UNCHANGED) == 10 and recorder.finished == PATHS


def test_without_keep_results_only_failures_are_kept_but_every_file_counts() -> None:
    with ThreadPoolExecutor(2) as executor:
        result = run_batch(
            jobs(PATHS, outcome({"f04"})), executor=executor, workers=2,
            stop_on_failure=False, tally=BatchTally(keep_results=False),
        )  # fmt: skip
    assert [r.path.name for r in result.results] == ["f04"]
    assert result.total == 10 and result.counts["changed"] == 9
    assert [r.path.name for r in result.failed] == ["f04"]
