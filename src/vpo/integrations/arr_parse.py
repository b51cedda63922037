"""Sonarr/Radarr v3 API bodies → TitleMetadata (pure).

Field names follow their API resources (camelCase JSON): Radarr's
``MovieResource`` (``title``, ``originalTitle``, ``year``, ``originalLanguage``
``{id, name}``, ``imdbId``, ``tmdbId``, ``tags`` (ids), ``genres``,
``inCinemas``, ``physicalRelease``, ``digitalRelease``, ``path``,
``movieFile.path``); Sonarr's ``SeriesResource`` (the same plus ``tvdbId``,
``firstAired``; ``originalLanguage`` only in v4 builds), ``EpisodeFileResource``
(``id``, ``path``) and ``EpisodeResource`` (``episodeFileId``, ``seasonNumber``,
``episodeNumber``, ``title``, ``airDate``); ``TagResource`` (``id``, ``label``).
Anything missing or of the wrong type is None or empty, never an error: a body
that is not a list or an object at all is ``BodyError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from vpo.media.language import MAX_TAG_LENGTH, UNDETERMINED
from vpo.media.metadata import TitleMetadata


class BodyError(ValueError):
    """An answer that is not the JSON shape the endpoint returns."""


@dataclass(frozen=True, slots=True)
class ArrTitle:
    """One film or series as its program knows it: its id, folder and metadata
    (for a series, without the per-episode fields)."""

    their_id: int
    folder: str | None  # as *they* see it
    metadata: TitleMetadata


@dataclass(frozen=True, slots=True)
class ArrFile:
    """One file of a title, as they see its path, with the file's own metadata."""

    path: str
    their_id: int  # the title's (movie or series) id
    metadata: TitleMetadata


def objects(body: object, what: str) -> list[Mapping[str, object]]:
    """A list body's objects (non-objects skipped); BodyError when it is not a list."""
    if not isinstance(body, list):
        raise BodyError(f"expected a list of {what}, got {type(body).__name__}")
    return [item for item in body if isinstance(item, Mapping)]


def one_object(body: object, what: str) -> Mapping[str, object]:
    if not isinstance(body, Mapping):
        raise BodyError(f"expected one {what} object, got {type(body).__name__}")
    return body


def parse_tags(body: object) -> dict[int, str]:
    """``/api/v3/tag``: id → label."""
    tags: dict[int, str] = {}
    for item in objects(body, "tags"):
        tag_id, label = _int(item.get("id")), _str(item.get("label"))
        if tag_id is not None and label:
            tags[tag_id] = label
    return tags


def language_code(value: object) -> str | None:
    """``originalLanguage`` (``{"id": 8, "name": "Japanese"}``) as ISO 639-2/B, or None
    for a missing, ``Unknown``, ``Original`` or unrecognised language. A regional
    name (``Portuguese (Brazil)``) is its language (``por``)."""
    name = _str(value.get("name")) if isinstance(value, Mapping) else _str(value)
    if name is None:
        return None
    return _language_named(name.split("(", 1)[0].strip().lower())


@lru_cache(maxsize=256)
def _language_named(name: str) -> str | None:
    if not name or len(name) > MAX_TAG_LENGTH:
        return None
    import langcodes  # imported on first use, as in vpo.media.language

    try:
        code = str(langcodes.find(name).to_alpha3(variant="B"))
    except (LookupError, ValueError):
        return None
    return None if code in (UNDETERMINED, "mul", "zxx") else code


def parse_movie(item: Mapping[str, object], tags: Mapping[int, str]) -> ArrTitle | None:
    """One ``MovieResource``; None without an id."""
    their_id = _int(item.get("id"))
    if their_id is None:
        return None
    dates = _dates(
        ("digital_release", item.get("digitalRelease")),
        ("physical_release", item.get("physicalRelease")),
        ("in_cinemas", item.get("inCinemas")),
    )
    metadata = TitleMetadata(
        source="radarr",
        title=_str(item.get("title")),
        original_title=_str(item.get("originalTitle")),
        year=_year(item.get("year")),
        original_language=language_code(item.get("originalLanguage")),
        imdb_id=_str(item.get("imdbId")),
        tmdb_id=_positive(item.get("tmdbId")),
        tags=_labels(item.get("tags"), tags),
        genres=_strings(item.get("genres")),
        release_dates=dates,
    )
    return ArrTitle(their_id, _str(item.get("path")), metadata)


