"""Several quick files in one remote task ("a chunk"), and how many.

On a Dask cluster every task costs CPU on the scheduler (≈ 5.5 ms), on the
coordinator (submit, result, release) and on the worker (deserialisation, its state
machine, the hand-off to a thread), all on the same cores as the tools: 20–40 % of
a 30 ms remux or a 0.1 s metadata edit. A chunk shares that cost among its files.
It runs them one after another on one worker thread, so ``--workers N`` still
bounds the files being processed at once.

The size follows the files' measured worker time (:func:`chunk_size`): the first
tasks carry one file each, then a chunk lasts about :data:`CHUNK_TARGET_SECONDS`.
Light to import and free of Dask: a worker unpickles :class:`Chunk` and calls it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vpo.workflow.result import FileResult, FileStatus

CHUNK_TARGET_SECONDS = 0.5
"""About how long one chunk should keep a worker thread busy. At ≈ 15–25 ms of
Dask's CPU per task (bench/RESULTS.md), half a second of work makes that a few
percent; and a chunk's results reach the progress line and the library only when
the chunk ends, so half a second is as late as a result may come. The first
Ctrl-C is not delayed by it (it is checked before each file of a chunk)."""

CHUNK_MAX_FILES = 16
"""At most this many files per chunk, even of no-op work: a worker that dies
mid-chunk has its chunk run again elsewhere, and a tenth of a second of lost per-task
cost is all a bigger chunk could still save."""

_MEASURED = 32  # the latest worker times the size follows


def chunk_size(
    mean_seconds: float | None,
    remaining: int,
    threads: int,
    *,
    target: float = CHUNK_TARGET_SECONDS,
    cap: int = CHUNK_MAX_FILES,
) -> int:
    """Files in the next task: 1 until a worker time was measured (``mean_seconds``
    None); then as many as last about ``target`` seconds, at most ``cap``, and at
    most ``remaining / (2 × threads)``, so the end of the batch is never left to
    one worker. At least 1."""
    if mean_seconds is None or target <= 0 or remaining <= 0:
        return 1
    by_time = cap if mean_seconds * cap <= target else int(target / mean_seconds)
    tail = remaining // (2 * max(1, threads))
    return max(1, min(by_time, cap, tail))


class ChunkSizer:
    """The measured worker times of a batch and the chunk size they give."""

    def __init__(self, *, target: float = CHUNK_TARGET_SECONDS, cap: int = CHUNK_MAX_FILES):
        self.target = target
        self.cap = cap
        self._seconds: deque[float] = deque(maxlen=_MEASURED)

    def measure(self, result: FileResult) -> None:
        """Learn from a result a worker made (not one the coordinator knew already)."""
        seconds = result.seconds or max(0.0, result.finished_at - result.started_at)
        self._seconds.append(seconds)

    @property
    def mean(self) -> float | None:
        return sum(self._seconds) / len(self._seconds) if self._seconds else None

    def size(self, remaining: int, threads: int) -> int:
        return chunk_size(self.mean, remaining, threads, target=self.target, cap=self.cap)


@dataclass(frozen=True, slots=True)
class Chunking:
    """How ``run_batch`` may put several quick files into one task (remote
    executors only). ``total`` is the number of jobs (for the end-of-batch bound);
    ``target`` 0 never chunks."""

    total: int
    target: float = CHUNK_TARGET_SECONDS
    cap: int = CHUNK_MAX_FILES

    def sizer(self) -> ChunkSizer:
        return ChunkSizer(target=self.target, cap=self.cap)


def chunkable(work: object) -> bool:
    """Whether ``work`` may share a task: not a file routed to a resource (an encode
    on a GPU worker, ``[processing] encode_resources``)."""
    return not getattr(work, "resources", ())


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """What a chunk hands back: the results of the files it ran, in order, and how
    many of the following files it did not start, and why (``held``: the batch was
    stopped; ``failed``: on_error fail; else the limit's text)."""

    results: tuple[FileResult, ...]
    not_started: int = 0
    why: str | None = None


HELD = "held"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Chunk:
    """Files run one after another on one worker thread.

    Before each file: ``held()`` (the batch's hold token, :func:`vpo.batch.remote.gated`),
    and the deadline (``--max-duration`` / ``--end-by``, as a time since the epoch on
    the worker's clock, ``deadline_reason`` its text); after a failed file with
    ``stop_on_failure`` (on_error fail) the rest do not start.
    """

    files: tuple[tuple[Path, Callable[[], FileResult]], ...]
    stop_on_failure: bool = False
    deadline: float | None = None
    deadline_reason: str | None = None

    def __len__(self) -> int:
        return len(self.files)

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(path for path, _ in self.files)

    def __call__(self, held: Callable[[], bool] = lambda: False) -> ChunkOutcome:
        from vpo.batch.runner import internal_error

        results: list[FileResult] = []
        for index, (path, work) in enumerate(self.files):
            why = self._why_not(held)
            if why is not None:
                return ChunkOutcome(tuple(results), len(self.files) - index, why)
            try:
                result = work()
            except Exception as error:  # a bug fails its file, as in the coordinator
                result = internal_error(path, error)
            results.append(result)
            stops = result.stops_batch or self.stop_on_failure
            if result.status is FileStatus.FAILED and stops and index + 1 < len(self.files):
                return ChunkOutcome(tuple(results), len(self.files) - index - 1, FAILED)
        return ChunkOutcome(tuple(results))

    def _why_not(self, held: Callable[[], bool]) -> str | None:
        if held():
            return HELD
        if self.deadline is not None and time.time() >= self.deadline:
            return self.deadline_reason or "limit reached"
        return None
