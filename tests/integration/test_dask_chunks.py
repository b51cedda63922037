"""Several quick files per Dask task ("chunks", vpo.batch.chunks) on a real Dask
cluster on loopback, started as tests/integration/test_dask.py does (its helpers).

The batches run in-process (``run_process_batch`` on a ``DaskExecutor``) with a long
chunk target, so chunks form whatever the machine's load: after the first four
one-file tasks, the end-of-batch bound alone sizes them. The executor remembers
what each task carried and, when the first chunk of three or more files is
submitted, marks its second file for the workers' mkvmerge (a stub around the real
one) to pause on or fail, before the chunk can start: the interesting file is
always inside a chunk, after a file the chunk has finished.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from tests.integration.test_dask import (
    FOREIGN_FIRST,
    POLICY,
    PROGRESS_FFMPEG,
    TO_ENCODE,
    WRONG_DEFAULT,
    Cluster,
    Recorder,
    cluster,
    library_dirs,
    records,
)

from vpo.workflow.result import FileStatus

if TYPE_CHECKING:
    from vpo.batch.process import ProcessRequest

pytest.importorskip("distributed")

pytestmark = pytest.mark.integration

__all__ = ["library_dirs"]  # the fixture, shared with test_dask.py

MediaFactory = Callable[..., Path]

STUB_MKVMERGE = """#!/bin/sh
# The worker's mkvmerge: a writing call whose source file is marked under
# $STUB_DIR/pause takes the mark (once), says so in $STUB_DIR/paused-$STUB_WORKER and
# waits for $STUB_DIR/release or for its worker to die; one marked under
# $STUB_DIR/fail fails; everything else runs the real mkvmerge.
case " $* " in *" --version "*|*" -J "*) exec "$REAL_MKVMERGE" "$@" ;; esac
for arg in "$@"; do
    name="$(basename "$arg")"
    [ -n "$name" ] || continue
    [ -f "$STUB_DIR/fail/$name" ] && { echo "Error: marked to fail" >&2; exit 2; }
    if mv "$STUB_DIR/pause/$name" "$STUB_DIR/pause/$name.taken" 2>/dev/null; then
        touch "$STUB_DIR/paused-$STUB_WORKER"
        while [ ! -e "$STUB_DIR/release" ] && kill -0 "$PPID" 2>/dev/null; do sleep 0.1; done
        kill -0 "$PPID" 2>/dev/null || exit 1
    fi
