"""Files that need no write: the dry-run worker, and cached files that already conform.

``plan_file`` is the dry-run twin of ``process_file``: the same inputs (path,
context, cached probe), the same probe, the same transaction (vpo.workflow.transaction), with the
simulating executor instead of the tools. ``unchanged_result`` lets the
coordinator finish a cached file whose every phase is a no-op without handing it
to a worker.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from vpo.errors import FileError
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import MediaFile
from vpo.plan import Plan
from vpo.policy.phases import run_phases
from vpo.policy.schema import Phase
from vpo.tools.runner import ToolError
from vpo.workflow.context import CachedProbe, WorkflowContext, current_media, finish_early
from vpo.workflow.result import FileResult, FileStatus
from vpo.workflow.transaction import SimulateExecutor, planned_result, run_transaction


def plan_file(
    path: Path,
    context: WorkflowContext,
    cached: CachedProbe | None = None,
    metadata: FileMetadata = NO_METADATA,
) -> FileResult:
    """Probe (or take the cached probe) and plan every phase; changes nothing.

    The result carries the ``evaluation`` that dry-run renders.
    """
    started = time.monotonic()
    worker = threading.current_thread().name
    try:
        media, ctime_ns = current_media(path, context, cached)
    except (FileError, ToolError) as error:
        return finish_early(
            path, started, worker, status=FileStatus.FAILED, error=error.without_path()
        )
    return run_transaction(
        path,
        media,
        context.policy,
        context.phases,
        SimulateExecutor(),
        before_ctime_ns=ctime_ns,
        metadata=metadata,
    )


class _NeedsWork(Exception):
    """A phase has something to do: the file goes to a worker."""


def _noop_only(phase: Phase, plan: Plan) -> MediaFile:
    """The phase executor of ``unchanged_result``: a no-op leaves the file as it is;
    anything else ends the evaluation at once."""
    if plan.is_noop:
        return plan.source
    raise _NeedsWork


def unchanged_result(
    context: WorkflowContext, cached: CachedProbe, metadata: FileMetadata = NO_METADATA
) -> FileResult | None:
    """The result of a cached file every phase leaves alone, or None when a worker
    must look at it (something to do, or a phase that fails)."""
    started = time.monotonic()
    try:
        evaluation = run_phases(
            context.policy, context.phases, cached.media, _noop_only, metadata=metadata
        )
    except _NeedsWork:
        return None
    if evaluation.failed:
        return None
    return planned_result(cached.media.path, evaluation, started, cached.ctime_ns)
