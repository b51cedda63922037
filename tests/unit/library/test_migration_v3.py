"""Schema 3 on a real version-2 library: paths normalised, duplicates merged, backup first."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from vpo.library import Library
from vpo.library.schema import MIGRATIONS

UP_TO_2 = MIGRATIONS[:2]


def _insert_file(raw: sqlite3.Connection, path: bytes, info: os.stat_result, updated: float) -> int:
    cursor = raw.execute(
        "INSERT INTO files (path, size, mtime_ns, inode, device, ctime_ns, status, container, "
        "first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'ok', 'mkv', ?, ?)",
        (
            path,
            info.st_size,
            info.st_mtime_ns,
            info.st_ino,
            info.st_dev,
            info.st_ctime_ns,
            1.0,
            updated,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


@pytest.fixture
def v2_library_with_duplicates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What a version-2 vpo left after ``process .``, ``process /abs``, a run through a
    symlinked directory, and a relative path typed in a directory nobody remembers."""
    films = tmp_path / "real" / "films"
    films.mkdir(parents=True)
    (films / "a.mkv").write_bytes(b"a" * 10)
    (films / "b.mkv").write_bytes(b"b" * 20)
    (tmp_path / "link").symlink_to(films)
    database = tmp_path / "library.db"
    Library.open(database, migrations=UP_TO_2).close()
    a, b = (films / "a.mkv").stat(), (films / "b.mkv").stat()
    with sqlite3.connect(database) as raw:
        run = raw.execute(
            "INSERT INTO runs (batch_id, started_at, workers, outcome) "
            "VALUES ('x', 1, 1, 'completed')"
        ).lastrowid
        ids = {
            "relative": _insert_file(raw, b"a.mkv", a, 3.0),  # typed in films/
            "absolute": _insert_file(raw, os.fsencode(films / "a.mkv"), a, 2.0),
            "symlinked": _insert_file(raw, os.fsencode(tmp_path / "link" / "a.mkv"), a, 1.0),
            "b": _insert_file(raw, os.fsencode(tmp_path / "link" / "b.mkv"), b, 1.0),
            "lost": _insert_file(raw, b"elsewhere/c.mkv", b, 1.0),
        }
        for name, file_id in ids.items():
            raw.execute(
                "INSERT INTO file_results (run_id, file_id, path, recorded_at, outcome) "
                "VALUES (?, ?, ?, 1, 'changed')",
                (run, file_id, name.encode()),
            )
    raw.close()
    monkeypatch.chdir(films)  # where the relative path was typed
    return database


def test_version_3_merges_duplicates_keeps_history_and_backs_up_first(
    v2_library_with_duplicates: Path, tmp_path: Path
) -> None:
    database = v2_library_with_duplicates
    films = (tmp_path / "real" / "films").resolve()
    with Library.open(database) as library:
        assert library.schema_version() >= 3
        totals = library.totals()
        assert totals.files == 2
        assert sorted(p for p, _ in library.iter_paths_under(films)) == [
            films / "a.mkv",
            films / "b.mkv",
        ]
        records = {r.path.name: r for r in library.iter_file_results()}
    with sqlite3.connect(database) as raw:
        (kept,) = raw.execute(
            "SELECT id FROM files WHERE path = ?", (os.fsencode(films / "a.mkv"),)
        ).fetchone()
        by_record = dict(raw.execute("SELECT path, file_id FROM file_results").fetchall())
    raw.close()
    # The freshest row (the relative one) survives; all three histories point at it.
    assert by_record[b"relative"] == by_record[b"absolute"] == by_record[b"symlinked"] == kept
    assert by_record[b"lost"] is None  # unresolvable: dropped from the cache, history kept
    assert set(records) == {"relative", "absolute", "symlinked", "b", "lost"}
    (backup,) = tmp_path.glob("library.db.schema2-*.bak")
    with sqlite3.connect(backup) as raw:
        assert raw.execute("SELECT COUNT(*) FROM files").fetchone() == (5,)
    raw.close()


def test_after_version_3_every_spelling_finds_the_one_row(
    v2_library_with_duplicates: Path, tmp_path: Path
) -> None:
    with Library.open(v2_library_with_duplicates) as library:
        for spelling in (
            Path("a.mkv"),
            tmp_path / "link" / "a.mkv",
            tmp_path / "real" / "films" / "a.mkv",
        ):
            assert library.file_state(spelling) is not None, spelling


def test_a_library_at_version_4_without_3_gets_3_applied(tmp_path: Path) -> None:
    """vpo serve's schema 4 reached some libraries before schema 3: it is applied late."""
    database = tmp_path / "library.db"
    without_3 = tuple(m for m in MIGRATIONS[:4] if m.version != 3)  # pinned: a v4 library
    Library.open(database, migrations=without_3).close()
    with sqlite3.connect(database) as raw:
        versions = [row[0] for row in raw.execute("SELECT version FROM schema_migrations")]
    raw.close()
    assert 3 not in versions

    with Library.open(database) as library:
        run = library.start_run(policy_name="p", policy_hash="h", workers=1)  # needs runs.owner
        assert library.close_abandoned_runs() == []
        assert [r.run_id for r in library.runs()] == [run]
    with sqlite3.connect(database) as raw:
        versions = sorted(row[0] for row in raw.execute("SELECT version FROM schema_migrations"))
    raw.close()
    assert versions == sorted(m.version for m in MIGRATIONS)
    assert list(tmp_path.glob("library.db.schema4-*.bak")), "backed up before the late step"