done
exec "$REAL_MKVMERGE" "$@"
"""


def stub_workers(running: Cluster, stub_dir: Path) -> None:
    """Two workers, wa and wb, whose mkvmerge is STUB_MKVMERGE reading ``stub_dir``
    (and whose ffmpeg reports half of each encode done first: PROGRESS_FFMPEG)."""
    (stub_dir / "bin").mkdir(parents=True)
    (stub_dir / "pause").mkdir()
    (stub_dir / "fail").mkdir()
    for name, text in (("mkvmerge", STUB_MKVMERGE), ("ffmpeg", PROGRESS_FFMPEG)):
        (stub_dir / "bin" / name).write_text(text, encoding="utf-8")
        (stub_dir / "bin" / name).chmod(0o755)
    real = shutil.which("mkvmerge")
    ffmpeg = shutil.which("ffmpeg")
    assert real is not None and ffmpeg is not None
    for name in ("wa", "wb"):
        extra = {
            "STUB_DIR": str(stub_dir),
            "STUB_WORKER": name,
            "REAL_MKVMERGE": real,
            "REAL_FFMPEG": ffmpeg,
        }
        running.add_worker(name, f"{stub_dir / 'bin'}:{os.environ['PATH']}", extra)
    running.wait_for(2)


@pytest.fixture(scope="module")
def stub_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Path]]:
    """A scheduler and two stub workers shared by the tests that kill no worker."""
    logs = tmp_path_factory.mktemp("chunk-cluster")
    with cluster(logs, {}) as running:
        stub_workers(running, logs / "stub")
        yield running, logs / "stub"


def library(media_factory: MediaFactory, folder: str, prefix: str, count: int = 24) -> list[Path]:
    """``count`` quick files (remuxes, a few metadata edits) named ``prefix``NN.mkv."""
    specs = [WRONG_DEFAULT if index % 4 == 3 else FOREIGN_FIRST for index in range(count)]
    return [
        media_factory(spec, f"{folder}/{prefix}{index:02d}.mkv") for index, spec in enumerate(specs)
    ]


def request_for(
    media: Path, views: dict[str, Path], policy_text: str = POLICY, **changes: Any
) -> ProcessRequest:
    from vpo.apply.settings import ApplySettings
    from vpo.batch.pathmap import PathMap
    from vpo.batch.process import ProcessRequest
    from vpo.policy.loader import load_policy
    from vpo.tools.locate import locate_tools

    policy_file = media.parent / "policy.yaml"
    policy_file.write_text(policy_text, encoding="utf-8")
    policy = load_policy(policy_file)
    request = ProcessRequest(
        paths=(media,),
        policy=policy,
        phases=policy.phases,
        tools=locate_tools(),
        extensions=("mkv",),
        settings=ApplySettings(stable_seconds=0),
        path_map=PathMap.parse([f"{name}:{media}={view}" for name, view in views.items()]),
        keep_results=True,
        workers=0,  # every worker thread, one task queued on each
        chunk_seconds=60.0,  # chunks form whatever the load (the end-of-batch bound sizes them)
    )
    return replace(request, **changes)


@contextlib.contextmanager
def spying(address: str, mark: Path | None = None) -> Iterator[Any]:
    """A DaskExecutor that remembers every task's files; with ``mark`` (a folder),
    the second file of the first chunk of three or more is marked there before the
    chunk is submitted (``executor.marked``)."""
    from vpo.batch.chunks import Chunk
    from vpo.batch.dask_executor import DaskExecutor

    class Spy(DaskExecutor):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.tasks: list[tuple[Path, ...]] = []
            self.marked: tuple[Path, ...] = ()  # the chunk, when one was marked

        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
            paths = fn.paths if isinstance(fn, Chunk) else (Path(str(getattr(fn, "path", "?"))),)
            self.tasks.append(paths)
            if mark is not None and not self.marked and len(paths) >= 3:
                self.marked = paths
                (mark / paths[1].name).touch()
            return super().submit(fn, *args, **kwargs)

    with Spy.connect(address, timeout=10) as executor:
        yield executor


def run_on(executor: Any, request: Any, db: Path, **options: Any) -> Any:
    from vpo.batch.process import run_process_batch
    from vpo.library import Library

    with Library.open(db) as opened:
        return run_process_batch(
            request, executor=executor, observer=options.pop("observer", Recorder()),
            library=opened, **options,
        )  # fmt: skip


def leftovers(media: Path) -> list[Path]:
    return [p for p in media.iterdir() if p.name.startswith(".vpo-")]


def test_quick_files_share_tasks_with_the_thread_executors_results_file_by_file(
    media_factory: MediaFactory,
    tmp_path: Path,
    library_dirs: tuple[Path, dict[str, Path]],
    stub_cluster: tuple[Cluster, Path],
) -> None:
    running, _ = stub_cluster
    media, views = library_dirs
    local = library(media_factory, "local", "same")
    library(media_factory, "coordinator/media", "same")
    with ThreadPoolExecutor(2) as threads:
        expected = run_on(threads, request_for(local[0].parent, {}, workers=2), tmp_path / "t.db")
    assert expected.count(FileStatus.CHANGED) == 24
    with spying(running.address) as executor:
        batch = run_on(executor, request_for(media, views), tmp_path / "d.db")
    assert batch.count(FileStatus.CHANGED) == 24, batch.failed
    assert records(tmp_path / "d.db") == records(tmp_path / "t.db")
    sizes = [len(task) for task in executor.tasks]
    assert sizes[:4] == [1, 1, 1, 1]  # nothing measured yet
    assert max(sizes) > 1 and len(sizes) < 24  # chunks formed
    assert sum(sizes) == 24  # every file submitted once
    assert {r.worker for r in batch.results} == {"wa", "wb"}


def test_encode_progress_of_a_file_in_a_chunk_reaches_the_coordinator(
    media_factory: MediaFactory,
    tmp_path: Path,
    library_dirs: tuple[Path, dict[str, Path]],
    stub_cluster: tuple[Cluster, Path],
) -> None:
    from vpo.tools.progress import EncodeProgress

    running, _ = stub_cluster
    media, views = library_dirs
    files = library(media_factory, "coordinator/media", "enc", count=18)
    encodes = [files[5], files[9]]
    for path in encodes:  # inside the batch, where chunks have formed
        path.unlink()
        media_factory(TO_ENCODE, f"coordinator/media/{path.name}")
    observer = Recorder()
    with spying(running.address) as executor:
        batch = run_on(executor, request_for(media, views), tmp_path / "d.db", observer=observer)
    assert batch.count(FileStatus.CHANGED) == 18, batch.failed
    chunked = {path for task in executor.tasks if len(task) > 1 for path in task}
    assert set(encodes) <= chunked, executor.tasks
    halfway = {
        p.path
        for p in observer.progress_seen
        if isinstance(p, EncodeProgress) and p.percent is not None and 40 < p.percent < 60
    }
    assert halfway == set(encodes)  # each file's own progress, in the coordinator's path


def test_ctrl_c_during_a_chunk_leaves_its_unstarted_files_untouched_and_unreported(
    media_factory: MediaFactory,
    tmp_path: Path,
    library_dirs: tuple[Path, dict[str, Path]],
    stub_cluster: tuple[Cluster, Path],
) -> None:
    running, stub_dir = stub_cluster
    media, views = library_dirs
    files = library(media_factory, "coordinator/media", "int")
    originals = {path.name: path.read_bytes() for path in files}
    stop = threading.Event()
    paused = lambda: list(stub_dir.glob("paused-*"))  # noqa: E731
    with spying(running.address, stub_dir / "pause") as executor:
        outcome: list[Any] = []
        coordinator = threading.Thread(
            target=lambda: outcome.append(
                run_on(executor, request_for(media, views), tmp_path / "d.db", stop=stop)
            )
        )
        coordinator.start()
        try:
            deadline = time.monotonic() + 90
            while not paused():
                assert coordinator.is_alive() and time.monotonic() < deadline, "never paused"
                time.sleep(0.05)
            stop.set()  # the first Ctrl-C, as the CLI's handler does it
            executor.hold_queued()
        finally:
            (stub_dir / "release").touch()
            coordinator.join(120)
            (stub_dir / "release").unlink()
            for found in paused():
                found.unlink()
    (batch,) = outcome
    chunk = executor.marked
    held = chunk[2:]  # after the file the chunk was running at the press
    got = records(tmp_path / "d.db")
    assert got[chunk[0].name][0] == "changed"  # finished before the press
    assert got[chunk[1].name][0] == "changed"  # running at the press: it finishes
    assert not {path.name for path in held} & set(got)
    for path in held:
        assert path.read_bytes() == originals[path.name]
    assert batch.stopped_early and batch.stop_reason == "interrupted"
    assert batch.total == len(got) < 24
    changed = {n for n in originals if (media / n).read_bytes() != originals[n]}
    assert changed == {n for n, row in got.items() if row[0] == "changed"}
    assert leftovers(media) == []


FAIL_POLICY = POLICY.replace("on_error: skip", "on_error: fail")


def test_on_error_fail_stops_inside_a_chunk(
    media_factory: MediaFactory,
    tmp_path: Path,
    library_dirs: tuple[Path, dict[str, Path]],
    stub_cluster: tuple[Cluster, Path],
) -> None:
    running, stub_dir = stub_cluster
    media, views = library_dirs
    files = library(media_factory, "coordinator/media", "fail")
    originals = {path.name: path.read_bytes() for path in files}
    with spying(running.address, stub_dir / "fail") as executor:
        batch = run_on(executor, request_for(media, views, FAIL_POLICY), tmp_path / "d.db")
    chunk = executor.marked
    got = records(tmp_path / "d.db")
    assert got[chunk[0].name][0] == "changed"
    assert got[chunk[1].name][0] == "failed"
    assert "marked to fail" in str(got[chunk[1].name][-1])
    for path in chunk[2:]:  # the rest of the chunk never started
        assert path.name not in got
        assert path.read_bytes() == originals[path.name]
    assert batch.stopped_early
    assert batch.stop_reason is not None and "on_error is 'fail'" in batch.stop_reason
    assert batch.total == len(got) < 24
    assert leftovers(media) == []


def test_max_files_with_chunks(
    media_factory: MediaFactory,
    tmp_path: Path,
    library_dirs: tuple[Path, dict[str, Path]],
    stub_cluster: tuple[Cluster, Path],
) -> None:
    from vpo.batch.runner import BatchLimits

    running, _ = stub_cluster
    media, views = library_dirs
    files = library(media_factory, "coordinator/media", "max")
    originals = {path.name: path.read_bytes() for path in files}
    request = request_for(media, views, limits=BatchLimits(max_files=13))
    with spying(running.address) as executor:
        batch = run_on(executor, request, tmp_path / "d.db")
    assert any(len(task) > 1 for task in executor.tasks)
    assert sum(len(task) for task in executor.tasks) == 13
    got = records(tmp_path / "d.db")
    assert sorted(got) == sorted(p.name for p in files[:13])
    assert [n for n in originals if (media / n).read_bytes() != originals[n]] == sorted(got)
    assert batch.stop_reason == "limit reached: 13 files"


def test_a_worker_killed_mid_chunk_its_chunk_runs_again_elsewhere_each_file_reported_once(
    media_factory: MediaFactory,
    tmp_path: Path,
    library_dirs: tuple[Path, dict[str, Path]],
) -> None:
    """The chunk's first file was finished on the killed worker; on the retry it is
    found conforming (recorded unchanged), the one killed mid-write and the rest are
    done; nothing is damaged, no leftover remains, the batch completes."""
    media, views = library_dirs
    files = library(media_factory, "coordinator/media", "kill")
    originals = {path.name: path.read_bytes() for path in files}
    stub_dir = tmp_path / "stub"
    observer = Recorder()
    request = request_for(media, views)
    with cluster(tmp_path, {}) as running:
        stub_workers(running, stub_dir)
        with spying(running.address, stub_dir / "pause") as executor:
            outcome: list[Any] = []
            coordinator = threading.Thread(
                target=lambda: outcome.append(
                    run_on(executor, request, tmp_path / "d.db", observer=observer)
                )
            )
            coordinator.start()
            try:
                deadline = time.monotonic() + 90
                while not (paused := list(stub_dir.glob("paused-*"))):
                    assert coordinator.is_alive() and time.monotonic() < deadline, "never paused"
                    time.sleep(0.05)
                name = paused[0].name.removeprefix("paused-")
                os.killpg(running.workers[name].pid, signal.SIGKILL)  # mid-write, mid-chunk
                running.workers[name].wait()
            finally:
                coordinator.join(120)
                if coordinator.is_alive():
                    (stub_dir / "release").touch()
                    coordinator.join(60)
    (batch,) = outcome
    chunk = executor.marked
    got = records(tmp_path / "d.db")
    assert sorted(got) == sorted(originals)  # each file recorded once
    assert got[chunk[0].name][0] == "unchanged"  # its change was lost with the worker
    outcomes = {n: row[0] for n, row in got.items() if n != chunk[0].name}
    assert set(outcomes.values()) == {"changed"}
    assert batch.total == 24 and not batch.stopped_early
    for name, before in originals.items():  # every file is the result
        assert (media / name).read_bytes() != before, name
    assert leftovers(media) == []
    assert any(n.startswith("recovery: ") for n in observer.notices)  # the killed write's temp
