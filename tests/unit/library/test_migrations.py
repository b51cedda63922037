"""Migrations: recorded, transactional, backed up before data rewrites.

Version 1 is the only real schema so far, so "every earlier version" is the empty
database. The runner's rollback and backup paths are exercised with migrations
defined here on top of the real version 1 (a stand-in for the next real one).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from vpo.library import Library, LibraryError
from vpo.library.schema import LATEST_VERSION, MIGRATIONS, Migration


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
