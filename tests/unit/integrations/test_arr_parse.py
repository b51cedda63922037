"""Sonarr/Radarr v3 bodies → TitleMetadata, on recorded-shape bodies (tests/fixtures/arr)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vpo.integrations.arr_parse import (
    BodyError,
    language_code,
    parse_episode_files,
    parse_movies,
    parse_series_list,
    parse_tags,
)

BODIES = Path(__file__).parents[2] / "fixtures" / "arr"


def body(name: str) -> object:
    return json.loads((BODIES / f"{name}.json").read_text(encoding="utf-8"))


def test_tags_map_ids_to_labels() -> None:
    assert parse_tags(body("radarr_tag")) == {1: "anime", 2: "ghibli", 3: "4k"}


def test_a_radarr_movie_gives_every_field() -> None:
    (spirited, file_path), _, _ = parse_movies(body("radarr_movie"), parse_tags(body("radarr_tag")))
    m = spirited.metadata
    assert spirited.their_id == 1
    assert spirited.folder == "/movies/Spirited Away (2001)"
    assert file_path == "/movies/Spirited Away (2001)/Spirited Away (2001) Bluray-1080p.mkv"
    assert (m.source, m.title, m.original_title, m.year) == (
        "radarr",
        "Spirited Away",
        "千と千尋の神隠し",
        2001,
    )
    assert m.original_language == "jpn"
    assert (m.imdb_id, m.tmdb_id, m.tvdb_id) == ("tt0245429", 129, None)
    assert m.tags == ("anime", "ghibli")  # labels, sorted; not ids
    assert m.genres == ("Animation", "Family", "Fantasy")
    assert m.release_date("digital_release") == "2003-04-15"
    assert m.release_date("physical_release") == "2002-07-19"
    assert m.release_date("in_cinemas") == "2001-07-20"


def test_a_movie_without_a_file_and_one_with_unknown_fields() -> None:
    _, (amelie, no_file), (unknown, path) = parse_movies(body("radarr_movie"), {})
    assert no_file is None
    assert amelie.metadata.original_language == "fre"
    assert amelie.metadata.release_dates == (("in_cinemas", "2001-04-25"),)
    m = unknown.metadata
    assert path == "/movies/Unknown Origin/unknown.mkv"
    assert m.original_language is None  # "Unknown"
    assert (m.year, m.imdb_id, m.tmdb_id, m.tags, m.genres) == (None, None, None, (), ())
    assert m.release_dates == ()  # 0001-01-01: .NET's "no date"


def test_sonarr_series_with_and_without_original_language() -> None:
    frieren, old = parse_series_list(body("sonarr_series"), {1: "anime"})
    m = frieren.metadata
    assert (frieren.their_id, frieren.folder) == (7, "/tv/Frieren")
    assert (m.source, m.series_title, m.year, m.original_language) == (
        "sonarr",
        "Frieren: Beyond Journey's End",
        2023,
        "jpn",
    )
    assert (m.tvdb_id, m.imdb_id, m.tags) == (424536, "tt22248376", ("anime",))
    assert m.release_date("first_aired") == "2023-09-29"
    assert old.metadata.original_language is None  # Sonarr v3 builds: languageProfileId only


def test_episode_files_get_their_episode() -> None:
    (frieren, _) = parse_series_list(body("sonarr_series"), {})
    first, double, orphan = parse_episode_files(
        frieren, body("sonarr_episodefile"), body("sonarr_episode")
    )
    assert first.path == "/tv/Frieren/Season 01/Frieren - S01E01 - The Journey's End.mkv"
    m = first.metadata
    assert (m.title, m.series_title, m.season, m.episode) == (
        "The Journey's End",
        "Frieren: Beyond Journey's End",
        1,
        1,
    )
    assert m.release_date("air_date") == "2023-09-29"
    assert m.release_date("first_aired") == "2023-09-29"
    assert m.original_language == "jpn"
    assert (double.metadata.episode, double.metadata.title) == (2, "It Didn't Have to Be Magic...")
    assert (orphan.metadata.title, orphan.metadata.episode, orphan.metadata.season) == (
        None,
        None,
        1,
    )


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ({"id": 8, "name": "Japanese"}, "jpn"),
        ({"id": 2, "name": "French"}, "fre"),
        ({"id": 4, "name": "German"}, "ger"),
        ({"id": 18, "name": "Portuguese (Brazil)"}, "por"),
        ({"id": 0, "name": "Unknown"}, None),
        ({"id": -2, "name": "Original"}, None),
        ({"id": -1, "name": "Any"}, None),
        ({"id": 99, "name": "Not A Language At All"}, None),
        ({"id": 1}, None),
        (None, None),
        ("x" * 10_000, None),
    ],
)
def test_language_names_become_iso_639_2_b(value: object, code: str | None) -> None:
    assert language_code(value) == code


@pytest.mark.parametrize("bad", [{"message": "oops"}, "text", 3, None])
def test_a_body_that_is_not_a_list_is_a_body_error(bad: object) -> None:
    with pytest.raises(BodyError, match="expected a list of movies"):
        parse_movies(bad, {})


def test_non_objects_and_wrong_types_are_skipped_not_errors() -> None:
    found = parse_movies([1, "x", {"id": "7"}, {"id": 5, "title": 3, "year": "2001"}], {})
    ((movie, path),) = found
    assert (movie.their_id, movie.metadata.title, movie.metadata.year, path) == (
        5,
        None,
        None,
        None,
    )
