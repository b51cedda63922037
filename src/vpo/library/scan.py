"""``vpo scan`` without the CLI: walk, compare with the library, probe what changed.

The coordinator (the calling thread) walks the tree, stats each file and asks
the library whether it changed; only new or changed files go to the executor
(any ``concurrent.futures.Executor``, through the batch coordinator's InFlight,
as ``vpo process`` does), never more than ``2 × workers`` at a time. Results are written in
batches, one transaction each. Memory therefore depends on the batch size and
the walk's per-directory state, not on the size of the library.
"""

from __future__ import annotations

import enum
import os
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from vpo.batch.runner import InFlight
from vpo.discovery import iter_media_files
from vpo.library.database import Library
from vpo.library.records import (
    FileState,
    FileStatus,
    MovedFile,
    ProbedFile,
    ProbeFailure,
    StatKey,
)
from vpo.media.model import MediaFile
from vpo.probe.cheapest import Prober
from vpo.probe.errors import ProbeError
from vpo.tools.runner import ToolError, ToolNotFoundError

MAX_REPORTED_PROBLEMS = 10_000  # the summary keeps this many; the count is always exact
_PROGRESS_INTERVAL = 0.1  # seconds between progress events
_FLUSH_INTERVAL = 2.0  # seconds a probed result may wait in the buffer


class ScanAction(enum.Enum):
    """What the scan does with one file it found."""

    UNCHANGED = "unchanged"  # same size, mtime, inode and ctime as stored: no probe
    KNOWN_ERROR = "known-error"  # unchanged since its probe failed: report it again, no probe
    RESTORE = "restore"  # marked missing before, back unchanged: no probe
    PROBE_NEW = "new"
    PROBE_CHANGED = "changed"  # or ``reprobe`` asked for it, or no ctime stored (schema 1)


def decide(state: FileState | None, key: StatKey, *, reprobe: bool = False) -> ScanAction:
    """Compare the stored row with the file's stat key (pure)."""
    if state is None:
        return ScanAction.PROBE_NEW
    if reprobe or not state.key.matches(key):
        return ScanAction.PROBE_CHANGED
    if state.status is FileStatus.ERROR:
        return ScanAction.KNOWN_ERROR
    if state.status is FileStatus.MISSING:
        return ScanAction.RESTORE
    return ScanAction.UNCHANGED


@dataclass(slots=True)
class ScanCounts:
    """Running totals; each found file ends in exactly one of new … errors."""

    found: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    moved: int = 0
    missing: int = 0  # known files under the scanned paths that are gone from disk
    pruned: int = 0
    errors: int = 0  # probe failures plus paths the walk could not read
    probing: int = 0  # in flight right now

    def snapshot(self) -> ScanCounts:
        return replace(self)


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """A path that could not be walked, statted or probed; ``message`` is one line."""

    path: Path
    message: str


@dataclass(frozen=True, slots=True)
class ScanProgress:
    counts: ScanCounts
    elapsed: float


ScanEvent = ScanProgress | ScanProblem


@dataclass(frozen=True, slots=True)
class ScanSummary:
    counts: ScanCounts
    seconds: float
    problems: tuple[ScanProblem, ...] = field(default=())
    interrupted: bool = False


@dataclass(frozen=True, slots=True)
class ScanOptions:
    extensions: Collection[str]
    workers: int
    recursive: bool = True
    prune: bool = False
    reprobe: bool = False  # probe every file, even unchanged ones (after upgrading tools)
    batch_size: int = 500


def scan_paths(
    roots: Sequence[Path],
    library: Library,
    prober: Prober,
    options: ScanOptions,
    *,
    on_event: Callable[[ScanEvent], None] | None = None,
    stop: threading.Event | None = None,
    executor: Executor | None = None,
) -> ScanSummary:
    """Bring the library up to date with the files under ``roots``.

    ``stop`` (set by Ctrl-C) ends the walk early: files in flight finish and are
    written, the missing-file pass is skipped. A missing tool raises ToolNotFoundError
    after the finished results are written. Probes run on ``executor`` (default: a
    thread pool of ``options.workers``); ``prober`` must pickle for a process pool.
    """
    scan = _Scan(library, prober, options, on_event or _ignore, stop or threading.Event())
    # abspath, not resolve: keep the names the user walked through (symlinked folders).
    absolute = [Path(os.path.abspath(root)) for root in roots]  # noqa: PTH100
    if executor is not None:
        return scan.run(absolute, executor)
    with ThreadPoolExecutor(max(1, options.workers), thread_name_prefix="vpo-scan") as pool:
        return scan.run(absolute, pool)


