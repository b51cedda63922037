"""``vpo hook radarr|sonarr`` run the way Radarr/Sonarr run it: only environment
variables (their exact names), real tools, generated media, a real ``vpo serve``."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.arr import radarr_download, sonarr_download, sonarr_series
from helpers.daemon import daemon_env, hook, running
from helpers.tracks import audio_languages
from vpo.library import Library
from vpo.library.records import FileStatus
from vpo.testmedia.policies import FOREIGN_FIRST, ORDER_POLICY

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return daemon_env(
        tmp_path,
        roots=tmp_path / "films",
        policies={"order": ORDER_POLICY},
        workers=2,
        VPO_INTEGRATIONS_RADARR_POLICY="order",
        VPO_INTEGRATIONS_RADARR_PATH_MAP=f"/movies={tmp_path / 'films'}",
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
    with running(env, tmp_path / "serve.log") as daemon:
        started = time.monotonic()
        done = hook(env, radarr_download("/movies/Film (2021)/Film (2021).mkv"))
        assert time.monotonic() - started < 10  # it only queues: Radarr is not kept waiting
        assert done.returncode == 0, done.stderr
        assert re.fullmatch(
            r"vpo hook radarr: Download: Film \(2021\)\.mkv: Queued job \d+ "
            r"\(process, 1 path\(s\)\); vpo serve at http://127\.0\.0\.1:\d+ will run it\n",
            done.stderr,
        ), done.stderr
        daemon.wait_for(lambda: f"file {film}: changed" in daemon.text(), "the film")
        assert audio_languages(film) == [("eng", True), ("fre", False)]
        assert daemon.stop() == 0


def test_rename_and_delete_update_the_library(
    env: dict[str, str], media_factory: MediaFactory
) -> None:
    film = media_factory(FOREIGN_FIRST, "films/A/a.mkv")
    other = media_factory(FOREIGN_FIRST, "films/A/b.mkv")
    assert hook(env, radarr_download("/movies/A/a.mkv")).returncode == 0
    assert hook(env, radarr_download("/movies/A/b.mkv")).returncode == 0
    renamed = film.with_name("A (2001).mkv")
    film.rename(renamed)
    film_a = {  # the movie variables of both events
        "radarr_movie_id": "1",
        "radarr_movie_title": "A",
        "radarr_movie_year": "2001",
        "radarr_movie_path": "/movies/A",
        "radarr_movie_imdbid": "",
        "radarr_movie_tmdbid": "2",
    }
    done = hook(
        env,
        {
            "radarr_eventtype": "Rename",
            **film_a,
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
            **film_a,
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


def sonarr_hook(env: dict[str, str], variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return hook(env, variables, "sonarr")


@pytest.fixture
def sonarr_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tv").mkdir()
    return {
        **env,  # without Sonarr's own variables: daemon_env leaves them out
        "VPO_LIBRARY_ROOTS": str(tmp_path / "tv"),
        "VPO_INTEGRATIONS_SONARR_POLICY": "order",
        "VPO_INTEGRATIONS_SONARR_PATH_MAP": f"/tv={tmp_path / 'tv'}",
    }


def test_sonarr_v4_calls_test_import_complete_upgrade_rename_delete_and_others(
    sonarr_env: dict[str, str], media_factory: MediaFactory, tmp_path: Path
) -> None:
    env = sonarr_env
    done = sonarr_hook(
        env,
        {"sonarr_eventtype": "Test", "sonarr_instancename": "Sonarr", "sonarr_applicationurl": ""},
    )
    assert (done.returncode, done.stderr) == (
        0,
        "vpo hook sonarr: Test: OK, vpo is reachable from Sonarr\n",
    )

    # "On Import Complete": Download with every file of the release, plural variables only
    e1 = media_factory(FOREIGN_FIRST, "tv/Frieren/Season 1/e1.mkv")
    e2 = media_factory(FOREIGN_FIRST, "tv/Frieren/Season 1/e2.mkv")
    done = sonarr_hook(
        env,
        {
            "sonarr_eventtype": "Download",
            **sonarr_series(),
            "sonarr_episodefile_ids": "77|78",
            "sonarr_episodefile_count": "2",
            "sonarr_episodefile_relativepaths": "Season 1/e1.mkv|Season 1/e2.mkv",
            "sonarr_episodefile_paths": "/tv/Frieren/Season 1/e1.mkv|/tv/Frieren/Season 1/e2.mkv",
            "sonarr_episodefile_episodeids": "501,502",
            "sonarr_episodefile_seasonnumber": "1",
            "sonarr_episodefile_episodenumbers": "1,2",
            "sonarr_episodefile_qualities": "WEBDL-1080p|WEBDL-1080p",
            "sonarr_download_client": "SABnzbd",
            "sonarr_download_id": "SABnzbd_nzo_2",
            "sonarr_release_title": "[SubsPlease] Frieren - 01-02 (1080p)",
            "sonarr_sourcepath": "/downloads/frieren",
            "sonarr_destinationpath": "/tv/Frieren/Season 1",
        },
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        "vpo hook sonarr: Download: 2 files: no vpo serve is running, processing it now"
    )
    assert audio_languages(e1) == audio_languages(e2) == [("eng", True), ("fre", False)]

    # "On Upgrade": a better e1 replaces the old one, which Sonarr deleted
    better = media_factory(FOREIGN_FIRST, "tv/Frieren/Season 1/e1 [1080p].mkv")
    e1.unlink()
    done = sonarr_hook(
        env,
        sonarr_download(
            "/tv/Frieren/Season 1/e1 [1080p].mkv", deleted="/tv/Frieren/Season 1/e1.mkv"
        ),
    )
    assert done.returncode == 0, done.stderr
    assert audio_languages(better) == [("eng", True), ("fre", False)]

    # "On Rename"
    renamed = e2.with_name("Frieren - S01E02.mkv")
    e2.rename(renamed)
    done = sonarr_hook(
        env,
        {
            "sonarr_eventtype": "Rename",
            **sonarr_series(),
            "sonarr_episodefile_ids": "78",
            "sonarr_episodefile_relativepaths": "Season 1/Frieren - S01E02.mkv",
            "sonarr_episodefile_paths": "/tv/Frieren/Season 1/Frieren - S01E02.mkv",
            "sonarr_episodefile_previousrelativepaths": "Season 1/e2.mkv",
            "sonarr_episodefile_previouspaths": "/tv/Frieren/Season 1/e2.mkv",
        },
    )
    assert done.stderr == "vpo hook sonarr: Rename: the library follows 1 of 1 renamed file(s)\n"

    # "On Episode File Delete"
    renamed.unlink()
    done = sonarr_hook(
        env,
        {
            "sonarr_eventtype": "EpisodeFileDelete",
            **sonarr_series(),
            "sonarr_episodefile_deletereason": "Manual",
            "sonarr_episodefile_id": "78",
            "sonarr_episodefile_episodecount": "1",
            "sonarr_episodefile_relativepath": "Season 1/Frieren - S01E02.mkv",
            "sonarr_episodefile_path": "/tv/Frieren/Season 1/Frieren - S01E02.mkv",
            "sonarr_episodefile_episodeids": "502",
            "sonarr_episodefile_seasonnumber": "1",
            "sonarr_episodefile_episodenumbers": "2",
            "sonarr_episodefile_quality": "WEBDL-1080p",
            "sonarr_episodefile_qualityversion": "1",
            "sonarr_episodefile_releasegroup": "SubsPlease",
            "sonarr_episodefile_scenename": "",
        },
    )
    assert done.stderr == (
        "vpo hook sonarr: EpisodeFileDelete: 1 file(s) marked missing in the library\n"
    )

    # events vpo has nothing to do for, and one it has never heard of
    for event in ("SeriesAdd", "Grab", "HealthIssue", "SomethingNew"):
        done = sonarr_hook(env, {"sonarr_eventtype": event, **sonarr_series()})
        assert (done.returncode, done.stderr) == (0, f"vpo hook sonarr: {event}: nothing to do\n")

    with Library.open(Path(env["VPO_LIBRARY_DATABASE"])) as library:
        old = library.file_state(e1)
        assert old is not None and old.status is FileStatus.MISSING  # replaced by the upgrade
        assert library.file_state(e2) is None  # followed the rename ...
        gone = library.file_state(renamed)
        assert gone is not None and gone.status is FileStatus.MISSING  # ... then deleted
        kept = library.file_state(better)
        assert kept is not None and kept.status is FileStatus.OK


def test_a_radarr_upgrade_marks_the_replaced_file_missing(
    env: dict[str, str], media_factory: MediaFactory
) -> None:
    old = media_factory(FOREIGN_FIRST, "films/Film (2021)/Film (2021) 720p.mkv")
    assert hook(env, radarr_download("/movies/Film (2021)/Film (2021) 720p.mkv")).returncode == 0
    better = media_factory(FOREIGN_FIRST, "films/Film (2021)/Film (2021) 1080p.mkv")
    old.unlink()
    upgrade = radarr_download("/movies/Film (2021)/Film (2021) 1080p.mkv")
    upgrade.update(
        {
            "radarr_isupgrade": "True",
            "radarr_deletedrelativepaths": "Film (2021) 720p.mkv",
            "radarr_deletedpaths": "/movies/Film (2021)/Film (2021) 720p.mkv",
            "radarr_deleteddateadded": "12/1/2026 10:00:00 AM",
        }
    )
    done = hook(env, upgrade)
    assert done.returncode == 0, done.stderr
    assert audio_languages(better) == [("eng", True), ("fre", False)]
    with Library.open(Path(env["VPO_LIBRARY_DATABASE"])) as library:
        gone = library.file_state(old)
        assert gone is not None and gone.status is FileStatus.MISSING
