"""What the Dask client process submits to the workers: small module-level
functions that take and return bytes and plain data.

The client process imports this module (cheap: no vpo engine, no Dask) only so
Dask can name these functions; it never unpickles the work or the results. A
worker unpickles the coordinator's work (:func:`run_task`), runs it gated by its
batch's token (vpo.batch.remote) and pickles what it returns. A worker's error
comes back pickled the same way, so a Dask error (a killed worker, a cancelled
task) is the only kind the client process sees, and it turns those into data.
"""

from __future__ import annotations

import inspect
import pickle
from typing import Any

OK = "ok"  # the work's pickled return value
RAISED = "raised"  # the work's pickled exception
HELD = "held"  # held back by hold_queued before it started


def run_task(token: str, payload: bytes) -> tuple[str, bytes | None]:
    """On a worker: ``fn(*args)`` of the pickled ``(fn, args)``, unless batch ``token``
    is held; the outcome as (OK|RAISED|HELD, pickled value)."""
    from vpo.batch.remote import HeldBack, gated

    try:
        fn, args = pickle.loads(payload)  # the coordinator's own work
        result = gated(token, fn, *args)
    except Exception as error:  # the file's error, for the coordinator to report
        return RAISED, _pickled_error(error)
    if isinstance(result, HeldBack):
        return HELD, None
    return OK, pickle.dumps(result, pickle.HIGHEST_PROTOCOL)


def run_check(payload: bytes, dask_worker: Any = None) -> str | None:
    """On a worker (``Client.run``): the pickled preflight check's answer, None when
    the worker may get files; a check that raises is a reason too."""
    try:
        check = pickle.loads(payload)  # the coordinator's own check
        if "dask_worker" in inspect.signature(check).parameters:
            answer = check(dask_worker=dask_worker)
        else:
            answer = check()
    except Exception as error:
        return f"the check failed: {type(error).__name__}: {error}"
    return None if answer is None else str(answer)


def hold(token: str) -> None:
    """On a worker: no queued task of batch ``token`` starts from now on."""
    from vpo.batch.remote import hold as hold_batch

    hold_batch(token)


async def stop_tools() -> int:
    """On a worker: stop every tool it runs (a coroutine, for ``wait=False``)."""
    from vpo.batch.remote import stop_tools as stop

    return await stop()


def _pickled_error(error: Exception) -> bytes:
    try:
        data = pickle.dumps(error, pickle.HIGHEST_PROTOCOL)
        pickle.loads(data)  # it must come back on the coordinator too
    except Exception:  # an exception that does not round-trip: its text survives
        return pickle.dumps(RuntimeError(f"{type(error).__name__}: {error}"))
    return data
