"""Jellyfin/Plex refresh calls against a stand-in HTTP server on loopback (real HTTP)."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpo.config.models import IntegrationsConfig, MediaServerConfig
from vpo.integrations.media_servers import MediaServers
from vpo.testmedia.http_recorder import Answer, Recorder, Request

SECTIONS = {
    "MediaContainer": {
        "size": 2,
        "Directory": [
            {
                "key": "1",
                "type": "movie",
                "title": "Films",
                "Location": [{"id": 1, "path": "/data/films"}],
            },
            {
                "key": "2",
                "type": "show",
                "title": "Series",
                "Location": [{"id": 2, "path": "/data/tv"}],
            },
        ],
    }
}


@pytest.fixture
def stand_in() -> Iterator[Recorder]:
    """Jellyfin and Plex in one: Plex's section list, every other call ``status``."""
    server: Recorder

    def plex_sections(request: Request) -> Answer | None:
        if request.path.startswith("/library/sections") and "refresh" not in request.path:
            status = 200 if server.status < 400 else server.status
            return Answer(status, json.dumps(SECTIONS).encode())
        return None

    with Recorder(status=204, answer=plex_sections) as server:
        yield server


def servers(**kinds: MediaServerConfig) -> MediaServers:
    return MediaServers.from_config(IntegrationsConfig(**kinds), timeout=0.5)


def test_jellyfin_gets_one_media_updated_call_with_its_path(stand_in: Recorder) -> None:
    jellyfin = MediaServerConfig(url=stand_in.url + "/", token="k3y", path_map=("/data=/srv",))
    servers(jellyfin=jellyfin).changed(Path("/srv/films/A/a.mkv"))
    (seen,) = stand_in.requests
    assert (seen.method, seen.path) == ("POST", "/Library/Media/Updated")
    assert seen.headers["X-Emby-Token"] == "k3y"
    assert seen.body == {"Updates": [{"Path": "/data/films/A/a.mkv", "UpdateType": "Modified"}]}


def test_plex_scans_only_the_folder_in_its_section(stand_in: Recorder) -> None:
    plex = MediaServerConfig(url=stand_in.url, token="t0k", path_map=("/data=/srv",))
    servers(plex=plex).changed(Path("/srv/tv/Show/Season 1/e1.mkv"))
    sections, refresh = stand_in.requests
    assert (sections.method, sections.path) == ("GET", "/library/sections")
    assert refresh.path == "/library/sections/2/refresh?path=%2Fdata%2Ftv%2FShow%2FSeason+1"
    assert refresh.headers["X-Plex-Token"] == "t0k"


def test_no_server_configured_is_falsy() -> None:
    assert not MediaServers.from_config(IntegrationsConfig())


@pytest.mark.parametrize(
    ("status", "silent", "reason"),
    [
        (401, False, "HTTP 401 from http://127.0.0.1:"),
        (500, False, "HTTP 500 from"),
        (204, True, "no answer within 0.5 s"),
    ],
)
def test_failures_are_one_warning(
    stand_in: Recorder,
    caplog: pytest.LogCaptureFixture,
    status: int,
    silent: bool,
    reason: str,
) -> None:
    stand_in.status, stand_in.silent = status, silent
    with caplog.at_level(logging.WARNING, logger="vpo.integrations"):
        servers(jellyfin=MediaServerConfig(url=stand_in.url)).changed(Path("/srv/a.mkv"))
    (record,) = caplog.records
    assert record.getMessage().startswith("jellyfin not told about /srv/a.mkv: ")
    assert reason in record.getMessage()
    assert len(stand_in.requests) == (1 if status == 401 else 2)  # 5xx and timeouts: tried twice


def test_an_unreachable_server_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="vpo.integrations"):
        servers(plex=MediaServerConfig(url=f"http://127.0.0.1:{port}")).changed(Path("/a.mkv"))
    (record,) = caplog.records
    assert "plex not told about /a.mkv: cannot connect" in record.getMessage()


def test_plex_without_a_matching_section(
    stand_in: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vpo.integrations"):
        servers(plex=MediaServerConfig(url=stand_in.url)).changed(Path("/elsewhere/a.mkv"))
    assert "no Plex library section holds /elsewhere" in caplog.records[0].getMessage()
