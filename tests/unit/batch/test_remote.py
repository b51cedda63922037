"""What runs on a Dask worker, run here in-process (no cluster needed)."""

from __future__ import annotations

import functools
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from vpo.batch import remote
from vpo.batch.pathmap import PathMap
from vpo.batch.remote import Preflight, gated, hold, unless_held
from vpo.batch.runner import BatchLimits, run_batch
from vpo.workflow.result import FileResult, FileStatus

COUNTING_MKVMERGE = """#!/bin/sh
# mkvmerge that notes each call in $STUB_CALLS, then runs the real one.
echo "$*" >> "$STUB_CALLS"
exec "$REAL_MKVMERGE" "$@"
"""


@pytest.fixture
def counting_mkvmerge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A counting mkvmerge first on PATH; the stub and its log of calls."""
    real = shutil.which("mkvmerge")
    assert real is not None
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    stub = stub_dir / "mkvmerge"
    stub.write_text(COUNTING_MKVMERGE, encoding="utf-8")
    stub.chmod(0o755)
    calls = tmp_path / "calls"
    monkeypatch.setenv("PATH", f"{stub_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STUB_CALLS", str(calls))
    monkeypatch.setenv("REAL_MKVMERGE", real)
    monkeypatch.setattr(remote, "_TOOLS_PASSED", set())
    return stub, calls


def version_calls(calls: Path) -> int:
    return calls.read_text(encoding="utf-8").count("--version") if calls.exists() else 0


def test_a_worker_checks_each_tool_binary_once_and_a_replaced_one_again(
    counting_mkvmerge: tuple[Path, Path],
) -> None:
    stub, calls = counting_mkvmerge
    check = Preflight(None, (), PathMap(), ("mkvmerge",))
    assert check() is None
    assert check() is None  # the next batch on this worker: no second -version
    assert version_calls(calls) == 1
    stub.write_text(COUNTING_MKVMERGE + "# replaced\n", encoding="utf-8")  # a new binary
    assert check() is None
    assert version_calls(calls) == 2


def test_a_tool_that_failed_its_check_is_checked_again(
    counting_mkvmerge: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, calls = counting_mkvmerge
    check = Preflight(None, (), PathMap(), ("mkvmerge",))
    monkeypatch.setenv("REAL_MKVMERGE", "/bin/false")  # fails its -version
    first = check()
    assert first is not None and first.startswith("mkvmerge ")
    monkeypatch.setenv("REAL_MKVMERGE", str(shutil.which("true")))
    assert check() is not None  # still checked: prints no version
    assert version_calls(calls) == 2


class OneWorker(Executor):
    """A one-thread stand-in for a Dask worker, submitting as DaskExecutor does: each
    task gated by the batch token, held-back tasks coming back as cancelled futures."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1)
        self.token = uuid.uuid4().hex
        self.holds = 0
        self.submitted = 0
        self.two_submitted = threading.Event()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = unless_held(self._thread.submit(gated, self.token, fn, *args))
        self.submitted += 1
        if self.submitted == 2:
            self.two_submitted.set()
        return future

    def hold_queued(self) -> None:
        self.holds += 1
        hold(self.token)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._thread.shutdown(wait=wait)


def changed(path: Path) -> FileResult:
    return FileResult(path, FileStatus.CHANGED)


def test_a_file_queued_on_a_worker_never_starts_once_the_batch_is_held() -> None:
    """First Ctrl-C while f0 runs and f1, the last file, waits on the worker: f0
    finishes and is counted, f1 never starts; the batch says it stopped early."""
    stop = threading.Event()
    ran: list[Path] = []
    with OneWorker() as worker:

        def work(path: Path) -> FileResult:
            ran.append(path)
            if path.name == "f0":  # the handler, while f0 runs and f1 waits: stop, hold
                assert worker.two_submitted.wait(30)
                stop.set()
                worker.hold_queued()
            return changed(path)

        paths = [Path("f0"), Path("f1")]
        batch = run_batch(
            [(path, functools.partial(work, path)) for path in paths],
            executor=worker, workers=1, queued=1, hold_queued=worker.hold_queued,
            stop_on_failure=False, stop=stop,
        )  # fmt: skip
    assert ran == [Path("f0")]
    assert batch.total == 1 and batch.counts["changed"] == 1
    assert batch.stopped_early and batch.stop_reason == "interrupted"


def test_without_a_stop_every_queued_file_runs_once_in_order() -> None:
    ran: list[Path] = []

    def work(path: Path) -> FileResult:
        ran.append(path)
        return changed(path)

    paths = [Path(f"f{i}") for i in range(5)]
    with OneWorker() as worker:
        batch = run_batch(
            [(path, functools.partial(work, path)) for path in paths],
            executor=worker, workers=1, queued=1, hold_queued=worker.hold_queued,
            stop_on_failure=False,
        )  # fmt: skip
    assert ran == paths and batch.counts["changed"] == 5 and not batch.stopped_early
    assert worker.holds == 0


def test_the_coordinator_holds_the_queue_when_it_stops_but_not_for_a_file_count() -> None:
    """on_error=fail (or a signal the CLI did not see first) holds the queue once;
    ``--max-files`` does not: the files queued within the count are meant to run."""
    failing = lambda path: FileResult(path, FileStatus.FAILED, error="boom")  # noqa: E731
    paths = [Path(f"f{i}") for i in range(6)]
    with OneWorker() as worker:
        run_batch(
            [(path, functools.partial(failing, path)) for path in paths],
            executor=worker, workers=1, queued=1, hold_queued=worker.hold_queued,
            stop_on_failure=True,
        )  # fmt: skip
    assert worker.holds == 1
    with OneWorker() as worker:
        batch = run_batch(
            [(path, functools.partial(changed, path)) for path in paths],
            executor=worker, workers=1, queued=1, hold_queued=worker.hold_queued,
            stop_on_failure=False, limits=BatchLimits(max_files=3),
        )  # fmt: skip
    assert worker.holds == 0 and batch.counts["changed"] == 3
