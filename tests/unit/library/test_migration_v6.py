"""Schema 6: the per-file summary and last outcome, filled from a version-4 library's rows.

The library is written with version-4 SQL (as a vpo before schema 6 left it),
then opened: every file's summary must equal what the write path computes
(rows.browse_row), the last outcome the newest result's, and the file list must
equal the brute-force filter of test_file_queries over the same rows.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from tests.unit.library.test_file_queries import expected_summary, matches, shown, truth

from vpo.library import FileOutcome, FileRecord, Library
from vpo.library import rows as db_rows
from vpo.library.file_queries import FileFilters, FileOrder, Resolution
from vpo.library.schema import MIGRATIONS
from vpo.media.model import Container, MediaFile, Track, TrackType

UP_TO_4 = tuple(m for m in MIGRATIONS if m.version <= 4)

# A released migration is never edited (append only): its statements are pinned.
PINNED = {6: "7b972516e8b2d3a70ce81ad2812a037b1cc6c2014100196f7204767106c90083"}


def media(path: Path, *tracks: Track) -> MediaFile:
    return MediaFile(path, Container.MATROSKA, 100, 1, tracks, inode=1, device=1)


def v(index: int, codec: str, height: int) -> Track:
    return Track(index, index, TrackType.VIDEO, codec, height=height)


def a(index: int, language: str) -> Track:
    return Track(index, index, TrackType.AUDIO, "aac", language=language)


def s(index: int, language: str) -> Track:
    return Track(index, index, TrackType.SUBTITLE, "subrip", language=language)


FILES = (
    media(Path("/m/plain.mkv"), v(0, "hevc", 2160), a(1, "eng"), a(2, "jpn"), s(3, "eng")),
    media(Path("/m/cover.mkv"), v(0, "h264", 1080), a(1, "fre"), v(2, "mjpeg", 480)),
    media(Path("/m/odd.mkv"), v(0, "h264", 720), a(1, "eng,jpn"), s(2, "")),
    media(Path("/m/silent.mkv"), v(0, "av1", 1080)),
    media(Path("/m/nothing.mkv")),
)
RESULTS = {  # file index: outcomes, oldest first
    0: ("changed", "failed"),
    1: ("failed", "changed"),
    3: ("skipped",),
}


def fill_version_4(path: Path) -> None:
    """Files with tracks, an unreadable file, a run with results, as version 4 wrote them."""
    raw = sqlite3.connect(path)
    with raw:
        for file_id, item in enumerate(FILES, start=1):
            raw.execute(
                "INSERT INTO files (id, path, size, mtime_ns, inode, device, status, container, "
                "format_name, duration, bit_rate, title, chapter_count, probed_at, first_seen, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, 10, 10, 10)",
                (
                    file_id,
                    db_rows.path_to_db(item.path),
                    item.size,
                    item.mtime_ns,
                    item.inode,
                    item.device,
                    *db_rows.media_to_row(item),
                ),
            )
            raw.executemany(
                f"INSERT INTO tracks (file_id, {', '.join(db_rows.TRACK_COLUMNS)}) "
                f"VALUES ({file_id}, {', '.join('?' * len(db_rows.TRACK_COLUMNS))})",
                [db_rows.track_to_row(track) for track in item.tracks],
            )
        raw.execute(
            "INSERT INTO files (id, path, size, mtime_ns, status, last_error, first_seen, "
            "updated_at) VALUES (99, ?, 1, 1, 'error', 'unreadable', 10, 10)",
            (db_rows.path_to_db(Path("/m/broken.mkv")),),
        )
        raw.execute(
            "INSERT INTO runs (id, batch_id, started_at, workers, outcome) "
            "VALUES (1, 'b1', 100, 1, 'completed')"
        )
        for file_index, outcomes in RESULTS.items():
            for outcome in outcomes:
                raw.execute(
                    "INSERT INTO file_results (run_id, file_id, path, recorded_at, outcome) "
                    "VALUES (1, ?, ?, 150, ?)",
                    (file_index + 1, db_rows.path_to_db(FILES[file_index].path), outcome),
                )
    raw.close()


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    database = tmp_path / "library.db"
    Library.open(database, migrations=UP_TO_4).close()
    fill_version_4(database)
    Library.open(database).close()
    return database


def test_the_summary_is_what_the_write_path_computes(migrated: Path) -> None:
    raw = sqlite3.connect(migrated)
    columns = ", ".join(db_rows.BROWSE_COLUMNS)
    stored = {
        row[0]: row[1:]
        for row in raw.execute(f"SELECT id, {columns}, last_outcome FROM files ORDER BY id")
    }
    raw.close()
    for file_id, item in enumerate(FILES, start=1):
        newest = RESULTS.get(file_id - 1, (None,))[-1]
        assert stored[file_id] == (*db_rows.browse_row(item), newest), item.path
    assert stored[99] == (None, None, None, None, 1, None)  # unreadable: no tracks


@pytest.mark.parametrize(
    "filters",
    [
        FileFilters(),
        FileFilters(video_codec="mjpeg"),
        FileFilters(video_codec="h264"),
        FileFilters(resolution=Resolution.SD),
        FileFilters(resolution=Resolution.FHD),
        FileFilters(audio_language="jpn"),
        FileFilters(audio_language="eng"),
        FileFilters(no_audio_language="eng"),
        FileFilters(subtitle_language="eng"),
        FileFilters(no_subtitle_language="eng"),
        FileFilters(never_processed=True),
        FileFilters(last_failed=True),
        FileFilters(container="mkv", audio_language="eng", never_processed=True),
    ],
)
def test_the_migrated_list_equals_a_brute_force_filter(
    migrated: Path, filters: FileFilters
) -> None:
    wanted = sorted((f for f in truth(migrated) if matches(f, filters)), key=lambda f: f.id)
    with Library.open(migrated) as library:
        items, total = library.files_page(filters, limit=50, offset=0, order=FileOrder.ID)
    assert total == len(wanted)
    assert [shown(item) for item in items] == [expected_summary(f) for f in wanted]


def test_results_recorded_after_the_migration_move_the_last_outcome(migrated: Path) -> None:
    with Library.open(migrated) as library:
        run = library.start_run(policy_name="p", policy_hash="h", workers=1)
        library.record_file_results(
            run,
            [
                FileRecord(FILES[0].path, FileOutcome.CHANGED),  # was failed
                FileRecord(FILES[4].path, FileOutcome.FAILED),  # was never processed
            ],
        )
        failed, _ = library.files_page(FileFilters(last_failed=True), limit=50, offset=0)
        never, _ = library.files_page(FileFilters(never_processed=True), limit=50, offset=0)
        assert [f.path.name for f in failed] == ["nothing.mkv"]
        assert [f.path.name for f in never] == ["odd.mkv", "broken.mkv"]
        library.prune([FILES[4].path])  # its results stay, with file_id NULL
        failed, _ = library.files_page(FileFilters(last_failed=True), limit=50, offset=0)
        assert failed == []


def test_released_migrations_are_pinned() -> None:
    for migration in MIGRATIONS:
        if migration.version in PINNED:
            text = "\n".join(migration.statements).encode()
            assert hashlib.sha256(text).hexdigest() == PINNED[migration.version], (
                f"migration {migration.version} was edited: add a new version instead"
            )
