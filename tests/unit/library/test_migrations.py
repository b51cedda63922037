"""Migrations: recorded, transactional, backed up before data rewrites.

The real step 1 → 2 runs on a version-1 database holding data (written with the
version-1 SQL, as a version-1 vpo left it). The runner's rollback and backup paths
are also exercised with migrations defined here on top of the latest real one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.library import FileOutcome, FileRecord, Library, LibraryError, RunCounts
from vpo.library import rows as db_rows
from vpo.library.schema import LATEST_VERSION, MIGRATIONS, Migration
from vpo.media.model import MediaFile

VERSION_1 = MIGRATIONS[:1]
UP_TO_2 = MIGRATIONS[:2]
MTIME = 1_700_000_000_000_000_000


def applied(path: Path) -> list[tuple[int, str, float]]:
    with sqlite3.connect(path) as raw:
        found = raw.execute(
            "SELECT version, description, applied_at FROM schema_migrations ORDER BY version"
        ).fetchall()
    raw.close()
    return found


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        found = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    raw.close()
    return found


def test_empty_database_migrates_to_latest_and_records_each_step(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    Library.open(path).close()

    versions = [(version, description) for version, description, _ in applied(path)]
    assert versions == [(m.version, m.description) for m in MIGRATIONS]
    assert versions[-1][0] == LATEST_VERSION
    assert {"files", "tracks", "attachments", "runs", "file_results"} <= tables(path)


def test_existing_empty_sqlite_file_is_migrated(tmp_path: Path) -> None:
    """A zero-byte file (e.g. created by `touch`) is an empty database, not garbage."""
    path = tmp_path / "library.db"
    path.touch()
    with Library.open(path) as library:
        assert library.schema_version() == LATEST_VERSION


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    Library.open(path).close()
    first = applied(path)
    Library.open(path).close()
    assert applied(path) == first


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    Library.open(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO schema_migrations VALUES (?, 'future', 0)", (LATEST_VERSION + 1,))
    raw.close()

    with pytest.raises(LibraryError, match="written by a newer vpo"):
        Library.open(path)


def test_a_failing_migration_rolls_back_completely(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    Library.open(path).close()
    broken = Migration(
        version=LATEST_VERSION + 1,
        description="add a column, then fail",
        statements=("ALTER TABLE files ADD COLUMN extra TEXT", "THIS IS NOT SQL"),
    )

    with pytest.raises(LibraryError, match="failed and was rolled back"):
        Library.open(path, migrations=(*MIGRATIONS, broken))

    assert [v for v, _, _ in applied(path)][-1] == LATEST_VERSION
    with sqlite3.connect(path) as raw:
        columns = {row[1] for row in raw.execute("PRAGMA table_info(files)")}
    raw.close()
    assert "extra" not in columns


def test_a_data_migration_backs_up_first(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    with Library.open(path) as library:
        run = library.start_run(policy_name="old-name", policy_hash=None, workers=1)
    rename = Migration(
        version=LATEST_VERSION + 1,
        description="rewrite policy names",
        statements=("UPDATE runs SET policy_name = 'new-name'",),
        rewrites_data=True,
    )

    with Library.open(path, migrations=(*MIGRATIONS, rename)) as library:
        assert library.runs()[0].policy_name == "new-name"

    backups = list(tmp_path.glob(f"library.db.schema{LATEST_VERSION}-*.bak"))
    assert len(backups) == 1
    with sqlite3.connect(backups[0]) as raw:
        assert raw.execute("SELECT id, policy_name FROM runs").fetchall() == [(run, "old-name")]
    raw.close()


def test_a_schema_only_migration_needs_no_backup(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    Library.open(path).close()
    index = Migration(
        version=LATEST_VERSION + 1,
        description="an index",
        statements=("CREATE INDEX files_by_size ON files (size)",),
    )
    Library.open(path, migrations=(*MIGRATIONS, index)).close()

    assert list(tmp_path.glob("*.bak")) == []
    assert "files_by_size" in tables(path)


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            Library.open(path).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_and_close) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [v for v, _, _ in applied(path)] == [m.version for m in MIGRATIONS]


def _fill_version_1(path: Path, media: MediaFile) -> None:
    """What a version-1 vpo wrote: one probed file, one run with one changed record."""
    with sqlite3.connect(path) as raw:
        raw.execute(
            "INSERT INTO files (id, path, size, mtime_ns, inode, device, status, container, "
            "format_name, duration, bit_rate, title, chapter_count, probed_at, first_seen, "
            "updated_at) VALUES (1, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, 10, 10, 10)",
            (
                db_rows.path_to_db(media.path),
                media.size,
                media.mtime_ns,
                media.inode,
                media.device,
                *db_rows.media_to_row(media),
            ),
        )
        raw.executemany(
            f"INSERT INTO tracks (file_id, {', '.join(db_rows.TRACK_COLUMNS)}) "
            f"VALUES (1, {', '.join('?' * len(db_rows.TRACK_COLUMNS))})",
            [db_rows.track_to_row(track) for track in media.tracks],
        )
        raw.execute(
            "INSERT INTO runs (id, batch_id, policy_name, policy_hash, started_at, finished_at, "
            "workers, outcome, files_changed, bytes_written) "
            "VALUES (1, 'b1', 'anime', 'h1', 100, 160, 2, 'completed', 1, 900)"
        )
        raw.execute(
            "INSERT INTO file_results (run_id, file_id, path, recorded_at, outcome, plan_kind, "
            "tool, phase, before_summary, after_summary, changes, bytes_written, seconds) "
            "VALUES (1, 1, ?, 150, 'changed', 'encode', 'ffmpeg', 'shrink', "
            "'v:h264* a:aac/eng*', 'v:hevc* a:aac/eng*', 'video #0 (und): codec h264 → hevc', "
            "900, 12.5)",
            (db_rows.path_to_db(media.path),),
        )
    raw.close()


def test_a_version_1_library_with_data_migrates_to_version_2(
    tmp_path: Path, make_media: Callable[..., MediaFile]
) -> None:
    path = tmp_path / "library.db"
    with Library.open(path, migrations=VERSION_1) as old:
        assert old.schema_version() == 1
    media = make_media(Path("/media-lib/a movie.mkv"), size=900, mtime_ns=MTIME, inode=42)
    _fill_version_1(path, media)

    with Library.open(path, migrations=UP_TO_2) as library:
        assert library.schema_version() == 2
        assert [v for v, _, _ in applied(path)] == [1, 2]

        # The data is all there; what version 1 never knew is None.
        state = library.file_state(media.path)
        assert state is not None
        assert (state.key.size, state.key.mtime_ns, state.key.inode) == (900, MTIME, 42)
        assert state.key.ctime_ns is None
        (run,) = library.runs()
        assert (run.policy_name, run.counts, run.bytes_saved) == (
            "anime",
            RunCounts(changed=1, bytes_written=900),
            None,
        )
        (record,) = library.iter_file_results()
        assert (record.before_summary, record.after_summary) == (
            "v:h264* a:aac/eng*",
            "v:hevc* a:aac/eng*",
        )
        assert record.changes == ("video #0 (und): codec h264 → hevc",)
        assert (record.bytes_written, record.seconds) == (900, 12.5)
        assert (record.original_size, record.bytes_saved) == (None, None)
        assert (record.encode_seconds, record.encode_speed) == (None, None)
        assert library.totals().bytes_saved == 0

    with Library.open(path) as library:  # writes (and cache reads) need the latest schema
        # No ctime stored: not a cache hit until a probe stores one.
        assert library.cached_media(media.path, 900, MTIME, 42, 5) is None
        library.record_probe(media, 5)
        assert library.cached_media(media.path, 900, MTIME, 42, 5) == media
        # New runs record what they saved; the old run keeps "unknown".
        new = library.start_run(policy_name="anime", policy_hash="h2", workers=1)
        library.record_file_result(
            new,
            FileRecord(
                media.path,
                FileOutcome.CHANGED,
                original_size=900,
                bytes_saved=300,
                encode_seconds=4.0,
                encode_speed=0.5,
            ),
        )
        assert [r.bytes_saved for r in library.runs()] == [None, 300]
        assert dict(library.totals().saved_by_policy) == {"anime": 300}

    (backup,) = tmp_path.glob("library.db.schema1-*.bak")
    with sqlite3.connect(backup) as raw:
        columns = {row[1] for row in raw.execute("PRAGMA table_info(files)")}
        assert raw.execute("SELECT COUNT(*) FROM file_results").fetchone() == (1,)
    raw.close()
    assert "ctime_ns" not in columns


def test_a_new_library_gets_no_backup(tmp_path: Path) -> None:
    """Version 2 rewrites data, but a database created just now has none to keep."""
    Library.open(tmp_path / "library.db").close()
    assert list(tmp_path.glob("*.bak")) == []


def test_concurrent_opens_of_a_version_1_library_migrate_once(
    tmp_path: Path, make_media: Callable[..., MediaFile]
) -> None:
    path = tmp_path / "library.db"
    Library.open(path, migrations=VERSION_1).close()
    _fill_version_1(path, make_media(Path("/media-lib/a.mkv"), size=900, mtime_ns=MTIME))
    errors: list[BaseException] = []

    def open_and_close() -> None:
        try:
            Library.open(path, migrations=MIGRATIONS[:2]).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_and_close) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [v for v, _, _ in applied(path)] == [1, 2]
    backups = list(tmp_path.glob("library.db.schema1-*.bak"))
    assert 1 <= len(backups) <= 4  # each opener that saw version 1 kept its own copy
    for backup in backups:
        with sqlite3.connect(backup) as raw:
            assert raw.execute("SELECT COUNT(*) FROM file_results").fetchone() == (1,)
        raw.close()
