"""What Sonarr/Radarr know about titles, and the title of each file (schema 5).

``arr_titles`` holds one row per film or series as it was fetched; ``arr_files``
links a path (as vpo sees it) to its title, with an episode's own fields. A
file's :class:`FileMetadata` is rebuilt from both. Statements run on a
connection Library hands in (inside its transactions), like vpo.library.writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from vpo.library.rows import path_to_db
from vpo.media.metadata import FileMetadata, MetadataSource, TitleMetadata

LOOKUP_PAGE = 400  # paths per SELECT (below SQLite's 999 bound parameters)


@dataclass(frozen=True, slots=True)
class StoredTitle:
    """A film or series to store: its id in their API and its metadata (series level
    for Sonarr: ``title`` is the series')."""

    their_id: int
    metadata: TitleMetadata


@dataclass(frozen=True, slots=True)
class FileLink:
    """``path`` (vpo's) belongs to title ``their_id`` of ``source``; ``metadata`` is the
    file's own (for Sonarr the episode's title, season, episode and air date)."""

    path: Path
    source: MetadataSource
    their_id: int
    metadata: TitleMetadata


_TITLE_COLUMNS = (
    "title, original_title, year, original_language, imdb_id, tmdb_id, tvdb_id, "
    "tags, genres, release_dates"
)


def store(
    connection: sqlite3.Connection,
    titles: Sequence[StoredTitle],
    links: Sequence[FileLink],
    now: float,
) -> None:
    """Insert or refresh ``titles``, then link each path to its title (replacing an
    older link from the same source). A link whose title is neither given nor
    stored is skipped."""
    for stored in titles:
        m = stored.metadata
        connection.execute(
            f"INSERT INTO arr_titles (source, their_id, {_TITLE_COLUMNS}, fetched_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (source, their_id) DO UPDATE SET title = excluded.title, "
            "original_title = excluded.original_title, year = excluded.year, "
            "original_language = excluded.original_language, imdb_id = excluded.imdb_id, "
            "tmdb_id = excluded.tmdb_id, tvdb_id = excluded.tvdb_id, tags = excluded.tags, "
            "genres = excluded.genres, release_dates = excluded.release_dates, "
            "fetched_at = excluded.fetched_at",
            (
                m.source,
                stored.their_id,
                m.series_title if m.source == "sonarr" else m.title,
                m.original_title,
                m.year,
                m.original_language,
                m.imdb_id,
                m.tmdb_id,
                m.tvdb_id,
                json.dumps(list(m.tags)),
                json.dumps(list(m.genres)),
                json.dumps([list(pair) for pair in _title_dates(m)]),
                now,
            ),
        )
    for link in links:
        row = connection.execute(
            "SELECT id FROM arr_titles WHERE source = ? AND their_id = ?",
            (link.source, link.their_id),
        ).fetchone()
        if row is None:
            continue
        episode = link.metadata if link.source == "sonarr" else None
        connection.execute(
            "INSERT OR REPLACE INTO arr_files (path, source, title_id, episode_title, season, "
            "episode, air_date, linked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                path_to_db(link.path),
                link.source,
                row[0],
                episode.title if episode else None,
                episode.season if episode else None,
                episode.episode if episode else None,
                episode.release_date("air_date") if episode else None,
                now,
            ),
        )


def _title_dates(metadata: TitleMetadata) -> tuple[tuple[str, str], ...]:
    """The release dates of the title itself (not an episode's air date)."""
    return tuple(pair for pair in metadata.release_dates if pair[0] != "air_date")


