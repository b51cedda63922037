"""``vpo process --executor dask://…`` on a real Dask cluster on loopback.

The tests start a ``dask scheduler`` and ``dask worker`` processes (``--nthreads
1``, no dashboard), each worker seeing the media under its own path (a symlink
to the coordinator's folder, joined by ``[paths] map``), and always stop them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.testmedia.policies import FOREIGN_FIRST
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.workflow.result import FileStatus

pytest.importorskip("distributed")

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT = 60.0

WRONG_DEFAULT = MediaSpec(
    audio=(AudioSpec(language="eng"), AudioSpec(language="fre", default=True))
)
CONFORMING = MediaSpec(audio=(AudioSpec(language="eng", default=True),))
TO_ENCODE = MediaSpec(
    video_codec="mpeg4", audio=(AudioSpec(language="eng", default=True),), duration=1.0
)

POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
  on_error: skip
phases:
  - name: order
    track_order: [video, audio_main, audio_alternate]
    default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
  - name: encode
    skip_when: {video_codec: [h264, hevc]}
    transcode:
      video: {target_codec: hevc, quality: {mode: crf, crf: 40, preset: ultrafast}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]]
    log_dir: Path

    def add_worker(
        self,
        name: str,
        path: str | None = None,
        extra: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        env = dict(os.environ, **(extra or {}))
        if path is not None:
            env["PATH"] = path
        log = (self.log_dir / f"worker-{name}.log").open("wb")
        self.workers[name] = subprocess.Popen(
            [
                str(DASK),
                "worker",
                f"tcp://{self.address}",
                "--name",
                name,
                "--nthreads",
                "1",
                "--no-dashboard",
                "--no-nanny",
                "--host",
                "127.0.0.1",
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def wait_for(self, count: int) -> None:
        from distributed import Client

        deadline = time.monotonic() + START_TIMEOUT
        with Client(f"tcp://{self.address}", timeout="20s", set_as_default=False) as client:
            while len(client.scheduler_info(n_workers=-1)["workers"]) < count:
                if time.monotonic() > deadline:
                    pytest.fail(f"Dask workers did not start; logs in {self.log_dir}")
                time.sleep(0.2)

    def wait_for_exactly(self, count: int) -> None:
        from distributed import Client

        deadline = time.monotonic() + START_TIMEOUT
        with Client(f"tcp://{self.address}", timeout="20s", set_as_default=False) as client:
            while len(client.scheduler_info(n_workers=-1)["workers"]) != count:
                if time.monotonic() > deadline:
                    pytest.fail(f"the scheduler never had {count} workers; logs in {self.log_dir}")
                time.sleep(0.2)

    def stop(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
        for process in [*self.workers.values(), self.scheduler]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def cluster(log_dir: Path, workers: dict[str, str | None]) -> Iterator[Cluster]:
    """A scheduler and the named workers (name → PATH, None: this PATH), stopped on exit."""
    port = free_port()
    log = (log_dir / "scheduler.log").open("wb")
    env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")
    scheduler = subprocess.Popen(
        [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    running = Cluster(f"127.0.0.1:{port}", scheduler, {}, log_dir)
    try:
        for name, path in workers.items():
            running.add_worker(name, path)
        running.wait_for(len(workers))
        yield running
    finally:
        running.stop()


@pytest.fixture
def library_dirs(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """The coordinator's media folder and each worker's view of it (a symlink)."""
    media = tmp_path / "coordinator" / "media"
    media.mkdir(parents=True)
    views = {}
    for name in ("wa", "wb"):
        view = tmp_path / f"mnt-{name}"
        view.symlink_to(media)
        views[name] = view
    return media, views


def make_library(media_factory: MediaFactory, folder: str) -> Path:
    """A mixed batch under tmp_path/folder: remuxes, metadata edits, files that
    already conform, one small encode."""
    specs = [FOREIGN_FIRST] * 5 + [WRONG_DEFAULT] * 5 + [CONFORMING] * 3 + [TO_ENCODE]
    made = [media_factory(spec, f"{folder}/f{i:02d}.mkv") for i, spec in enumerate(specs)]
    return made[0].parent


def write_config(home: Path, text: str) -> None:
    """``text`` as the config; fresh test files count as finished (no stable wait)."""
    config = "[jobs]\nstable_seconds = 0\n" + text
    (home / ".config" / "vpo" / "config.toml").write_text(config, encoding="utf-8")


def path_map(media: Path, views: dict[str, Path]) -> str:
    entries = ", ".join(f'"{name}:{media}={view}"' for name, view in views.items())
    return f"[paths]\nmap = [{entries}]\n"


def run(db: Path, policy: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["process", "--db", str(db), "-p", str(policy), "-q", *args])


def records(db: Path) -> dict[str, tuple[object, ...]]:
    """File name → what the library recorded for it (outcome, plan, changes, after)."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT path, outcome, plan_kind, phase, changes, after_summary, error"
            " FROM file_results"
        ).fetchall()
    return {Path(os.fsdecode(row[0])).name: tuple(row[1:]) for row in rows}


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def test_a_two_worker_cluster_gives_the_thread_executors_results_file_by_file(
    media_factory: MediaFactory,
    policy: Path,
    tmp_path: Path,
    isolated_home: Path,
    library_dirs: tuple[Path, dict[str, Path]],
) -> None:
    local = make_library(media_factory, "local")
    media, views = library_dirs
    make_library(media_factory, "coordinator/media")
    write_config(isolated_home, "")
    threads = run(tmp_path / "threads.sqlite", policy, "--workers", "2", str(local))
    assert threads.exit_code == 0, threads.output

    write_config(isolated_home, path_map(media, views))
    with cluster(tmp_path, {"wa": None, "wb": None}) as running:
        dask = run(
            tmp_path / "dask.sqlite", policy, "--executor", f"dask://{running.address}", str(media)
        )
    assert dask.exit_code == 0, dask.output
    expected = records(tmp_path / "threads.sqlite")
    got = records(tmp_path / "dask.sqlite")
    assert len(expected) == 14
    assert got == expected
    kinds = {kind for _, kind, *_ in got.values()}
    assert {"remux", "metadata", "encode"} <= kinds
    # recorded in the coordinator's paths (the workers saw other ones)
    with sqlite3.connect(tmp_path / "dask.sqlite") as connection:
        paths = {os.fsdecode(row[0]) for row in connection.execute("SELECT path FROM files")}
    assert paths == {str(media / name) for name in got}


