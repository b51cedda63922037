"""Issue 15's "Done when", end to end on files of the demo library with the demo policy:
a real ``vpo serve`` watching a folder, ``vpo hook radarr`` called with Radarr's
variables, a Jellyfin stand-in that records every refresh, real tools throughout.
Media-server failures (401, 500, nobody listening) are one warning each and the file is
still processed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vpo.testmedia.demo import DEMO_FILES, DEMO_POLICY
from vpo.testmedia.http_recorder import Recorder
from vpo.testmedia.spec import MediaSpec

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MediaFactory = Callable[..., Path]
VPO = Path(sys.executable).with_name("vpo")
WAIT = 90.0
STABLE_SECONDS = 1
SPECS = {Path(item.relative_path).stem: item.spec for item in DEMO_FILES}
FILM = "Le Café des Étoiles (2001)"  # French audio, English subtitles off: the policy turns them on
WATCHED = "Die Brücke (1959)"  # default flag on the commentary: the policy moves it


def spec(name: str) -> MediaSpec:
    return SPECS[name]


def tracks(path: Path) -> list[tuple[str, str, bool]]:
    out = subprocess.run(["mkvmerge", "-J", str(path)], capture_output=True, check=True).stdout
    return [
        (t["type"], t["properties"].get("language", ""), t["properties"]["default_track"])
        for t in json.loads(out)["tracks"]
    ]


@pytest.fixture
def jellyfin() -> Iterator[Recorder]:
    """Stands in for Jellyfin: records each refresh, answers with ``status``."""
    with Recorder(status=204) as server:
        yield server


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def results(self, path: Path) -> list[str]:
        return re.findall(rf"job \d+ file {re.escape(str(path))}: (\w+)", self.text())

    def wait_for(self, what: Callable[[], bool], label: str) -> None:
        deadline = time.monotonic() + WAIT
        while not what():
            assert self.process.poll() is None, f"vpo serve died: {self.text()}"
            assert time.monotonic() < deadline, f"timed out waiting for {label}:\n{self.text()}"
            time.sleep(0.05)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(WAIT)


@pytest.fixture
def library(tmp_path: Path) -> dict[str, str]:
    """The environment of vpo serve and vpo hook: one library, the demo policy."""
    root = tmp_path / "library"
    for folder in ("Movies", "Incoming"):
        (root / folder).mkdir(parents=True)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "demo.yaml").write_text(DEMO_POLICY, encoding="utf-8")
    return {
        **{k: v for k, v in os.environ.items() if not k.lower().startswith("radarr_")},
        "VPO_CONFIG": str(tmp_path / "config.toml"),
        "VPO_LIBRARY_DATABASE": str(tmp_path / "lib.db"),
        "VPO_LIBRARY_ROOTS": str(root),
        "VPO_SERVER_POLICY_DIR": str(policies),
        "VPO_SERVER_BACKUP_KEEP": "0",
        "VPO_JOBS_STABLE_SECONDS": str(STABLE_SECONDS),
        "VPO_PROCESSING_WORKERS": "2",
        "VPO_WATCH_FOLDERS": f"{root / 'Incoming'}=demo",
        "VPO_WATCH_RESCAN_SECONDS": "0",
        "VPO_INTEGRATIONS_RADARR_POLICY": "demo",
        "VPO_INTEGRATIONS_RADARR_PATH_MAP": f"/movies={root / 'Movies'}",
    }


def start_serve(env: dict[str, str], log: Path) -> Serve:
    process = subprocess.Popen(
        [str(VPO), "serve", "--port", "0", "--log-file", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    line = process.stderr.readline().decode()
    assert "listening on" in line, line + process.stderr.read().decode()
    serve = Serve(process, log)
    serve.wait_for(lambda: "watching" in serve.text(), "the watcher to start")
    return serve


def radarr_download(their_path: str) -> dict[str, str]:
    """Radarr v5's CustomScript.OnDownload variables (lower-cased, as on Linux)."""
    folder, _, name = their_path.rpartition("/")
    return {
        "radarr_eventtype": "Download",
        "radarr_instancename": "Radarr",
        "radarr_applicationurl": "",
        "radarr_isupgrade": "False",
        "radarr_movie_id": "7",
        "radarr_movie_title": "Le Café des Étoiles",
        "radarr_movie_year": "2001",
        "radarr_movie_path": folder,
        "radarr_movie_imdbid": "tt0000007",
        "radarr_movie_tmdbid": "77",
        "radarr_movie_in_cinemas_date": "4/25/2001 00:00:00",
        "radarr_movie_physical_release_date": "",
        "radarr_moviefile_id": "9",
        "radarr_moviefile_relativepath": name,
        "radarr_moviefile_path": their_path,
        "radarr_moviefile_quality": "Bluray-1080p",
        "radarr_moviefile_qualityversion": "1",
        "radarr_moviefile_releasegroup": "",
        "radarr_moviefile_scenename": "",
        "radarr_moviefile_sourcepath": "/downloads/cafe/cafe.mkv",
        "radarr_moviefile_sourcefolder": "/downloads/cafe",
        "radarr_download_client": "qBittorrent",
        "radarr_download_client_type": "qBittorrent",
        "radarr_download_id": "CAFE",
    }


