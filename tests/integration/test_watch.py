"""``vpo watch`` with REAL inotify events on temporary folders and the real tools.

``[jobs] stable_seconds`` is 1–2 s here; every wait is for a log line or a
library row (with a generous deadline), never a fixed sleep that must be long
enough. The log lines are the runner's ``job N file PATH: STATUS``.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.daemon import VPO, Daemon, daemon_env, running
from helpers.tracks import audio_languages
from vpo.library import Library
from vpo.library.records import FileStatus
from vpo.testmedia.http_recorder import Recorder
from vpo.testmedia.policies import ENGLISH_FIRST, FOREIGN_FIRST, ORDER_POLICY

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]
WAIT = 90.0


@dataclass
class Setup:
    tmp: Path
    folder: Path
    policy: Path
    env: dict[str, str]
    daemons: contextlib.ExitStack
    started: int = 0

    def start(self) -> Daemon:
        """``vpo watch`` on the folder; the fixture stops it if the test did not."""
        log = self.tmp / f"watch-{self.started}.log"
        self.started += 1
        watching = running(
            self.env,
            log,
            "watch",
            self.folder,
            "-p",
            self.policy,
            ready="vpo watch: watching 1 folder(s)",
            wait=WAIT,
        )
        return self.daemons.enter_context(watching)

    def library(self) -> Library:
        return Library.open(Path(self.env["VPO_LIBRARY_DATABASE"]))

    def jobs_files(self) -> list[list[str]]:
        """The files of every job vpo watch queued, oldest first."""
        with self.library() as library:
            jobs, _ = library.jobs.page(limit=500, offset=0)
        return [job.options.files or [] for job in reversed(jobs)]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    folder = tmp_path / "incoming"
    folder.mkdir()
    policy = tmp_path / "order.yaml"
    policy.write_text(ORDER_POLICY, encoding="utf-8")
    env = daemon_env(tmp_path, workers=2, stable_seconds=1, VPO_WATCH_RESCAN_SECONDS="0")
    with contextlib.ExitStack() as daemons:
        yield Setup(tmp_path, folder, policy, env, daemons)


def test_a_file_written_slowly_is_processed_once_after_it_settles(
    setup: Setup, media_factory: MediaFactory
) -> None:
    setup.env["VPO_JOBS_STABLE_SECONDS"] = "2"
    source = media_factory(FOREIGN_FIRST, "staging/film.mkv")
    data = source.read_bytes()
    watch = setup.start()
    target = setup.folder / "film.mkv"
    chunks = 30  # one chunk every 0.5 s: 15 s in all (the case), gaps < stable_seconds
    step = -(-len(data) // chunks)
    with target.open("wb") as out:
        for start in range(0, len(data), step):
            out.write(data[start : start + step])
            out.flush()
            assert watch.results(target) == [], "processed before the file settled"
            time.sleep(0.5)
    written = time.time()
    watch.wait_for(lambda: watch.results(target) == ["changed"], "the film to be processed")
    assert audio_languages(target) == [("eng", True), ("fre", False)]
    (files,) = setup.jobs_files()
    assert files == [str(target)]
    with setup.library() as library:
        (job,) = library.jobs.page(limit=5, offset=0)[0]
    assert job.created_at >= written  # queued only after the last write

    # vpo's own replacement (a rename over the film) settles too: it triggers nothing
    time.sleep(2 * 2 + 1.5)
    assert watch.results(target) == ["changed"]
    assert setup.jobs_files() == [[str(target)]]
    assert watch.stop() == 0


def test_a_hundred_files_dropped_at_once_are_all_processed(
    setup: Setup, media_factory: MediaFactory
) -> None:
    source = media_factory(ENGLISH_FIRST, "staging/one.mkv")
    staging = source.parent / "drop"
    staging.mkdir()
    for number in range(100):
        shutil.copyfile(source, staging / f"episode-{number:03}.mkv")
    watch = setup.start()
    staging.rename(setup.folder / "drop")  # all at once: one event for the folder
    dropped = [setup.folder / "drop" / f"episode-{number:03}.mkv" for number in range(100)]
    watch.wait_for(
        lambda: all(watch.results(path) for path in dropped), "all 100 files to be processed"
    )
    assert all(watch.results(path) == ["unchanged"] for path in dropped)
    queued = [path for files in setup.jobs_files() for path in files]
    assert sorted(queued) == sorted(str(path) for path in dropped)  # each exactly once
    assert watch.stop() == 0


def test_a_rename_and_a_delete_update_the_library(
    setup: Setup, media_factory: MediaFactory
) -> None:
    first = media_factory(ENGLISH_FIRST, "incoming/first.mkv")
    second = media_factory(ENGLISH_FIRST, "incoming/second.mkv")
    watch = setup.start()  # catch-up: both are new to the library
    watch.wait_for(lambda: bool(watch.results(first) and watch.results(second)), "catch-up")
    renamed = setup.folder / "renamed.mkv"
    first.rename(renamed)
    second.unlink()

    def library_followed() -> bool:
        with setup.library() as library:
            new, old, gone = (library.file_state(p) for p in (renamed, first, second))
        return (
            new is not None
            and old is None
            and gone is not None
            and (gone.status is FileStatus.MISSING)
        )

    watch.wait_for(library_followed, "the library to follow the rename and the delete")
    assert "renamed to" in watch.text()
    assert len(setup.jobs_files()) == 1  # the rename queued no job: same bytes
    assert watch.stop() == 0


def test_a_restart_catches_up_without_touching_unchanged_files(
    setup: Setup, media_factory: MediaFactory
) -> None:
    old = media_factory(FOREIGN_FIRST, "incoming/old.mkv")
    watch = setup.start()
    watch.wait_for(lambda: watch.results(old) == ["changed"], "the first file")
    assert watch.stop() == 0

    new = media_factory(FOREIGN_FIRST, "incoming/new.mkv")  # arrives while nobody watches
    again = setup.start()
    again.wait_for(lambda: again.results(new) == ["changed"], "the catch-up")
    assert again.results(old) == []  # unchanged since the library saw it: not queued
    assert setup.jobs_files() == [[str(old)], [str(new)]]
    assert audio_languages(new) == [("eng", True), ("fre", False)]
    assert again.stop() == 0


def test_vpo_serve_watches_its_configured_folders(
    setup: Setup, media_factory: MediaFactory
) -> None:
    policies = setup.tmp / "policies"
    policies.mkdir()
    setup.policy.rename(policies / "order.yaml")
    env = {
        **setup.env,
        "VPO_SERVER_POLICY_DIR": str(policies),
        "VPO_WATCH_FOLDERS": f"{setup.folder}=order",
    }
    with running(env, setup.tmp / "serve.log", wait=WAIT) as serve:
        serve.wait_for(lambda: "watching" in serve.text(), "the watcher to start")
        source = media_factory(FOREIGN_FIRST, "staging/film.mkv")
        copied = time.monotonic()
        film = Path(shutil.copy(source, setup.folder / "film.mkv"))
        serve.wait_for(lambda: serve.results(film) == ["changed"], "the copied film")
        assert time.monotonic() - copied < 1 + 10  # stable_seconds + a few seconds
        assert audio_languages(film) == [("eng", True), ("fre", False)]
        assert serve.stop() == 0


def test_an_invalid_watch_policy_stops_the_start_with_one_line(setup: Setup) -> None:
    setup.policy.write_text("schema_version: 12\nphases: nope\n", encoding="utf-8")
    done = subprocess.run(
        [str(VPO), "watch", str(setup.folder), "-p", str(setup.policy)],
        capture_output=True,
        env=setup.env,
        timeout=WAIT,
    )
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and str(setup.policy) in lines[0], lines
    assert "Traceback" not in done.stderr.decode()


def test_the_media_server_gets_one_refresh_per_changed_file(
    setup: Setup, media_factory: MediaFactory
) -> None:
    with Recorder(status=204) as jellyfin:
        setup.env["VPO_INTEGRATIONS_JELLYFIN_URL"] = jellyfin.url
        changing = media_factory(FOREIGN_FIRST, "incoming/changing.mkv")
        conformant = media_factory(ENGLISH_FIRST, "incoming/conformant.mkv")
        watch = setup.start()
        watch.wait_for(
            lambda: bool(watch.results(changing) and watch.results(conformant)), "both files"
        )
        assert (watch.results(changing), watch.results(conformant)) == (["changed"], ["unchanged"])
        watch.wait_for(lambda: "jellyfin told about" in watch.text(), "the refresh")
        assert watch.stop() == 0  # every refresh is sent before the runner stops
    received = [(r.method, r.path, r.body) for r in jellyfin.requests]
    assert received == [
        (
            "POST",
            "/Library/Media/Updated",
            {"Updates": [{"Path": str(changing), "UpdateType": "Modified"}]},
        )
    ]
