"""The per-file unit of ``vpo process``: probe (or cache), then one transaction.

Runs on a worker (a thread, or another process): it takes only plain, picklable
inputs (the path, a frozen WorkflowContext and the cached probe the coordinator
looked up) and returns a FileResult; the coordinator records and reports it.
Nothing here touches the library database or the display. The work itself (plan
every phase, write once, replace once) is vpo.workflow.transaction's.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from vpo.errors import FileError
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.tools.runner import ToolError
from vpo.workflow.context import CachedProbe, WorkflowContext, current_media, finish_early
from vpo.workflow.result import FileResult, FileStatus

if TYPE_CHECKING:
    from vpo.tools.progress import EncodeProgress

__all__ = ["CachedProbe", "WorkflowContext", "process_file"]


def process_file(
    path: Path,
    context: WorkflowContext,
    cached: CachedProbe | None = None,
    metadata: FileMetadata = NO_METADATA,
) -> FileResult:
    """Make one file conform to every selected phase: one transaction
    (vpo.workflow.transaction); never raises for per-file trouble.

    ``cached``: the library's probe, used when the file still matches it.
    ``metadata``: what Sonarr/Radarr know about the file's title (the library's).
    """
    started = time.monotonic()
    worker = threading.current_thread().name
    try:
        before, ctime_ns = current_media(path, context, cached)
    except (FileError, ToolError) as error:
        return finish_early(
            path, started, worker, status=FileStatus.FAILED, error=error.without_path()
        )
    # the apply machinery is imported when a file is processed, not at start-up
    from vpo.apply.encode import TranscodeSettings
    from vpo.workflow.transaction import ApplyExecutor, run_transaction

    def report_progress(progress: EncodeProgress) -> None:
        # Keyed by the path the batch knows, even after the extension changed.
        if context.on_progress is not None:
            context.on_progress(replace(progress, path=path))

    return run_transaction(
        path,
        before,
        context.policy,
        context.phases,
        ApplyExecutor(context.tools, context.settings, context.transcode or TranscodeSettings()),
        before_ctime_ns=ctime_ns,
        on_progress=report_progress if context.on_progress is not None else None,
        metadata=metadata,
    )
