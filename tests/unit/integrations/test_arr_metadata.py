"""Fetching titles for files: path maps, once per title, refresh, failures as one warning.

Real HTTP to the stand-in Sonarr/Radarr and a real library database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vpo.config.models import ArrConfig, IntegrationsConfig
from vpo.integrations.arr import Arr
from vpo.integrations.arr_metadata import ArrMetadata, metadata_lookup
from vpo.library import Library
from vpo.testmedia.arr_standin import ArrStandIn, Episode, Film, Show, serve_arr

FILMS = [
    Film(1, "Spirited Away", 2001, "Japanese", "/movies/Spirited Away/spirited.mkv", tags=(1,)),
    Film(2, "Amélie", 2001, "French", "/movies/Amelie/amelie.mkv"),
    Film(3, "Das Boot", 1981, "German", "/movies/Das Boot/boot.mkv"),
    Film(4, "Not Downloaded", 2020, "English", None),
]
FRIEREN = Show(
    7,
    "Frieren",
    2023,
    "/tv/Frieren",
    (
        Episode(1, 1, "The Journey's End", "2023-09-29", "/tv/Frieren/Season 01/e01.mkv"),
        Episode(1, 2, "It Didn't Have to Be Magic", "2023-09-29", "/tv/Frieren/Season 01/e02.mkv"),
        Episode(1, 3, "Killing Magic", "2023-09-29", None),
    ),
    language="Japanese",
    tags=(1,),
)
OLD = Show(
    8,
    "Old Show",
    1999,
    "/tv/Old Show",
    (Episode(1, 1, "Pilot", "1999-01-01", "/tv/Old Show/p.mkv"),),
)


@pytest.fixture
def radarr() -> Iterator[ArrStandIn]:
    with serve_arr(ArrStandIn(films=list(FILMS), tags={1: "anime"})) as running:
        yield running


@pytest.fixture
def sonarr() -> Iterator[ArrStandIn]:
    with serve_arr(ArrStandIn(shows=[FRIEREN, OLD], tags={1: "anime"})) as running:
        yield running


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    with Library.open(tmp_path / "library.db") as opened:
        yield opened


def integrations(
    radarr: ArrStandIn | None = None, sonarr: ArrStandIn | None = None, *, key: str | None = None
) -> IntegrationsConfig:
    def arr(state: ArrStandIn | None, theirs: str, ours: str) -> ArrConfig:
        if state is None:
            return ArrConfig()
        return ArrConfig(
            url=state.url, api_key=key or state.api_key, path_map=(f"{theirs}={ours}",)
        )

    return IntegrationsConfig(
        radarr=arr(radarr, "/movies", "/srv/films"), sonarr=arr(sonarr, "/tv", "/srv/series")
    )


OURS = [
    Path("/srv/films/Spirited Away/spirited.mkv"),
    Path("/srv/films/Amelie/amelie.mkv"),
    Path("/srv/films/Das Boot/boot.mkv"),
]


def test_films_are_matched_through_the_path_map_and_stored(
    radarr: ArrStandIn, library: Library
) -> None:
    warnings: list[str] = []
    fetcher = ArrMetadata(integrations(radarr), library, warn=warnings.append)
    found = fetcher.lookup([*OURS, Path("/srv/films/unknown.mkv")])
    assert {path: m.original_language for path, m in found.items()} == dict(
        zip(OURS, ["jpn", "fre", "ger"], strict=True)
    )
    spirited = found[OURS[0]].of("radarr")
    assert spirited is not None
    assert (spirited.title, spirited.year, spirited.tags) == ("Spirited Away", 2001, ("anime",))
    assert warnings == []
    assert radarr.count() == 2  # the tags and the catalogue, once
    assert library.metadata_for(OURS) == found  # stored


def test_a_title_already_stored_is_not_asked_again(radarr: ArrStandIn, library: Library) -> None:
    ArrMetadata(integrations(radarr), library).lookup(OURS)
    asked = radarr.count()
    again = ArrMetadata(integrations(radarr), library)  # the next run
    assert set(again.lookup(OURS)) == set(OURS)
    assert radarr.count() == asked


def test_the_catalogue_is_fetched_once_per_run_over_many_lookups(
    radarr: ArrStandIn, library: Library
) -> None:
    fetcher = ArrMetadata(integrations(radarr), library)
    for path in [*OURS, Path("/srv/films/not-theirs.mkv"), Path("/srv/films/other.mkv")]:
        fetcher.lookup([path])  # one chunk per file: the catalogue is still asked once
    assert radarr.requests["/api/v3/movie"] == 1
    assert radarr.requests["/api/v3/tag"] == 1


def test_refresh_asks_again_and_stores_the_new_answer(radarr: ArrStandIn, library: Library) -> None:
    ArrMetadata(integrations(radarr), library).lookup(OURS)
    radarr.films[0] = Film(1, "Spirited Away", 2001, "English", FILMS[0].file)  # edited there
    assert (
        ArrMetadata(integrations(radarr), library).lookup(OURS[:1])[OURS[0]].original_language
        == "jpn"
    )
    refreshed = ArrMetadata(integrations(radarr), library, refresh=True)
    refreshed.fetch(OURS)
    assert refreshed.summary.linked == 3
    assert library.metadata_for(OURS[:1])[OURS[0]].original_language == "eng"


def test_episodes_are_fetched_per_series_once(sonarr: ArrStandIn, library: Library) -> None:
    e01 = Path("/srv/series/Frieren/Season 01/e01.mkv")
    e02 = Path("/srv/series/Frieren/Season 01/e02.mkv")
    found = ArrMetadata(integrations(sonarr=sonarr), library).lookup([e01, e02])
    first = found[e01].of("sonarr")
    assert first is not None
    assert (first.series_title, first.title, first.season, first.episode) == (
        "Frieren",
        "The Journey's End",
        1,
        1,
    )
    assert (first.original_language, first.tags) == ("jpn", ("anime",))
    assert first.release_date("air_date") == "2023-09-29"
    assert found[e02].of("sonarr").episode == 2  # type: ignore[union-attr]
    assert sonarr.requests["/api/v3/episodefile?seriesId=7"] == 1
    assert sonarr.requests["/api/v3/episode?seriesId=7"] == 1
    assert sonarr.count("/api/v3/episodefile?seriesId=8") == 0  # a series without wanted files
    assert sonarr.count() == 4  # tag, series, and the one series' files and episodes
    assert library.metadata_for([e01, e02]) == found


def test_a_series_without_original_language_is_none(sonarr: ArrStandIn, library: Library) -> None:
    pilot = Path("/srv/series/Old Show/p.mkv")
    found = ArrMetadata(integrations(sonarr=sonarr), library).lookup([pilot])
    title = found[pilot].of("sonarr")
    assert title is not None
    assert (title.title, title.original_language) == ("Pilot", None)


def test_an_unreachable_server_is_one_warning_per_run(library: Library) -> None:
    with serve_arr(ArrStandIn()) as gone:
        url = gone.url
    warnings: list[str] = []
    config = IntegrationsConfig(radarr=ArrConfig(url=url, api_key="k"))
    fetcher = ArrMetadata(config, library, warn=warnings.append, timeout=1)
    assert fetcher.lookup(OURS[:1]) == {}
    assert fetcher.lookup(OURS[1:]) == {}
    assert len(warnings) == 1
    assert warnings[0].startswith(f"Radarr at {url} is unreachable")
    assert warnings[0].endswith("; files go on without Radarr metadata")


def test_a_wrong_key_is_one_warning_naming_the_setting(
    radarr: ArrStandIn, library: Library
) -> None:
    warnings: list[str] = []
    fetcher = ArrMetadata(integrations(radarr, key="wrong"), library, warn=warnings.append)
    assert fetcher.lookup(OURS) == {}
    (warning,) = warnings
    assert "refused the API key (HTTP 401): check [integrations.radarr] api_key" in warning


def test_a_body_that_is_not_the_api_is_a_warning(
    radarr: ArrStandIn, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = radarr.answer

    def answer(path: str, query: dict[str, list[str]]) -> tuple[int, object]:
        return (200, {"not": "a list"}) if path == "/api/v3/movie" else original(path, query)

    monkeypatch.setattr(radarr, "answer", answer)
    warnings: list[str] = []
    fetcher = ArrMetadata(integrations(radarr), library, warn=warnings.append)
    assert fetcher.lookup(OURS) == {}
    (warning,) = warnings
    assert warning == (
        f"Radarr at {radarr.url}: unexpected answer (expected a list of movies, got dict); "
        "files go on without Radarr metadata"
    )


def test_a_dry_run_stores_nothing(radarr: ArrStandIn, library: Library) -> None:
    lookup = metadata_lookup(integrations(radarr), library, store=False)
    assert lookup is not None
    assert set(lookup(OURS)) == set(OURS)
    assert library.metadata_for(OURS) == {}


def test_without_integrations_the_lookup_is_the_library(library: Library) -> None:
    assert metadata_lookup(IntegrationsConfig(), library) == library.metadata_for
    assert metadata_lookup(IntegrationsConfig(), None) is None


def test_the_hook_fetches_that_one_film(radarr: ArrStandIn, library: Library) -> None:
    fetcher = ArrMetadata(integrations(radarr), library)
    assert fetcher.fetch_title(Arr.RADARR, 2, [OURS[1]])
    assert radarr.count() == 2  # /tag and /movie/2, not the catalogue
    assert radarr.requests["/api/v3/movie/2"] == 1
    assert library.metadata_for([OURS[1]])[OURS[1]].original_language == "fre"
    assert ArrMetadata(integrations(radarr), library).fetch_title(Arr.RADARR, 2, [OURS[1]])
    assert radarr.count() == 2  # stored: not asked again


def test_the_hook_fetches_that_one_series(sonarr: ArrStandIn, library: Library) -> None:
    e02 = Path("/srv/series/Frieren/Season 01/e02.mkv")
    assert ArrMetadata(integrations(sonarr=sonarr), library).fetch_title(Arr.SONARR, 7, [e02])
    title = library.metadata_for([e02])[e02].of("sonarr")
    assert title is not None
    assert (title.title, title.episode, title.original_language) == (
        "It Didn't Have to Be Magic",
        2,
        "jpn",
    )
    assert sonarr.count("/api/v3/series") == 1  # /series/7 only, not the list
    assert sonarr.requests["/api/v3/series/7"] == 1


@pytest.mark.parametrize("url", ["radarr:7878", "http://[::1", "ftp://radarr"])
def test_an_unusable_url_is_a_warning(url: str, library: Library) -> None:
    warnings: list[str] = []
    config = IntegrationsConfig(radarr=ArrConfig(url=url, api_key="k"))
    assert ArrMetadata(config, library, warn=warnings.append, timeout=1).lookup(OURS) == {}
    (warning,) = warnings
    assert warning.startswith(f"Radarr at {url}")
    assert warning.endswith("files go on without Radarr metadata")


def test_a_malformed_path_map_leaves_that_server_out_with_a_warning(
    radarr: ArrStandIn, sonarr: ArrStandIn, library: Library
) -> None:
    warnings: list[str] = []
    config = IntegrationsConfig(
        radarr=ArrConfig(url=radarr.url, api_key=radarr.api_key, path_map=("movies",)),
        sonarr=ArrConfig(url=sonarr.url, api_key=sonarr.api_key, path_map=("/tv=/srv/series",)),
    )
    fetcher = ArrMetadata(config, library, warn=warnings.append)
    e01 = Path("/srv/series/Frieren/Season 01/e01.mkv")
    assert set(fetcher.lookup([*OURS, e01])) == {e01}
    assert warnings == [
        "[integrations.radarr] path_map entry 'movies' must be \"/their/prefix=/our/prefix\"; "
        "files go on without Radarr metadata"
    ]
    assert radarr.count() == 0
