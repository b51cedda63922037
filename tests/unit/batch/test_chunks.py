"""Several quick files per remote task: the size rule, a chunk on its worker, and
the coordinator's handling of chunks (every file started, finished and counted as a
file of its own). Threads stand in for the cluster here; tests/integration/
test_dask_chunks.py runs chunks on a real Dask cluster."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.batch.chunks import (
    CHUNK_MAX_FILES,
    CHUNK_TARGET_SECONDS,
    FAILED,
    HELD,
    Chunk,
    Chunking,
    ChunkOutcome,
    chunk_size,
)
from vpo.batch.remote import gated, hold, unless_held
from vpo.batch.runner import BatchLimits, BatchResult, Job, run_batch
from vpo.workflow.result import FileResult, FileStatus

PATHS = [Path(f"f{i:02d}") for i in range(40)]


# --- the size rule ------------------------------------------------------------------


@given(
    mean=st.one_of(st.none(), st.floats(min_value=0, max_value=3600)),
    remaining=st.integers(min_value=0, max_value=100_000),
    threads=st.integers(min_value=1, max_value=64),
)
def test_a_chunk_is_at_least_one_file_at_most_the_cap_and_leaves_the_tail_to_all_threads(
    mean: float | None, remaining: int, threads: int
) -> None:
    size = chunk_size(mean, remaining, threads)
    assert 1 <= size <= CHUNK_MAX_FILES
    assert size <= max(1, remaining // (2 * threads))
    if mean is None:
        assert size == 1  # nothing measured yet: one file per task
    elif size > 1:
        assert size * mean <= CHUNK_TARGET_SECONDS  # about the target, not beyond it


@given(
    quick=st.floats(min_value=0, max_value=10),
    slower=st.floats(min_value=0, max_value=10),
    remaining=st.integers(min_value=0, max_value=10_000),
)
def test_slower_files_never_make_bigger_chunks(quick: float, slower: float, remaining: int) -> None:
    quick, slower = sorted((quick, slower))
    assert chunk_size(slower, remaining, 2) <= chunk_size(quick, remaining, 2)


@pytest.mark.parametrize(
    ("mean", "remaining", "expected"),
    [
        (None, 1000, 1),  # the first tasks
        (0.03, 1000, 16),  # a 30 ms remux: 16 would be 0.48 s
        (0.1, 1000, 5),  # a 0.1 s metadata edit
        (0.3, 1000, 1),  # a slow file stays one per task
        (20.0, 1000, 1),  # a film's remux or an encode
        (0.0, 1000, CHUNK_MAX_FILES),  # no-op work: capped
        (0.03, 20, 5),  # 20 left for 2 threads: never more than 20 / 4
        (0.03, 7, 1),  # the end of the batch: one file per task
    ],
)
def test_chunk_sizes(mean: float | None, remaining: int, expected: int) -> None:
    assert chunk_size(mean, remaining, 2) == expected


def test_a_target_of_zero_never_chunks() -> None:
    assert chunk_size(0.01, 1000, 2, target=0) == 1


# --- a chunk on its worker ----------------------------------------------------------


def changed(path: Path, seconds: float = 0.01) -> FileResult:
    return FileResult(path, FileStatus.CHANGED, seconds=seconds)


class Ran:
    """Works that remember which files ran (and may do something while they run)."""

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self._lock = threading.Lock()

    def work(
        self,
        path: Path,
        status: FileStatus = FileStatus.CHANGED,
        seconds: float = 0.01,
        during: Callable[[], None] | None = None,
    ) -> Callable[[], FileResult]:
        def run() -> FileResult:
            with self._lock:
                self.paths.append(path)
            if during is not None:
                during()
            error = "boom" if status is FileStatus.FAILED else None
            return FileResult(path, status, seconds=seconds, error=error)

        return run


def test_a_held_batch_starts_no_further_file_of_a_chunk() -> None:
    """The hold arrives while the chunk's first file runs: the rest never start."""
    token = uuid.uuid4().hex
    ran = Ran()
    chunk = Chunk(
        (
            (PATHS[0], ran.work(PATHS[0], during=lambda: hold(token))),
            (PATHS[1], ran.work(PATHS[1])),
            (PATHS[2], ran.work(PATHS[2])),
        )
    )
    outcome = gated(token, chunk)
    assert isinstance(outcome, ChunkOutcome)
    assert [r.path for r in outcome.results] == [PATHS[0]]
    assert (outcome.not_started, outcome.why) == (2, HELD)
    assert ran.paths == [PATHS[0]]


