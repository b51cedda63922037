"""Which executor runs the per-file work: ``threads``, ``processes`` or a Dask
cluster (``dask://HOST:PORT``), from ``--executor`` / ``[processing] executor``.

The coordinator never imports ``distributed``: a ``dask://`` executor is a proxy
of a Dask client process (vpo.batch.dask_executor), which :func:`start_early`
starts as soon as the command knows the executor, so its import and connection
overlap the command's own start-up; :func:`open_executor` adopts it. Without
the package it fails with one line saying what to install.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING

from vpo.errors import FatalError

if TYPE_CHECKING:
    from vpo.batch.dask_executor import ClientProcess

CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler before giving up


class ExecutorError(FatalError):
    """The chosen executor cannot be used (exit 2)."""


class ExecutorLostError(ExecutorError):
    """The Dask client process (or its scheduler) is gone; the message is one line,
    also a file's error when it was in flight (runner.lost_worker_error)."""


def describe(spec: str) -> str:
    """``spec`` checked: ``threads``, ``processes`` or ``dask://HOST:PORT``."""
    text = spec.strip()
    if text in ("threads", "processes"):
        return text
    if text.startswith("dask://") and len(text) > len("dask://"):
        address = text.removeprefix("dask://").rpartition("://")[2]  # tcp://, tls://
        host, _, port = address.rpartition(":")
        if host and port.isdigit() and 0 < int(port) < 65536:
            return text
        raise ExecutorError(
            f"--executor: {spec!r} has no port: dask://HOST:PORT (the scheduler's, e.g. 8786)"
        )
    raise ExecutorError(f'--executor: {spec!r} is not "threads", "processes" or dask://HOST:PORT')


# Dask client processes started ahead of open_executor (start_early), and those kept
# between the jobs of a long-lived daemon (open_executor(keep=True)), by executor spec.
_started: dict[str, ClientProcess] = {}
_kept: dict[str, ClientProcess] = {}


def start_early(spec: str) -> None:
    """For a ``dask://`` spec, start its client process now (nothing otherwise, nor
    for a spec that open_executor will refuse): it imports Dask and connects while
    the command goes on with its own start-up."""
    text = spec.strip()
    if not text.startswith("dask://") or text in _started:
        return
    try:
        text = describe(text)
        process = _start(text)
    except (ExecutorError, ImportError):
        return  # open_executor says why, in one line
    for other in [spec for spec in _started if spec != text]:
        _started.pop(other).close()  # not the executor after all
    _started[text] = process


def _start(text: str) -> ClientProcess:
    from importlib.util import find_spec

    if find_spec("distributed") is None:  # found without importing it
        raise ImportError("distributed")
    from vpo.batch.dask_executor import ClientProcess

    return ClientProcess.start(text.removeprefix("dask://"), timeout=CONNECT_TIMEOUT)


def _take(text: str) -> ClientProcess:
    """The client process started early for ``text``, else the one kept from the last
    job if it still answers (it may have died since), else a new one."""
    early = _started.pop(text, None)
    if early is not None:
        return early
    kept = _kept.pop(text, None)
    if kept is not None and kept.answers():
        return kept
    if kept is not None:
        kept.close()
    return _start(text)


@contextlib.contextmanager
def open_executor(spec: str, workers: int, *, keep: bool = False) -> Iterator[Executor]:
    """The executor ``spec`` names, shut down on exit. For ``dask://`` it is a
    :class:`vpo.batch.dask_executor.DaskExecutor` (connected, not yet checked);
    with ``keep`` (a daemon's jobs) its client process outlives the block for the
    next one (restarted if it died)."""
    text = describe(spec)
    if text == "threads":
        with ThreadPoolExecutor(workers, thread_name_prefix="vpo-worker") as threads:
            yield threads
        return
    if text == "processes":
        # imported here: multiprocessing costs start-up that threads never need
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as processes:
            yield processes
        return
    try:
        from vpo.batch.dask_executor import DaskExecutor

        process = _take(text)
    except ImportError:
        raise ExecutorError(
            f"--executor {text} needs dask.distributed: pip install 'vpo[dask]'"
        ) from None
    try:
        address = text.removeprefix("dask://")
        with DaskExecutor.connect(address, timeout=CONNECT_TIMEOUT, process=process) as dask:
            yield dask
    finally:
        if keep and process.alive:
            _kept[text] = process
        else:
            process.close()
