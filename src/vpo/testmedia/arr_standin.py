"""A stand-in Sonarr/Radarr v3 API on loopback, for tests and the demo.

It answers ``GET /api/v3/...`` with bodies in the shape of their API resources
(``MovieResource``, ``SeriesResource``, ``EpisodeFileResource``,
``EpisodeResource``, ``TagResource``, ``LanguageResource``), checks
``X-Api-Key`` (401 otherwise, as they do), counts every request, and can be told
to fail: answer given statuses first (``fail_next``) or hold a path unanswered
until released (``hold``), which a client with a short timeout sees as a timeout.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Their LanguageResource ids (Radarr's Language.cs / Sonarr's), for the bodies.
LANGUAGE_IDS = {
    "English": 1,
    "French": 2,
    "Spanish": 3,
    "German": 4,
    "Italian": 5,
    "Japanese": 8,
    "Chinese": 10,
    "Korean": 21,
}


@dataclass(frozen=True, slots=True)
class Film:
    id: int
    title: str
    year: int
    language: str  # a name as Radarr shows it ("Japanese")
    file: str | None  # the path as Radarr sees it
    tags: tuple[int, ...] = ()
    genres: tuple[str, ...] = ()
    original_title: str | None = None
    imdb_id: str | None = None
    tmdb_id: int = 0
    digital_release: str | None = None


@dataclass(frozen=True, slots=True)
class Episode:
    season: int
    number: int
    title: str
    air_date: str
    file: str | None  # the path as Sonarr sees it


@dataclass(frozen=True, slots=True)
class Show:
    id: int
    title: str
    year: int
    folder: str
    episodes: tuple[Episode, ...]
    language: str | None = None  # None: an older Sonarr without originalLanguage
    tags: tuple[int, ...] = ()
    genres: tuple[str, ...] = ()
    tvdb_id: int = 0
    first_aired: str | None = None


def language_body(name: str | None) -> dict[str, object]:
    return {"id": LANGUAGE_IDS.get(name or "", 0), "name": name or "Unknown"}


def movie_body(film: Film) -> dict[str, object]:
    """A ``MovieResource`` as ``GET /api/v3/movie`` lists it."""
    body: dict[str, object] = {
        "id": film.id,
        "title": film.title,
        "originalTitle": film.original_title or film.title,
        "originalLanguage": language_body(film.language),
        "alternateTitles": [],
        "secondaryYearSourceId": 0,
        "sortTitle": film.title.lower(),
        "sizeOnDisk": 1234,
        "status": "released",
        "overview": "",
        "inCinemas": f"{film.year}-03-01T00:00:00Z",
        "physicalRelease": f"{film.year}-09-01T00:00:00Z",
        "images": [],
        "website": "",
        "year": film.year,
        "hasFile": film.file is not None,
        "youTubeTrailerId": "",
        "studio": "",
        "path": film.file.rsplit("/", 1)[0] if film.file else f"/movies/{film.title}",
        "qualityProfileId": 1,
        "monitored": True,
        "minimumAvailability": "released",
        "isAvailable": True,
        "folderName": film.title,
        "runtime": 100,
        "cleanTitle": film.title.lower().replace(" ", ""),
        "imdbId": film.imdb_id or "",
        "tmdbId": film.tmdb_id,
        "titleSlug": str(film.tmdb_id),
        "certification": "",
        "genres": list(film.genres),
        "tags": list(film.tags),
        "added": "2024-01-01T00:00:00Z",
        "ratings": {},
    }
    if film.digital_release:
        body["digitalRelease"] = film.digital_release
    if film.file is not None:
        body["movieFile"] = {
            "id": film.id * 10,
            "movieId": film.id,
            "relativePath": film.file.rsplit("/", 1)[-1],
            "path": film.file,
            "size": 1234,
            "dateAdded": "2024-01-02T00:00:00Z",
            "languages": [language_body(film.language)],
            "quality": {"quality": {"id": 7, "name": "Bluray-1080p"}},
        }
    return body


def series_body(show: Show) -> dict[str, object]:
    """A ``SeriesResource``; without ``originalLanguage`` for an older Sonarr."""
    body: dict[str, object] = {
        "id": show.id,
        "title": show.title,
        "alternateTitles": [],
        "sortTitle": show.title.lower(),
        "status": "continuing",
        "ended": False,
        "overview": "",
        "network": "",
        "images": [],
        "seasons": [{"seasonNumber": 1, "monitored": True}],
        "year": show.year,
        "path": show.folder,
        "qualityProfileId": 1,
        "seasonFolder": True,
        "monitored": True,
        "useSceneNumbering": False,
        "runtime": 24,
        "tvdbId": show.tvdb_id,
        "tvRageId": 0,
        "tvMazeId": 0,
        "seriesType": "anime",
        "cleanTitle": show.title.lower().replace(" ", ""),
        "imdbId": "",
        "titleSlug": show.title.lower().replace(" ", "-"),
        "certification": "",
        "genres": list(show.genres),
        "tags": list(show.tags),
        "added": "2024-01-01T00:00:00Z",
        "ratings": {"votes": 0, "value": 0},
        "languageProfileId": 1,
    }
    if show.first_aired:
        body["firstAired"] = show.first_aired
    if show.language is not None:
        body["originalLanguage"] = language_body(show.language)
    return body


def episode_file_id(show: Show, index: int) -> int:
    return show.id * 1000 + index + 1


def episode_files_body(show: Show) -> list[dict[str, object]]:
    return [
        {
            "id": episode_file_id(show, index),
            "seriesId": show.id,
            "seasonNumber": episode.season,
            "relativePath": episode.file.removeprefix(show.folder + "/"),
            "path": episode.file,
            "size": 1234,
            "dateAdded": "2024-01-02T00:00:00Z",
            "languages": [language_body(show.language)],
        }
        for index, episode in enumerate(show.episodes)
        if episode.file is not None
    ]


def episodes_body(show: Show) -> list[dict[str, object]]:
    return [
        {
            "id": show.id * 1000 + index + 1,
            "seriesId": show.id,
            "tvdbId": 0,
            "episodeFileId": episode_file_id(show, index) if episode.file else 0,
            "seasonNumber": episode.season,
            "episodeNumber": episode.number,
            "title": episode.title,
            "airDate": episode.air_date,
            "airDateUtc": f"{episode.air_date}T15:00:00Z",
            "hasFile": episode.file is not None,
            "monitored": True,
        }
        for index, episode in enumerate(show.episodes)
    ]


@dataclass
class ArrStandIn:
    """The server's state: what it knows, what it was asked, how it should misbehave."""

    api_key: str = "standin-key"
    films: list[Film] = field(default_factory=list)
    shows: list[Show] = field(default_factory=list)
    tags: dict[int, str] = field(default_factory=dict)
    url: str = ""
    requests: Counter[str] = field(default_factory=Counter)  # "/api/v3/movie?..." → count
    failures: dict[str, list[int]] = field(default_factory=dict)  # path → statuses first
    held: set[str] = field(default_factory=set)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, path: str, statuses: Sequence[int]) -> None:
        with self.lock:
            self.failures[path] = list(statuses)

    def hold(self, path: str) -> None:
        """Never answer ``path`` until the server stops (or ``release`` is set)."""
        self.held.add(path)

    def count(self, prefix: str = "/api/v3/") -> int:
        with self.lock:
            return sum(n for name, n in self.requests.items() if name.startswith(prefix))

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, object]:
        if path == "/api/v3/tag":
            return 200, [{"id": i, "label": label} for i, label in sorted(self.tags.items())]
        if path == "/api/v3/language":
            return 200, [{"id": i, "name": n} for n, i in sorted(LANGUAGE_IDS.items())]
        if path == "/api/v3/movie":
            return 200, [movie_body(film) for film in self.films]
        if path.startswith("/api/v3/movie/"):
            film = next((f for f in self.films if f"/api/v3/movie/{f.id}" == path), None)
            return (200, movie_body(film)) if film else (404, {"message": "NotFound"})
        if path == "/api/v3/moviefile":
            wanted = {int(i) for i in query.get("movieId", [])}
            films = [f for f in self.films if f.file and (not wanted or f.id in wanted)]
            return 200, [movie_body(f)["movieFile"] for f in films]
        if path == "/api/v3/series":
            return 200, [series_body(show) for show in self.shows]
        if path.startswith("/api/v3/series/"):
            show = next((s for s in self.shows if f"/api/v3/series/{s.id}" == path), None)
            return (200, series_body(show)) if show else (404, {"message": "NotFound"})
        if path in ("/api/v3/episodefile", "/api/v3/episode"):
            series_id = int(query.get("seriesId", ["0"])[0])
            show = next((s for s in self.shows if s.id == series_id), None)
            if show is None:
                return 200, []
            return 200, episode_files_body(show) if path.endswith("file") else episodes_body(show)
        return 404, {"message": "NotFound"}


@contextmanager
def serve_arr(state: ArrStandIn) -> Iterator[ArrStandIn]:
    """Run ``state`` on 127.0.0.1 (a free port) while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            with state.lock:
                state.requests[self.path] += 1
                pending = state.failures.get(parts.path)
                failure = pending.pop(0) if pending else None
            if parts.path in state.held:
                state.release.wait(30)
                return
            if self.headers.get("X-Api-Key") != state.api_key:
                self._send(401, {"message": "Unauthorized"})  # as Sonarr/Radarr answer
            elif failure is not None:
                self._send(failure, {"message": "stand-in failure"})
            else:
                self._send(*state.answer(parts.path, parse_qs(parts.query)))

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join()
