"""The batch loop: feeds jobs to any ``concurrent.futures.Executor``, collects typed results.

A job is a path and either its result, already known in the coordinator (a cached
file that already conforms needs no worker round-trip), or a picklable callable
that makes the result on a worker. The coordinator (the calling thread) alone
decides on ``on_error`` and limits, reports progress and hands results on.
Jobs are pulled lazily, never more than ``workers`` in flight (plus, on a Dask
cluster, one queued per worker thread), so a batch of a million files keeps a
handful of futures in memory and ``--workers 1`` is strictly sequential in the
given order. Only counters and failed results are
kept unless the caller asks for every result (``keep_results``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from vpo.batch.chunks import FAILED, HELD, Chunk, Chunking, ChunkOutcome, chunkable
from vpo.workflow.result import FileResult, FileStatus

K = TypeVar("K")
R = TypeVar("R")
Work = Callable[[], FileResult]  # runs on a worker; picklable for a process pool
Job = tuple[Path, FileResult | Work]


class BatchObserver(Protocol):
    """Receives progress, always on the coordinator's thread."""

    def file_started(self, path: Path) -> None: ...

    def file_finished(self, result: FileResult) -> None: ...


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """When a batch stops starting new files (active files always finish).

    ``max_duration`` counts seconds from the start of the batch, ``end_by`` is a
    wall-clock time (seconds since the epoch), both read from the batch's clock;
    ``window`` is asked before each file: False means start nothing more.
    """

    max_files: int | None = None
    max_duration: float | None = None
    end_by: float | None = None
    window: Callable[[], bool] | None = None

    def reason_to_stop(self, started_files: int, start: float, now: float) -> str | None:
        """Why no further file may start now, or None."""
        if self.max_files is not None and started_files >= self.max_files:
            return f"limit reached: {self.max_files} file{'s' if self.max_files != 1 else ''}"
        if self.max_duration is not None and now - start >= self.max_duration:
            return self._duration_reason()
        if self.end_by is not None and now >= self.end_by:
            return _END_BY_REASON
        if self.window is not None and not self.window():
            return "outside the processing window"
        return None

    def deadline(self, start: float) -> tuple[float, str] | None:
        """The batch-clock time from which no file may start (``max_duration``,
        ``end_by``, whichever comes first) and its reason; None without either."""
        ends: list[tuple[float, str]] = []
        if self.max_duration is not None:
            ends.append((start + self.max_duration, self._duration_reason()))
        if self.end_by is not None:
            ends.append((self.end_by, _END_BY_REASON))
        return min(ends) if ends else None

    def _duration_reason(self) -> str:
        return f"limit reached: {self.max_duration:g} s of processing"


_END_BY_REASON = "limit reached: the end time has passed"


@dataclass(frozen=True, slots=True)
class BatchResult:
    """How one batch ended: counts of every file, and the results that were kept.

    ``results`` holds every result when the batch kept them (``keep_results``),
    else only the failed ones; ``total``, ``counts`` and the byte sums always
    cover every file.
    """

    results: tuple[FileResult, ...]
    workers: int
    seconds: float
    stopped_early: bool = False
    stop_reason: str | None = None
    total: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    bytes_written: int = 0
    bytes_saved: int = 0
    failed: tuple[FileResult, ...] = ()
    run_id: int | None = None  # the library's processing run, when one was recorded
    database_error: str | None = None  # a record write failed (the files are complete)

    def count(self, status: FileStatus) -> int:
        return self.counts.get(status.value, 0)


class BatchTally:
    """Running totals of a batch: counters, plus the results worth keeping."""

    def __init__(self, *, keep_results: bool = True) -> None:
        self._keep_all = keep_results
        self.total = 0
        self.counts: Counter[str] = Counter()
        self.bytes_written = 0
        self.bytes_saved = 0
        self.kept: list[FileResult] = []
        self.failed: list[FileResult] = []
        self.aborted = 0  # files whose tool a stop cut short

    def add(self, result: FileResult) -> None:
        self.total += 1
        self.counts[result.status.value] += 1
        self.bytes_written += result.bytes_written
        self.bytes_saved += result.bytes_saved
        failed = result.status is FileStatus.FAILED
        self.aborted += result.aborted
        if failed:
            self.failed.append(result)
        if self._keep_all or failed:
            self.kept.append(result)

    def result(
        self,
        *,
        workers: int,
        seconds: float,
        stopped_early: bool = False,
        stop_reason: str | None = None,
        run_id: int | None = None,
    ) -> BatchResult:
        return BatchResult(
            results=tuple(self.kept),
            workers=workers,
            seconds=seconds,
            stopped_early=stopped_early,
            stop_reason=stop_reason,
            total=self.total,
            counts={status.value: self.counts.get(status.value, 0) for status in FileStatus},
            bytes_written=self.bytes_written,
            bytes_saved=self.bytes_saved,
            failed=tuple(self.failed),
            run_id=run_id,
        )


