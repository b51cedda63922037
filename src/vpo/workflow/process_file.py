"""The per-file unit of ``vpo process``: probe (or cache), then one transaction.

Runs on a worker thread: it only reads shared, immutable context and returns a
FileResult; the coordinator records and reports it. The work itself (plan every
phase, write once, replace once) is vpo.workflow.transaction's.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from vpo.apply.encode import TranscodeSettings
from vpo.apply.settings import ApplySettings
from vpo.errors import FileError
from vpo.media.model import MediaFile
from vpo.policy.schema import Phase, Policy
from vpo.probe.cheapest import Prober
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress
from vpo.tools.runner import ToolError
from vpo.workflow.result import FileResult, FileStatus
from vpo.workflow.transaction import (
    ApplyExecutor,
    ApplyFailedError,
    NonConvergentPolicyError,
    ctime_if_unchanged,
    run_transaction,
)

__all__ = [
    "ApplyFailedError",
    "NonConvergentPolicyError",
    "WorkflowContext",
    "ctime_if_unchanged",
    "process_file",
]

CacheLookup = Callable[[Path, os.stat_result], MediaFile | None]


@dataclass(frozen=True, slots=True)
class WorkflowContext:
    """Everything a worker needs; shared read-only by all workers."""

    policy: Policy
    phases: tuple[Phase, ...]
    tools: ToolPaths
    settings: ApplySettings
    probe: Prober  # the cheapest probe per container (vpo.probe.cheapest)
    cached_media: CacheLookup | None = None
    transcode: TranscodeSettings = field(default_factory=TranscodeSettings)
    on_progress: Callable[[EncodeProgress], None] | None = None  # encodes only; any thread


def process_file(path: Path, context: WorkflowContext) -> FileResult:
    """Make one file conform to every selected phase: one transaction
    (vpo.workflow.transaction); never raises for per-file trouble."""
    started = time.monotonic()
    worker = threading.current_thread().name
    try:
        before, ctime_ns = _current_media(path, context)
    except (FileError, ToolError) as error:
        return _finish(path, started, worker, status=FileStatus.FAILED, error=_cause(error, path))

    def report_progress(progress: EncodeProgress) -> None:
        # Keyed by the path the batch knows, even after the extension changed.
        if context.on_progress is not None:
            context.on_progress(replace(progress, path=path))

    return run_transaction(
        path,
        before,
        context.policy,
        context.phases,
        ApplyExecutor(context.tools, context.settings, context.transcode),
        before_ctime_ns=ctime_ns,
        on_progress=report_progress if context.on_progress is not None else None,
    )


def _current_media(path: Path, context: WorkflowContext) -> tuple[MediaFile, int | None]:
    """The library's cached probe when size, mtime, inode and ctime still match, else a
    probe; with the ctime of the stat taken *before* it, so a change made while the
    file is probed can never be cached as the probed state."""
    try:
        info: os.stat_result | None = path.stat()
    except OSError:
        info = None  # the probe names the cause precisely
    if info is not None and context.cached_media is not None:
        cached = context.cached_media(path, info)
        if cached is not None:
            return cached, info.st_ctime_ns
    media = context.probe(path)
    if info is None or (media.size, media.mtime_ns, media.inode) != (
        info.st_size,
        info.st_mtime_ns,
        info.st_ino,
    ):
        return media, None
    return media, info.st_ctime_ns


def _finish(
    path: Path,
    started: float,
    worker: str,
    *,
    status: FileStatus,
    error: str | None = None,
    skip: str | None = None,
    before: MediaFile | None = None,
) -> FileResult:
    return FileResult(
        path=path,
        status=status,
        seconds=time.monotonic() - started,
        error=error,
        skip_reason=skip,
        before=before,
        worker=worker,
        started_at=started,
        finished_at=time.monotonic(),
    )


def _cause(error: Exception, path: Path) -> str:
    """The message without a leading ``<path>: `` (result lines add a display-safe path)."""
    prefix = f"{path}: "
    text = str(error) or "failed"
    return text[len(prefix) :] if text.startswith(prefix) else text
