"""The Sonarr/Radarr fields a policy may name (``radarr:original_language``).

Kept apart from the schema and the evaluation so both can import it. A field a
source does not fill (``radarr:air_date``) is accepted and simply unknown.
"""

from __future__ import annotations

import difflib
from functools import lru_cache

from vpo.media.metadata import RELEASE_DATE_KINDS

SOURCES = ("radarr", "sonarr")
LANGUAGE_FIELDS = frozenset({"original_language"})
LIST_FIELDS = frozenset({"tags", "genres"})
NUMBER_FIELDS = frozenset({"year", "tmdb_id", "tvdb_id", "season", "episode"})
TEXT_FIELDS = frozenset({"title", "original_title", "imdb_id", "series_title"})
FIELDS = LANGUAGE_FIELDS | LIST_FIELDS | NUMBER_FIELDS | TEXT_FIELDS | frozenset(RELEASE_DATE_KINDS)

# The original VPO's names for the same data.
FIELD_ALIASES = {
    "external_title": "title",
    "external_year": "year",
    "season_number": "season",
    "episode_number": "episode",
    "episode_title": "title",
    "cinema_release": "in_cinemas",
    "premiere_date": "first_aired",
}


def check_source(name: str) -> str:
    """``name`` lower-cased when it is radarr or sonarr; else ValueError."""
    plugin = name.strip().lower()
    if plugin not in SOURCES:
        raise ValueError(f"unknown plugin '{name}': vpo reads metadata from radarr and sonarr")
    return plugin


def check_field(name: str) -> str:
    """The field's vpo name (aliases of the original VPO resolved); else ValueError
    listing the known ones."""
    field = name.strip().lower()
    field = FIELD_ALIASES.get(field, field)
    if field in FIELDS:
        return field
    close = difflib.get_close_matches(field, sorted(FIELDS), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ValueError(f"unknown metadata field '{name}'{hint}; known: {', '.join(sorted(FIELDS))}")


def language_code(text: str) -> str:
    """ISO 639-2/B for a code (``ja``, ``jpn``) or an English name (``Japanese``), as
    Sonarr/Radarr show languages; ValueError when it is neither."""
    from vpo.media.language import UnknownLanguageError, normalize_language

    try:
        return normalize_language(text)
    except UnknownLanguageError:
        named = _named_language(text)
        if named is None:
            raise
        return named


@lru_cache(maxsize=256)
def _named_language(text: str) -> str | None:
    if not text.strip() or len(text) > 64:
        return None
    import langcodes

    try:
        return str(langcodes.find(text.strip()).to_alpha3(variant="B"))
    except (LookupError, ValueError):
        return None


def metadata_language(text: object) -> str | None:
    """A language as Sonarr/Radarr metadata gives it (a code or an English name), as
    ISO 639-2/B; None when it is not one (never raises)."""
    if not isinstance(text, str):
        return None
    try:
        code = language_code(text)
    except ValueError:
        return None
    return None if code == "und" else code
