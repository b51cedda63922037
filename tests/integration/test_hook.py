"""``vpo hook radarr|sonarr`` run the way Radarr/Sonarr run it: only environment
variables (their exact names), real tools, generated media, a real ``vpo serve``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.library import Library
from vpo.library.records import FileStatus
from vpo.testmedia.spec import AudioSpec, MediaSpec

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]
VPO = Path(sys.executable).with_name("vpo")
WAIT = 60.0
FOREIGN_FIRST = MediaSpec(
    audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng"))
)
POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: order
    track_order: [video, audio_main, audio_alternate]
    default_flags: {set_preferred_audio_default: true, clear_other_defaults: true}
"""


def audio_languages(path: Path) -> list[tuple[str, bool]]:
    out = subprocess.run(["mkvmerge", "-J", str(path)], capture_output=True, check=True).stdout
    return [
        (t["properties"]["language"], t["properties"]["default_track"])
        for t in json.loads(out)["tracks"]
        if t["type"] == "audio"
    ]


def radarr_download(their_path: str) -> dict[str, str]:
    """The variables Radarr's CustomScript.OnDownload sets (lower-cased, as on Linux)."""
    folder, _, name = their_path.rpartition("/")
    return {
        "radarr_eventtype": "Download",
        "radarr_isupgrade": "False",
        "radarr_movie_id": "1",
        "radarr_movie_title": "Film",
        "radarr_movie_year": "2021",
        "radarr_movie_path": folder,
        "radarr_movie_imdbid": "tt0000001",
        "radarr_movie_tmdbid": "11",
        "radarr_movie_in_cinemas_date": "10/22/2021 00:00:00",
        "radarr_movie_physical_release_date": "",
        "radarr_moviefile_id": "3",
        "radarr_moviefile_relativepath": name,
        "radarr_moviefile_path": their_path,
        "radarr_moviefile_quality": "Bluray-1080p",
        "radarr_moviefile_qualityversion": "1",
        "radarr_moviefile_releasegroup": "",
        "radarr_moviefile_scenename": "",
        "radarr_moviefile_sourcepath": "/downloads/film/film.mkv",
        "radarr_moviefile_sourcefolder": "/downloads/film",
        "radarr_download_client": "qBittorrent",
        "radarr_download_client_type": "qBittorrent",
        "radarr_download_id": "ABC",
    }


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "order.yaml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "films").mkdir()
    return {
        **{k: v for k, v in os.environ.items() if not k.lower().startswith("radarr_")},
        "VPO_CONFIG": str(tmp_path / "config.toml"),
        "VPO_LIBRARY_DATABASE": str(tmp_path / "lib.db"),
        "VPO_LIBRARY_ROOTS": str(tmp_path / "films"),
        "VPO_SERVER_POLICY_DIR": str(policies),
        "VPO_SERVER_BACKUP_KEEP": "0",
        "VPO_JOBS_STABLE_SECONDS": "0",
        "VPO_INTEGRATIONS_RADARR_POLICY": "order",
        "VPO_INTEGRATIONS_RADARR_PATH_MAP": f"/movies={tmp_path / 'films'}",
    }


def hook(env: dict[str, str], variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VPO), "hook", "radarr"],
        env={**env, **variables},
        capture_output=True,
        text=True,
        timeout=WAIT,
        stdin=subprocess.DEVNULL,
    )


def test_the_test_button_answers_success(env: dict[str, str]) -> None:
    done = hook(env, {"radarr_eventtype": "Test"})
    assert done.returncode == 0
    assert done.stderr == "vpo hook radarr: Test: OK, vpo is reachable from Radarr\n"


def test_a_download_is_processed_inline_without_a_daemon(
    env: dict[str, str], media_factory: MediaFactory
) -> None:
    film = media_factory(FOREIGN_FIRST, "films/Film (2021)/Film (2021).mkv")
    done = hook(env, radarr_download("/movies/Film (2021)/Film (2021).mkv"))  # Radarr's view
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        "vpo hook radarr: Download: Film (2021).mkv: no vpo serve is running, processing it now"
    )
    assert audio_languages(film) == [("eng", True), ("fre", False)]


