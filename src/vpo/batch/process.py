"""The one batch coordinator of ``vpo process`` (real run and ``--dry-run``).

Entry point: :func:`run_process_batch`. Everything that asks for files to be
processed (the CLI today, the daemon's job queue next) builds a frozen
:class:`ProcessRequest` and calls it with an executor, an observer and a library::

    with Library.open(db) as library, ThreadPoolExecutor(2) as executor:
        batch = run_process_batch(request, executor=executor, observer=display,
                                  stop=stop_event, library=library)

The coordinator (the calling thread) is the only code that touches the library
database and the observer. It discovers the files, stats them and looks their
probes up in the library in pages (one query per few hundred files); a cached
file that every phase leaves alone is finished right here, with no worker
round-trip; every other file goes to the executor as ``process_file(path,
context, cached, metadata)`` (``plan_file`` for a dry run; ``metadata`` from
``request.metadata_for``, looked up by the same pages) — plain, picklable inputs and a
FileResult out, so a ``ProcessPoolExecutor`` (or a distributed executor) works
as well as threads. Results are recorded in small transactions after each disk
change; a cached file that already conforms writes its record only (its cached
probe is still right).
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from vpo.apply.settings import ApplySettings
from vpo.batch.chunks import CHUNK_TARGET_SECONDS, Chunking
from vpo.batch.pathmap import PathMap
from vpo.batch.recording import Recorder, absolute, run_outcome
from vpo.batch.remote import FileWork, Preflight, RemoteWork
from vpo.batch.resources import describe as describe_resources
from vpo.batch.resources import needs_resources
from vpo.batch.runner import BatchLimits, BatchResult, BatchTally, Job, internal_error, run_batch
from vpo.discovery import iter_media_files
from vpo.errors import ExitCode, FatalError
from vpo.library import Library, LibraryError
from vpo.library.records import RunCounts, StatKey
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.policy.schema import Phase, Policy
from vpo.probe.cheapest import CheapestProber
from vpo.tools.locate import TOOL_NAMES, ToolPaths
from vpo.workflow.context import CachedProbe, WorkflowContext
from vpo.workflow.planned import plan_file, unchanged_result
from vpo.workflow.process_file import process_file

if TYPE_CHECKING:
    from vpo.apply.encode import TranscodeSettings
    from vpo.tools.progress import EncodeProgress
from vpo.workflow.result import FileResult, FileStatus

_LOOKUP_CHUNK = 256  # files stat-ed and looked up in the library at once

MetadataLookup = Callable[[Sequence[Path]], Mapping[Path, FileMetadata]]
"""Batched lookup of what Sonarr/Radarr know about files (``Library.metadata_for``):
called with absolute paths, a chunk at a time; a path it does not answer has none."""


@dataclass(frozen=True, slots=True)
class ProcessRequest:
    """One batch to run: what, with which policy, how, and within which limits."""

    paths: tuple[Path, ...]
    policy: Policy
    phases: tuple[Phase, ...]
    tools: ToolPaths
    extensions: tuple[str, ...]
    settings: ApplySettings = field(default_factory=ApplySettings)
    transcode: TranscodeSettings | None = None  # None: the defaults
    probe_timeout: float = 60.0
    recursive: bool = True
    dry_run: bool = False
    workers: int = 1  # files in flight at once (0: as many as a remote executor has threads)
    limits: BatchLimits = field(default_factory=BatchLimits)
    policy_name: str | None = None  # recorded with the run
    policy_hash: str | None = None  # of the bytes that were parsed
    keep_results: bool = False  # keep every FileResult (JSON output); else only failures
    job_id: int | None = None  # the queued job this batch runs (vpo serve), recorded with the run
    path_map: PathMap = field(default_factory=PathMap)  # [paths] map, for remote workers
    # [processing] encode_resources: Dask resources a file that encodes needs (GPU=1)
    encode_resources: tuple[tuple[str, float], ...] = ()
    metadata_for: MetadataLookup | None = None  # Sonarr/Radarr metadata per file; None: none
    # a remote executor's quick files share tasks lasting about this long (0: one per task)
    chunk_seconds: float = CHUNK_TARGET_SECONDS


class RemoteWorker(Protocol):
    @property
    def label(self) -> str: ...


@runtime_checkable
class RemoteExecutor(Protocol):
    """An executor on other machines (vpo.batch.dask_executor.DaskExecutor): its
    workers are checked before the batch and see the files through a path map."""

    @property
    def capacity(self) -> int: ...

    def hold_queued(self) -> None:
        """Start none of the files still queued on the cluster (they come back cancelled)."""

    def preflight(self, check: Callable[..., str | None]) -> Sequence[tuple[RemoteWorker, str]]: ...

    def progress_events(
        self, receive: Callable[[EncodeProgress], None]
    ) -> contextlib.AbstractContextManager[str]: ...

    def offers(self, resources: Sequence[tuple[str, float]]) -> bool: ...


class NoWorkerError(FatalError):
    """No remote worker passed the preflight: the batch does not start."""

    def __init__(self, text: str, *, tools_only: bool) -> None:
        super().__init__(text)
        if tools_only:
            self.exit_code = ExitCode.TOOL_MISSING


class ProcessObserver(Protocol):
    """What the coordinator reports; every call comes from the coordinator's thread,
    except ``progress``, which in-process workers call while they encode."""

    def batch_started(self, total: int) -> None: ...

    def file_started(self, path: Path) -> None: ...

    def file_finished(self, result: FileResult) -> None: ...

    def progress(self, progress: EncodeProgress) -> None: ...

    def notice(self, path: Path, text: str, *, important: bool, topic: str | None = None) -> None:
        """A line about a path outside the results: an unreadable path, or with
        ``topic="recovery"`` what recovery did to a leftover of a killed run."""


def run_process_batch(
    request: ProcessRequest,
    *,
    executor: Executor,
    observer: ProcessObserver,
    stop: threading.Event | None = None,
    library: Library | None = None,
    clock: Callable[[], float] = time.time,
) -> BatchResult:
    """Run ``request`` on ``executor`` and return how the batch ended.

    ``stop`` (Ctrl-C, SIGTERM, a cancelled job) lets active files finish and starts
    no new one, as do ``request.limits``, read against ``clock`` (wall-clock
    seconds; inject one in tests). With a ``library`` the real run records a
    processing run (its id is ``BatchResult.run_id``) and its changed, skipped
    and failed files, and both runs use the library's probes of unchanged files;
    a dry run writes nothing anywhere.
    """
    stop = stop or threading.Event()
    unreadable = BatchTally(keep_results=request.keep_results)
    if not request.dry_run:
        _recover(request, observer)

    def discovery_error(path: Path, cause: str) -> None:
        unreadable.add(FileResult(path=path, status=FileStatus.FAILED, error=cause))
        observer.notice(path, cause, important=True)

    files: list[Path] = []
    for path in iter_media_files(
        request.paths, request.extensions, recursive=request.recursive, on_error=discovery_error
    ):
        if stop.is_set():  # SIGINT/SIGTERM/SIGHUP during discovery: start nothing
            break
        files.append(path)
    remote = executor if isinstance(executor, RemoteExecutor) else None
    wanted = request.workers
    routing: _Routing | None = None
    if remote is not None:
        _preflight(remote, request, files, observer)
        wanted = min(wanted or remote.capacity, remote.capacity)
        if request.encode_resources and not request.dry_run:
            routing = _Routing(request.encode_resources, remote.offers(request.encode_resources))
            if not routing.offered:
                observer.notice(
                    Path(_remote_label(remote)),
                    f"no worker has the resources {describe_resources(routing.resources)} "
                    "([processing] encode_resources): files that encode are reported failed",
                    important=True,
                    topic="worker",
                )
    observer.batch_started(len(files))
    workers = max(1, min(wanted, len(files) or 1))
    in_process = isinstance(executor, ThreadPoolExecutor)
    context = WorkflowContext(
        policy=request.policy,
        phases=request.phases,
        tools=request.tools,
        settings=request.settings,
        probe=CheapestProber(request.tools, request.probe_timeout),
        transcode=request.transcode,
        on_progress=observer.progress if in_process and not request.dry_run else None,
    )
    run_id = None
    recorder = None
    if library is not None and not request.dry_run:
        for closed in library.close_abandoned_runs():
            observer.notice(
                library.path,
                f"run {closed} did not finish (its vpo is gone): recorded as interrupted",
                important=False,
            )
        run_id = library.start_run(
            policy_name=request.policy_name,
            policy_hash=request.policy_hash,
            workers=workers,
            job_id=request.job_id,
        )
        recorder = Recorder(
            library,
            run_id,
            lambda text: _database_failed(library.path, text, stop, observer),
        )
    tally = BatchTally(keep_results=request.keep_results)
    for result in unreadable.kept:
        tally.add(result)
    with contextlib.ExitStack() as listening:
        topic = None
        if remote is not None and not request.dry_run:
            topic = listening.enter_context(remote.progress_events(observer.progress))
        batch = run_batch(
            _jobs(
                files,
                request,
                context,
                library,
                remote=remote is not None,
                topic=topic,
                routing=routing,
            ),
            executor=executor,
            workers=workers,
            stop_on_failure=request.policy.config.on_error == "fail",
            stop=stop,
            observer=observer,
            on_result=recorder.add if recorder is not None else None,
            limits=request.limits,
            clock=clock,
            tally=tally,
            # all of a cluster's threads busy: one more file waits on each, so a worker
            # never idles through the round trip to the coordinator between two files
            queued=remote.capacity if remote is not None and workers >= remote.capacity else 0,
            hold_queued=remote.hold_queued if remote is not None else None,
            # on a cluster quick files share tasks (Dask's cost per task); never locally
            chunking=Chunking(len(files), request.chunk_seconds) if remote is not None else None,
        )
    if remote is not None and not request.dry_run:
        _recover(request, observer)  # what a worker lost mid-file left on the shared storage
    database_error: str | None = None
    if recorder is not None and library is not None and run_id is not None:
        interrupted = stop.is_set() and batch.stop_reason == "interrupted"
        try:
            recorder.flush()
            library.finish_run(
                run_id,
                RunCounts.from_mapping(dict(batch.counts), batch.bytes_written),
                outcome=run_outcome(batch, interrupted or recorder.error is not None),
            )
        except LibraryError as error:
            database_error = (
                f"{error}; {recorder.pending} file result(s) of run {run_id} could not be "
                "recorded (the files themselves are complete); the next vpo process closes "
                "the run as interrupted"
            )
        else:
            if recorder.error is not None:
                database_error = (
                    f"{recorder.error} (during the run: no new file was started; every "
                    "result was recorded once the database could be written again)"
                )
    return replace(batch, run_id=run_id, database_error=database_error)


def _jobs(
    files: Sequence[Path],
    request: ProcessRequest,
    context: WorkflowContext,
    library: Library | None,
    *,
    remote: bool = False,
    topic: str | None = None,
    routing: _Routing | None = None,
) -> Iterator[Job]:
    """Each file with its cached probe and its metadata (looked up a page at a time)
    and its work: the finished result when the coordinator can tell already, else the
    call a worker makes (with ``routing``: planned here first, a file that encodes
    needs the encode resources)."""
    work = plan_file if request.dry_run else process_file
    for start in range(0, len(files), _LOOKUP_CHUNK):
        chunk = files[start : start + _LOOKUP_CHUNK]
        cached = _lookup(chunk, library)
        try:
            metadata = _metadata(chunk, request.metadata_for)
        except Exception as error:  # the lookup is the caller's code
            # Deciding without it could drop the original audio: these files wait.
            for path in chunk:
                yield path, _lookup_failed(path, error)
            continue
        for path in chunk:
            hit = cached.get(path)
            known: FileResult | None = None
            about = metadata.get(path, NO_METADATA)
            if hit is not None:
                try:
                    known = unchanged_result(context, hit, about)
                except Exception as error:  # a bug in the evaluation fails the file only
                    known = internal_error(path, error)
                else:
                    known = None if known is None else replace(known, from_cache=True)
            if known is not None:
                yield path, known
            elif remote and routing is not None:
                yield path, routing.job(work, path, context, hit, request.path_map, topic, about)
            elif remote:
                yield (
                    path,
                    RemoteWork(work, path, context, hit, request.path_map, topic, metadata=about),
                )
            else:
                yield path, functools.partial(work, path, context, hit, about)


def _metadata(paths: Sequence[Path], lookup: MetadataLookup | None) -> dict[Path, FileMetadata]:
    """``lookup``'s answer for ``paths`` (asked with absolute paths, as the library
    stores them), keyed by the paths as given."""
    if lookup is None:
        return {}
    given = {absolute(path): path for path in paths}
    found = lookup(list(given))
    return {path: found[absolute] for absolute, path in given.items() if absolute in found}


def _lookup_failed(path: Path, error: Exception) -> FileResult:
    return FileResult(
        path=path,
        status=FileStatus.FAILED,
        error=f"metadata lookup failed ({type(error).__name__}: {error}); the file was not "
        "touched, run again",
    )


@dataclass(frozen=True, slots=True)
class _Routing:
    """``[processing] encode_resources`` for one batch (vpo.batch.resources)."""

    resources: tuple[tuple[str, float], ...]
    offered: bool  # some worker that passed the check has them

    def job(
        self,
        work: FileWork,
        path: Path,
        context: WorkflowContext,
        hit: CachedProbe | None,
        path_map: PathMap,
        topic: str | None,
        metadata: FileMetadata = NO_METADATA,
    ) -> FileResult | RemoteWork:
        """The file's remote work, with the resources when its plan encodes; a file
        that encodes with no worker to take it fails here, in one line."""
        encodes, probe = needs_resources(path, context, hit, metadata)
        if not encodes:
            return RemoteWork(work, path, context, probe, path_map, topic, metadata=metadata)
        if not self.offered:
            return FileResult(
                path=path,
                status=FileStatus.FAILED,
                error=f"it must encode, and no worker has the resources "
                f"{describe_resources(self.resources)} ([processing] encode_resources)",
            )
        return RemoteWork(
            work, path, context, probe, path_map, topic, self.resources, metadata=metadata
        )


def _remote_label(remote: RemoteExecutor) -> str:
    """The scheduler's address (a notice's "path")."""
    return str(getattr(remote, "address", "cluster"))


def _preflight(
    remote: RemoteExecutor,
    request: ProcessRequest,
    files: Sequence[Path],
    observer: ProcessObserver,
) -> None:
    """Check every remote worker; name the failing ones, which get no files; raise
    NoWorkerError when none passes."""
    sample = absolute(files[0]) if files else None
    scratch: list[Path] = []
    if not request.dry_run:
        configured = [
            request.settings.temp_dir,
            request.transcode.scratch_dir if request.transcode is not None else None,
        ]
        scratch = [d for d in configured if d is not None]
        if sample is not None and request.settings.temp_dir is None:
            scratch.append(sample.parent)  # temp files go beside the media file
    tools = ("ffprobe", "mkvmerge") if request.dry_run else TOOL_NAMES
    check = Preflight(sample, tuple(scratch), request.path_map, tools)
    failed = remote.preflight(check)
    for worker, reason in failed:
        observer.notice(
            Path(worker.label), f"{reason}; it gets no files", important=True, topic="worker"
        )
    if remote.capacity < 1:
        reasons = "; ".join(f"{worker.label}: {reason}" for worker, reason in failed)
        tools_only = bool(failed) and all(
            reason.split(" ", 1)[0] in TOOL_NAMES for _, reason in failed
        )
        raise NoWorkerError(
            f"no worker passed the check, the batch does not start ({reasons or 'no workers'})",
            tools_only=tools_only,
        )


def _lookup(paths: Sequence[Path], library: Library | None) -> dict[Path, CachedProbe]:
    """The library's probes of ``paths`` that still match a fresh stat."""
    if library is None:
        return {}
    keys: list[tuple[Path, StatKey]] = []
    given: dict[Path, Path] = {}
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            continue  # the worker's probe names the cause
        stored = absolute(path)  # the library stores absolute paths
        given[stored] = path
        keys.append(
            (stored, StatKey(info.st_size, info.st_mtime_ns, info.st_ino, None, info.st_ctime_ns))
        )
    ctimes = {path: key.ctime_ns for path, key in keys}
    return {
        given[path]: CachedProbe(
            media if given[path] == path else replace(media, path=given[path]), ctimes[path] or 0
        )
        for path, media in library.cached_media_many(keys).items()
    }


def _database_failed(
    database: Path, text: str, stop: threading.Event, observer: ProcessObserver
) -> None:
    """A record write failed: start no new file, since its change could not be
    recorded either; the results stay pending for one more try at the end."""
    stop.set()
    observer.notice(
        database, f"{text}; starting no new files (the ones in progress finish)", important=True
    )


def _recover(request: ProcessRequest, observer: ProcessObserver) -> None:
    """Undo what a killed earlier run left (journals, temp files in the folders and in
    the configured temp and scratch directories) before touching anything."""
    from vpo.apply.recovery import (  # real runs only
        RecoveryKind,
        recover_leftovers,
        recover_temp_dir,
    )

    scratch = request.transcode.scratch_dir if request.transcode is not None else None
    found = recover_temp_dir(request.settings.temp_dir, scratch)
    for root in request.paths:
        if root.is_dir():
            found.extend(recover_leftovers(root))
    for action in found:
        observer.notice(
            action.path,
            action.detail,
            important=action.kind in (RecoveryKind.FAILED, RecoveryKind.SET_ASIDE),
            topic="recovery",
        )