def metadata_page(
    connection: sqlite3.Connection, paths: Sequence[Path]
) -> Iterator[tuple[Path, TitleMetadata]]:
    """(path, metadata) for every stored link of ``paths`` (at most LOOKUP_PAGE of them)."""
    by_key = {path_to_db(path): path for path in paths}
    if not by_key:
        return
    marks = ", ".join("?" * len(by_key))
    for row in connection.execute(
        f"SELECT f.path, f.source, f.episode_title, f.season, f.episode, f.air_date, "
        f"{', '.join('t.' + c.strip() for c in _TITLE_COLUMNS.split(','))} "
        f"FROM arr_files f JOIN arr_titles t ON t.id = f.title_id "
        f"WHERE f.path IN ({marks}) ORDER BY f.source",
        tuple(by_key),
    ):
        yield by_key[row[0]], _metadata_of(row[1:])


def _metadata_of(row: Sequence[object]) -> TitleMetadata:
    source, episode_title, season, episode, air_date, *title_row = row
    title, original_title, year, language, imdb, tmdb, tvdb, tags, genres, dates = title_row
    release_dates = tuple(
        (str(pair[0]), str(pair[1]))
        for pair in _json_list(dates)
        if isinstance(pair, list) and len(pair) == 2
    )
    base = TitleMetadata(
        source="sonarr" if source == "sonarr" else "radarr",
        title=_text(title),
        original_title=_text(original_title),
        year=_number(year),
        original_language=_text(language),
        imdb_id=_text(imdb),
        tmdb_id=_number(tmdb),
        tvdb_id=_number(tvdb),
        tags=tuple(str(tag) for tag in _json_list(tags)),
        genres=tuple(str(genre) for genre in _json_list(genres)),
        release_dates=release_dates,
    )
    if base.source != "sonarr":
        return base
    aired = (("air_date", str(air_date)),) if air_date else ()
    return replace(
        base,
        title=_text(episode_title),
        series_title=base.title,
        season=_number(season),
        episode=_number(episode),
        release_dates=(*aired, *release_dates),
    )


def linked_paths(
    connection: sqlite3.Connection, paths: Sequence[Path], source: MetadataSource
) -> set[Path]:
    """Which of ``paths`` (at most LOOKUP_PAGE) already have a title from ``source``."""
    by_key = {path_to_db(path): path for path in paths}
    if not by_key:
        return set()
    marks = ", ".join("?" * len(by_key))
    return {
        by_key[key]
        for (key,) in connection.execute(
            f"SELECT path FROM arr_files WHERE source = ? AND path IN ({marks})",
            (source, *by_key),
        )
    }


def titles_of(
    connection: sqlite3.Connection, paths: Sequence[Path], source: MetadataSource
) -> set[int]:
    """Their ids of the titles ``paths`` (at most LOOKUP_PAGE) are linked to."""
    keys = [path_to_db(path) for path in paths]
    if not keys:
        return set()
    marks = ", ".join("?" * len(keys))
    return {
        int(their_id)
        for (their_id,) in connection.execute(
            f"SELECT DISTINCT t.their_id FROM arr_files f JOIN arr_titles t ON t.id = f.title_id "
            f"WHERE f.source = ? AND f.path IN ({marks})",
            (source, *keys),
        )
    }


def stored_ids(connection: sqlite3.Connection, source: MetadataSource) -> set[int]:
    return {
        int(their_id)
        for (their_id,) in connection.execute(
            "SELECT their_id FROM arr_titles WHERE source = ?", (source,)
        )
    }


def move_links(connection: sqlite3.Connection, moves: Iterable[tuple[Path, Path]]) -> None:
    """A renamed file keeps its title."""
    connection.executemany(
        "UPDATE OR REPLACE arr_files SET path = ? WHERE path = ?",
        [(path_to_db(new), path_to_db(old)) for old, new in moves],
    )


def _json_list(value: object) -> list[object]:
    if not isinstance(value, str):
        return []
    try:
        found = json.loads(value)
    except ValueError:
        return []
    return found if isinstance(found, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) else None


def as_file_metadata(titles: Iterable[TitleMetadata]) -> FileMetadata:
    ordered = sorted(titles, key=lambda t: t.source)  # radarr before sonarr
    return FileMetadata(tuple(ordered))
