"""Fetch what Sonarr/Radarr know about the titles of files, once per title, and store it.

One :class:`ArrMetadata` serves one run (a ``vpo process`` batch, a job, a
scan, a hook call). For the files it is given it finds each file's title by
mapping vpo's path to theirs (``[integrations.*] path_map``) and matching it
against Radarr's ``movieFile.path`` or Sonarr's episode file paths:

- a file already linked to a title is not asked about again (``refresh``: it is);
- the catalogue (``/api/v3/movie``, ``/api/v3/series``, ``/api/v3/tag``) is fetched
  at most once per run, and a series' episode files at most once per run;
- a server that cannot answer is one warning for the run, and its files simply
  have no metadata (policy conditions on it are false).

The network comes first, then one database transaction (disk first, then the
database); ``store=False`` (a dry run) keeps what it fetched in memory only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from vpo.config.models import ArrConfig, IntegrationsConfig
from vpo.integrations.arr import Arr, PathMaps, parse_path_map, unmap_path
from vpo.integrations.arr_api import TIMEOUT_SECONDS, ArrClient, ArrUnavailable
from vpo.integrations.arr_parse import (
    ArrFile,
    ArrTitle,
    BodyError,
    one_object,
    parse_episode_files,
    parse_movie,
    parse_movies,
    parse_series,
    parse_series_list,
    parse_tags,
)
from vpo.library import Library
from vpo.library.metadata import FileLink, StoredTitle, as_file_metadata
from vpo.media.metadata import FileMetadata, TitleMetadata

log = logging.getLogger("vpo.integrations")

MetadataLookup = Callable[[Sequence[Path]], Mapping[Path, FileMetadata]]


@dataclass(frozen=True, slots=True)
class _Server:
    arr: Arr
    settings: ArrConfig
    maps: PathMaps


@dataclass
class _Catalogue:
    """What one server answered during this run."""

    tags: dict[int, str] = field(default_factory=dict)
    movies: dict[str, ArrTitle] = field(default_factory=dict)  # their file path → film
    series: list[ArrTitle] = field(default_factory=list)
    episodes: dict[int, dict[str, ArrFile]] = field(default_factory=dict)  # series id → files


@dataclass
class FetchSummary:
    linked: int = 0  # files given a title
    titles: int = 0  # titles stored (new or refreshed)
    requests: int = 0


def configured_servers(
    integrations: IntegrationsConfig, warn: Callable[[str], None]
) -> list[_Server]:
    """The Sonarr/Radarr servers with a url; one with a malformed path_map is left out
    (one warning): matching its paths would link files to the wrong titles."""
    servers = []
    for arr in (Arr.RADARR, Arr.SONARR):
        settings: ArrConfig = getattr(integrations, arr.value)
        if not settings.url:
            continue
        try:
            maps = parse_path_map(settings.path_map)
        except ValueError as error:
            warn(f"[integrations.{arr.value}] {error}; files go on without {arr.program} metadata")
            continue
        servers.append(_Server(arr, settings, maps))
    return servers


class ArrMetadata:
    """Fetches, stores and looks up the metadata of files for one run (one thread)."""

    def __init__(
        self,
        integrations: IntegrationsConfig,
        library: Library | None,
        *,
        warn: Callable[[str], None] = log.warning,
        refresh: bool = False,
        store: bool = True,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._servers = configured_servers(integrations, warn)
        self._library = library
        self._warn = warn
        self._refresh = refresh
        self._store = store and library is not None
        self._timeout = timeout
        self._catalogues: dict[Arr, _Catalogue] = {}
        self._down: set[Arr] = set()  # warned once; not asked again this run
        self._done: dict[Arr, set[Path]] = {}  # paths looked for this run
        self._memory: dict[Path, dict[str, TitleMetadata]] = {}  # store=False
        self.summary = FetchSummary()

    def __bool__(self) -> bool:
        return bool(self._servers)

    def lookup(self, paths: Sequence[Path]) -> dict[Path, FileMetadata]:
        """``metadata_for`` of a ProcessRequest: fetch what is missing, then read."""
        self.fetch(paths)
        found: dict[Path, FileMetadata] = {}
        if self._library is not None:
            absolute = {_absolute(path): path for path in paths}
            for path, metadata in self._library.metadata_for(list(absolute)).items():
                found[absolute[path]] = metadata
        for path in paths:
            held = self._memory.get(_absolute(path))
            if held:
                merged: dict[str, TitleMetadata] = {
                    t.source: t for t in found.get(path, FileMetadata())
                }
                merged.update(held)
                found[path] = as_file_metadata(merged.values())
        return found

    def fetch(self, paths: Sequence[Path]) -> FetchSummary:
        """Find and store the title of each of ``paths`` that has none yet (``refresh``:
        of every one). Never raises for a server problem: that is one warning."""
        absolute = list(dict.fromkeys(_absolute(path) for path in paths))
        for server in self._servers:
            if server.arr in self._down:
                continue
            done = self._done.setdefault(server.arr, set())
            wanted = [path for path in absolute if path not in done]
            if not wanted:
                continue
            done.update(wanted)
            if not self._refresh and self._library is not None:
                linked, _ = self._library.metadata_links(wanted, server.arr.value)
                wanted = [path for path in wanted if path not in linked]
            if not wanted:
                continue
            try:
                self._fetch(server, wanted)
            except ArrUnavailable as error:
                self._down.add(server.arr)
                self._warn(f"{error}; files go on without {server.arr.program} metadata")
        return self.summary

    def fetch_title(self, arr: Arr, their_id: int, paths: Sequence[Path]) -> bool:
        """The hook's case: store the film or series ``their_id`` and link ``paths``
        (vpo's; Sonarr's Import Complete names several) to it, unless all are linked
        already (``refresh``: anyway). False (after a warning) when the server is not
        configured or cannot answer."""
        server = next((s for s in self._servers if s.arr is arr), None)
        if server is None or not paths:
            return False
        absolute = [_absolute(path) for path in paths]
        if not self._refresh and self._library is not None:
            linked, ids = self._library.metadata_links(absolute, arr.value)
            if linked == set(absolute) and ids == {their_id}:
                return True
        try:
            with self._client(server) as client:
                tags = self._tags(server, client)
                if arr is Arr.RADARR:
                    item = one_object(client.get(f"movie/{their_id}"), "movie")
                    title = parse_movie(item, tags)
                    files = []
                else:
                    item = one_object(client.get(f"series/{their_id}"), "series")
                    title = parse_series(item, tags)
                    files = [] if title is None else self._series_files(client, title)
        except (ArrUnavailable, BodyError) as error:
            names = absolute[0].name if len(absolute) == 1 else f"{len(absolute)} files"
            self._warn(f"{_where(server)}: {error}; no metadata for {names}")
            return False
        if title is None:
            return False
        own = {_norm(f.path): f.metadata for f in files}
        links = [
            (path, their_id, own.get(_norm(unmap_path(str(path), server.maps)), title.metadata))
            for path in absolute
        ]
        self._save([title], links, server)
        return True

    # ------------------------------------------------------------------ internals

    def _fetch(self, server: _Server, wanted: list[Path]) -> None:
        with self._client(server) as client:
            try:
                catalogue = self._catalogue(server, client)
                if server.arr is Arr.RADARR:
                    found = self._match_movies(server, catalogue, wanted)
                else:
                    found = self._match_episodes(server, client, catalogue, wanted)
            except BodyError as error:
                raise ArrUnavailable(f"{_where(server)}: unexpected answer ({error})") from None
        titles = {id(title): title for title, _, _ in found}
        self._save(
            list(titles.values()),
            [(path, title.their_id, metadata) for title, path, metadata in found],
            server,
        )

    def _match_movies(
        self, server: _Server, catalogue: _Catalogue, wanted: list[Path]
    ) -> list[tuple[ArrTitle, Path, TitleMetadata]]:
        found = []
        for path in wanted:
            title = catalogue.movies.get(_norm(unmap_path(str(path), server.maps)))
            if title is not None:
                found.append((title, path, title.metadata))
        return found

    def _match_episodes(
        self, server: _Server, client: ArrClient, catalogue: _Catalogue, wanted: list[Path]
    ) -> list[tuple[ArrTitle, Path, TitleMetadata]]:
        found = []
        for path in wanted:
            theirs = PurePosixPath(_norm(unmap_path(str(path), server.maps)))
            series = next(
                (
                    s
                    for s in catalogue.series
                    if s.folder and PurePosixPath(s.folder) in theirs.parents
                ),
                None,
            )
            if series is None:
                continue
            files = catalogue.episodes.get(series.their_id)
            if files is None:
                files = {_norm(f.path): f for f in self._series_files(client, series)}
                catalogue.episodes[series.their_id] = files
            hit = files.get(str(theirs))
            if hit is not None:
                found.append((series, path, hit.metadata))
        return found

    @staticmethod
    def _series_files(client: ArrClient, series: ArrTitle) -> list[ArrFile]:
        files = client.get("episodefile", seriesId=series.their_id)
        episodes = client.get("episode", seriesId=series.their_id)
        return parse_episode_files(series, files, episodes)

    def _catalogue(self, server: _Server, client: ArrClient) -> _Catalogue:
        known = self._catalogues.get(server.arr)
        if known is not None:
            return known
        catalogue = _Catalogue(tags=self._tags(server, client))
        if server.arr is Arr.RADARR:
            for title, path in parse_movies(client.get("movie"), catalogue.tags):
                if path:
                    catalogue.movies[_norm(path)] = title
        else:
            catalogue.series = parse_series_list(client.get("series"), catalogue.tags)
        self._catalogues[server.arr] = catalogue
        return catalogue

    def _tags(self, server: _Server, client: ArrClient) -> dict[int, str]:
        known = self._catalogues.get(server.arr)
        if known is not None:
            return known.tags
        try:
            return parse_tags(client.get("tag"))
        except BodyError as error:
            raise ArrUnavailable(f"{_where(server)}: unexpected answer ({error})") from None

    def _client(self, server: _Server) -> _Counted:
        assert server.settings.url is not None
        return _Counted(
            ArrClient(
                server.arr, server.settings.url, server.settings.api_key, timeout=self._timeout
            ),
            self.summary,
        )

    def _save(
        self,
        titles: Sequence[ArrTitle],
        links: Sequence[tuple[Path, int, TitleMetadata]],
        server: _Server,
    ) -> None:
        self.summary.titles += len(titles)
        self.summary.linked += len(links)
        if not self._store:
            for path, _, metadata in links:
                self._memory.setdefault(path, {})[metadata.source] = metadata
            return
        assert self._library is not None
        self._library.store_metadata(
            [StoredTitle(title.their_id, title.metadata) for title in titles],
            [
                FileLink(path, server.arr.value, their_id, metadata)
                for path, their_id, metadata in links
            ],
        )


class _Counted:
    """An ArrClient whose requests are added to the run's summary when it closes."""

    def __init__(self, client: ArrClient, summary: FetchSummary) -> None:
        self._client = client
        self._summary = summary

    def __enter__(self) -> ArrClient:
        return self._client.__enter__()

    def __exit__(self, *exc_info: object) -> None:
        self._summary.requests += self._client.requests
        self._client.__exit__(None, None, None)


