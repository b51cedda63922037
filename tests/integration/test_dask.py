"""``vpo process --executor dask://…`` on a real Dask cluster on loopback.

The tests start a ``dask scheduler`` and ``dask worker`` processes (``--nthreads
1``, no dashboard), each worker seeing the media under its own path (a symlink
to the coordinator's folder, joined by ``[paths] map``), and always stop them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
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
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytest.importorskip("distributed")

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT = 60.0

FOREIGN_FIRST = MediaSpec(
    audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng"))
)
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

    def add_worker(self, name: str, path: str | None = None) -> None:
        env = dict(os.environ)
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
            "SELECT path, outcome, plan_kind, phase, changes, after_summary, error FROM file_results"
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