def test_a_chunk_held_before_it_starts_comes_back_cancelled() -> None:
    token = uuid.uuid4().hex
    hold(token)
    ran = Ran()
    with ThreadPoolExecutor(1) as executor:
        chunk = Chunk(((PATHS[0], ran.work(PATHS[0])), (PATHS[1], ran.work(PATHS[1]))))
        future = unless_held(executor.submit(gated, token, chunk))
        with pytest.raises(Exception):  # noqa: B017 (CancelledError's module varies)
            future.result(timeout=10)
    assert future.cancelled()
    assert ran.paths == []


def test_on_error_fail_stops_a_chunk_after_its_failed_file() -> None:
    ran = Ran()
    chunk = Chunk(
        tuple(
            (p, ran.work(p, FileStatus.FAILED if p == PATHS[1] else FileStatus.CHANGED))
            for p in PATHS[:4]
        ),
        stop_on_failure=True,
    )
    outcome = chunk()
    assert [r.status for r in outcome.results] == [FileStatus.CHANGED, FileStatus.FAILED]
    assert (outcome.not_started, outcome.why) == (2, FAILED)
    assert ran.paths == PATHS[:2]


def test_with_on_error_skip_a_chunk_goes_on_after_a_failed_file() -> None:
    ran = Ran()
    chunk = Chunk(
        tuple((p, ran.work(p, FileStatus.FAILED)) for p in PATHS[:3]), stop_on_failure=False
    )
    assert len(chunk().results) == 3


def test_a_chunk_checks_the_deadline_before_each_file() -> None:
    ran = Ran()
    reason = "limit reached: 60 s of processing"
    chunk = Chunk(
        tuple((p, ran.work(p, during=lambda: time.sleep(0.2))) for p in PATHS[:3]),
        deadline=time.time() + 0.1,
        deadline_reason=reason,
    )
    outcome = chunk()
    assert [r.path for r in outcome.results] == [PATHS[0]]
    assert (outcome.not_started, outcome.why) == (2, reason)


def test_a_bug_in_one_file_fails_that_file_only() -> None:
    def broken() -> FileResult:
        raise ValueError("bad")

    outcome = Chunk(((PATHS[0], broken), (PATHS[1], lambda: changed(PATHS[1]))))()
    assert [r.status for r in outcome.results] == [FileStatus.FAILED, FileStatus.CHANGED]
    assert outcome.results[0].error == "internal error: ValueError: bad"


# --- the coordinator ----------------------------------------------------------------


class Tasks(ThreadPoolExecutor):
    """Threads that remember the files of each task, and, with a ``token``, hold
    queued work the way the Dask executor does (vpo.batch.remote.gated)."""

    def __init__(self, threads: int, token: str | None = None) -> None:
        super().__init__(threads)
        self.tasks: list[tuple[Path, ...]] = []
        self.token = token

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks.append(fn.paths if isinstance(fn, Chunk) else (Path("?"),))
        if self.token is not None:
            return unless_held(super().submit(gated, self.token, fn, *args))
        return super().submit(fn, *args, **kwargs)

    def hold_queued(self) -> None:
        """Hold what was submitted so far; later tasks run (as the Dask executor)."""
        assert self.token is not None
        hold(self.token)
        self.token = uuid.uuid4().hex


class Observer:
    def __init__(self) -> None:
        self.started: list[Path] = []
        self.finished: list[Path] = []

    def file_started(self, path: Path) -> None:
        self.started.append(path)

    def file_finished(self, result: FileResult) -> None:
        assert result.path in self.started
        self.finished.append(result.path)


def chunked(
    jobs: Iterator[Job] | list[Job],
    executor: Tasks,
    *,
    total: int = len(PATHS),
    stop_on_failure: bool = False,
    observer: Observer | None = None,
    **options: Any,
) -> BatchResult:
    return run_batch(
        jobs,
        executor=executor,
        workers=2,
        queued=2,
        stop_on_failure=stop_on_failure,
        observer=observer,
        chunking=Chunking(total),
        **options,
    )


