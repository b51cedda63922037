"""The one adapter between a job and the engine: a job in, a JobOutcome out.

Process jobs go through the batch coordinator
(``vpo.batch.process.run_process_batch``) exactly as ``vpo process`` does: same
per-file function, cache, recorder and recovery; the job's StartGate is the
batch's ``window``. Scan jobs go through ``vpo.library.scan``; plan and dry-run
jobs probe and evaluate each file and store the plans.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vpo.apply.encode import TranscodeSettings
from vpo.apply.settings import ApplySettings
from vpo.batch.executors import open_executor
from vpo.batch.pathmap import PathMap
from vpo.batch.process import MetadataLookup, ProcessRequest, run_process_batch
from vpo.batch.resources import parse_resources
from vpo.batch.runner import BatchLimits
from vpo.batch.workers import resolve_worker_count
from vpo.cli.render import plan_json
from vpo.config.models import VPOConfig
from vpo.discovery import iter_media_files
from vpo.errors import FileError
from vpo.jobs.limits import Refusal, StartGate, StopKind
from vpo.jobs.model import Job, JobProgress, JobType
from vpo.library import Library
from vpo.library.jobs import PlanItem
from vpo.library.scan import ScanOptions, ScanProblem, scan_paths
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import MediaFile
from vpo.policy.loader import parse_policy
from vpo.policy.phases import evaluate_file, select_phases
from vpo.policy.schema import Phase, Policy
from vpo.probe.cheapest import cheapest_prober
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress
from vpo.tools.runner import ToolError
from vpo.workflow.result import FileResult, FileStatus

_log = logging.getLogger("vpo.jobs")


class JobEnd(enum.Enum):
    COMPLETED = "completed"  # every file had its turn (or a limit of the job was reached)
    FAILED = "failed"  # on_error: fail stopped the batch, or the job could not start
    STOPPED = "stopped"  # stop was set from outside (cancel, SIGTERM)
    WINDOW = "window"  # the run window closed: requeue for the next one


@dataclass(frozen=True, slots=True)
class JobOutcome:
    end: JobEnd
    message: str | None = None
    counts: dict[str, int] = field(default_factory=dict)


class JobObserver(Protocol):
    """What the runner hears while a job runs; called from worker threads too."""

    def progress(self, progress: JobProgress) -> None: ...

    def file_result(self, data: dict[str, object]) -> None: ...


@dataclass(frozen=True, slots=True)
class JobEnvironment:
    """What every job needs besides itself; built once by the daemon."""

    library: Library
    config: VPOConfig
    tools: ToolPaths


class _Progress:
    """Thread-safe job progress that reports every change to the observer."""

    def __init__(self, observer: JobObserver) -> None:
        self._observer = observer
        self._lock = threading.Lock()
        self._done = 0
        self._total: int | None = None
        self._active: dict[str, str] = {}

    def _emit(self) -> None:
        self._observer.progress(
            JobProgress(files_done=self._done, files_total=self._total, active=dict(self._active))
        )

    def total(self, total: int) -> None:
        with self._lock:
            self._total = total
            self._emit()

    def file_started(self, path: Path) -> None:
        with self._lock:
            self._active[str(path)] = "started"
            self._emit()

    def detail(self, path: Path, text: str) -> None:
        with self._lock:
            if str(path) in self._active:
                self._active[str(path)] = text
                self._emit()

    def file_finished(self, result: FileResult) -> None:
        with self._lock:
            self._active.pop(str(result.path), None)
            self._done += 1
            self._emit()


def run_job(
    job: Job,
    policy_text: str | None,
    env: JobEnvironment,
    *,
    gate: StartGate,
    stop: threading.Event,
    observer: JobObserver,
) -> JobOutcome:
    """Run one job to its end; never raises for a per-file problem."""
    if job.type is JobType.SCAN:
        return _scan(job, env, stop, observer)
    if policy_text is None:
        return JobOutcome(JobEnd.FAILED, "the job has no policy")
    policy = parse_policy(policy_text, job.policy_name or "<policy>")
    phases = select_phases(policy, None)
    if job.type is JobType.PLAN or job.dry_run:
        return _plan(job, env, policy_text, gate, stop, observer)
    return _process(job, env, policy_text, gate, stop, observer, policy, phases)


def _files(job: Job, env: JobEnvironment, problems: list[FileResult]) -> Iterator[Path]:
    if job.options.files is not None:
        return iter([Path(name) for name in job.options.files])

    def discovery_error(path: Path, cause: str) -> None:
        problems.append(FileResult(path=path, status=FileStatus.FAILED, error=cause))

    return iter_media_files(
        [Path(p) for p in job.paths],
        env.config.discovery.extensions,
        on_error=discovery_error,
    )


def _process(
    job: Job,
    env: JobEnvironment,
    policy_text: str,
    gate: StartGate,
    stop: threading.Event,
    observer: JobObserver,
    policy: Policy,
    phases: tuple[Phase, ...],
) -> JobOutcome:
    config, library, tools = env.config, env.library, env.tools
    decision = resolve_worker_count(
        config.processing.workers,
        max_workers=config.processing.max_workers,
        cpu_count=os.cpu_count(),
    )
    refused: list[Refusal] = []  # why the gate closed, if it did
    remote = config.processing.executor.startswith("dask://")

    def admitted() -> bool:
        refusal = gate.admit()
        if refusal is not None:
            refused.append(refusal)
        return refusal is None

    request = ProcessRequest(
        paths=tuple(
            Path(name)
            for name in (job.options.files if job.options.files is not None else job.paths)
        ),
        policy=policy,
        phases=phases,
        tools=tools,
        extensions=tuple(config.discovery.extensions),
        settings=ApplySettings.from_jobs_config(config.jobs),
        transcode=TranscodeSettings.from_config(config.transcode),
        probe_timeout=config.tools.probe_timeout,
        workers=0 if remote else decision.effective,  # remote: the cluster's threads
        path_map=PathMap.parse(config.paths.map),
        encode_resources=parse_resources(config.processing.encode_resources),
        limits=BatchLimits(window=admitted),
        policy_name=job.policy_name,
        policy_hash=_hash(policy_text),
        job_id=job.id,
        metadata_for=_metadata_for(env),
    )
    reporter = _JobReporter(observer)
    # keep: the daemon's jobs share one Dask client process (one `import distributed`)
    with open_executor(config.processing.executor, decision.effective, keep=True) as executor:
        batch = run_process_batch(
            request, executor=executor, observer=reporter, stop=stop, library=library
        )
    tally = {s.value: batch.counts.get(s.value, 0) for s in FileStatus}
    if stop.is_set() and batch.stop_reason == "interrupted":
        return JobOutcome(JobEnd.STOPPED, "interrupted", tally)
    if refused:
        end = JobEnd.WINDOW if refused[0].kind is StopKind.WINDOW else JobEnd.COMPLETED
        return JobOutcome(end, refused[0].reason, tally)
    if batch.stopped_early:
        return JobOutcome(JobEnd.FAILED, batch.stop_reason, tally)
    return JobOutcome(JobEnd.COMPLETED, None, tally)


class _JobReporter:
    """The coordinator's ProcessObserver for a job: progress and one result per file."""

    def __init__(self, observer: JobObserver) -> None:
        self._observer = observer
        self._progress = _Progress(observer)

    def batch_started(self, total: int) -> None:
        self._progress.total(total)

    def file_started(self, path: Path) -> None:
        self._progress.file_started(path)

    def file_finished(self, result: FileResult) -> None:
        self._observer.file_result(_result_data(result))
        self._progress.file_finished(result)

    def progress(self, progress: EncodeProgress) -> None:
        _encode_detail(self._progress, progress)

    def notice(self, path: Path, text: str, *, important: bool, topic: str | None = None) -> None:
        if topic is not None:
            return  # recovery of a leftover: not a result of this job
        self._observer.file_result(  # a path the walk could not read
            _result_data(FileResult(path=path, status=FileStatus.FAILED, error=text))
        )


