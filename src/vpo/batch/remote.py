"""What runs on a remote (Dask) worker: the per-file work with translated paths,
and the worker preflight.

Light to import and free of Dask at import time: a worker unpickles
:class:`RemoteWork` and calls it. The worker finds its own tools on its own
PATH, sees the media through ``[paths] map`` and hands back a FileResult in the
coordinator's paths; the coordinator alone records it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from vpo.batch.chunks import Chunk
from vpo.batch.pathmap import PathMap, reverse, translate
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import MediaFile
from vpo.probe.cheapest import CheapestProber
from vpo.tools.locate import TOOL_NAMES, locate_tools
from vpo.tools.progress import EncodeProgress
from vpo.workflow.context import CachedProbe, WorkflowContext
from vpo.workflow.result import FileResult

S = TypeVar("S")
FileWork = Callable[[Path, WorkflowContext, CachedProbe | None, FileMetadata], FileResult]


def worker_names() -> tuple[str, ...]:
    """The current Dask worker's name and resource tags (empty outside a worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return ()
    return _names_of(worker)


def _names_of(worker: object) -> tuple[str, ...]:
    names = [str(getattr(worker, "name", ""))]
    state = getattr(worker, "state", None)
    resources = getattr(state, "total_resources", None) or {}
    names.extend(str(tag) for tag in resources)
    return tuple(name for name in names if name)


@dataclass(frozen=True, slots=True)
class RemoteWork:
    """``work(path, context, cached, metadata)`` run on a remote worker, in its own paths."""

    work: FileWork
    path: Path
    context: WorkflowContext
    cached: CachedProbe | None
    path_map: PathMap
    progress_topic: str | None = None  # Dask event topic the coordinator listens on
    resources: tuple[tuple[str, float], ...] = ()  # Dask resources it needs (GPU=1: encodes)
    metadata: FileMetadata = NO_METADATA  # what Sonarr/Radarr know about the file's title

    def __call__(self) -> FileResult:
        names = worker_names()
        pairs = self.path_map.for_worker(names)
        back = reverse(pairs)
        here = _map_path(self.path, pairs)
        tools = locate_tools()  # the worker's own PATH
        context = replace(
            self.context,
            tools=tools,
            probe=CheapestProber(tools, _timeout(self.context)),
            settings=_map_settings(self.context.settings, pairs),
            transcode=_map_settings(self.context.transcode, pairs),
            on_progress=(
                ProgressSender(self.progress_topic, self.path)
                if self.progress_topic is not None
                else None
            ),
        )
        cached = self.cached
        if cached is not None:
            cached = CachedProbe(replace(cached.media, path=here), cached.ctime_ns)
        result = self.work(here, context, cached, self.metadata)
        return _result_back(result, self.path, back, names[0] if names else None)


class ProgressSender:
    """On a worker: an encode's progress as Dask events to the coordinator, in the
    coordinator's path, at most one every ``interval`` seconds (and the last one)."""

    def __init__(self, topic: str, path: Path, interval: float = 0.5) -> None:
        self._topic = topic
        self._path = path
        self._interval = interval
        self._last = float("-inf")

    def __call__(self, progress: EncodeProgress) -> None:
        now = time.monotonic()
        done = progress.percent is not None and progress.percent >= 100.0
        if now - self._last < self._interval and not done:
            return
        self._last = now
        try:
            from distributed import get_worker

            get_worker().log_event(
                self._topic, progress_message(replace(progress, path=self._path))
            )
        except (ImportError, ValueError):
            return  # not on a worker: nobody to tell


def progress_message(progress: EncodeProgress) -> dict[str, object]:
    """An EncodeProgress as plain data (what Dask events carry)."""
    return {
        "path": str(progress.path),
        "percent": progress.percent,
        "fps": progress.fps,
        "speed": progress.speed,
        "eta_seconds": progress.eta_seconds,
        "out_time": progress.out_time,
    }


def progress_of(message: dict[str, Any]) -> EncodeProgress:
    return EncodeProgress(
        path=Path(message["path"]),
        percent=message.get("percent"),
        fps=message.get("fps"),
        speed=message.get("speed"),
        eta_seconds=message.get("eta_seconds"),
        out_time=message.get("out_time"),
    )


def _timeout(context: WorkflowContext) -> float:
    return float(getattr(context.probe, "timeout", 60.0))


def _map_path(path: Path, pairs: Sequence[tuple[str, str]]) -> Path:
    return Path(translate(str(path), pairs)) if pairs else path


def _map_media(media: MediaFile | None, pairs: Sequence[tuple[str, str]]) -> MediaFile | None:
    if media is None or not pairs:
        return media
    return replace(media, path=_map_path(media.path, pairs))


def _map_settings(settings: S, pairs: Sequence[tuple[str, str]]) -> S:
    """Settings with their directories (temp, scratch) as the worker sees them."""
    if settings is None or not pairs:
        return settings
    changes = {
        name: _map_path(getattr(settings, name), pairs)
        for name in ("temp_dir", "scratch_dir")
        if isinstance(getattr(settings, name, None), Path)
    }
    return replace(settings, **changes) if changes else settings  # type: ignore[type-var]