def movie_file_path(item: Mapping[str, object]) -> str | None:
    """``movieFile.path`` of a ``MovieResource`` (absent when the film has no file)."""
    movie_file = item.get("movieFile")
    return _str(movie_file.get("path")) if isinstance(movie_file, Mapping) else None


def parse_movies(body: object, tags: Mapping[int, str]) -> list[tuple[ArrTitle, str | None]]:
    """``/api/v3/movie``: every film with the path of its file (None: no file)."""
    found = []
    for item in objects(body, "movies"):
        title = parse_movie(item, tags)
        if title is not None:
            found.append((title, movie_file_path(item)))
    return found


def parse_series(item: Mapping[str, object], tags: Mapping[int, str]) -> ArrTitle | None:
    """One ``SeriesResource``; ``title`` is the series' (the episode's comes later)."""
    their_id = _int(item.get("id"))
    if their_id is None:
        return None
    metadata = TitleMetadata(
        source="sonarr",
        title=_str(item.get("title")),
        series_title=_str(item.get("title")),
        year=_year(item.get("year")),
        original_language=language_code(item.get("originalLanguage")),
        imdb_id=_str(item.get("imdbId")),
        tvdb_id=_positive(item.get("tvdbId")),
        tags=_labels(item.get("tags"), tags),
        genres=_strings(item.get("genres")),
        release_dates=_dates(("first_aired", item.get("firstAired"))),
    )
    return ArrTitle(their_id, _str(item.get("path")), metadata)


def parse_series_list(body: object, tags: Mapping[int, str]) -> list[ArrTitle]:
    """``/api/v3/series``."""
    return [s for s in (parse_series(i, tags) for i in objects(body, "series")) if s is not None]


def parse_episode_files(
    series: ArrTitle, files_body: object, episodes_body: object
) -> list[ArrFile]:
    """``/api/v3/episodefile?seriesId=`` and ``/api/v3/episode?seriesId=`` of one series:
    each file with its episode (the lowest-numbered one when a file holds several)."""
    episodes: dict[int, Mapping[str, object]] = {}
    for episode in objects(episodes_body, "episodes"):
        file_id = _int(episode.get("episodeFileId"))
        if not file_id:
            continue
        known = episodes.get(file_id)
        if known is None or _order(episode) < _order(known):
            episodes[file_id] = episode
    found = []
    for item in objects(files_body, "episode files"):
        path, file_id = _str(item.get("path")), _int(item.get("id"))
        if not path or file_id is None:
            continue
        metadata = series.metadata
        if (aired := episodes.get(file_id)) is not None:
            air_date = _date(aired.get("airDate"))
            metadata = replace(
                metadata,
                title=_str(aired.get("title")),
                season=_int(aired.get("seasonNumber")),
                episode=_int(aired.get("episodeNumber")),
                release_dates=(
                    *((("air_date", air_date),) if air_date else ()),
                    *metadata.release_dates,
                ),
            )
        else:
            metadata = replace(metadata, title=None, season=_int(item.get("seasonNumber")))
        found.append(ArrFile(path, series.their_id, metadata))
    return found


def _order(episode: Mapping[str, object]) -> tuple[int, int]:
    return (_int(episode.get("seasonNumber")) or 0, _int(episode.get("episodeNumber")) or 0)


def _dates(*pairs: tuple[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple((kind, date) for kind, value in pairs if (date := _date(value)))


def _date(value: object) -> str | None:
    """``2019-05-30T00:00:00Z`` (or ``2019-05-30``) → ``2019-05-30``; None otherwise."""
    text = _str(value)
    if text is None or len(text) < 10:
        return None
    day = text[:10]
    digits = day.replace("-", "")
    if len(digits) != 8 or not digits.isdigit() or day[4] != "-" or day[7] != "-":
        return None
    if day.startswith("0001"):  # .NET's DateTime.MinValue: no date
        return None
    return day


def _labels(value: object, tags: Mapping[int, str]) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    labels = (tags.get(tag_id) for tag_id in map(_int, value) if tag_id is not None)
    return tuple(sorted({label for label in labels if label}))


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    return tuple(item for item in value if isinstance(item, str) and item)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _positive(value: object) -> int | None:
    number = _int(value)
    return number if number is not None and number > 0 else None


def _year(value: object) -> int | None:
    number = _int(value)
    return number if number is not None and 1800 < number < 3000 else None
