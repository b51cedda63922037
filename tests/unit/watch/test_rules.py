"""Which names a watched folder counts, and when a file has settled (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpo.library.records import StatKey
from vpo.watch.rules import NameFilter, Settler, WatchFolder, parse_folder

FOLDER = Path("/media/incoming")
MEDIA = frozenset({"mkv", "mp4"})


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("/media/in", WatchFolder(Path("/media/in"), "default")),
        ("/media/anime=anime", WatchFolder(Path("/media/anime"), "anime")),
        (
            " /media/films = /etc/vpo/films.yaml ",
            WatchFolder(Path("/media/films"), "/etc/vpo/films.yaml"),
        ),
    ],
)
def test_folder_entries(entry: str, expected: WatchFolder) -> None:
    assert parse_folder(entry, "default") == expected


@pytest.mark.parametrize(
    ("entry", "default", "message"),
    [
        ("=anime", "x", "has no directory"),
        ("/media/a=", "x", "nothing after '='"),
        ("/media/a", None, "has no policy: write /media/a=POLICY or set [watch] policy"),
    ],
)
def test_bad_folder_entries(entry: str, default: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_folder(entry, default)


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("film.mkv", True),
        ("Film.MKV", True),
        ("sub/film.mp4", True),
        ("film.srt", False),
        ("film.mkv.vpo-tmp-1a2b.mkv", False),  # vpo's temp
        (".vpo-journal-film.mkv", False),
        ("film.vpo-backup.mkv", False),
        (".hidden.mkv", False),
    ],
)
def test_names_without_globs(name: str, wanted: bool) -> None:
    assert NameFilter(MEDIA).wanted(FOLDER / name, FOLDER) is wanted


def test_include_and_exclude_globs_match_name_or_relative_path() -> None:
    names = NameFilter(MEDIA, include=("*S??E??*", "films/*"), exclude=("*sample*",))
    assert names.wanted(FOLDER / "show" / "Show.S01E02.mkv", FOLDER)
    assert names.wanted(FOLDER / "films" / "Film.mkv", FOLDER)
    assert not names.wanted(FOLDER / "other" / "Film.mkv", FOLDER)
    assert not names.wanted(FOLDER / "show" / "Show.S01E02.sample.mkv", FOLDER)


def key(size: int, mtime: float) -> StatKey:
    return StatKey(size, int(mtime * 1e9), 1, 1, int(mtime * 1e9))


def test_a_path_settles_after_quiet_time_and_an_unchanged_stat() -> None:
    settler = Settler(stable_seconds=2)
    path = FOLDER / "a.mkv"
    settler.note(path, now=0)
    settler.note(path, now=1)  # a burst of events is one pending path
    assert len(settler) == 1
    assert settler.candidates(now=2.5) == []  # 1.5 s since the last event
    assert settler.candidates(now=3) == [path]
    assert not settler.settle(path, key(10, 1), wall_now=103, now=3)  # first look at the stat
    assert settler.settle(path, key(10, 1), wall_now=103.5, now=3.5)  # same stat: settled
    assert len(settler) == 0
    assert not settler.settle(path, key(10, 1), wall_now=104, now=4)  # once only


def test_a_file_growing_without_events_waits_again() -> None:
    settler = Settler(stable_seconds=2)
    path = FOLDER / "a.mkv"
    settler.note(path, now=0)
    assert not settler.settle(path, key(10, 0), wall_now=100, now=2)
    assert not settler.settle(path, key(20, 0), wall_now=100, now=3)  # grew silently
    assert settler.candidates(now=4) == []  # quiet time starts again
    assert settler.candidates(now=5) == [path]


def test_a_recent_modification_time_holds_the_file() -> None:
    settler = Settler(stable_seconds=2)
    path = FOLDER / "a.mkv"
    settler.note(path, now=0)
    recent = key(10, 99.5)  # modified 0.5 s ago (a share whose events never came)
    assert not settler.settle(path, recent, wall_now=100, now=2)
    assert not settler.settle(path, recent, wall_now=100.5, now=2.5)
    assert settler.settle(path, recent, wall_now=101.6, now=3.6)


def test_a_gone_path_settles_at_once() -> None:
    settler = Settler(stable_seconds=2)
    settler.note(FOLDER / "a.mkv", now=0)
    assert settler.settle(FOLDER / "a.mkv", None, wall_now=100, now=2)