class InFlight(Generic[K, R]):
    """The futures a coordinator has on an executor, at most ``limit`` at once.

    The one piece of submission bookkeeping ``vpo process`` and ``vpo scan``
    share: any ``concurrent.futures.Executor``, each future tagged with what the
    coordinator needs to handle its result, finished ones handed back as they
    complete.
    """

    def __init__(self, executor: Executor, limit: int) -> None:
        self._executor = executor
        self.limit = max(1, limit)
        self._futures: dict[Future[R], K] = {}

    def __len__(self) -> int:
        return len(self._futures)

    def full(self) -> bool:
        return len(self._futures) >= self.limit

    def submit(self, tag: K, work: Callable[..., R], *args: object) -> None:
        self._futures[self._executor.submit(work, *args)] = tag

    def finished(self, timeout: float | None = None) -> list[tuple[K, Future[R]]]:
        """Wait (at most ``timeout`` seconds) until one or more futures are done."""
        if not self._futures:
            return []
        done, _ = wait(self._futures, timeout=timeout, return_when=FIRST_COMPLETED)
        return [(self._futures.pop(future), future) for future in done]

    def cancel_all(self) -> None:
        for future in self._futures:
            future.cancel()

    def drain(self) -> list[tuple[K, Future[R]]]:
        """Every future still in flight, once done."""
        remaining = list(self._futures.items())
        self._futures.clear()
        wait([future for future, _ in remaining])
        return [(tag, future) for future, tag in remaining]


def run_batch(
    jobs: Iterable[Job],
    *,
    executor: Executor,
    workers: int,
    stop_on_failure: bool,
    stop: threading.Event | None = None,
    observer: BatchObserver | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    limits: BatchLimits | None = None,
    clock: Callable[[], float] = time.time,
    tally: BatchTally | None = None,
    queued: int = 0,
    hold_queued: Callable[[], None] | None = None,
    chunking: Chunking | None = None,
) -> BatchResult:
    """Run ``jobs`` with at most ``workers`` in flight.

    ``stop`` may be set from outside (Ctrl-C); files not yet started are then not
    started, files in flight finish. With ``stop_on_failure`` the first failed file
    sets ``stop`` itself. ``limits`` end the batch the same gentle way.

    ``queued`` more jobs may wait on a remote executor that runs at most ``workers``
    at once (a Dask cluster of that many threads), so a worker starts its next file
    without waiting for the coordinator. ``hold_queued`` is called once when the
    batch stops starting files: queued jobs that have not started come back as
    cancelled futures and count as not started.

    With ``chunking`` (remote executors) one task may carry several quick files
    (:mod:`vpo.batch.chunks`), run one after another: ``workers`` and ``queued``
    then count tasks, and each file of a chunk is started, finished and counted as
    a file on its own (``observer``, ``on_result``, limits).
    """
    stop = stop or threading.Event()
    limits = limits or BatchLimits()
    tally = tally or BatchTally()
    started = time.monotonic()
    batch_start = clock()
    pending = iter(jobs)
    put_back: list[Job] = []  # a job that may not join the chunk being filled
    in_flight: InFlight[tuple[Path, ...], object] = InFlight(executor, workers + max(0, queued))
    sizer = chunking.sizer() if chunking is not None and chunking.target > 0 else None
    stop_reason: str | None = None
    limit_hit: str | None = None  # a limit a chunk met on its worker
    limited = False
    files_started = 0
    held_back = 0  # queued jobs that never started
    holding = False

    def finish(result: FileResult) -> None:
        nonlocal stop_reason
        tally.add(result)
        if observer is not None:
            observer.file_finished(result)
        if on_result is not None:
            on_result(result)
        fails_batch = result.stops_batch or stop_on_failure
        if result.status is FileStatus.FAILED and fails_batch and not stop.is_set():
            stop_reason = f"on_error is 'fail' and {result.path} failed: {result.error}"
            stop.set()

    def hold() -> None:
        nonlocal holding
        if hold_queued is not None and not holding:
            holding = True
            hold_queued()

    def take() -> Job | None:
        return put_back.pop() if put_back else next(pending, None)

    def must_stop() -> bool:
        """Whether no further file may start now (and hold the queue when it must)."""
        nonlocal stop_reason, limited
        if stop.is_set():
            hold()
            return True
        reason = limit_hit or limits.reason_to_stop(files_started, batch_start, clock())
        if reason is not None:
            stop_reason, limited = stop_reason or reason, True
            if limits.max_files is None or files_started < limits.max_files:
                hold()  # out of time: queued files wait no longer (within a count, they run)
            return True
        return False

    def submit(group: list[tuple[Path, Work]]) -> None:
        if len(group) == 1:
            path, work = group[0]
            in_flight.submit((path,), work)
            return
        ends = limits.deadline(batch_start)
        chunk = Chunk(
            tuple(group),
            stop_on_failure=stop_on_failure,
            # the worker's clock: seconds since the epoch
            deadline=None if ends is None else time.time() + ends[0] - clock(),
            deadline_reason=None if ends is None else ends[1],
        )
        in_flight.submit(chunk.paths, chunk)

    def fill() -> bool:
        """Start jobs until ``workers`` tasks are in flight; False once no job is left."""
        nonlocal files_started, held_back
        while not in_flight.full():
            size = 1 if sizer is None else sizer.size(_left(chunking, files_started), workers)
            group: list[tuple[Path, Work]] = []
            stopping = left = False
            while len(group) < size:
                if must_stop():
                    stopping = True
                    break
                job = take()
                if job is None:
                    left = True
                    break
                path, work = job
                alone = not isinstance(work, FileResult) and not chunkable(work)
                if group and alone:
                    put_back.append(job)  # goes in a task of its own, next
                    break
                files_started += 1
                if observer is not None:
                    observer.file_started(path)
                if isinstance(work, FileResult):
                    finish(work)  # known in the coordinator: no worker round-trip
                    continue
                group.append((path, work))
                if alone:
                    break
            if group and stopping and holding:
                held_back += len(group)  # the stop came while it was filled: never sent
            elif group:
                submit(group)
            if stopping:
                return True
            if left:
                return False
        return True

    def collect(paths: tuple[Path, ...], future: Future[object]) -> None:
        nonlocal held_back, limit_hit, stop_reason, limited
        if future.cancelled():  # held back before it started (hold_queued)
            held_back += len(paths)
            return
        error = future.exception()
        if error is not None:
            for path in paths:  # one line per file (a chunk's worker died twice)
                finish(internal_error(path, error))
            return
        value = future.result()
        results = value.results if isinstance(value, ChunkOutcome) else (value,)
        for result in results:
            assert isinstance(result, FileResult)
            if sizer is not None:
                sizer.measure(result)
            finish(result)
        if isinstance(value, ChunkOutcome) and value.not_started:
            held_back += value.not_started
            if value.why not in (None, HELD, FAILED):
                limit_hit = value.why  # --max-duration / --end-by, met on the worker
                stop_reason, limited = stop_reason or limit_hit, True

    more = fill()
    while in_flight:
        for paths, future in in_flight.finished():
            collect(paths, future)
        more = fill()
    stopped_early = (stop.is_set() or limited) and (held_back > 0 or (more and take() is not None))
    if stop.is_set() and (stopped_early or tally.aborted):
        # a stop that cut no work short (every file had finished) is no interruption
        stop_reason = stop_reason or "interrupted"
    return tally.result(
        workers=workers,
        seconds=time.monotonic() - started,
        stopped_early=stopped_early,
        stop_reason=stop_reason if stopped_early or stop.is_set() else None,
    )


