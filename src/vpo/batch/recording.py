"""The coordinator's records of a batch: results buffered and written to the
library in small transactions, with absolute paths whatever the user typed.

Only the coordinator's thread calls these (vpo.batch.process); a worker never
opens the library.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from vpo.batch.runner import BatchResult
from vpo.library import Library, LibraryError
from vpo.library.records import FileRecord, RunOutcome
from vpo.media.model import MediaFile
from vpo.workflow.result import FileResult, FileStatus

_RECORD_BATCH = 64  # results per database transaction
_RECORD_SECONDS = 1.0  # ... or fewer, but at least once a second


def absolute(path: Path) -> Path:
    """abspath, not resolve: keep the names the user walked through (as ``vpo scan``)."""
    return path if path.is_absolute() else Path(os.path.abspath(path))  # noqa: PTH100


class Recorder:
    """Buffers results and writes them in small transactions from the coordinator thread.

    A cached file that already conforms gets its record, but its cached probe is
    not rewritten (it is still right): one row insert, not a probe's worth. A write
    that fails (a full or damaged database) stops the batch.
    """

    def __init__(
        self,
        library: Library,
        run_id: int,
        on_error: Callable[[str], None],
    ) -> None:
        self._library = library
        self._run_id = run_id
        self._on_error = on_error
        self._pending: list[FileRecord] = []
        self._last_flush = time.monotonic()
        self.error: str | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, result: FileResult) -> None:
        record = record_of(result)
        if result.status is FileStatus.UNCHANGED and result.from_cache:
            # Finished from the cache in the coordinator: the probe stored is still right.
            record = replace(record, refresh_cache=False)
        self._pending.append(record)
        due = time.monotonic() - self._last_flush >= _RECORD_SECONDS
        if self.error is None and (len(self._pending) >= _RECORD_BATCH or due):
            try:
                self.flush()
            except LibraryError as error:
                self.error = str(error)
                self._on_error(self.error)

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if self._pending:
            self._library.record_file_results(self._run_id, self._pending)
            self._pending = []


def record_of(result: FileResult) -> FileRecord:
    """The library record of ``result``, with absolute paths whatever the user typed."""
    kinds = [p.kind for p in result.phases if p.kind]
    order = ["noop", "metadata", "remux", "encode"]
    before = _with_absolute_path(result.before)
    after = before if result.after is result.before else _with_absolute_path(result.after)
    return FileRecord(
        path=absolute(result.path),
        outcome=result.status,
        plan_kind=max(kinds, key=order.index) if kinds else None,
        tool=",".join(dict.fromkeys(result.tools)) or None,
        phase=",".join(p.phase for p in result.phases) or None,
        before=before,
        after=after,
        changes=tuple(change for p in result.phases for change in p.changes),
        bytes_written=result.bytes_written,
        seconds=result.seconds,
        error=result.error or result.skip_reason,
        after_ctime_ns=result.after_ctime_ns,
        original_size=result.original_size,
        bytes_saved=result.bytes_saved,
        encode_seconds=result.encode_seconds,
        encode_speed=result.encode_speed,
    )


def _with_absolute_path(media: MediaFile | None) -> MediaFile | None:
    if media is None or media.path.is_absolute():
        return media
    return replace(media, path=absolute(media.path))


def run_outcome(batch: BatchResult, interrupted: bool) -> RunOutcome:
    if interrupted:
        return RunOutcome.INTERRUPTED
    return RunOutcome.FAILED if batch.stopped_early else RunOutcome.COMPLETED
