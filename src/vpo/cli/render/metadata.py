"""Stored Sonarr/Radarr metadata of a file, for ``vpo inspect`` (text and JSON)."""

from __future__ import annotations

from typing import Any

from vpo.media.metadata import FileMetadata, TitleMetadata
from vpo.text import one_line


def metadata_lines(metadata: FileMetadata) -> list[str]:
    """One line per source, every value on one line (names come from other programs)."""
    return [f"{title.source.capitalize()}: {one_line(_describe(title))}" for title in metadata]


def _describe(title: TitleMetadata) -> str:
    if title.source == "sonarr":
        episode = ""
        if title.season is not None and title.episode is not None:
            episode = f" S{title.season:02d}E{title.episode:02d}"
        name = f"{title.series_title or '?'}{episode}"
        if title.title:
            name += f" {title.title!r}"
    else:
        name = title.title or "?"
    if title.year:
        name += f" ({title.year})"
    parts = [name, f"original language {title.original_language or 'unknown'}"]
    if title.tags:
        parts.append(f"tags {', '.join(title.tags)}")
    if title.genres:
        parts.append(f"genres {', '.join(title.genres)}")
    ids = [
        f"{label} {value}"
        for label, value in (
            ("IMDb", title.imdb_id),
            ("TMDb", title.tmdb_id),
            ("TVDb", title.tvdb_id),
        )
        if value
    ]
    if ids:
        parts.append(" ".join(ids))
    parts.extend(f"{kind.replace('_', ' ')} {date}" for kind, date in title.release_dates)
    return "; ".join(parts)


def metadata_dicts(metadata: FileMetadata) -> list[dict[str, Any]]:
    return [
        {
            "source": t.source,
            "title": t.title,
            "original_title": t.original_title,
            "series_title": t.series_title,
            "season": t.season,
            "episode": t.episode,
            "year": t.year,
            "original_language": t.original_language,
            "imdb_id": t.imdb_id,
            "tmdb_id": t.tmdb_id,
            "tvdb_id": t.tvdb_id,
            "tags": list(t.tags),
            "genres": list(t.genres),
            "release_dates": dict(t.release_dates),
        }
        for t in metadata
    ]