def _map_text(text: str | None, pairs: Sequence[tuple[str, str]]) -> str | None:
    if text is None:
        return None
    for source, target in pairs:
        text = text.replace(source + "/", target + "/")
    return text


def _result_back(
    result: FileResult, path: Path, back: Sequence[tuple[str, str]], worker: str | None
) -> FileResult:
    """``result`` in the coordinator's paths."""
    return replace(
        result,
        path=path,
        before=_map_media(result.before, back),
        after=_map_media(result.after, back),
        error=_map_text(result.error, back),
        skip_reason=_map_text(result.skip_reason, back),
        worker=worker or result.worker,
    )


@dataclass(frozen=True, slots=True)
class Preflight:
    """What one worker must show before it gets files (run with ``Client.run``)."""

    sample: Path | None  # a real file of the batch, in the coordinator's paths
    scratch: tuple[Path, ...]  # directories the worker must be able to write
    path_map: PathMap
    tools: tuple[str, ...] = TOOL_NAMES

    def __call__(self, dask_worker: object = None) -> str | None:
        """None when the worker may get files, else the reason it may not."""
        names = _names_of(dask_worker) if dask_worker is not None else worker_names()
        pairs = self.path_map.for_worker(names)
        found = locate_tools()
        for tool in self.tools:
            problem = _tool_problem(tool, getattr(found, tool))
            if problem is not None:
                return problem
        if self.sample is not None:
            seen = _map_path(self.sample, pairs)
            try:
                seen.stat()
            except OSError as error:
                mapped = f" (mapped from {self.sample})" if seen != self.sample else ""
                return f"cannot see {seen}{mapped}: {error.strerror or error}"
        for directory in self.scratch:
            where = _map_path(directory, pairs)
            try:
                with tempfile.NamedTemporaryFile(dir=where, prefix=".vpo-preflight-"):
                    pass
            except OSError as error:
                return f"cannot write to {where}: {error.strerror or error}"
        return None


_HELD: set[str] = set()  # on a worker: batches whose queued files must not start


@dataclass(frozen=True, slots=True)
class HeldBack:
    """What a queued file's task returns, without starting it, once its batch is held
    (the coordinator's first Ctrl-C): the coordinator counts the file as not started."""

    token: str


def hold(token: str) -> None:
    """On a worker (``Client.run``): no task of batch ``token`` starts from now on."""
    _HELD.add(token)


T = TypeVar("T")


def gated(token: str, work: Callable[..., T], /, *args: Any) -> T | HeldBack:
    """``work(*args)`` on a worker, unless batch ``token`` is held. The decision is
    made here, where the file would start: a file queued on a worker either starts
    before the hold arrives (then it finishes and is recorded) or never starts. A
    chunk asks before each of its files: those after the hold come back not started."""
    if token in _HELD:
        return HeldBack(token)
    if isinstance(work, Chunk) and not args:
        # several files (vpo.batch.chunks): the hold is checked again before each one
        return work(lambda: token in _HELD)  # type: ignore[return-value]
    return work(*args)


def unless_held(inner: Future[Any]) -> Future[Any]:
    """``inner``'s outcome, except that a task held back (HeldBack) is a cancelled
    future: the coordinator counts that file as never started."""
    outer: Future[Any] = Future()

    def settle(done: Future[Any]) -> None:
        with contextlib.suppress(InvalidStateError):  # outer cancelled by its holder
            if done.cancelled():
                _cancel(outer)
            elif (error := done.exception()) is not None:
                outer.set_exception(error)
            elif isinstance(result := done.result(), HeldBack):
                _cancel(outer)
            else:
                outer.set_result(result)

    def forward(done: Future[Any]) -> None:
        if done.cancelled():
            inner.cancel()

    outer.add_done_callback(forward)
    inner.add_done_callback(settle)
    return outer


def _cancel(future: Future[Any]) -> None:
    future.cancel()
    future.set_running_or_notify_cancel()  # wakes wait() and as_completed()


_TOOLS_PASSED: set[tuple[str, str, int, int, int]] = set()  # this worker process's checks


def _tool_problem(tool: str, path: str | None) -> str | None:
    """Why ``tool`` at ``path`` is not usable, or None. A worker process remembers the
    binaries that passed (by path, size, mtime and inode): a long-lived worker runs
    each ``-version`` once, not once per batch, and a replaced binary is checked anew."""
    from vpo.tools.versions import check_tool

    key = None
    if path is not None:
        try:
            info = os.stat(path)  # noqa: PTH116
        except OSError:
            pass
        else:
            key = (tool, path, info.st_size, info.st_mtime_ns, info.st_ino)
            if key in _TOOLS_PASSED:
                return None
    status = check_tool(tool, path)
    if not status.state.usable:
        return f"{tool} {status.state.value}: {status.detail}"
    if key is not None:
        _TOOLS_PASSED.add(key)
    return None


async def stop_tools() -> int:
    """On a worker: stop every tool it runs (the second Ctrl-C on the coordinator).
    A coroutine, as ``Client.run(..., wait=False)`` requires; it only sends signals."""
    from vpo.tools.runner import terminate_all_tools

    return terminate_all_tools()
