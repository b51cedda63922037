"""``Library``: the one class that talks to SQLite (nothing else imports sqlite3).

Concurrency model (see docs/library.md): WAL journal, one connection per thread
(opened lazily), a busy timeout for other processes, and an in-process write lock
so threads of one vpo never race for the write lock. Writes are short explicit
``BEGIN IMMEDIATE`` transactions; no transaction is ever open while a tool runs.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vpo.library import rows
from vpo.library.records import (
    FileOutcome,
    FileRecord,
    FileResultRow,
    FileState,
    FileStatus,
    LibraryError,
    LibraryTotals,
    MovedFile,
    ProbedFile,
    ProbeFailure,
    RunCounts,
    RunOutcome,
    RunRow,
    StatKey,
)
from vpo.library.schema import MIGRATIONS, MIGRATIONS_TABLE, Migration
from vpo.media.model import MediaFile

BUSY_TIMEOUT_SECONDS = 30.0
_PAGE = 1000  # rows per page when streaming large result sets
_TRACK_INSERT = (
    f"INSERT INTO tracks (file_id, {', '.join(rows.TRACK_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(rows.TRACK_COLUMNS) + 1))})"
)
_ATTACHMENT_INSERT = (
    f"INSERT INTO attachments (file_id, {', '.join(rows.ATTACHMENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(rows.ATTACHMENT_COLUMNS) + 1))})"
)
_MEDIA_SELECT = ", ".join(rows.MEDIA_COLUMNS)
_RUN_SELECT = (
    "SELECT id, batch_id, policy_name, policy_hash, started_at, finished_at, workers, outcome, "
    "files_changed, files_unchanged, files_skipped, files_failed, bytes_written, bytes_saved "
    "FROM runs"
)


class Library:
    """The library database: file cache, processing history and report queries.

    Construct with ``Library.open(path)``; the constructor itself does no I/O.
    Safe to share between threads.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._registry_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False

    # ----------------------------------------------------------------- lifecycle

    @classmethod
    def open(cls, path: Path, *, migrations: Sequence[Migration] = MIGRATIONS) -> Library:
        """Open (creating if needed) and migrate the database at ``path``.

        Raises LibraryError with one line naming the file when it is unusable.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LibraryError(
                f"{path}: cannot create the library directory: {error.strerror or error}"
            ) from error
        if path.is_dir():
            raise LibraryError(f"{path}: is a directory, not a library database")
        library = cls(path)
        try:
            _migrate(library._connection(), path, migrations)
        except BaseException:
            library.close()
            raise
        return library

    def close(self) -> None:
        """Close every thread's connection; the object is unusable afterwards."""
        with self._registry_lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def schema_version(self) -> int:
        with self._errors():
            return _current_version(self._connection())

    # ------------------------------------------------------------- file cache

    def file_state(self, path: Path) -> FileState | None:
        """The stored row for ``path`` (no tracks), or None when it is not in the library."""
        with self._errors():
            row = (
                self._connection()
                .execute(
                    "SELECT size, mtime_ns, inode, device, ctime_ns, status, last_error "
                    "FROM files WHERE path = ?",
                    (rows.path_to_db(path),),
                )
                .fetchone()
            )
        if row is None:
            return None
        size, mtime_ns, inode, device, ctime_ns, status, last_error = row
        return FileState(
            path, StatKey(size, mtime_ns, inode, device, ctime_ns), FileStatus(status), last_error
        )

    def cached_media(
        self, path: Path, size: int, mtime_ns: int, inode: int, ctime_ns: int
    ) -> MediaFile | None:
        """The cached MediaFile when the file on disk still matches it, else None.

        A hit means size, mtime, inode and ctime are unchanged and the last probe
        worked; pass them from one fresh ``os.stat``.
        """
        with self._read() as connection:
            row = connection.execute(
                f"SELECT id, size, mtime_ns, inode, ctime_ns, device, status, {_MEDIA_SELECT} "
                "FROM files WHERE path = ?",
                (rows.path_to_db(path),),
            ).fetchone()
            if row is None:
                return None
            file_id, stored_size, stored_mtime, stored_inode, stored_ctime, device, status = row[:7]
            stored = StatKey(stored_size, stored_mtime, stored_inode, device, stored_ctime)
            if status != FileStatus.OK.value or not stored.matches(
                StatKey(size, mtime_ns, inode, device, ctime_ns)
            ):
                return None
            tracks = connection.execute(
                f"SELECT {', '.join(rows.TRACK_COLUMNS)} FROM tracks "
                "WHERE file_id = ? ORDER BY position",
                (file_id,),
            ).fetchall()
            attachments = connection.execute(
                f"SELECT {', '.join(rows.ATTACHMENT_COLUMNS)} FROM attachments "
                "WHERE file_id = ? ORDER BY position",
                (file_id,),
            ).fetchall()
        return rows.media_from_rows(
            path, size, mtime_ns, inode, device, row[7:], tracks, attachments
        )

    def record_probe(self, media: MediaFile, ctime_ns: int | None) -> None:
        """Store a fresh probe: the file's stat key (with the ctime of the stat taken
        before probing), media fields and every track."""
        self.write_scan_batch(probed=(ProbedFile(media, ctime_ns),))

    def write_scan_batch(
        self,
        *,
        probed: Sequence[ProbedFile] = (),
        failures: Sequence[ProbeFailure] = (),
        restored: Sequence[Path] = (),
        moved: Sequence[MovedFile] = (),
    ) -> None:
        """Write one batch of scan results in a single transaction.

        ``restored``: files marked missing that reappeared unchanged. ``moved``:
        files renamed on disk; their tracks and history follow.
        """
        if not (probed or failures or restored or moved):
            return
        now = time.time()
        with self._write() as connection:
            for move in moved:
                # The rename changed the ctime; a row without one (schema 1) stays without.
                connection.execute(
                    "UPDATE files SET path = ?, status = 'ok', updated_at = ?, "
                    "ctime_ns = CASE WHEN ctime_ns IS NULL THEN NULL ELSE ? END WHERE path = ?",
                    (rows.path_to_db(move.new), now, move.ctime_ns, rows.path_to_db(move.old)),
                )
            for item in probed:
                _upsert_media(connection, item.media, item.ctime_ns, now)
            for failure in failures:
                _upsert_failure(connection, failure, now)
            connection.executemany(
                "UPDATE files SET status = 'ok', updated_at = ? WHERE path = ? "
                "AND status = 'missing'",
                [(now, rows.path_to_db(path)) for path in restored],
            )

    def find_moved(self, key: StatKey) -> tuple[Path, ...]:
        """Stored paths with the same device, inode, size and mtime as ``key``: where
        a renamed file used to be (not the ctime: the rename itself changes it)."""
        with self._errors():
            found = (
                self._connection()
                .execute(
                    "SELECT path FROM files WHERE status != 'error' AND inode = ? AND device = ? "
                    "AND size = ? "
                    "AND mtime_ns = ? ORDER BY path",
                    (key.inode, key.device, key.size, key.mtime_ns),
                )
                .fetchall()
            )
        return tuple(rows.path_from_db(path) for (path,) in found)

    def iter_paths_under(self, root: Path) -> Iterator[tuple[Path, FileStatus]]:
        """Stream (path, status) of stored files at or below ``root``, in path order.

        Pages through the index, so no transaction stays open between pages.
        """
        encoded = rows.path_to_db(root)
        with self._errors():
            exact = (
                self._connection()
                .execute("SELECT status FROM files WHERE path = ?", (encoded,))
                .fetchone()
            )
        if exact is not None:
            yield root, FileStatus(exact[0])
        prefix = encoded if encoded.endswith(b"/") else encoded + b"/"
        upper = prefix[:-1] + b"0"  # "0" sorts right after "/"
        last = prefix
        while True:
            with self._errors():
                page = (
                    self._connection()
                    .execute(
                        "SELECT path, status FROM files WHERE path >= ? AND path < ? "
                        "AND path > ? ORDER BY path LIMIT ?",
                        (prefix, upper, last, _PAGE),
                    )
                    .fetchall()
                )
            for path, status in page:
                yield rows.path_from_db(path), FileStatus(status)
            if len(page) < _PAGE:
                return
            last = page[-1][0]

    def mark_missing(self, paths: Sequence[Path]) -> None:
        """Files that vanished from disk: kept with their history, flagged missing."""
        now = time.time()
        with self._write() as connection:
            connection.executemany(
                "UPDATE files SET status = 'missing', updated_at = ? WHERE path = ?",
                [(now, rows.path_to_db(path)) for path in paths],
            )

    def prune(self, paths: Sequence[Path]) -> None:
        """Forget files entirely (tracks go too); their processing history stays."""
        with self._write() as connection:
            connection.executemany(
                "DELETE FROM files WHERE path = ?", [(rows.path_to_db(p),) for p in paths]
            )

    # --------------------------------------------------------- processing runs

    def start_run(
        self,
        *,
        policy_name: str | None,
        policy_hash: str | None,
        workers: int,
        batch_id: str | None = None,
        started_at: float | None = None,
    ) -> int:
        """Record the start of a processing run and return its id."""
        with self._write() as connection:
            cursor = connection.execute(
                "INSERT INTO runs (batch_id, policy_name, policy_hash, started_at, workers, "
                "outcome, bytes_saved) VALUES (?, ?, ?, ?, ?, 'running', 0)",
                (
                    batch_id or uuid.uuid4().hex,
                    policy_name,
                    policy_hash,
                    time.time() if started_at is None else started_at,
                    workers,
                ),
            )
            run_id = cursor.lastrowid
        assert run_id is not None
        return run_id

    def record_file_result(
        self, run_id: int, record: FileRecord, *, recorded_at: float | None = None
    ) -> None:
        """Record one file's result; with ``record.after`` the file cache is refreshed too."""
        self.record_file_results(run_id, (record,), recorded_at=recorded_at)

    def record_file_results(
        self, run_id: int, records: Sequence[FileRecord], *, recorded_at: float | None = None
    ) -> None:
        """Record several results in one transaction (the coordinator may batch them)."""
        now = time.time() if recorded_at is None else recorded_at
        with self._write() as connection:
            for record in records:
                _insert_file_result(connection, run_id, record, now)

    def finish_run(
        self,
        run_id: int,
        counts: RunCounts,
        *,
        outcome: RunOutcome = RunOutcome.COMPLETED,
        finished_at: float | None = None,
    ) -> None:
        """Close a run with its outcome counts."""
        with self._write() as connection:
            cursor = connection.execute(
                "UPDATE runs SET finished_at = ?, outcome = ?, files_changed = ?, "
                "files_unchanged = ?, files_skipped = ?, files_failed = ?, bytes_written = ? "
                "WHERE id = ?",
                (
                    time.time() if finished_at is None else finished_at,
                    outcome.value,
                    counts.changed,
                    counts.unchanged,
                    counts.skipped,
                    counts.failed,
                    counts.bytes_written,
                    run_id,
                ),
            )
            if cursor.rowcount != 1:
                raise LibraryError(f"{self.path}: no processing run with id {run_id}")

    # ------------------------------------------------------------------ reports

    def runs(
        self,
        *,
        since: float | None = None,
        policy: str | None = None,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[RunRow]:
        """Processing runs started at or after ``since``, optionally of one policy."""
        clauses, params = _run_filters(since, policy, "started_at", "policy_name")
        order = "DESC" if newest_first else "ASC"
        sql = f"{_RUN_SELECT}{clauses} ORDER BY started_at {order}, id {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._errors():
            found = self._connection().execute(sql, params).fetchall()
        return [_run_from_row(row) for row in found]

    def iter_file_results(
        self,
        *,
        since: float | None = None,
        policy: str | None = None,
        outcomes: Collection[FileOutcome] | None = None,
    ) -> Iterator[FileResultRow]:
        """Per-file records in the order they were written, streamed page by page."""
        clauses, params = _run_filters(since, policy, "r.recorded_at", "u.policy_name")
        if outcomes is not None:
            marks = ", ".join("?" * len(outcomes))
            clauses += f"{' AND' if clauses else ' WHERE'} r.outcome IN ({marks})"
            params.extend(o.value for o in outcomes)
        last_id = 0
        while True:
            paged = f"{clauses}{' AND' if clauses else ' WHERE'} r.id > ?"
            with self._errors():
                page = (
                    self._connection()
                    .execute(
                        "SELECT r.id, r.run_id, u.batch_id, u.policy_name, r.recorded_at, r.path, "
                        "r.outcome, r.plan_kind, r.tool, r.phase, r.before_summary, "
                        "r.after_summary, r.changes, r.bytes_written, r.seconds, r.error, "
                        "r.original_size, r.bytes_saved, r.encode_seconds, r.encode_speed "
                        f"FROM file_results r JOIN runs u ON u.id = r.run_id{paged} "
                        "ORDER BY r.id LIMIT ?",
                        [*params, last_id, _PAGE],
                    )
                    .fetchall()
                )
            for row in page:
                yield _file_result_from_row(row)
            if len(page) < _PAGE:
                return
            last_id = page[-1][0]

    def totals(self, *, recent_runs: int = 5) -> LibraryTotals:
        """Library-wide counts for ``vpo status``, computed in one read transaction."""
        with self._read() as connection:
            by_status: dict[str, int] = {}
            total_bytes = 0
            for status, count, size in connection.execute(
                "SELECT status, COUNT(*), COALESCE(SUM(size), 0) FROM files GROUP BY status"
            ):
                by_status[status] = count
                if status != FileStatus.MISSING.value:
                    total_bytes += size
            by_container = dict(
                connection.execute(
                    "SELECT container, COUNT(*) FROM files WHERE status = 'ok' "
                    "GROUP BY container ORDER BY COUNT(*) DESC, container"
                ).fetchall()
            )
            per_type = {
                kind: _count_files_by_track(connection, kind, column)
                for kind, column in (
                    ("video", "codec"),
                    ("audio", "language"),
                    ("subtitle", "language"),
                )
            }
            (never_processed,) = connection.execute(
                "SELECT COUNT(*) FROM files f WHERE f.status != 'missing' AND NOT EXISTS "
                "(SELECT 1 FROM file_results r WHERE r.file_id = f.id "
                "AND r.outcome IN ('changed', 'unchanged'))"
            ).fetchone()
            recent = connection.execute(
                f"{_RUN_SELECT} ORDER BY started_at DESC, id DESC LIMIT ?", (recent_runs,)
            ).fetchall()
            saved_by_policy = {
                str(policy): int(saved)
                for policy, saved in connection.execute(
                    "SELECT COALESCE(policy_name, ''), SUM(bytes_saved) FROM runs "
                    "WHERE bytes_saved IS NOT NULL GROUP BY policy_name "
                    "HAVING SUM(bytes_saved) != 0 "
                    "ORDER BY SUM(bytes_saved) DESC, policy_name"
                )
            }
        present = sum(n for s, n in by_status.items() if s != FileStatus.MISSING.value)
        return LibraryTotals(
            files=present,
            total_bytes=total_bytes,
            by_status=by_status,
            by_container=by_container,
            by_video_codec=per_type["video"],
            by_audio_language=per_type["audio"],
            by_subtitle_language=per_type["subtitle"],
            never_processed=never_processed,
            recent_runs=tuple(_run_from_row(row) for row in recent),
            bytes_saved=sum(saved_by_policy.values()),
            saved_by_policy=saved_by_policy,
        )

    # ---------------------------------------------------------------- plumbing

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        with self._registry_lock:
            if self._closed:
                raise LibraryError(f"{self.path}: the library database is closed")
            with self._errors():
                connection = _connect(self.path)
            self._connections.append(connection)
        self._local.connection = connection
        return connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn any sqlite3 error into one LibraryError line naming the database."""
        try:
            yield
        except sqlite3.Error as error:
            raise LibraryError(_explain(self.path, error)) from error

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        with self._write_lock, self._errors():
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot across several SELECTs."""
        connection = self._connection()
        with self._errors():
            connection.execute("BEGIN")
            try:
                yield connection
            finally:
                connection.execute("COMMIT")


# ------------------------------------------------------------------- helpers


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        _enable_wal(connection)
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        connection.close()
        raise
    return connection


def _enable_wal(connection: sqlite3.Connection) -> None:
    """Switch to WAL, retrying: the switch needs an exclusive lock and SQLite answers
    "database is locked" at once (no busy handler) while another connection opens
    the same new database."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _explain(path: Path, error: sqlite3.Error) -> str:
    text = str(error)
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in text:
        return f"{path}: not a vpo library database ({text}); move it away or pass --db"
    if "locked" in text or "busy" in text:
        return f"{path}: the library database is locked by another process ({text}); retry later"
    if "unable to open" in text or "readonly" in text:
        return f"{path}: cannot write the library database ({text}); check permissions or --db"
    return f"{path}: library database error: {text}"


def _current_version(connection: sqlite3.Connection) -> int:
    (version,) = connection.execute(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
    ).fetchone()
    return int(version)


def _migrate(connection: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> None:
    """Apply pending migrations, each in its own transaction, recorded as applied.

    The version is re-read inside the write transaction, so two vpo processes
    opening a new database at once do not both apply a migration.
    """
    latest = migrations[-1].version if migrations else 0
    try:
        connection.execute(MIGRATIONS_TABLE)
        connection.execute("BEGIN")  # one snapshot: another opener may be migrating
        try:
            current = _current_version(connection)
            foreign = current == 0 and _has_foreign_tables(connection)
        finally:
            connection.execute("COMMIT")
        if foreign:
            raise LibraryError(
                f"{path}: an SQLite database that is not a vpo library; move it away or pass --db"
            )
    except sqlite3.Error as error:
        raise LibraryError(_explain(path, error)) from error
    if current > latest:
        raise LibraryError(
            f"{path}: the library was written by a newer vpo (schema {current}, "
            f"this vpo knows up to {latest}); upgrade vpo"
        )
    held_data = current > 0  # a database created just now has nothing to back up
    for migration in migrations:
        if migration.version <= current:
            continue
        backup = (
            _backup(connection, path, current) if migration.rewrites_data and held_data else None
        )
        _apply(connection, path, migration, backup)
        current = migration.version


def _apply(
    connection: sqlite3.Connection, path: Path, migration: Migration, backup: Path | None
) -> None:
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            if _current_version(connection) < migration.version:
                for statement in migration.statements:
                    connection.execute(statement)
                connection.execute(
                    "INSERT INTO schema_migrations (version, description, applied_at) "
                    "VALUES (?, ?, ?)",
                    (migration.version, migration.description, time.time()),
                )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        kept = f"; a copy from before is at {backup}" if backup else ""
        raise LibraryError(
            f"{path}: migration to schema {migration.version} ({migration.description}) "
            f"failed and was rolled back: {error}{kept}"
        ) from error


def _backup(connection: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the whole database with the online backup API before rewriting data."""
    try:
        target = _claim_backup_name(path, version)
        destination = sqlite3.connect(target)
        try:
            connection.backup(destination)
        finally:
            destination.close()
    except (sqlite3.Error, OSError) as error:
        raise LibraryError(
            f"{path}: cannot back up the library before migrating ({error}); nothing was changed"
        ) from error
    return target


def _claim_backup_name(path: Path, version: int) -> Path:
    """``library.db.schema1-20261128-162432.bak`` (``-2``, ``-3`` … when taken), created
    exclusively so two vpo openers migrating at once never write one file."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    for attempt in itertools.count(1):
        suffix = "" if attempt == 1 else f"-{attempt}"
        target = path.with_name(f"{path.name}.schema{version}-{stamp}{suffix}.bak")
        try:
            target.open("xb").close()  # an empty file is an empty SQLite database
        except FileExistsError:
            continue
        return target
    raise AssertionError("unreachable")


def _has_foreign_tables(connection: sqlite3.Connection) -> bool:
    found = connection.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
        "AND name NOT IN ('schema_migrations') AND name NOT LIKE 'sqlite_%'"
    ).fetchone()
    return bool(found[0])


def _upsert_media(
    connection: sqlite3.Connection, media: MediaFile, ctime_ns: int | None, now: float
) -> int:
    encoded = rows.path_to_db(media.path)
    media_row = rows.media_to_row(media)
    connection.execute(
        "INSERT INTO files (path, size, mtime_ns, inode, device, ctime_ns, status, last_error, "
        f"{_MEDIA_SELECT}, probed_at, first_seen, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'ok', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
        "inode = excluded.inode, device = excluded.device, ctime_ns = excluded.ctime_ns, "
        "status = 'ok', last_error = NULL, "
        "container = excluded.container, format_name = excluded.format_name, "
        "duration = excluded.duration, bit_rate = excluded.bit_rate, title = excluded.title, "
        "chapter_count = excluded.chapter_count, probed_at = excluded.probed_at, "
        "updated_at = excluded.updated_at",
        (
            encoded,
            media.size,
            media.mtime_ns,
            media.inode,
            media.device,
            ctime_ns,
            *media_row,
            now,
            now,
            now,
        ),
    )
    file_id = _file_id(connection, encoded)
    assert file_id is not None
    connection.execute("DELETE FROM tracks WHERE file_id = ?", (file_id,))
    connection.execute("DELETE FROM attachments WHERE file_id = ?", (file_id,))
    connection.executemany(
        _TRACK_INSERT, [(file_id, *rows.track_to_row(track)) for track in media.tracks]
    )
    connection.executemany(
        _ATTACHMENT_INSERT,
        [(file_id, *rows.attachment_to_row(i, a)) for i, a in enumerate(media.attachments)],
    )
    return file_id


def _upsert_failure(connection: sqlite3.Connection, failure: ProbeFailure, now: float) -> None:
    encoded = rows.path_to_db(failure.path)
    key = failure.key
    connection.execute(
        "INSERT INTO files (path, size, mtime_ns, inode, device, ctime_ns, status, last_error, "
        "probed_at, first_seen, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'error', ?, ?, ?, ?) "
        "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
        "inode = excluded.inode, device = excluded.device, ctime_ns = excluded.ctime_ns, "
        "status = 'error', "
        "last_error = excluded.last_error, container = NULL, format_name = NULL, "
        "duration = NULL, bit_rate = NULL, title = NULL, chapter_count = 0, "
        "probed_at = excluded.probed_at, updated_at = excluded.updated_at",
        (
            encoded,
            key.size,
            key.mtime_ns,
            key.inode,
            key.device,
            key.ctime_ns,
            failure.error,
            now,
            now,
            now,
        ),
    )
    file_id = _file_id(connection, encoded)
    connection.execute("DELETE FROM tracks WHERE file_id = ?", (file_id,))
    connection.execute("DELETE FROM attachments WHERE file_id = ?", (file_id,))


def _file_id(connection: sqlite3.Connection, encoded_path: bytes) -> int | None:
    row = connection.execute("SELECT id FROM files WHERE path = ?", (encoded_path,)).fetchone()
    return None if row is None else int(row[0])


def _insert_file_result(
    connection: sqlite3.Connection, run_id: int, record: FileRecord, now: float
) -> None:
    if record.after is not None:
        if record.after.path != record.path:  # e.g. movie.mp4 became movie.mkv
            connection.execute(
                "UPDATE files SET path = ? WHERE path = ? AND NOT EXISTS "
                "(SELECT 1 FROM files WHERE path = ?)",
                (
                    rows.path_to_db(record.after.path),
                    rows.path_to_db(record.path),
                    rows.path_to_db(record.after.path),
                ),
            )
        file_id: int | None = _upsert_media(connection, record.after, record.after_ctime_ns, now)
    else:
        file_id = _file_id(connection, rows.path_to_db(record.path))
    try:
        connection.execute(
            "INSERT INTO file_results (run_id, file_id, path, recorded_at, outcome, plan_kind, "
            "tool, phase, before_summary, after_summary, changes, bytes_written, seconds, error, "
            "original_size, bytes_saved, encode_seconds, encode_speed) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                file_id,
                rows.path_to_db(record.path),
                now,
                record.outcome.value,
                record.plan_kind,
                record.tool,
                record.phase,
                None if record.before is None else rows.track_summary(record.before),
                None if record.after is None else rows.track_summary(record.after),
                "\n".join(record.changes),
                record.bytes_written,
                record.seconds,
                record.error,
                record.original_size,
                record.bytes_saved,
                record.encode_seconds,
                record.encode_speed,
            ),
        )
    except sqlite3.IntegrityError as error:
        raise LibraryError(f"no processing run with id {run_id} ({error})") from error
    if record.bytes_saved:
        connection.execute(
            "UPDATE runs SET bytes_saved = COALESCE(bytes_saved, 0) + ? WHERE id = ?",
            (record.bytes_saved, run_id),
        )


def _run_filters(
    since: float | None, policy: str | None, time_column: str, policy_column: str
) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if since is not None:
        clauses.append(f"{time_column} >= ?")
        params.append(since)
    if policy is not None:
        clauses.append(f"{policy_column} = ?")
        params.append(policy)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _run_from_row(row: Sequence[Any]) -> RunRow:
    return RunRow(
        run_id=row[0],
        batch_id=row[1],
        policy_name=row[2],
        policy_hash=row[3],
        started_at=row[4],
        finished_at=row[5],
        workers=row[6],
        outcome=RunOutcome(row[7]),
        counts=RunCounts(*row[8:13]),
        bytes_saved=row[13],
    )


def _file_result_from_row(row: Sequence[Any]) -> FileResultRow:
    return FileResultRow(
        run_id=row[1],
        batch_id=row[2],
        policy_name=row[3],
        recorded_at=row[4],
        path=rows.path_from_db(row[5]),
        outcome=FileOutcome(row[6]),
        plan_kind=row[7],
        tool=row[8],
        phase=row[9],
        before_summary=row[10],
        after_summary=row[11],
        changes=tuple(row[12].splitlines()),
        bytes_written=row[13],
        seconds=row[14],
        error=row[15],
        original_size=row[16],
        bytes_saved=row[17],
        encode_seconds=row[18],
        encode_speed=row[19],
    )


def _count_files_by_track(
    connection: sqlite3.Connection, track_type: str, column: str
) -> dict[str, int]:
    """Files having at least one ``track_type`` track, per value of ``column``."""
    assert column in ("codec", "language")
    found = connection.execute(
        f"SELECT t.{column}, COUNT(DISTINCT t.file_id) FROM tracks t "
        "JOIN files f ON f.id = t.file_id WHERE t.type = ? AND f.status = 'ok' "
        f"GROUP BY t.{column} ORDER BY COUNT(DISTINCT t.file_id) DESC, t.{column}",
        (track_type,),
    ).fetchall()
    return {str(value): int(count) for value, count in found}