def metadata_lookup(
    integrations: IntegrationsConfig,
    library: Library | None,
    *,
    warn: Callable[[str], None] = log.warning,
    store: bool = True,
) -> MetadataLookup | None:
    """What a ProcessRequest's ``metadata_for`` should be: with Sonarr/Radarr configured,
    a lookup that fetches missing titles first; else the library's stored metadata
    (None without a library)."""
    fetcher = ArrMetadata(integrations, library, warn=warn, store=store)
    if fetcher:
        return fetcher.lookup
    return library.metadata_for if library is not None else None


def fetch_for_scan(
    integrations: IntegrationsConfig,
    library: Library,
    roots: Sequence[Path],
    *,
    refresh: bool,
    warn: Callable[[str], None],
    chunk: int = 400,
) -> FetchSummary | None:
    """``vpo scan``: the titles of the library's files under ``roots`` (those not stored
    yet; ``refresh``: all). None when no Sonarr/Radarr is configured."""
    from vpo.library import FileStatus

    fetcher = ArrMetadata(integrations, library, warn=warn, refresh=refresh)
    if not fetcher:
        return None
    pending: list[Path] = []
    for root in roots:
        for path, status in library.iter_paths_under(root):
            if status is FileStatus.OK:
                pending.append(path)
            if len(pending) >= chunk:
                fetcher.fetch(pending)
                pending = []
    fetcher.fetch(pending)
    return fetcher.summary


def _where(server: _Server) -> str:
    return f"{server.arr.program} at {server.settings.url}"


def _absolute(path: Path) -> Path:
    return path if path.is_absolute() else Path(os.path.abspath(path))  # noqa: PTH100


def _norm(path: str) -> str:
    return str(PurePosixPath(path))


__all__ = [
    "ArrMetadata",
    "FetchSummary",
    "MetadataLookup",
    "configured_servers",
    "fetch_for_scan",
    "metadata_lookup",
]