def test_quick_files_share_tasks_and_give_the_same_results_file_by_file() -> None:
    ran = Ran()
    observer = Observer()
    with Tasks(2) as executor:
        batch = chunked([(p, ran.work(p)) for p in PATHS], executor, observer=observer)
    with Tasks(2) as threads:
        alone = run_batch(
            [(p, Ran().work(p)) for p in PATHS], executor=threads, workers=2, queued=2,
            stop_on_failure=False,
        )  # fmt: skip
    assert batch.counts == alone.counts == {**alone.counts, "changed": 40}
    assert sorted(r.path for r in batch.results) == sorted(r.path for r in alone.results)
    assert observer.started == PATHS  # each file started once, in order
    assert sorted(observer.finished) == PATHS  # ... and finished once
    sizes = [len(task) for task in executor.tasks]
    assert sizes[:4] == [1, 1, 1, 1]  # nothing measured yet: one file per task
    assert len(executor.tasks) < len(PATHS)
    before = 0
    for size in sizes:  # 10 ms files, 2 threads: the cap, and the end of the batch
        assert size <= max(1, min(CHUNK_MAX_FILES, (len(PATHS) - before) // 4))
        before += size
    assert sizes[-1] == 1


def test_a_chunks_results_reach_the_observer_in_the_chunks_order() -> None:
    observer = Observer()
    with Tasks(1) as executor:
        run_batch(
            [(p, Ran().work(p)) for p in PATHS], executor=executor, workers=1,
            stop_on_failure=False, observer=observer, chunking=Chunking(len(PATHS)),
        )  # fmt: skip
    assert any(len(task) > 1 for task in executor.tasks)
    assert observer.finished == PATHS  # one task at a time: each chunk's files in order


def test_slow_files_stay_one_per_task() -> None:
    with Tasks(2) as executor:
        batch = chunked([(p, Ran().work(p, seconds=0.4)) for p in PATHS], executor)
    assert batch.total == 40
    assert all(len(task) == 1 for task in executor.tasks)


class Routed:
    """A file's work that needs a resource (an encode with encode_resources)."""

    resources = (("GPU", 1.0),)

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> FileResult:
        return changed(self.path)


def test_files_routed_to_a_resource_are_never_chunked() -> None:
    routed = set(PATHS[8::3])
    jobs: list[Job] = [(p, Routed(p) if p in routed else Ran().work(p)) for p in PATHS]
    with Tasks(2) as executor:
        batch = chunked(jobs, executor)
    assert batch.total == 40
    chunks = [task for task in executor.tasks if len(task) > 1]
    assert chunks  # the others still share tasks
    assert not routed & {p for task in chunks for p in task}


def test_files_known_in_the_coordinator_are_finished_there_within_a_chunk() -> None:
    known = set(PATHS[10:30:2])
    jobs: list[Job] = [
        (p, FileResult(p, FileStatus.UNCHANGED, from_cache=True) if p in known else Ran().work(p))
        for p in PATHS
    ]
    observer = Observer()
    with Tasks(2) as executor:
        batch = chunked(jobs, executor, observer=observer)
    assert batch.count(FileStatus.UNCHANGED) == 10
    assert batch.count(FileStatus.CHANGED) == 30
    assert observer.started == PATHS
    assert not known & {p for task in executor.tasks for p in task}


def test_max_files_bounds_the_chunks() -> None:
    ran = Ran()
    with Tasks(2) as executor:
        batch = chunked(
            [(p, ran.work(p)) for p in PATHS], executor, limits=BatchLimits(max_files=14)
        )
    assert batch.total == 14
    assert sorted(ran.paths) == PATHS[:14]
    assert sum(len(task) for task in executor.tasks) == 14
    assert batch.stop_reason == "limit reached: 14 files"


def test_on_error_fail_inside_a_chunk_stops_the_chunk_and_the_batch() -> None:
    ran = Ran()
    failing = PATHS[21]
    jobs = [
        (p, ran.work(p, FileStatus.FAILED if p == failing else FileStatus.CHANGED)) for p in PATHS
    ]
    with Tasks(2) as executor:
        batch = chunked(jobs, executor, stop_on_failure=True)
    chunk = next(task for task in executor.tasks if failing in task)
    assert len(chunk) > 1 and chunk[-1] != failing, executor.tasks  # inside a chunk
    after = chunk[chunk.index(failing) + 1 :]
    assert not set(after) & set(ran.paths)  # the rest of its chunk never started
    assert batch.stopped_early
    assert batch.stop_reason is not None and f"{failing} failed: boom" in batch.stop_reason
    assert batch.total == len(ran.paths) < 40


def test_ctrl_c_during_a_chunk_reports_its_unstarted_files_as_not_started() -> None:
    """The first Ctrl-C (stop set, the queue held) while a chunk's file runs: the
    chunk's following files never start, are not reported finished, and the batch
    counts as stopped early."""
    token = uuid.uuid4().hex
    stop = threading.Event()
    ran = Ran()
    pressed = PATHS[20]

    def press() -> None:  # the signal handler: stop, and hold what is queued
        stop.set()
        hold(token)

    jobs = [(p, ran.work(p, during=press if p == pressed else None)) for p in PATHS]
    observer = Observer()
    with Tasks(2, token) as executor:
        batch = chunked(
            jobs, executor, stop=stop, observer=observer, hold_queued=executor.hold_queued
        )
    chunk = next(task for task in executor.tasks if pressed in task)
    assert len(chunk) > 1 and chunk[-1] != pressed, executor.tasks
    after = set(chunk[chunk.index(pressed) + 1 :])
    assert not after & set(ran.paths)
    assert not after & set(observer.finished)
    assert batch.stopped_early and batch.stop_reason == "interrupted"
    assert batch.total == len(ran.paths) == len(observer.finished)


def test_a_deadline_met_on_the_worker_ends_the_batch() -> None:
    """--end-by passes while a chunk runs (the coordinator's clock has not seen it
    yet): the chunk starts no further file and the coordinator stops starting."""
    ran = Ran()
    jobs = [(p, ran.work(p, seconds=0.15, during=lambda: time.sleep(0.15))) for p in PATHS]
    with Tasks(2) as executor:
        batch = chunked(jobs, executor, limits=BatchLimits(end_by=0.1), clock=lambda: 0.0)
    assert any(len(task) > 1 for task in executor.tasks)
    assert batch.stopped_early
    assert batch.stop_reason == "limit reached: the end time has passed"
    assert len(executor.tasks) <= 8
    assert batch.total == len(ran.paths) < 40


class Dying(Tasks):
    """A cluster on which every chunk's worker dies twice (Dask's KilledWorker)."""

    def __init__(self, killed: BaseException) -> None:
        super().__init__(2)
        self.killed = killed

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if not isinstance(fn, Chunk):
            return super().submit(fn, *args, **kwargs)
        self.tasks.append(fn.paths)
        lost: Future[Any] = Future()
        lost.set_exception(self.killed)
        return lost


def test_a_chunk_whose_workers_died_fails_each_of_its_files_with_the_lost_worker_line() -> None:
    scheduler = pytest.importorskip("distributed.scheduler")
    killed = scheduler.KilledWorker("Chunk-1", None, 1)
    observer = Observer()
    with Dying(killed) as executor:
        batch = chunked([(p, Ran().work(p)) for p in PATHS], executor, observer=observer)
    lost = [p for task in executor.tasks if len(task) > 1 for p in task]
    assert lost
    failed = {r.path: r.error for r in batch.failed}
    assert set(failed) == set(lost)
    line = (
        "the worker died twice while this file was assigned to it (retried once on another "
        "worker); the file is the original or the finished result"
    )
    assert set(failed.values()) == {line}
    assert sorted(observer.finished) == PATHS  # each file reported once


def test_files_a_stop_left_in_the_last_chunk_make_the_batch_stopped_early() -> None:
    """Nothing is left to submit after the chunk: its not-started files alone say
    the batch was cut short (not a stop that came after the last file)."""
    token = uuid.uuid4().hex
    stop = threading.Event()
    ran = Ran()

    def press() -> None:
        stop.set()
        hold(token)

    paths = PATHS[:12]
    jobs = [(p, ran.work(p, during=press if p == paths[5] else None)) for p in paths]
    with Tasks(2, token) as executor:
        batch = chunked(
            jobs, executor, total=1000, stop=stop, hold_queued=executor.hold_queued
        )  # total: the end-of-batch bound does not split the last chunk
    assert executor.tasks[-1] == tuple(paths[4:])
    assert ran.paths[-1] == paths[5] and len(ran.paths) == 6
    assert batch.stopped_early and batch.stop_reason == "interrupted"


def test_a_chunk_being_filled_when_the_batch_stops_is_not_sent() -> None:
    """on_error fail fires on a file the coordinator knew had failed (or Ctrl-C comes)
    while a chunk is being filled: the files already put in it are not started."""
    token = uuid.uuid4().hex
    ran = Ran()
    known = PATHS[10]
    jobs: list[Job] = [
        (p, FileResult(p, FileStatus.FAILED, error="gone") if p == known else ran.work(p))
        for p in PATHS
    ]
    observer = Observer()
    with Tasks(2, token) as executor:
        batch = chunked(
            jobs, executor, stop_on_failure=True, observer=observer,
            hold_queued=executor.hold_queued,
        )  # fmt: skip
    before = PATHS[PATHS.index(known) - 1]
    assert before in observer.started
    assert before not in ran.paths  # it was in the chunk being filled
    assert not any(before in task for task in executor.tasks)
    assert batch.stopped_early
    assert batch.stop_reason is not None and f"{known} failed: gone" in batch.stop_reason