def _left(chunking: Chunking | None, files_started: int) -> int:
    return 0 if chunking is None else chunking.total - files_started


def internal_error(path: Path, error: BaseException) -> FileResult:
    """A bug in the workflow fails its file, not the batch (so does a file whose
    remote workers all died under it: :func:`lost_worker_error`)."""
    lost = lost_worker_error(error)
    return FileResult(
        path=path,
        status=FileStatus.FAILED,
        error=lost or f"internal error: {type(error).__name__}: {error}",
    )


_TIMES = {1: "once", 2: "twice"}


def lost_worker_error(error: BaseException) -> str | None:
    """One line for Dask's ``KilledWorker`` (every worker the file was assigned to
    died while it held it: killed, machine off, network gone; with a file queued
    ahead on a worker, possibly before it started), else None. Matched by name:
    the runner does not import Dask. A lost Dask client process or scheduler
    (ExecutorLostError) is its own one line."""
    from vpo.batch.executors import ExecutorLostError

    if isinstance(error, ExecutorLostError):
        return str(error)
    if type(error).__name__ != "KilledWorker" or len(error.args) != 3:
        return None
    _task, last, allowed = error.args
    tries = int(allowed) + 1 if isinstance(allowed, int) else 0
    if tries < 1:
        return None
    died = _TIMES.get(tries, f"{tries} times")
    again = _TIMES.get(tries - 1, f"{tries - 1} times")
    retried = "" if tries == 1 else f" (retried {again} on another worker)"
    name = getattr(last, "name", None) or getattr(last, "address", None)
    where = f", last on {name}" if name else ""
    return (
        f"the worker died {died} while this file was assigned to it{retried}{where}; the "
        "file is the original or the finished result"
    )


def _result_of(future: Future[FileResult], path: Path) -> FileResult:
    error = future.exception()
    if error is not None:
        return internal_error(path, error)
    return future.result()
