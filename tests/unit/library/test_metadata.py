"""Schema 5: Sonarr/Radarr titles and the title of each file; Library.metadata_for."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from vpo.library import Library, MovedFile
from vpo.library.metadata import FileLink, StoredTitle
from vpo.library.schema import MIGRATIONS
from vpo.media.metadata import TitleMetadata
from vpo.testmedia.metadata import SPIRITED_AWAY

UP_TO_4 = MIGRATIONS[:4]
UP_TO_5 = MIGRATIONS[:5]  # pinned: later versions must not change what 5 does

FILM = replace(
    SPIRITED_AWAY,
    imdb_id="tt0245429",
    tags=("anime", "ghibli"),
    release_dates=(("digital_release", "2003-04-15"), ("in_cinemas", "2001-07-20")),
)
SERIES = TitleMetadata(
    source="sonarr",
    title="Frieren",
    series_title="Frieren",
    year=2023,
    original_language="jpn",
    tvdb_id=424536,
    tags=("anime",),
    release_dates=(("first_aired", "2023-09-29"),),
)
EPISODE = replace(
    SERIES,
    title="The Journey's End",
    release_dates=(("air_date", "2023-09-29"), ("first_aired", "2023-09-29")),
    season=1,
    episode=1,
)


def test_version_5_on_a_version_4_library_adds_the_tables_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    database = tmp_path / "library.db"
    with Library.open(database, migrations=UP_TO_4) as library:
        run = library.start_run(policy_name="p", policy_hash=None, workers=1)
    with Library.open(database, migrations=UP_TO_5) as library:
        assert library.schema_version() == 5
        assert [r.run_id for r in library.runs()] == [run]
    with sqlite3.connect(database) as raw:
        names = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        (description,) = raw.execute(
            "SELECT description FROM schema_migrations WHERE version = 5"
        ).fetchone()
    raw.close()
    assert {"arr_titles", "arr_files", "arr_files_by_title"} <= names
    assert description == "Sonarr/Radarr metadata: titles and the title of each file"
    assert list(tmp_path.glob("*.bak")) == []  # adds tables only: no copy needed


def test_stored_metadata_round_trips_per_file(tmp_path: Path) -> None:
    film, episode, other = tmp_path / "a.mkv", tmp_path / "s01e01.mkv", tmp_path / "b.mkv"
    with Library.open(tmp_path / "library.db") as library:
        library.store_metadata(
            [StoredTitle(1, FILM), StoredTitle(7, SERIES)],
            [FileLink(film, "radarr", 1, FILM), FileLink(episode, "sonarr", 7, EPISODE)],
        )
        found = library.metadata_for([film, episode, other])
    assert set(found) == {film, episode}
    assert found[film].titles == (FILM,)
    assert found[episode].titles == (EPISODE,)
    assert found[film].original_language == "jpn"


def test_a_file_can_have_a_title_from_each_source(tmp_path: Path) -> None:
    path = tmp_path / "a.mkv"
    with Library.open(tmp_path / "library.db") as library:
        library.store_metadata(
            [StoredTitle(1, FILM), StoredTitle(7, SERIES)],
            [FileLink(path, "sonarr", 7, EPISODE), FileLink(path, "radarr", 1, FILM)],
        )
        (metadata,) = library.metadata_for([path]).values()
    assert [t.source for t in metadata] == ["radarr", "sonarr"]


def test_refreshing_a_title_updates_every_file_of_it(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mkv", tmp_path / "b.mkv"
    with Library.open(tmp_path / "library.db") as library:
        library.store_metadata([StoredTitle(1, FILM)], [FileLink(a, "radarr", 1, FILM)])
        library.store_metadata([], [FileLink(b, "radarr", 1, FILM)])  # the title is stored
        changed = TitleMetadata(source="radarr", title="Spirited Away", tags=("watched",))
        library.store_metadata([StoredTitle(1, changed)], [])
        found = library.metadata_for([a, b])
        assert found[a].titles == found[b].titles == (changed,)
        assert library.metadata_links([a, b, tmp_path / "c.mkv"], "radarr") == ({a, b}, {1})
        assert library.stored_title_ids("radarr") == {1}
        assert library.stored_title_ids("sonarr") == set()


def test_a_link_to_an_unknown_title_is_skipped(tmp_path: Path) -> None:
    with Library.open(tmp_path / "library.db") as library:
        library.store_metadata([], [FileLink(tmp_path / "a.mkv", "radarr", 99, FILM)])
        assert library.metadata_for([tmp_path / "a.mkv"]) == {}


def test_lookups_are_batched_over_many_paths(tmp_path: Path) -> None:
    paths = [tmp_path / f"f{i}.mkv" for i in range(1000)]  # more than one page of 400
    with Library.open(tmp_path / "library.db") as library:
        library.store_metadata(
            [StoredTitle(1, FILM)], [FileLink(p, "radarr", 1, FILM) for p in paths[::3]]
        )
        found = library.metadata_for(paths)
    assert set(found) == set(paths[::3])


def test_a_relative_path_finds_the_same_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with Library.open(tmp_path / "library.db") as library:
        library.store_metadata(
            [StoredTitle(1, FILM)], [FileLink(tmp_path / "a.mkv", "radarr", 1, FILM)]
        )
        assert set(library.metadata_for([Path("a.mkv")])) == {Path("a.mkv")}


def test_a_renamed_file_keeps_its_title(tmp_path: Path) -> None:
    old, new = tmp_path / "old.mkv", tmp_path / "new.mkv"
    with Library.open(tmp_path / "library.db") as library:
        library.store_metadata([StoredTitle(1, FILM)], [FileLink(old, "radarr", 1, FILM)])
        library.write_scan_batch(moved=(MovedFile(old, new, 1),))
        assert set(library.metadata_for([old, new])) == {new}
