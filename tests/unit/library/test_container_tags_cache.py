"""The library keeps each file's container tags (schema 7), and a row probed
before it (tags unknown) is never a cache hit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from vpo.library.database import Library
from vpo.library.records import StatKey
from vpo.media.model import Container, MediaFile, Track, TrackType, container_tags

MTIME = 1_700_000_000_000_000_000


def tagged(path: Path) -> MediaFile:
    return MediaFile(
        path=path,
        container=Container.MATROSKA,
        size=900,
        mtime_ns=MTIME,
        tracks=(Track(0, 0, TrackType.VIDEO, "h264"),),
        title="Film",
        inode=42,
        device=7,
        format_name="mkv",
        tags=container_tags([("ENCODER", "Lavf"), ("Comment", "é ünïcode")], "Film"),
    )


def test_a_cached_probe_keeps_the_container_tags(tmp_path: Path) -> None:
    media = tagged(tmp_path / "m.mkv")
    with Library.open(tmp_path / "library.db") as library:
        library.record_probe(media, 5)
        cached = library.cached_media(media.path, 900, MTIME, 42, 5)
    assert cached == media
    assert cached is not None and cached.tag("comment") == "é ünïcode"


def test_a_row_without_tags_is_probed_again(tmp_path: Path) -> None:
    media = tagged(tmp_path / "m.mkv")
    database = tmp_path / "library.db"
    with Library.open(database) as library:
        library.record_probe(media, 5)
    raw = sqlite3.connect(database)
    with raw:
        raw.execute("UPDATE files SET tags = NULL")  # as a row from before schema 7
    raw.close()
    with Library.open(database) as library:
        assert library.cached_media(media.path, 900, MTIME, 42, 5) is None
        assert library.cached_media_many([(media.path, StatKey(900, MTIME, 42, 7, 5))]) == {}
    with Library.open(database) as library:
        library.record_probe(media, 5)  # probed again: a hit from now on
        assert library.cached_media_many([(media.path, StatKey(900, MTIME, 42, 7, 5))]) == {
            media.path: media
        }
