"""The batch coordinator: feeds paths to an executor, collects typed results.

Workers only take a path and return a FileResult; the coordinator (the calling
thread) alone decides on ``on_error``, reports progress and records results.
Paths are submitted lazily, never more than ``workers`` at a time, so a batch of
a million files keeps a handful of futures in memory and ``--workers 1`` is
strictly sequential in the given order.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vpo.workflow.result import FileResult, FileStatus

STOPPED_BEFORE_START = "not started: the batch was stopped"


class BatchObserver(Protocol):
    """Receives progress; ``file_started`` is called on worker threads."""

    def file_started(self, path: Path) -> None: ...

    def file_finished(self, result: FileResult) -> None: ...


@dataclass(frozen=True, slots=True)
class BatchResult:
    """All file results of one batch and how it ended."""

    results: tuple[FileResult, ...]
    workers: int
    seconds: float
    stopped_early: bool = False
    stop_reason: str | None = None

    def count(self, status: FileStatus) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def counts(self) -> dict[str, int]:
        counter = Counter(r.status.value for r in self.results)
        return {status.value: counter.get(status.value, 0) for status in FileStatus}

    @property
    def failed(self) -> tuple[FileResult, ...]:
        return tuple(r for r in self.results if r.status is FileStatus.FAILED)


def run_batch(
    paths: Iterable[Path],
    process_one: Callable[[Path], FileResult],
    *,
    executor: Executor,
    workers: int,
    stop_on_failure: bool,
    stop: threading.Event | None = None,
    observer: BatchObserver | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> BatchResult:
    """Process ``paths`` with at most ``workers`` files in flight.

    ``stop`` may be set from outside (Ctrl-C); files not yet started are then not
    started, files in flight finish. With ``stop_on_failure`` the first failed file
    sets ``stop`` itself.
    """
    stop = stop or threading.Event()
    started = time.monotonic()
    pending = iter(paths)
    in_flight: dict[Future[FileResult], Path] = {}
    results: list[FileResult] = []
    stop_reason: str | None = None

    def guarded(path: Path) -> FileResult:
        if stop.is_set():
            return FileResult(
                path=path, status=FileStatus.SKIPPED, skip_reason=STOPPED_BEFORE_START
            )
        if observer is not None:
            observer.file_started(path)
        try:
            return process_one(path)
        except Exception as error:  # a bug in the workflow must not kill the batch
            return FileResult(
                path=path,
                status=FileStatus.FAILED,
                error=f"internal error: {type(error).__name__}: {error}",
            )

    def fill() -> None:
        while len(in_flight) < workers and not stop.is_set():
            path = next(pending, None)
            if path is None:
                return
            in_flight[executor.submit(guarded, path)] = path

    fill()
    unstarted = 0
    while in_flight:
        done, _ = wait(in_flight, timeout=0.1, return_when=FIRST_COMPLETED)
        for future in done:
            path = in_flight.pop(future)
            result = _result_of(future, path)
            if result.skip_reason == STOPPED_BEFORE_START:
                unstarted += 1  # never started: not a result of this batch
                continue
            results.append(result)
            if observer is not None:
                observer.file_finished(result)
            if on_result is not None:
                on_result(result)
            fails_batch = result.stops_batch or stop_on_failure
            if result.status is FileStatus.FAILED and fails_batch and not stop.is_set():
                stop_reason = f"on_error is 'fail' and {result.path} failed: {result.error}"
                stop.set()
        fill()
    if stop.is_set():
        if next(pending, None) is not None:
            unstarted += 1
        stop_reason = stop_reason or "interrupted"
    return BatchResult(
        results=tuple(results),
        workers=workers,
        seconds=time.monotonic() - started,
        stopped_early=unstarted > 0,
        stop_reason=stop_reason,
    )


def _result_of(future: Future[FileResult], path: Path) -> FileResult:
    if future.cancelled():
        return FileResult(path=path, status=FileStatus.SKIPPED, skip_reason=STOPPED_BEFORE_START)
    error = future.exception()
    if error is not None:
        return FileResult(
            path=path,
            status=FileStatus.FAILED,
            error=f"internal error: {type(error).__name__}: {error}",
        )
    return future.result()