def _encode_detail(progress: _Progress, report: EncodeProgress) -> None:
    percent = "?" if report.percent is None else f"{report.percent:.0f}%"
    progress.detail(report.path, f"encode {percent}")


def _plan(
    job: Job,
    env: JobEnvironment,
    policy_text: str,
    gate: StartGate,
    stop: threading.Event,
    observer: JobObserver,
) -> JobOutcome:
    """Probe and evaluate each file; store its plan with the stat key it was made from."""
    policy = parse_policy(policy_text, job.policy_name or "<policy>")
    phases = select_phases(policy, None)
    prober = cheapest_prober(env.tools, timeout=env.config.tools.probe_timeout)
    problems: list[FileResult] = []
    files = list(_files(job, env, problems))
    lookup = _metadata_for(env)
    progress = _Progress(observer)
    progress.total(len(files) + len(problems))
    tally = {"planned": 0, "errors": len(problems)}
    for problem in problems:
        observer.file_result(_result_data(problem))
        progress.file_finished(problem)
    for path in files:
        if stop.is_set():
            return JobOutcome(JobEnd.STOPPED, "interrupted", tally)
        refusal = gate.admit()
        if refusal is not None:
            end = JobEnd.WINDOW if refusal.kind is StopKind.WINDOW else JobEnd.COMPLETED
            return JobOutcome(end, refusal.reason, tally)
        progress.file_started(path)
        about = lookup([path]).get(path, NO_METADATA) if lookup is not None else NO_METADATA
        item, data = _plan_one(path, policy, phases, prober, about)
        if item is not None:
            env.library.jobs.add_plans(job.id, [item])
            tally["planned"] += 1
        else:
            tally["errors"] += 1
        observer.file_result(data)
        progress.file_finished(FileResult(path=path, status=FileStatus.UNCHANGED))
    return JobOutcome(JobEnd.COMPLETED, None, tally)