def test_done_when_watch_hook_and_one_refresh_per_changed_file(
    library: dict[str, str], jellyfin: Recorder, media_factory: MediaFactory, tmp_path: Path
) -> None:
    root = Path(library["VPO_LIBRARY_ROOTS"])
    film = media_factory(spec(FILM), f"library/Movies/{FILM}/{FILM}.mkv")
    staged = media_factory(spec(WATCHED), f"staging/{WATCHED}.mkv")
    assert ("subtitles", "eng", False) in tracks(film)
    serve = start_serve(
        {**library, "VPO_INTEGRATIONS_JELLYFIN_URL": jellyfin.url}, tmp_path / "serve.log"
    )
    try:
        # a file copied into the watched folder: processed within stable_seconds + a few
        copied = time.monotonic()
        watched = Path(shutil.copy(staged, root / "Incoming" / staged.name))
        serve.wait_for(lambda: serve.results(watched) == ["changed"], "the copied file")
        assert time.monotonic() - copied < STABLE_SECONDS + 10

        # Radarr's custom script: queued to the daemon, which processes it
        started = time.monotonic()
        done = subprocess.run(
            [str(VPO), "hook", "radarr"],
            env={**library, **radarr_download(f"/movies/{FILM}/{FILM}.mkv")},
            capture_output=True,
            text=True,
            timeout=WAIT,
            stdin=subprocess.DEVNULL,
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
    finally:
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
    serve = start_serve(
        {
            **library,
            "VPO_INTEGRATIONS_JELLYFIN_URL": jellyfin.url,
            "VPO_INTEGRATIONS_JELLYFIN_TOKEN": "wrong",
            "VPO_INTEGRATIONS_PLEX_URL": dead,
        },
        tmp_path / "serve.log",
    )
    try:
        watched = Path(shutil.copy(staged, root / "Incoming" / staged.name))
        serve.wait_for(lambda: "plex not told about" in serve.text(), "the Plex warning")
        serve.wait_for(lambda: bool(re.search(r"job \d+ completed", serve.text())), "the job")
    finally:
        assert serve.stop() == 0
    log = serve.text()
    assert serve.results(watched) == ["changed"]
    warnings = [line for line in log.splitlines() if "not told about" in line]
    assert len(warnings) == 2, warnings
    assert f"jellyfin not told about {watched}: HTTP 401 from {jellyfin.url}" in warnings[0]
    assert f"plex not told about {watched}: cannot connect" in warnings[1]
    assert "Traceback" not in log