def test_a_worker_without_mkvmerge_is_named_and_gets_no_files(
    media_factory: MediaFactory,
    policy: Path,
    tmp_path: Path,
    isolated_home: Path,
    library_dirs: tuple[Path, dict[str, Path]],
    tools: object,
) -> None:
    media, views = library_dirs
    for index in range(4):
        media_factory(FOREIGN_FIRST, f"coordinator/media/f{index}.mkv")
    bare = tmp_path / "bin-without-mkvmerge"
    bare.mkdir()
    for name in ("ffmpeg", "ffprobe", "mkvpropedit"):
        found = shutil.which(name)
        assert found is not None
        (bare / name).symlink_to(found)
    write_config(isolated_home, path_map(media, views))
    with cluster(tmp_path, {"wa": None, "wb": str(bare)}) as running:
        result = run(
            tmp_path / "lib.sqlite", policy, "--executor", f"dask://{running.address}", str(media)
        )
        assert result.exit_code == 0, result.output
        assert "vpo: worker: wb: mkvmerge missing: not on PATH; it gets no files" in result.stderr
        with sqlite3.connect(tmp_path / "lib.sqlite") as connection:
            outcomes = [row[0] for row in connection.execute("SELECT outcome FROM file_results")]
        assert outcomes == ["changed"] * 4

        # no worker passes: the batch does not start (exit 3: a tool is missing)
        running.workers.pop("wa").terminate()
        time.sleep(0.5)
        running.wait_for(1)
        refused = run(
            tmp_path / "lib2.sqlite",
            policy,
            "--executor",
            f"dask://{running.address}",
            str(media),
        )
    assert refused.exit_code == 3, refused.output
    assert "no worker passed the check, the batch does not start" in refused.stderr


def test_a_wrong_path_map_excludes_the_worker_with_the_path_it_could_not_see(
    media_factory: MediaFactory,
    policy: Path,
    tmp_path: Path,
    isolated_home: Path,
    library_dirs: tuple[Path, dict[str, Path]],
) -> None:
    media, views = library_dirs
    media_factory(FOREIGN_FIRST, "coordinator/media/f0.mkv")
    write_config(
        isolated_home, f'[paths]\nmap = ["wa:{media}={views["wa"]}", "wb:{media}=/nowhere"]\n'
    )
    with cluster(tmp_path, {"wa": None, "wb": None}) as running:
        result = run(
            tmp_path / "lib.sqlite", policy, "--executor", f"dask://{running.address}", str(media)
        )
    assert result.exit_code == 0, result.output
    assert f"vpo: worker: wb: cannot see /nowhere/f0.mkv (mapped from {media}/f0.mkv)" in (
        result.stderr
    )


def test_no_scheduler_at_the_address_fails_fast_in_one_line(
    policy: Path, tmp_path: Path, media_factory: MediaFactory
) -> None:
    media = make_library(media_factory, "media")
    port = free_port()  # bound and released: nothing listens there
    started = time.monotonic()
    result = run(
        tmp_path / "lib.sqlite", policy, "--executor", f"dask://127.0.0.1:{port}", str(media)
    )
    assert time.monotonic() - started < 30
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"vpo: cannot reach the Dask scheduler at dask://127.0.0.1:{port}")
    assert not (tmp_path / "lib.sqlite").exists() or records(tmp_path / "lib.sqlite") == {}


