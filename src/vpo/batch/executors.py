"""Which executor runs the per-file work: ``threads``, ``processes`` or a Dask
cluster (``dask://HOST:PORT``), from ``--executor`` / ``[processing] executor``.

Only :func:`open_executor` touches ``distributed``, and only for a ``dask://``
address; without the package it fails with one line saying what to install.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor

from vpo.errors import FatalError

CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler before giving up


class ExecutorError(FatalError):
    """The chosen executor cannot be used (exit 2)."""


def describe(spec: str) -> str:
    """``spec`` checked: ``threads``, ``processes`` or ``dask://HOST:PORT``."""
    text = spec.strip()
    if text in ("threads", "processes"):
        return text
    if text.startswith("dask://") and len(text) > len("dask://"):
        return text
    raise ExecutorError(f'--executor: {spec!r} is not "threads", "processes" or dask://HOST:PORT')


@contextlib.contextmanager
def open_executor(spec: str, workers: int) -> Iterator[Executor]:
    """The executor ``spec`` names, shut down on exit. For ``dask://`` it is a
    :class:`vpo.batch.dask_executor.DaskExecutor` (connected, not yet checked)."""
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
    except ImportError:
        raise ExecutorError(
            f"--executor {text} needs dask.distributed: pip install 'vpo[dask]'"
        ) from None
    with DaskExecutor.connect(text.removeprefix("dask://"), timeout=CONNECT_TIMEOUT) as dask:
        yield dask