def _plan_one(
    path: Path,
    policy: Policy,
    phases: tuple[Phase, ...],
    prober: Callable[[Path], MediaFile],
    metadata: FileMetadata = NO_METADATA,
) -> tuple[PlanItem | None, dict[str, object]]:
    try:
        info = path.stat()
        media = prober(path)
    except (OSError, FileError, ToolError) as error:
        message = str(error)
        return None, {"path": str(path), "status": "failed", "error": message}
    evaluation = evaluate_file(policy, phases, media, metadata)
    document = plan_json.file_dict(evaluation)
    kind = "error" if evaluation.failed else evaluation.kind.value
    item = PlanItem(
        path=path,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
        ctime_ns=info.st_ctime_ns,
        kind=kind,
        plan=document,
    )
    return item, {"path": str(path), "status": "planned", "kind": kind}


def _scan(
    job: Job, env: JobEnvironment, stop: threading.Event, observer: JobObserver
) -> JobOutcome:
    prober = cheapest_prober(env.tools, timeout=env.config.tools.probe_timeout)
    options = ScanOptions(
        extensions=env.config.discovery.extensions, workers=env.config.processing.workers
    )

    def on_event(event: object) -> None:
        if isinstance(event, ScanProblem):
            observer.file_result(
                {"path": str(event.path), "status": "failed", "error": event.message}
            )

    summary = scan_paths(
        [Path(p) for p in job.paths], env.library, prober, options, on_event=on_event, stop=stop
    )
    if not (summary.interrupted or stop.is_set()) and _arr_configured(env.config):
        from vpo.integrations.arr_metadata import fetch_for_scan

        fetch_for_scan(
            env.config.integrations,
            env.library,
            [Path(p) for p in job.paths],
            refresh=False,
            warn=_log.warning,
        )
    c = summary.counts
    tally = {"found": c.found, "new": c.new, "changed": c.changed, "errors": c.errors}
    observer.progress(JobProgress(files_done=c.found, files_total=c.found))
    if summary.interrupted or stop.is_set():
        return JobOutcome(JobEnd.STOPPED, "interrupted", tally)
    return JobOutcome(JobEnd.COMPLETED, None, tally)


def _metadata_for(env: JobEnvironment) -> MetadataLookup | None:
    """The library's Sonarr/Radarr metadata, fetching missing titles first (a server
    that cannot answer is one warning in the log; the files are processed anyway)."""
    from vpo.integrations.metadata_source import batch_metadata

    return batch_metadata(env.config.integrations, env.library, warn=_log.warning)


def _arr_configured(config: VPOConfig) -> bool:
    return bool(config.integrations.radarr.url or config.integrations.sonarr.url)


def _result_data(result: FileResult) -> dict[str, object]:
    return {
        "path": str(result.path),
        "status": result.status.value,
        "error": result.error or result.skip_reason,
        "bytes_written": result.bytes_written,
        "seconds": round(result.seconds, 3),
    }


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