def _ignore(event: ScanEvent) -> None:
    """The default event sink."""


_ProbeOutcome = MediaFile | ScanProblem


class _Scan:
    """One scan's mutable state; used from the coordinator thread only."""

    def __init__(
        self,
        library: Library,
        prober: Prober,
        options: ScanOptions,
        emit: Callable[[ScanEvent], None],
        stop: threading.Event,
    ) -> None:
        self._library = library
        self._prober = prober
        self._options = options
        self._emit = emit
        self._stop = stop
        self._counts = ScanCounts()
        self._problems: list[ScanProblem] = []
        self._started = time.monotonic()
        self._last_progress = 0.0
        self._buffer = _WriteBuffer(library, options.batch_size)
        self._in_flight: InFlight[tuple[ScanAction, StatKey], _ProbeOutcome] | None = None

    def run(self, roots: list[Path], executor: Executor) -> ScanSummary:
        workers = max(1, self._options.workers)
        self._in_flight = InFlight(executor, 2 * workers)
        try:
            self._walk(roots, self._in_flight)
            self._collect(until=0)
        finally:
            self._in_flight.cancel_all()
            self._buffer.flush()
        if not self._stop.is_set():
            self._find_missing(roots)
        self._progress(force=True)
        return ScanSummary(
            counts=self._counts.snapshot(),
            seconds=time.monotonic() - self._started,
            problems=tuple(self._problems),
            interrupted=self._stop.is_set(),
        )

    # -- the walk ---------------------------------------------------------------------

    def _walk(
        self, roots: list[Path], in_flight: InFlight[tuple[ScanAction, StatKey], _ProbeOutcome]
    ) -> None:
        files = iter_media_files(
            roots,
            self._options.extensions,
            recursive=self._options.recursive,
            on_error=lambda path, cause: self._problem(ScanProblem(path, f"{path}: {cause}")),
        )
        for path in files:
            if self._stop.is_set():
                return
            self._counts.found += 1
            self._consider(path, in_flight)
            self._collect(until=in_flight.limit - 1)
            self._buffer.flush_if_stale()
            self._progress()

    def _consider(
        self, path: Path, in_flight: InFlight[tuple[ScanAction, StatKey], _ProbeOutcome]
    ) -> None:
        try:
            info = path.stat()
        except FileNotFoundError:
            self._counts.found -= 1  # vanished since the walk listed it
            return
        except OSError as error:
            self._problem(ScanProblem(path, f"{path}: {error.strerror or error}"))
            return
        key = StatKey.of(info)
        state = self._library.file_state(path)
        action = decide(state, key, reprobe=self._options.reprobe)
        if action is ScanAction.UNCHANGED:
            self._counts.unchanged += 1
        elif action is ScanAction.KNOWN_ERROR:
            assert state is not None
            self._problem(ScanProblem(path, state.last_error or f"{path}: cannot be probed"))
        elif action is ScanAction.RESTORE:
            self._counts.unchanged += 1
            self._buffer.restored.append(path)
        elif action is ScanAction.PROBE_NEW and self._moved_here(path, key):
            self._counts.moved += 1
        else:
            in_flight.submit((action, key), _probe_one, self._prober, path, key)
            self._counts.probing = len(in_flight)

    def _moved_here(self, path: Path, key: StatKey) -> bool:
        """A new path whose stat key matches a stored file that is gone: a rename."""
        for old in self._library.find_moved(key):
            if not os.path.lexists(old):
                self._buffer.moved.append(MovedFile(old, path, key.ctime_ns))
                self._buffer.flush()  # a later file must see the row under its new path
                return True
        return False

    # -- results --------------------------------------------------------------------

    def _collect(self, until: int) -> None:
        """Wait until at most ``until`` probes are in flight, recording finished ones."""
        in_flight = self._in_flight
        assert in_flight is not None
        while len(in_flight) > until:
            fatal: ToolNotFoundError | None = None
            for (action, key), future in in_flight.finished(timeout=_PROGRESS_INTERVAL):
                try:
                    self._record(action, key, future.result())
                except ToolNotFoundError as error:
                    fatal = fatal or error
            self._counts.probing = len(in_flight)
            self._progress()
            if fatal is not None:
                self._stop.set()
                self._collect_remaining(in_flight)
                raise fatal

    def _collect_remaining(
        self, in_flight: InFlight[tuple[ScanAction, StatKey], _ProbeOutcome]
    ) -> None:
        """Record the probes still in flight when a tool turned out missing."""
        for (action, key), future in in_flight.drain():
            try:
                self._record(action, key, future.result())
            except ToolNotFoundError:
                continue

    def _record(self, action: ScanAction, key: StatKey, outcome: _ProbeOutcome) -> None:
        if isinstance(outcome, ScanProblem):
            if self._stop.is_set():
                return  # maybe killed by the second Ctrl-C: not a verdict on the file
            self._problem(outcome)
            self._buffer.failures.append(ProbeFailure(outcome.path, key, outcome.message))
            return
        self._buffer.probed.append(ProbedFile(outcome, key.ctime_ns))
        if action is ScanAction.PROBE_NEW:
            self._counts.new += 1
        else:
            self._counts.changed += 1
        if self._buffer.full():
            self._buffer.flush()

    def _problem(self, problem: ScanProblem) -> None:
        self._counts.errors += 1
        if len(self._problems) < MAX_REPORTED_PROBLEMS:
            self._problems.append(problem)
        self._emit(problem)

    # -- files that vanished ------------------------------------------------------------

    def _find_missing(self, roots: list[Path]) -> None:
        """Mark (or prune) stored files under the roots that no longer exist.

        A root that does not exist itself (an unmounted disk, a typo) is skipped:
        its absence says nothing about the files below it.
        """
        gone: list[Path] = []
        for root in roots:
            if not root.exists():
                continue
            for path, status in self._library.iter_paths_under(root):
                if os.path.lexists(path):
                    continue
                if status is not FileStatus.MISSING or self._options.prune:
                    gone.append(path)
                if status is not FileStatus.MISSING:
                    self._counts.missing += 1
                if len(gone) >= self._options.batch_size:
                    self._forget(gone)
        self._forget(gone)

    def _forget(self, gone: list[Path]) -> None:
        if not gone:
            return
        if self._options.prune:
            self._library.prune(gone)
            self._counts.pruned += len(gone)
        else:
            self._library.mark_missing(gone)
        gone.clear()

    def _progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_progress >= _PROGRESS_INTERVAL:
            self._last_progress = now
            self._emit(ScanProgress(self._counts.snapshot(), now - self._started))


