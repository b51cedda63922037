"""Jellyfin/Plex refresh calls against a stand-in HTTP server on loopback (real HTTP)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vpo.config.models import IntegrationsConfig, MediaServerConfig
from vpo.integrations.media_servers import MediaServers

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


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: object


@dataclass
class StandIn:
    url: str
    seen: list[Seen] = field(default_factory=list)
    status: int = 204
    hold: threading.Event = field(default_factory=threading.Event)
    silent: bool = False


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    state = StandIn(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            state.seen.append(
                Seen(self.command, self.path, dict(self.headers), json.loads(raw) if raw else None)
            )
            if state.silent:
                state.hold.wait(10)  # never answers while the test runs: a timeout
                return
            if self.path.startswith("/library/sections") and "refresh" not in self.path:
                data = json.dumps(SECTIONS).encode()
                self.send_response(200 if state.status < 400 else state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.hold.set()
    server.shutdown()
    server.server_close()


def servers(**kinds: MediaServerConfig) -> MediaServers:
    return MediaServers.from_config(IntegrationsConfig(**kinds), timeout=0.5)


def test_jellyfin_gets_one_media_updated_call_with_its_path(stand_in: StandIn) -> None:
    jellyfin = MediaServerConfig(url=stand_in.url + "/", token="k3y", path_map=("/data=/srv",))
    servers(jellyfin=jellyfin).changed(Path("/srv/films/A/a.mkv"))
    (seen,) = stand_in.seen
    assert (seen.method, seen.path) == ("POST", "/Library/Media/Updated")
    assert seen.headers["X-Emby-Token"] == "k3y"
    assert seen.body == {"Updates": [{"Path": "/data/films/A/a.mkv", "UpdateType": "Modified"}]}


def test_plex_scans_only_the_folder_in_its_section(stand_in: StandIn) -> None:
    plex = MediaServerConfig(url=stand_in.url, token="t0k", path_map=("/data=/srv",))
    servers(plex=plex).changed(Path("/srv/tv/Show/Season 1/e1.mkv"))
    sections, refresh = stand_in.seen
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
    stand_in: StandIn,
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
    assert len(stand_in.seen) == (1 if status == 401 else 2)  # 5xx and timeouts: tried twice


def test_an_unreachable_server_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="vpo.integrations"):
        servers(plex=MediaServerConfig(url=f"http://127.0.0.1:{port}")).changed(Path("/a.mkv"))
    (record,) = caplog.records
    assert "plex not told about /a.mkv: cannot connect" in record.getMessage()


def test_plex_without_a_matching_section(
    stand_in: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vpo.integrations"):
        servers(plex=MediaServerConfig(url=stand_in.url)).changed(Path("/elsewhere/a.mkv"))
    assert "no Plex library section holds /elsewhere" in caplog.records[0].getMessage()
