"""The coordinator's side of the Dask client process: what comes back as plain data
becomes the same futures and one-line errors as Dask's own classes did."""

from __future__ import annotations

import pickle
from concurrent.futures import Future
from pathlib import Path

import pytest

from vpo.batch.dask_executor import _pickled, _settle
from vpo.batch.executors import ExecutorLostError
from vpo.batch.runner import internal_error


def settled(*outcome: object) -> Future[object]:
    future: Future[object] = Future()
    _settle(future, outcome)
    return future


@pytest.mark.parametrize(
    ("allowed", "line"),
    [
        (0, "the worker died once while this file was assigned to it, last on wb; the file "
            "is the original or the finished result"),
        (1, "the worker died twice while this file was assigned to it (retried once on "
            "another worker), last on wb; the file is the original or the finished result"),
    ],
)  # fmt: skip
def test_a_killed_worker_as_data_gives_the_lost_worker_line(allowed: int, line: str) -> None:
    future = settled("killed", "run_task-1", "wb", "tcp://127.0.0.1:1", allowed)
    error = future.exception()
    assert error is not None
    assert internal_error(Path("a.mkv"), error).error == line


def test_a_lost_client_or_scheduler_is_the_files_one_line() -> None:
    future = settled("lost", "the Dask client process exited: killed by SIGKILL")
    error = future.exception()
    assert isinstance(error, ExecutorLostError)
    assert internal_error(Path("a.mkv"), error).error == (
        "the Dask client process exited: killed by SIGKILL"
    )


def test_other_dask_errors_keep_their_name_held_and_cancelled_tasks_are_cancelled() -> None:
    error = settled("error", "CommClosedError", "in <TCP>: Stream is closed").exception()
    assert internal_error(Path("a.mkv"), error).error == (  # type: ignore[arg-type]
        "internal error: CommClosedError: in <TCP>: Stream is closed"
    )
    assert settled("held", None).cancelled()
    assert settled("cancelled").cancelled()


def test_results_and_a_workers_own_error_are_unpickled_on_the_coordinator() -> None:
    assert settled("ok", pickle.dumps({"a": 1})).result() == {"a": 1}
    raised = settled("raised", pickle.dumps(ValueError("bad file"))).exception()
    assert isinstance(raised, ValueError)
    assert str(raised) == "bad file"


def test_work_that_plain_pickle_cannot_carry_goes_as_cloudpickle() -> None:
    scale = 3
    work = pickle.loads(_pickled((lambda x: x * scale, (2,))))  # a closure
    fn, args = work
    assert fn(*args) == 6
    assert b"cloudpickle" not in _pickled((str.upper, ("ok",)))  # plain pickle by name
