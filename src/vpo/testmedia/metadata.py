"""Sonarr/Radarr metadata of a film the metadata tests share.

``SPIRITED_AWAY`` is the part every test of it agrees on; a test that needs more
(an IMDb id, other tags, other release dates) adds it with ``dataclasses.replace``,
so what each test file sees stays visible in that file.
"""

from __future__ import annotations

from vpo.media.metadata import TitleMetadata

SPIRITED_AWAY = TitleMetadata(
    source="radarr",
    title="Spirited Away",
    original_title="千と千尋の神隠し",
    year=2001,
    original_language="jpn",
    tmdb_id=129,
    tags=("anime",),
    genres=("Animation",),
    release_dates=(("in_cinemas", "2001-07-20"),),
)