def test_a_download_is_queued_to_a_running_daemon(
    env: dict[str, str], media_factory: MediaFactory, tmp_path: Path
) -> None:
    film = media_factory(FOREIGN_FIRST, "films/Film (2021)/Film (2021).mkv")
    log = tmp_path / "serve.log"
    daemon = subprocess.Popen(
        [str(VPO), "serve", "--port", "0", "--log-file", str(log)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert daemon.stderr is not None
        assert "listening on" in daemon.stderr.readline().decode()
        started = time.monotonic()
        done = hook(env, radarr_download("/movies/Film (2021)/Film (2021).mkv"))
        assert time.monotonic() - started < 10  # it only queues: Radarr is not kept waiting
        assert done.returncode == 0, done.stderr
        assert re.fullmatch(
            r"vpo hook radarr: Download: Film \(2021\)\.mkv: Queued job \d+ "
            r"\(process, 1 path\(s\)\); vpo serve at http://127\.0\.0\.1:\d+ will run it\n",
            done.stderr,
        ), done.stderr
        deadline = time.monotonic() + WAIT
        while f"file {film}: changed" not in log.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.05)
        assert audio_languages(film) == [("eng", True), ("fre", False)]
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(WAIT) == 0


def test_rename_and_delete_update_the_library(
    env: dict[str, str], media_factory: MediaFactory
) -> None:
    film = media_factory(FOREIGN_FIRST, "films/A/a.mkv")
    other = media_factory(FOREIGN_FIRST, "films/A/b.mkv")
    assert hook(env, radarr_download("/movies/A/a.mkv")).returncode == 0
    assert hook(env, radarr_download("/movies/A/b.mkv")).returncode == 0
    renamed = film.with_name("A (2001).mkv")
    film.rename(renamed)
    done = hook(
        env,
        {
            "radarr_eventtype": "Rename",
            "radarr_movie_id": "1",
            "radarr_movie_title": "A",
            "radarr_movie_year": "2001",
            "radarr_movie_path": "/movies/A",
            "radarr_movie_imdbid": "",
            "radarr_movie_tmdbid": "2",
            "radarr_movie_in_cinemas_date": "",
            "radarr_movie_physical_release_date": "",
            "radarr_moviefile_ids": "3",
            "radarr_moviefile_relativepaths": "A (2001).mkv",
            "radarr_moviefile_paths": "/movies/A/A (2001).mkv",
            "radarr_moviefile_previousrelativepaths": "a.mkv",
            "radarr_moviefile_previouspaths": "/movies/A/a.mkv",
        },
    )
    assert done.stderr == "vpo hook radarr: Rename: the library follows 1 of 1 renamed file(s)\n"
    other.unlink()
    done = hook(
        env,
        {
            "radarr_eventtype": "MovieFileDelete",
            "radarr_moviefile_deletereason": "Manual",
            "radarr_movie_id": "1",
            "radarr_movie_title": "A",
            "radarr_movie_year": "2001",
            "radarr_movie_path": "/movies/A",
            "radarr_movie_imdbid": "",
            "radarr_movie_tmdbid": "2",
            "radarr_moviefile_id": "4",
            "radarr_moviefile_relativepath": "b.mkv",
            "radarr_moviefile_path": "/movies/A/b.mkv",
            "radarr_moviefile_size": "1000",
            "radarr_moviefile_quality": "Bluray-1080p",
            "radarr_moviefile_qualityversion": "1",
            "radarr_moviefile_releasegroup": "",
            "radarr_moviefile_scenename": "",
        },
    )
    assert (
        done.stderr == "vpo hook radarr: MovieFileDelete: 1 file(s) marked missing in the library\n"
    )
    with Library.open(Path(env["VPO_LIBRARY_DATABASE"])) as library:
        assert library.file_state(film) is None
        state = library.file_state(renamed)
        assert state is not None and state.status is FileStatus.OK
        gone = library.file_state(other)
        assert gone is not None and gone.status is FileStatus.MISSING


def test_a_wrong_path_map_is_one_clear_line(env: dict[str, str]) -> None:
    env["VPO_INTEGRATIONS_RADARR_PATH_MAP"] = "/elsewhere=/nowhere"
    done = hook(env, radarr_download("/movies/X/x.mkv"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(
        "vpo: hook radarr: Download: /movies/X/x.mkv not found (is [integrations.radarr] "
        "path_map right? Radarr reported /movies/X/x.mkv)"
    )


def test_without_a_policy_it_says_which_key_to_set(env: dict[str, str]) -> None:
    del env["VPO_INTEGRATIONS_RADARR_POLICY"]
    done = hook(env, radarr_download("/movies/X/x.mkv"))
    assert done.returncode == 2
    assert done.stderr == "vpo: set [integrations.radarr] policy: the policy for its files\n"