def _probe_one(prober: Prober, path: Path, key: StatKey) -> _ProbeOutcome:
    """Worker: probe one file; every failure but a missing tool becomes a ScanProblem.

    The stat key taken before probing (ctime included) is stored, so a file that
    changes while being probed is probed again by the next scan.
    """
    try:
        media = prober(path)
    except ToolNotFoundError:
        raise
    except (ProbeError, ToolError) as error:
        message = str(error)
        return ScanProblem(path, message if str(path) in message else f"{path}: {message}")
    except Exception as error:  # a bug in a probe must not end the scan
        return ScanProblem(path, f"{path}: internal error while probing: {error!r}")
    return replace(
        media, path=path, size=key.size, mtime_ns=key.mtime_ns, inode=key.inode, device=key.device
    )


class _WriteBuffer:
    """Results waiting to be written; one transaction per flush."""

    def __init__(self, library: Library, batch_size: int) -> None:
        self._library = library
        self._batch_size = batch_size
        self._flushed_at = time.monotonic()
        self.probed: list[ProbedFile] = []
        self.failures: list[ProbeFailure] = []
        self.restored: list[Path] = []
        self.moved: list[MovedFile] = []

    def full(self) -> bool:
        return len(self.probed) + len(self.failures) + len(self.restored) >= self._batch_size

    def flush_if_stale(self) -> None:
        if self.full() or time.monotonic() - self._flushed_at >= _FLUSH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        self._library.write_scan_batch(
            probed=self.probed, failures=self.failures, restored=self.restored, moved=self.moved
        )
        self.probed, self.failures, self.restored, self.moved = [], [], [], []
        self._flushed_at = time.monotonic()
