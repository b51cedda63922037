"""What a worker gets: plain, picklable inputs (and the helpers that read them).

``WorkflowContext`` is shared read-only by every file of a batch; ``CachedProbe``
is the library's probe of one file, looked up by the coordinator. Both pickle,
so the per-file function can run in another process (or on another machine).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile
from vpo.policy.schema import Phase, Policy
from vpo.probe.cheapest import Prober
from vpo.tools.locate import ToolPaths
from vpo.workflow.result import FileResult, FileStatus

if TYPE_CHECKING:  # the apply machinery is imported when a file is changed, not before
    from vpo.apply.encode import TranscodeSettings
    from vpo.tools.progress import EncodeProgress


@dataclass(frozen=True, slots=True)
class CachedProbe:
    """The library's probe of a file and the stat key it was looked up with.

    The worker uses it only when a fresh stat still shows that key (size, mtime,
    inode and ctime), so a change between lookup and start is never missed.
    """

    media: MediaFile
    ctime_ns: int

    def matches(self, info: os.stat_result) -> bool:
        media = self.media
        return (info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns) == (
            media.size,
            media.mtime_ns,
            media.inode,
            self.ctime_ns,
        )


@dataclass(frozen=True, slots=True)
class WorkflowContext:
    """Everything a worker needs; shared read-only by all workers.

    Plain data (picklable) except ``on_progress``, which the coordinator sets only
    for an in-process (thread) executor; leave it None for a process pool.
    """

    policy: Policy
    phases: tuple[Phase, ...]
    tools: ToolPaths
    settings: ApplySettings
    probe: Prober  # the cheapest probe per container (vpo.probe.cheapest.CheapestProber)
    transcode: TranscodeSettings | None = None  # None: the defaults
    on_progress: Callable[[EncodeProgress], None] | None = None  # encodes only; any thread


def current_media(
    path: Path, context: WorkflowContext, cached: CachedProbe | None
) -> tuple[MediaFile, int | None]:
    """The library's cached probe when size, mtime, inode and ctime still match, else a
    probe; with the ctime of the stat taken *before* it, so a change made while the
    file is probed can never be cached as the probed state."""
    try:
        info: os.stat_result | None = path.stat()
    except OSError:
        info = None  # the probe names the cause precisely
    if info is not None and cached is not None and cached.matches(info):
        return cached.media, info.st_ctime_ns
    media = context.probe(path)
    if info is None or (media.size, media.mtime_ns, media.inode) != (
        info.st_size,
        info.st_mtime_ns,
        info.st_ino,
    ):
        return media, None
    return media, info.st_ctime_ns


def finish_early(
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