PAUSING_MKVMERGE = """#!/bin/sh
# mkvmerge that answers --version and -J, but on a writing call marks $STUB_MARK
# and waits until its worker (its parent) is gone.
case " $* " in *" --version "*|*" -J "*) exec "$REAL_MKVMERGE" "$@" ;; esac
touch "$STUB_MARK"
while kill -0 "$PPID" 2>/dev/null; do sleep 0.1; done
exit 1
"""


def pausing_path(tmp_path: Path, mark: Path) -> tuple[str, dict[str, str]]:
    """A PATH whose mkvmerge pauses on its first write, and the variables it reads."""
    stub_dir = tmp_path / "pausing-bin"
    stub_dir.mkdir(parents=True)
    stub = stub_dir / "mkvmerge"
    stub.write_text(PAUSING_MKVMERGE, encoding="utf-8")
    stub.chmod(0o755)
    real = shutil.which("mkvmerge")
    assert real is not None
    return f"{stub_dir}:{os.environ['PATH']}", {"STUB_MARK": str(mark), "REAL_MKVMERGE": real}


def wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, "vpo ended before the worker paused"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_a_worker_killed_mid_file_its_file_is_retried_elsewhere_and_the_batch_completes(
    media_factory: MediaFactory,
    policy: Path,
    tmp_path: Path,
    isolated_home: Path,
    library_dirs: tuple[Path, dict[str, Path]],
) -> None:
    media, views = library_dirs
    originals = {}
    for index in range(6):
        path = media_factory(FOREIGN_FIRST, f"coordinator/media/f{index}.mkv")
        originals[path.name] = path.read_bytes()
    mark = tmp_path / "paused"
    path, extra = pausing_path(tmp_path, mark)
    write_config(isolated_home, path_map(media, views))
    vpo = Path(sys.executable).with_name("vpo")
    with cluster(tmp_path, {"wa": None}) as running:
        running.add_worker("wb", path, extra)
        running.wait_for(2)
        log = (tmp_path / "vpo.log").open("wb")
        coordinator = subprocess.Popen(
            [
                str(vpo),
                "process",
                "--db",
                str(tmp_path / "lib.sqlite"),
                "-p",
                str(policy),
                "--executor",
                f"dask://{running.address}",
                "--json",
                str(media),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
        )
        try:
            wait_for_file(mark, coordinator)
            os.killpg(running.workers["wb"].pid, signal.SIGKILL)  # mid-write on wb
            running.workers["wb"].wait()  # reaped: its pid is gone, as on another machine
            out, _ = coordinator.communicate(timeout=120)
        finally:
            if coordinator.poll() is None:
                coordinator.kill()
                coordinator.wait()
    assert coordinator.returncode == 0, (tmp_path / "vpo.log").read_text()
    assert json.loads(out)["summary"]["changed"] == 6
    got = records(tmp_path / "lib.sqlite")
    assert [outcome for outcome, *_ in got.values()] == ["changed"] * 6
    # every file is the result (not the original, not damaged); no leftover beside them
    assert sorted(p.name for p in media.iterdir()) == sorted(originals)
    assert "vpo: recovery: " in (tmp_path / "vpo.log").read_text()  # the killed write's temp
    for name, before in originals.items():
        assert (media / name).read_bytes() != before


def test_a_file_whose_worker_dies_twice_is_reported_failed_in_one_line(
    media_factory: MediaFactory,
    policy: Path,
    tmp_path: Path,
    isolated_home: Path,
    library_dirs: tuple[Path, dict[str, Path]],
) -> None:
    """Killed on its first worker, retried once on the other, killed there too: the
    file fails with one clear line, its original intact; the batch completes."""
    media, views = library_dirs
    path = media_factory(FOREIGN_FIRST, "coordinator/media/f0.mkv")
    original = path.read_bytes()
    write_config(isolated_home, path_map(media, views))
    vpo = Path(sys.executable).with_name("vpo")
    marks = {name: tmp_path / f"paused-{name}" for name in ("wa", "wb")}
    with cluster(tmp_path, {}) as running:
        for name, mark in marks.items():
            pausing, extra = pausing_path(tmp_path / name, mark)
            running.add_worker(name, pausing, extra)
        running.wait_for(2)
        log_path = tmp_path / "vpo.log"
        coordinator = subprocess.Popen(
            [
                str(vpo),
                "process",
                "--db",
                str(tmp_path / "lib.sqlite"),
                "-p",
                str(policy),
                "--executor",
                f"dask://{running.address}",
                "--json",
                str(media),
            ],
            stdout=subprocess.PIPE,
            stderr=log_path.open("wb"),
        )
        try:
            for _ in range(2):  # the first worker, then the one it was retried on
                wait_until(lambda: any(m.exists() for m in marks.values()), coordinator, "a pause")
                name = next(n for n, m in marks.items() if m.exists())
                os.killpg(running.workers[name].pid, signal.SIGKILL)
                running.workers[name].wait()
                marks.pop(name).unlink()
            out, _ = coordinator.communicate(timeout=120)
        finally:
            if coordinator.poll() is None:
                coordinator.kill()
                coordinator.wait()
    assert coordinator.returncode == 1, log_path.read_text()
    failed = json.loads(out)["summary"]
    assert failed["failed"] == 1, failed
    expected = (
        "the worker died twice while this file was assigned to it (retried once on another "
        "worker), last on "
    )
    (outcome, *_, error) = records(tmp_path / "lib.sqlite")["f0.mkv"]
    assert outcome == "failed"
    assert str(error).startswith(expected), error
    assert str(error).endswith("; the file is the original or the finished result")
    assert "KilledWorker" not in log_path.read_text()
    assert path.read_bytes() == original
    assert sorted(p.name for p in media.iterdir()) == ["f0.mkv"]  # killed writers' temps gone


HELD_MKVMERGE = """#!/bin/sh
# mkvmerge whose writing calls mark $STUB_MARK.<pid> and wait for $STUB_RELEASE.
case " $* " in *" --version "*|*" -J "*) exec "$REAL_MKVMERGE" "$@" ;; esac
touch "$STUB_MARK.$$"
while [ ! -e "$STUB_RELEASE" ]; do sleep 0.1; done
exec "$REAL_MKVMERGE" "$@"
"""


def wait_until(check: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 90.0
    while not check():
        assert process.poll() is None, f"vpo ended before {what}"
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_on_the_coordinator(
    media_factory: MediaFactory,
    policy: Path,
    tmp_path: Path,
    isolated_home: Path,
    library_dirs: tuple[Path, dict[str, Path]],
    presses: int,
) -> None:
    """Once: the two files on the workers finish, no other starts. Twice: the tools
    on the workers are stopped, every original intact."""
    media, views = library_dirs
    originals = {}
    for index in range(6):
        path = media_factory(FOREIGN_FIRST, f"coordinator/media/f{index}.mkv")
        originals[path.name] = path.read_bytes()
    stub_dir = tmp_path / "held-bin"
    stub_dir.mkdir()
    (stub_dir / "mkvmerge").write_text(HELD_MKVMERGE, encoding="utf-8")
    (stub_dir / "mkvmerge").chmod(0o755)
    release = tmp_path / "release"
    extra = {
        "STUB_MARK": str(tmp_path / "held"),
        "STUB_RELEASE": str(release),
        "REAL_MKVMERGE": str(shutil.which("mkvmerge")),
    }
    held_path = f"{stub_dir}:{os.environ['PATH']}"
    write_config(isolated_home, path_map(media, views))
    vpo = Path(sys.executable).with_name("vpo")
    log_path = tmp_path / "vpo.log"
    with cluster(tmp_path, {}) as running:
        running.add_worker("wa", held_path, extra)
        running.add_worker("wb", held_path, extra)
        running.wait_for(2)
        log = log_path.open("wb")
        coordinator = subprocess.Popen(
            [
                str(vpo),
                "process",
                "--db",
                str(tmp_path / "lib.sqlite"),
                "-p",
                str(policy),
                "--executor",
                f"dask://{running.address}",
                str(media),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            held = lambda: len(list(tmp_path.glob("held.*"))) == 2  # noqa: E731
            wait_until(held, coordinator, "both workers hold a file")
            coordinator.send_signal(signal.SIGINT)
            wait_until(
                lambda: "Interrupted" in log_path.read_text(), coordinator, "the first press"
            )
            pressed = time.monotonic()
            if presses == 2:
                coordinator.send_signal(signal.SIGINT)
            else:
                release.touch()
            coordinator.wait(timeout=120)
            took = time.monotonic() - pressed
        finally:
            release.touch()
            if coordinator.poll() is None:
                coordinator.kill()
                coordinator.wait()
    assert coordinator.returncode == 130, log_path.read_text()
    outcomes = sorted(outcome for outcome, *_ in records(tmp_path / "lib.sqlite").values())
    changed = [name for name, before in originals.items() if (media / name).read_bytes() != before]
    if presses == 1:
        assert outcomes == ["changed", "changed"]
        assert len(changed) == 2
    else:
        assert "Aborting" in log_path.read_text()
        assert outcomes == ["failed", "failed"]
        # stopped by the press, not by the 60 s tool timeout
        assert took < 30
        errors = [error for *_, error in records(tmp_path / "lib.sqlite").values()]
        assert not any("timed out" in str(error) for error in errors), errors
        assert changed == []
    assert sorted(p.name for p in media.iterdir()) == sorted(originals)


PROGRESS_FFMPEG = """#!/bin/sh
# ffmpeg that, on an encode, first reports half of a 1 s file done, then runs the real one.
case " $* " in *" -progress "*)
    printf 'frame=12\\nfps=24.0\\nout_time_us=500000\\nspeed=2.0x\\nprogress=continue\\n'
    sleep 0.5 ;;
esac
exec "$REAL_FFMPEG" "$@"
"""


class Recorder:
    """A ProcessObserver that keeps what the coordinator reports."""

    def __init__(self) -> None:
        self.progress_seen: list[object] = []
        self.notices: list[str] = []

    def batch_started(self, total: int) -> None: ...

    def file_started(self, path: Path) -> None: ...

    def file_finished(self, result: object) -> None: ...

    def progress(self, progress: object) -> None:
        self.progress_seen.append(progress)

    def notice(self, path: Path, text: str, *, important: bool, topic: str | None = None) -> None:
        self.notices.append(f"{topic}: {path}: {text}")


def test_encode_progress_on_a_worker_reaches_the_coordinators_observer(
    media_factory: MediaFactory,
    tmp_path: Path,
    library_dirs: tuple[Path, dict[str, Path]],
) -> None:
    from vpo.apply.settings import ApplySettings
    from vpo.batch.dask_executor import DaskExecutor
    from vpo.batch.pathmap import PathMap
    from vpo.batch.process import ProcessRequest, run_process_batch
    from vpo.policy.loader import load_policy
    from vpo.tools.locate import locate_tools
    from vpo.tools.progress import EncodeProgress

    media, views = library_dirs
    path = media_factory(TO_ENCODE, "coordinator/media/enc.mkv")
    stub_dir = tmp_path / "progress-bin"
    stub_dir.mkdir()
    (stub_dir / "ffmpeg").write_text(PROGRESS_FFMPEG, encoding="utf-8")
    (stub_dir / "ffmpeg").chmod(0o755)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY, encoding="utf-8")
    policy = load_policy(policy_file)
    extra = {"REAL_FFMPEG": str(shutil.which("ffmpeg"))}
    observer = Recorder()
    with cluster(tmp_path, {}) as running:
        running.add_worker("wa", f"{stub_dir}:{os.environ['PATH']}", extra)
        running.wait_for(1)
        request = ProcessRequest(
            paths=(media,),
            policy=policy,
            phases=policy.phases,
            tools=locate_tools(),
            extensions=("mkv",),
            settings=ApplySettings(stable_seconds=0),
            path_map=PathMap.parse([f"wa:{media}={views['wa']}"]),
        )
        with DaskExecutor.connect(running.address, timeout=10) as executor:
            batch = run_process_batch(request, executor=executor, observer=observer)
    assert batch.count(FileStatus.CHANGED) == 1, batch.failed
    first = observer.progress_seen[0]
    assert isinstance(first, EncodeProgress)
    assert first.path == path  # the coordinator's path, not the worker's
    assert first.percent is not None
    assert 40 < first.percent < 60  # 0.5 s of a file of about 1 s
    assert first.speed == pytest.approx(2.0)


def test_encodes_go_only_to_the_worker_with_the_encode_resources(
    media_factory: MediaFactory,
    policy: Path,
    tmp_path: Path,
    isolated_home: Path,
    library_dirs: tuple[Path, dict[str, Path]],
) -> None:
    """[processing] encode_resources = "GPU=1": the coordinator plans each file first;
    every encode runs on the worker started with --resources GPU=1, the other files
    on any worker; with no such worker, one line at the start and the encodes fail."""
    from vpo.apply.settings import ApplySettings
    from vpo.batch.dask_executor import DaskExecutor
    from vpo.batch.pathmap import PathMap
    from vpo.batch.process import ProcessRequest, run_process_batch
    from vpo.batch.resources import parse_resources
    from vpo.policy.loader import load_policy
    from vpo.tools.locate import locate_tools

    media, _views = library_dirs
    specs = [TO_ENCODE] * 3 + [FOREIGN_FIRST] * 4 + [WRONG_DEFAULT] * 4 + [CONFORMING]
    for index, spec in enumerate(specs):
        media_factory(spec, f"coordinator/media/f{index:02d}.mkv")
    views = {"cpu": tmp_path / "mnt-cpu", "gpu": tmp_path / "mnt-gpu"}
    for view in views.values():
        view.symlink_to(media)
    loaded = load_policy(policy)
    request = ProcessRequest(
        paths=(media,),
        policy=loaded,
        phases=loaded.phases,
        tools=locate_tools(),
        extensions=("mkv",),
        settings=ApplySettings(stable_seconds=0),
        path_map=PathMap.parse([f"{name}:{media}={view}" for name, view in views.items()]),
        encode_resources=parse_resources("GPU=1"),
        keep_results=True,
        # both workers busy at once: with one file at a time, two idle workers tie and
        # Dask may give every file to the same one
        workers=2,
    )
    with cluster(tmp_path, {"cpu": None}) as running:
        running.add_worker("gpu", args=("--resources", "GPU=1"))
        running.wait_for(2)
        observer = Recorder()
        with DaskExecutor.connect(running.address, timeout=10) as executor:
            batch = run_process_batch(request, executor=executor, observer=observer)
        assert batch.count(FileStatus.CHANGED) == 11, batch.failed
        kinds = {r.path.name: {p.kind for p in r.phases} for r in batch.results}
        encoded = {r.path.name: r.worker for r in batch.results if "encode" in kinds[r.path.name]}
        others = {r.path.name: r.worker for r in batch.results if r.path.name not in encoded}
        assert encoded == {f"f{i:02d}.mkv": "gpu" for i in range(3)}
        assert set(others.values()) <= {"cpu", "gpu", None}
        assert "cpu" in others.values()  # the others go anywhere, not only to the GPU machine
        assert not [n for n in observer.notices if "encode_resources" in n]

        # the GPU machine is gone: one line at the start, the encodes fail, the rest run
        for index in range(3):
            media_factory(TO_ENCODE, f"coordinator/media/g{index}.mkv")
        media_factory(FOREIGN_FIRST, "coordinator/media/g9.mkv")
        running.workers.pop("gpu").terminate()
        running.wait_for_exactly(1)
        observer = Recorder()
        with DaskExecutor.connect(running.address, timeout=10) as executor:
            batch = run_process_batch(request, executor=executor, observer=observer)
    lines = [n for n in observer.notices if "encode_resources" in n]
    assert lines == [
        f"worker: {running.address}: no worker has the resources GPU=1 "
        "([processing] encode_resources): files that encode are reported failed"
    ]
    failed = {r.path.name: r.error for r in batch.failed}
    message = (
        "it must encode, and no worker has the resources GPU=1 ([processing] encode_resources)"
    )
    assert failed == {f"g{i}.mkv": message for i in range(3)}
    assert batch.count(FileStatus.CHANGED) == 1  # g9.mkv (f*.mkv conform now)


LOGGING_TOOL = """#!/bin/sh
# The worker's $TOOL: logs its arguments to $TOOL_LOG, reports half of an encode
# done first (ffmpeg -progress), then runs the real tool.
echo "$(basename "$0") $*" >> "$TOOL_LOG"
case "$(basename "$0") $*" in "ffmpeg "*" -progress "*)
    printf 'frame=12\\nfps=24.0\\nout_time_us=500000\\nspeed=2.0x\\nprogress=continue\\n'
    sleep 0.5 ;;
esac
exec "$(dirname "$0")/real/$(basename "$0")" "$@"
"""


def logging_tools(directory: Path) -> Path:
    """A PATH directory whose ffmpeg and mkvmerge log their calls, then run the real ones."""
    (directory / "real").mkdir(parents=True)
    for name in ("ffmpeg", "mkvmerge"):
        real = shutil.which(name)
        assert real is not None
        (directory / "real" / name).symlink_to(real)
        (directory / name).write_text(LOGGING_TOOL, encoding="utf-8")
        (directory / name).chmod(0o755)
    return directory


def read_events(address: str, into: list[tuple[str, dict[str, object]]]) -> None:
    """Append every event of the daemon's /api/v1/events stream to ``into`` (a thread)."""
    import httpx

    with (
        httpx.Client(base_url=f"{address}/api/v1", timeout=120) as client,
        client.stream("GET", "/events") as answer,
    ):
        kind = ""
        for line in answer.iter_lines():
            if line == ": connected":
                into.append(("connected", {}))
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                into.append((kind, json.loads(line[6:])))


def test_vpo_serve_runs_its_jobs_on_the_dask_cluster(
    media_factory: MediaFactory,
    tmp_path: Path,
    library_dirs: tuple[Path, dict[str, Path]],
) -> None:
    """[processing] executor = dask://…: a job submitted to the daemon runs on the
    cluster's worker (its own tools, its own mount path), the daemon alone records
    it, and the remote encode's progress reaches the daemon's event stream."""
    import threading

    import httpx

    media, views = library_dirs
    encode = media_factory(TO_ENCODE, "coordinator/media/enc.mkv")
    remux = media_factory(FOREIGN_FIRST, "coordinator/media/remux.mkv")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "mixed.yaml").write_text(POLICY, encoding="utf-8")
    tool_log = tmp_path / "worker-tools.log"
    worker_home = tmp_path / "worker-home"
    worker_home.mkdir()
    tools = logging_tools(tmp_path / "worker-bin")
    env = {
        **os.environ,
        "VPO_LIBRARY_DATABASE": str(tmp_path / "daemon.sqlite"),
        "VPO_LIBRARY_ROOTS": str(media),
        "VPO_SERVER_POLICY_DIR": str(policies),
        "VPO_SERVER_BACKUP_KEEP": "0",
        "VPO_JOBS_STABLE_SECONDS": "0",
        "VPO_PATHS_MAP": f"wa:{media}={views['wa']}",
    }
    events: list[tuple[str, dict[str, object]]] = []
    with cluster(tmp_path, {}) as running:
        running.add_worker(
            "wa",
            f"{tools}:{os.environ['PATH']}",
            {"TOOL_LOG": str(tool_log), "HOME": str(worker_home)},
        )
        running.wait_for(1)
        env["VPO_PROCESSING_EXECUTOR"] = f"dask://{running.address}"
        daemon = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("vpo")),
                "serve",
                "--port",
                "0",
                "--log-file",
                str(tmp_path / "serve.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            assert daemon.stderr is not None
            line = daemon.stderr.readline().decode()
            assert "listening on" in line, line
            address = next(w for w in line.split() if w.startswith("http://"))
            threading.Thread(target=read_events, args=(address, events), daemon=True).start()
            with httpx.Client(base_url=f"{address}/api/v1", timeout=60) as client:
                deadline = time.monotonic() + 30
                while not any(kind == "connected" for kind, _ in events):
                    assert time.monotonic() < deadline, "the event stream never opened"
                    time.sleep(0.05)
                created = client.post(
                    "/jobs", json={"type": "process", "policy": "mixed", "paths": [str(media)]}
                )
                assert created.status_code == 201, created.text
                job_id = created.json()["id"]
                deadline = time.monotonic() + 120
                while client.get(f"/jobs/{job_id}").json()["status"] not in (
                    "completed",
                    "failed",
                ):
                    assert time.monotonic() < deadline, "the job never finished"
                    assert daemon.poll() is None
                    time.sleep(0.2)
                job = client.get(f"/jobs/{job_id}").json()
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
    assert job["status"] == "completed", job
    # run on the worker: its own tools, on the paths it sees
    calls = tool_log.read_text(encoding="utf-8")
    assert f"{views['wa']}/enc.mkv" in calls and "ffmpeg " in calls
    assert f"{views['wa']}/remux.mkv" in calls and "mkvmerge " in calls
    # recorded by the daemon alone, in its own paths; the worker wrote no library
    got = records(tmp_path / "daemon.sqlite")
    assert {name: row[0] for name, row in got.items()} == {
        "enc.mkv": "changed",
        "remux.mkv": "changed",
    }
    with sqlite3.connect(tmp_path / "daemon.sqlite") as connection:
        paths = {os.fsdecode(row[0]) for row in connection.execute("SELECT path FROM files")}
    assert paths == {str(encode), str(remux)}
    assert not [p for p in worker_home.rglob("*") if p.is_file()]
    # the remote encode's progress in the daemon's event stream
    details = [
        detail
        for kind, data in events
        if kind == "progress" and data.get("job_id", job_id) == job_id
        for detail in dict(data.get("active") or {}).values()  # type: ignore[call-overload]
    ]
    halfway = [d for d in details if d in ("encode 48%", "encode 49%", "encode 50%")]
    assert halfway, details  # the stub's 0.5 s of a file of about 1 s, sent by the worker


DONE_WHEN_POLICY_TAIL = """\
  - name: encode
    skip_when: {container: [mkv, webm], video_codec: [hevc]}
    transcode:
      video: {target_codec: hevc, quality: {mode: crf, crf: 40, preset: ultrafast}}
"""

PAUSING_TOOL = """#!/bin/sh
# The worker's $TOOL: a call that writes under $STUB_VIEW (this worker's mount of
# the library) marks $STUB_MARK and waits until the worker is gone; any other call
# (versions, -J) runs the real tool. ffmpeg first reports half of an encode done.
name="$(basename "$0")"
real="$(dirname "$0")/real/$name"
case " $* " in *" -J "*) exec "$real" "$@" ;; esac
case "$*" in *"$STUB_VIEW"*)
    if [ -n "$STUB_MARK" ]; then
        touch "$STUB_MARK"
        while kill -0 "$PPID" 2>/dev/null; do sleep 0.1; done
        exit 1
    fi ;;
esac
case "$name $*" in "ffmpeg "*" -progress "*)
    printf 'frame=12\\nfps=24.0\\nout_time_us=500000\\nspeed=2.0x\\nprogress=continue\\n'
    sleep 1 ;;
esac
exec "$real" "$@"
"""


def worker_tools(directory: Path) -> Path:
    """A PATH directory of PAUSING_TOOL wrappers around the real writing tools."""
    (directory / "real").mkdir(parents=True)
    for name in ("ffmpeg", "mkvmerge", "mkvpropedit"):
        real = shutil.which(name)
        assert real is not None
        (directory / "real" / name).symlink_to(real)
        (directory / name).write_text(PAUSING_TOOL, encoding="utf-8")
        (directory / name).chmod(0o755)
    return directory


class Terminal:
    """A pseudo-terminal for a child's stderr (so vpo draws its live progress line),
    read into ``text`` by a thread."""

    def __init__(self) -> None:
        import fcntl
        import pty
        import struct
        import termios
        import threading

        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 400, 0, 0))
        self._chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self._chunks.append(data)

    @property
    def text(self) -> str:
        raw = b"".join(self._chunks).decode("utf-8", "replace")
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)

    def close(self) -> None:
        os.close(self.slave)
        self._thread.join(timeout=10)
        os.close(self.master)


