"""Issue 15's "Done when", end to end on files of the demo library with the demo policy:
a real ``vpo serve`` watching a folder, ``vpo hook radarr`` called with Radarr's
variables, a Jellyfin stand-in that records every refresh, real tools throughout.
Media-server failures (401, 500, nobody listening) are one warning each and the file is
still processed."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers.arr import Download, Film, radarr_download
from helpers.daemon import Daemon, daemon_env, hook, running
from helpers.tracks import mkvmerge_tracks
from vpo.testmedia.demo import DEMO_FILES, DEMO_POLICY
from vpo.testmedia.http_recorder import Recorder
from vpo.testmedia.spec import MediaSpec

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]
WAIT = 90.0
STABLE_SECONDS = 1
SPECS = {Path(item.relative_path).stem: item.spec for item in DEMO_FILES}
FILM = "Le Café des Étoiles (2001)"  # French audio, English subtitles off: the policy turns them on
WATCHED = "Die Brücke (1959)"  # default flag on the commentary: the policy moves it


def spec(name: str) -> MediaSpec:
    return SPECS[name]


def tracks(path: Path) -> list[tuple[str, str, bool]]:
    return [
        (t["type"], t["properties"].get("language", ""), t["properties"]["default_track"])
        for t in mkvmerge_tracks(path)
    ]


@pytest.fixture
def jellyfin() -> Iterator[Recorder]:
    """Stands in for Jellyfin: records each refresh, answers with ``status``."""
    with Recorder(status=204) as server:
        yield server


@pytest.fixture
def library(tmp_path: Path) -> dict[str, str]:
    """The environment of vpo serve and vpo hook: one library, the demo policy."""
    root = tmp_path / "library"
    for folder in ("Movies", "Incoming"):
        (root / folder).mkdir(parents=True)
    return daemon_env(
        tmp_path,
        roots=root,
        policies={"demo": DEMO_POLICY},
        workers=2,
        stable_seconds=STABLE_SECONDS,
        VPO_WATCH_FOLDERS=f"{root / 'Incoming'}=demo",
        VPO_WATCH_RESCAN_SECONDS="0",
        VPO_INTEGRATIONS_RADARR_POLICY="demo",
        VPO_INTEGRATIONS_RADARR_PATH_MAP=f"/movies={root / 'Movies'}",
    )


@contextlib.contextmanager
def start_serve(env: dict[str, str], log: Path) -> Iterator[Daemon]:
    with running(env, log, wait=WAIT) as serve:
        serve.wait_for(lambda: "watching" in serve.text(), "the watcher to start")
        yield serve


# Radarr's view of FILM and of its download
CAFE = Film("7", "Le Café des Étoiles", "2001", "tt0000007", "77", "4/25/2001 00:00:00")
CAFE_DOWNLOAD = Download("9", "/downloads/cafe/cafe.mkv", "CAFE")


def test_done_when_watch_hook_and_one_refresh_per_changed_file(
    library: dict[str, str], jellyfin: Recorder, media_factory: MediaFactory, tmp_path: Path
) -> None:
    root = Path(library["VPO_LIBRARY_ROOTS"])
    film = media_factory(spec(FILM), f"library/Movies/{FILM}/{FILM}.mkv")
    staged = media_factory(spec(WATCHED), f"staging/{WATCHED}.mkv")
    assert ("subtitles", "eng", False) in tracks(film)
    with start_serve(
        {**library, "VPO_INTEGRATIONS_JELLYFIN_URL": jellyfin.url}, tmp_path / "serve.log"
    ) as serve:
        # a file copied into the watched folder: processed within stable_seconds + a few
        copied = time.monotonic()
        watched = Path(shutil.copy(staged, root / "Incoming" / staged.name))
        serve.wait_for(lambda: serve.results(watched) == ["changed"], "the copied file")
        assert time.monotonic() - copied < STABLE_SECONDS + 10

        # Radarr's custom script: queued to the daemon, which processes it
        started = time.monotonic()
        done = hook(
            library, radarr_download(f"/movies/{FILM}/{FILM}.mkv", CAFE, CAFE_DOWNLOAD, "Radarr")
        )
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 10  # Radarr is not kept waiting
        assert re.fullmatch(
            rf"vpo hook radarr: Download: {re.escape(FILM)}\.mkv: Queued job \d+ .*\n",
            done.stderr,
        ), done.stderr
        serve.wait_for(lambda: serve.results(film) == ["changed"], "the film Radarr named")

        # a conformant file copied in: processed, unchanged, no refresh
        again = Path(shutil.copy(watched, root / "Incoming" / "already conformant.mkv"))
        serve.wait_for(lambda: serve.results(again) == ["unchanged"], "the conformant copy")
        serve.wait_for(
            lambda: serve.text().count("jellyfin told about") == 2, "the refreshes to be sent"
        )
        assert serve.stop() == 0
    assert ("subtitles", "eng", True) in tracks(film)  # the demo policy turned them on
    refreshes = jellyfin.requests
    assert [r.body for r in refreshes] == [
        {"Updates": [{"Path": str(watched), "UpdateType": "Modified"}]},
        {"Updates": [{"Path": str(film), "UpdateType": "Modified"}]},
    ]
    assert {(r.method, r.path) for r in refreshes} == {("POST", "/Library/Media/Updated")}


def test_media_server_failures_are_one_warning_each_and_the_file_is_processed(
    library: dict[str, str], jellyfin: Recorder, media_factory: MediaFactory, tmp_path: Path
) -> None:
    root = Path(library["VPO_LIBRARY_ROOTS"])
    jellyfin.status = 401  # a wrong API key
    with socket.socket() as probe:  # Plex: nobody listens there
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    staged = media_factory(spec(WATCHED), f"staging/{WATCHED}.mkv")
    with start_serve(
        {
            **library,
            "VPO_INTEGRATIONS_JELLYFIN_URL": jellyfin.url,
            "VPO_INTEGRATIONS_JELLYFIN_TOKEN": "wrong",
            "VPO_INTEGRATIONS_PLEX_URL": dead,
        },
        tmp_path / "serve.log",
    ) as serve:
        watched = Path(shutil.copy(staged, root / "Incoming" / staged.name))
        serve.wait_for(lambda: "plex not told about" in serve.text(), "the Plex warning")
        serve.wait_for(lambda: bool(re.search(r"job \d+ completed", serve.text())), "the job")
        assert serve.stop() == 0
    log = serve.text()
    assert serve.results(watched) == ["changed"]
    warnings = [line for line in log.splitlines() if "not told about" in line]
    assert len(warnings) == 2, warnings
    assert f"jellyfin not told about {watched}: HTTP 401 from {jellyfin.url}" in warnings[0]
    assert f"plex not told about {watched}: cannot connect" in warnings[1]
    assert "Traceback" not in log
