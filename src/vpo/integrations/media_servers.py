"""Tell Jellyfin/Emby and Plex about a file vpo changed, so its new tracks show up.

Jellyfin/Emby: ``POST /Library/Media/Updated`` with
``{"Updates": [{"Path": ..., "UpdateType": "Modified"}]}`` and the API key in
``X-Emby-Token``. Plex: the library section whose folder holds the file
(``GET /library/sections``, JSON) is scanned for that folder only
(``GET /library/sections/{key}/refresh?path=...``) with ``X-Plex-Token``.
Every failure (unreachable, timeout, 401, no matching section) is one warning:
the file itself was processed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx

from vpo.config.models import IntegrationsConfig, MediaServerConfig
from vpo.integrations.arr import PathMaps, parse_path_map

log = logging.getLogger("vpo.integrations")

TIMEOUT_SECONDS = 5.0
ATTEMPTS = 2  # a second try after a connection problem or a 5xx answer


@dataclass(frozen=True, slots=True)
class _Server:
    kind: str  # "jellyfin" | "plex"
    url: str
    token: str | None
    maps: PathMaps  # THEIRS=OURS; applied backwards (ours → theirs)


class MediaServers:
    """Thread-safe: one short-lived httpx client per notification."""

    def __init__(self, servers: Sequence[_Server], timeout: float = TIMEOUT_SECONDS) -> None:
        self._servers = tuple(servers)
        self._timeout = timeout

    @classmethod
    def from_config(
        cls, config: IntegrationsConfig, timeout: float = TIMEOUT_SECONDS
    ) -> MediaServers:
        servers = []
        for kind, settings in (("jellyfin", config.jellyfin), ("plex", config.plex)):
            if settings.url:
                servers.append(_server(kind, settings))
        return cls(servers, timeout)

    def __bool__(self) -> bool:
        return bool(self._servers)

    def changed(self, path: Path) -> None:
        """One refresh per configured server for ``path``; never raises."""
        for server in self._servers:
            theirs = _theirs(str(path), server.maps)
            try:
                with httpx.Client(base_url=server.url, timeout=self._timeout) as client:
                    if server.kind == "jellyfin":
                        _jellyfin(client, server, theirs)
                    else:
                        _plex(client, server, theirs)
            except (httpx.HTTPError, _Refused) as error:
                reason = _describe(error, self._timeout)
                log.warning("%s not told about %s: %s", server.kind, path, reason)
            else:
                log.info("%s told about %s", server.kind, theirs)


class _Refused(Exception):
    pass


def _server(kind: str, settings: MediaServerConfig) -> _Server:
    assert settings.url is not None
    return _Server(
        kind, settings.url.rstrip("/"), settings.token, parse_path_map(settings.path_map)
    )


def _theirs(path: str, maps: PathMaps) -> str:
    pure = PurePosixPath(path)
    for theirs, ours in sorted(maps, key=lambda pair: len(pair[1].parts), reverse=True):
        if pure == ours or ours in pure.parents:
            return str(theirs / pure.relative_to(ours))
    return path


def _send(client: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
    for attempt in range(ATTEMPTS):
        try:
            answer = client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError:
            if attempt + 1 == ATTEMPTS:
                raise
            continue
        if answer.status_code >= 500 and attempt + 1 < ATTEMPTS:
            continue
        if answer.status_code >= 400:
            raise _Refused(
                f"HTTP {answer.status_code} from {answer.request.url.copy_with(query=None)}"
            )
        return answer
    raise AssertionError("unreachable")


def _jellyfin(client: httpx.Client, server: _Server, path: str) -> None:
    headers = {"X-Emby-Token": server.token} if server.token else {}
    body = {"Updates": [{"Path": path, "UpdateType": "Modified"}]}
    _send(client, "POST", "/Library/Media/Updated", json=body, headers=headers)


def _plex(client: httpx.Client, server: _Server, path: str) -> None:
    headers = {"Accept": "application/json"}
    if server.token:
        headers["X-Plex-Token"] = server.token
    sections = _send(client, "GET", "/library/sections", headers=headers).json()
    folder = str(PurePosixPath(path).parent)
    for directory in sections.get("MediaContainer", {}).get("Directory", []):
        for location in directory.get("Location", []):
            root = PurePosixPath(str(location.get("path", "")))
            if root == PurePosixPath(folder) or root in PurePosixPath(folder).parents:
                key = directory["key"]
                _send(
                    client,
                    "GET",
                    f"/library/sections/{key}/refresh",
                    params={"path": folder},
                    headers=headers,
                )
                return
    raise _Refused(f"no Plex library section holds {folder}")


def _describe(error: Exception, timeout: float) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within {timeout:g} s"
    if isinstance(error, httpx.TransportError):
        return f"cannot connect ({error})"
    return str(error)