def test_done_when_the_three_machine_setup_processes_the_demo_library_as_vpo_process_does(
    tmp_path: Path,
    isolated_home: Path,
    library_dirs: tuple[Path, dict[str, Path]],
    tools: object,
) -> None:
    """Issue 14's "Done when": the documented setup (a scheduler and two workers,
    each seeing the library under its own mount path through [paths] map), on
    loopback, processes the demo library exactly as a local `vpo process` does,
    file by file, survives a worker killed mid-write, and shows the remote encode's
    live progress on the coordinator's progress line."""
    from vpo.testmedia.demo import DEMO_POLICY, build_demo_library
    from vpo.tools.locate import locate_tools

    media, views = library_dirs
    local = tmp_path / "local"
    built = build_demo_library(local, locate_tools())
    shutil.copytree(local, media, dirs_exist_ok=True, copy_function=shutil.copy2)
    policy = tmp_path / "demo-policy.yaml"
    policy.write_text(DEMO_POLICY + DONE_WHEN_POLICY_TAIL, encoding="utf-8")
    originals = {p.relative_to(local): p.read_bytes() for p in built}

    write_config(isolated_home, "")
    threads = run(tmp_path / "local.sqlite", policy, "--workers", "2", str(local))
    assert threads.exit_code == 0, threads.output
    expected = records(tmp_path / "local.sqlite")
    assert len(expected) == len(built)
    assert {kind for _, kind, *_ in expected.values()} >= {"metadata", "remux", "encode"}

    write_config(isolated_home, path_map(media, views))
    mark = tmp_path / "paused-wb"
    terminal = Terminal()
    with cluster(tmp_path, {}) as running:
        for name in ("wa", "wb"):
            extra = {"STUB_VIEW": str(views[name]), "STUB_MARK": str(mark) if name == "wb" else ""}
            bin_dir = worker_tools(tmp_path / f"bin-{name}")
            running.add_worker(name, f"{bin_dir}:{os.environ['PATH']}", extra)
        running.wait_for(2)
        coordinator = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("vpo")),
                "process",
                "--db",
                str(tmp_path / "cluster.sqlite"),
                "-p",
                str(policy),
                "--executor",
                f"dask://{running.address}",
                str(media),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal.slave,
            env=dict(os.environ, COLUMNS="400", LINES="60", TERM="xterm-256color"),
        )
        try:
            wait_for_file(mark, coordinator)
            os.killpg(running.workers["wb"].pid, signal.SIGKILL)  # mid-write on wb
            running.workers["wb"].wait()
            coordinator.communicate(timeout=120)
        finally:
            if coordinator.poll() is None:
                coordinator.kill()
                coordinator.wait()
            terminal.close()
    shown = terminal.text
    assert coordinator.returncode == 0, shown
    # exactly what the local run recorded, file by file, in the coordinator's paths
    assert records(tmp_path / "cluster.sqlite") == expected
    with sqlite3.connect(tmp_path / "cluster.sqlite") as connection:
        paths = {os.fsdecode(row[0]) for row in connection.execute("SELECT path FROM files")}
    assert paths == {str(media / relative) for relative in originals}
    # every changed file is a result (mkvmerge writes a fresh segment UID, so bytes
    # differ between any two runs: the records' after-state is the comparison);
    # no leftover of the killed write
    for relative, before in originals.items():
        changed = expected[relative.name][0] == "changed"
        assert ((media / relative).read_bytes() != before) == changed, relative
    leftovers = [p for p in media.rglob(".vpo-*") if p.name != ".vpo-demo-library.json"]
    assert leftovers == []
    assert "vpo: recovery: " in shown  # the temp of wb's killed write, removed at the end
    # the remote encode's live progress on the coordinator's progress line (the
    # worker's ffmpeg reported 1 s of the 2 s file done at 24 fps, 2.0x)
    line = re.search(r"Home Video \(2015\)\.mp4  encoding (\d+)% 24 fps 2\.0× ETA", shown)
    assert line is not None, shown[-3000:]
    assert 0 < int(line[1]) < 100
