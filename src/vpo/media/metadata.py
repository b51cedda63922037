"""What Sonarr and Radarr know about the title a file belongs to (pure data).

A file says nothing of its film's original language, tags or release date; the
programs that downloaded it do. The library stores this per title and the
coordinator hands it to the per-file work beside the probe, so policies can
test it (``radarr:original_language``) and use it (``original`` in a language
list, ``file_timestamp``). Missing data is ``None`` or empty, never an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

MetadataSource = Literal["radarr", "sonarr"]

# Kinds of release date, by source. Radarr: the film's; Sonarr: the episode's
# first air date (``air_date``) and the series' premiere (``first_aired``).
RELEASE_DATE_KINDS = (
    "digital_release",
    "physical_release",
    "in_cinemas",
    "air_date",
    "first_aired",
)


@dataclass(frozen=True, slots=True)
class TitleMetadata:
    """One film (Radarr) or one episode of a series (Sonarr), as its program sees it."""

    source: MetadataSource
    title: str | None = None
    original_title: str | None = None
    year: int | None = None
    original_language: str | None = None  # ISO 639-2/B ("jpn", "fre"); None: unknown
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    tags: tuple[str, ...] = ()  # tag labels, not Sonarr/Radarr's numeric ids
    genres: tuple[str, ...] = ()
    release_dates: tuple[tuple[str, str], ...] = ()  # (kind, ISO 8601 date), RELEASE_DATE_KINDS
    series_title: str | None = None  # Sonarr: the series; title is then the episode's
    season: int | None = None
    episode: int | None = None

    def release_date(self, kind: str) -> str | None:
        """The ISO date of one kind of release, or None."""
        return next((date for name, date in self.release_dates if name == kind), None)

    def field_value(self, name: str) -> object:
        """A field by the name policies use (``original_language``, ``tags``, a release
        date kind such as ``digital_release``); None when unknown."""
        if name in RELEASE_DATE_KINDS:
            return self.release_date(name)
        if name in _FIELDS:
            return getattr(self, name)
        return None


_FIELDS = frozenset(
    {
        "title",
        "original_title",
        "year",
        "original_language",
        "imdb_id",
        "tmdb_id",
        "tvdb_id",
        "tags",
        "genres",
        "series_title",
        "season",
        "episode",
    }
)


@dataclass(frozen=True, slots=True)
class FileMetadata:
    """Everything external known about one file: at most one entry per source."""

    titles: tuple[TitleMetadata, ...] = field(default=())

    def __iter__(self) -> Iterator[TitleMetadata]:
        return iter(self.titles)

    def __bool__(self) -> bool:
        return bool(self.titles)

    def of(self, source: str) -> TitleMetadata | None:
        """The entry from ``source`` (``radarr``/``sonarr``), or None."""
        return next((title for title in self.titles if title.source == source), None)

    @property
    def original_language(self) -> str | None:
        """The first known original language (Radarr before Sonarr: a file is rarely both)."""
        return next((t.original_language for t in self.titles if t.original_language), None)


NO_METADATA = FileMetadata()
