"""``Library``: the one entry point to the SQLite library (only vpo.library imports sqlite3).

Library owns connections, transactions and locks; the statements live beside it
in connection (PRAGMAs), migrate (schema upgrades), writes (probe and result
rows) and report_queries (report SQL), each run on a connection it hands in.

Concurrency model (see docs/library.md): WAL journal, one connection per thread
(opened lazily), a busy timeout for other processes, and an in-process write lock
so threads of one vpo never race for the write lock. Writes are short explicit
``BEGIN IMMEDIATE`` transactions; no transaction is ever open while a tool runs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from vpo.library import rows
from vpo.library.connection import connect, explain, missing_wal, missing_wal_text
from vpo.library.liveness import current_owner, owner_is_gone
from vpo.library.migrate import current_version, migrate
from vpo.library.paths import normalise_directory
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
from vpo.library.report_queries import (
    RUN_SELECT,
    file_result_from_row,
    read_totals,
    run_filters,
    run_from_row,
)
from vpo.library.schema import MIGRATIONS, Migration
from vpo.library.writes import insert_file_result, upsert_failure, upsert_media
from vpo.media.model import MediaFile

if TYPE_CHECKING:  # imported when used: commands that never see a job or the API skip them
    from vpo.library.file_queries import FileDetail, FileFilters, FileOrder, FileSummary
    from vpo.library.jobs import JobQueue
    from vpo.library.metadata import FileLink, StoredTitle
    from vpo.media.metadata import FileMetadata, MetadataSource, TitleMetadata

_PAGE = 1000  # rows per page when streaming large result sets
_LOOKUP_PAGE = 400  # paths per batched cache lookup (below SQLite's 999 bound parameters)
_MEDIA_SELECT = ", ".join(rows.MEDIA_COLUMNS)


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
        self._totals_lock = threading.Lock()
        self._totals_connection: sqlite3.Connection | None = None
        self._totals_cache: tuple[tuple[int, int], LibraryTotals] | None = None

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
        if missing_wal(path):
            raise LibraryError(missing_wal_text(path))
        library = cls(path)
        try:
            migrate(library._connection(), path, migrations)
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

    @property
    def jobs(self) -> JobQueue:
        """The job queue of vpo serve (schema 4), on this library's connections."""
        from vpo.library.jobs import JobQueue

        return JobQueue(self)

    def schema_version(self) -> int:
        with self._errors():
            return current_version(self._connection())

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

    def cached_media_many(self, keys: Sequence[tuple[Path, StatKey]]) -> dict[Path, MediaFile]:
        """``cached_media`` for many files at once: three SELECTs per page of paths
        instead of three per file. Only hits are in the result."""
        found: dict[Path, MediaFile] = {}
        for start in range(0, len(keys), _LOOKUP_PAGE):
            page = keys[start : start + _LOOKUP_PAGE]
            with self._read() as connection:
                found.update(_cached_page(connection, page))
        return found

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
            if moved:  # a renamed file keeps its Sonarr/Radarr title
                from vpo.library.metadata import move_links

                move_links(connection, [(move.old, move.new) for move in moved])
            for item in probed:
                upsert_media(connection, item.media, item.ctime_ns, now)
            for failure in failures:
                upsert_failure(connection, failure, now)
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
        if root.is_dir():
            root = normalise_directory(root)
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
        job_id: int | None = None,
    ) -> int:
        """Record the start of a processing run (of job ``job_id``) and return its id."""
        with self._write() as connection:
            values = [
                batch_id or uuid.uuid4().hex,
                policy_name,
                policy_hash,
                time.time() if started_at is None else started_at,
                workers,
            ]
            job_column = ""
            if job_id is not None:  # only then: a run outside any job needs no schema 4
                job_column = ", job_id"
                values.append(job_id)
            cursor = connection.execute(
                "INSERT INTO runs (batch_id, policy_name, policy_hash, started_at, workers, "
                f"outcome, bytes_saved, owner{job_column}) VALUES (?, ?, ?, ?, ?, 'running', 0, ?"
                f"{', ?' if job_id is not None else ''})",
                [*values[:5], current_owner(), *values[5:]],
            )
            run_id = cursor.lastrowid
        assert run_id is not None
        return run_id

    def close_abandoned_runs(
        self, *, is_gone: Callable[[str | None], bool] | None = None
    ) -> list[int]:
        """Close as ``interrupted`` every ``running`` run whose vpo process is gone
        (killed, crashed, lost power); returns their ids.

        The counts are rebuilt from the records the run left; it ends at its last
        record (or its start when it recorded nothing). ``is_gone`` decides from the
        run's owner (default: vpo.library.liveness.owner_is_gone for this process).
        """
        me = current_owner()
        gone = is_gone or (lambda owner: owner_is_gone(owner, me))
        closed: list[int] = []
        with self._write() as connection:
            running = connection.execute(
                "SELECT id, owner FROM runs WHERE outcome = 'running'"
            ).fetchall()
            for run_id, owner in running:
                if not gone(owner):
                    continue
                connection.execute(
                    "UPDATE runs SET outcome = 'interrupted', "
                    "finished_at = COALESCE((SELECT MAX(recorded_at) FROM file_results "
                    "WHERE run_id = runs.id), started_at), "
                    + ", ".join(
                        f"files_{name} = (SELECT COUNT(*) FROM file_results "
                        f"WHERE run_id = runs.id AND outcome = '{name}')"
                        for name in ("changed", "unchanged", "skipped", "failed")
                    )
                    + ", bytes_written = (SELECT COALESCE(SUM(bytes_written), 0) "
                    "FROM file_results WHERE run_id = runs.id) WHERE id = ?",
                    (run_id,),
                )
                closed.append(run_id)
        return closed

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
                insert_file_result(connection, run_id, record, now)

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
        clauses, params = run_filters(since, policy, "started_at", "policy_name")
        order = "DESC" if newest_first else "ASC"
        sql = f"{RUN_SELECT}{clauses} ORDER BY started_at {order}, id {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._errors():
            found = self._connection().execute(sql, params).fetchall()
        return [run_from_row(row) for row in found]

    def iter_file_results(
        self,
        *,
        since: float | None = None,
        policy: str | None = None,
        outcomes: Collection[FileOutcome] | None = None,
    ) -> Iterator[FileResultRow]:
        """Per-file records in the order they were written, streamed page by page."""
        clauses, params = run_filters(since, policy, "r.recorded_at", "u.policy_name")
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
                yield file_result_from_row(row)
            if len(page) < _PAGE:
                return
            last_id = page[-1][0]

    def totals(self, *, recent_runs: int = 5) -> LibraryTotals:
        """Library-wide counts for ``vpo status``, computed in one read transaction."""
        with self._read() as connection:
            return read_totals(connection, recent_runs)

    def cached_totals(self, *, recent_runs: int = 5) -> LibraryTotals:
        """``totals()``, recomputed only after a commit by any connection (for the API).

        One dedicated connection that never writes asks ``PRAGMA data_version``,
        which changes whenever another connection, of this process or another,
        committed since it last asked.
        """
        with self._totals_lock, self._errors():
            if self._totals_connection is None:
                self._totals_connection = connect(self.path)
                with self._registry_lock:
                    self._connections.append(self._totals_connection)
            connection = self._totals_connection
            (version,) = connection.execute("PRAGMA data_version").fetchone()
            cached = self._totals_cache
            if cached is not None and cached[0] == (version, recent_runs):
                return cached[1]
            connection.execute("BEGIN")
            try:
                totals = read_totals(connection, recent_runs)
            finally:
                connection.execute("COMMIT")
            self._totals_cache = ((version, recent_runs), totals)
            return totals

    # --------------------------------------------------------- browsing (API)

    def files_page(
        self, filters: FileFilters, *, limit: int, offset: int, order: FileOrder | None = None
    ) -> tuple[list[FileSummary], int]:
        """A page of files matching ``filters`` (by id, or ``order``) and the number of matches."""
        from vpo.library.file_queries import FileOrder, page_files

        with self._read() as connection:
            return page_files(connection, filters, limit, offset, order or FileOrder.ID)

    def file_detail(self, file_id: int) -> FileDetail | None:
        from vpo.library.file_queries import file_detail

        with self._read() as connection:
            return file_detail(connection, file_id)

    def runs_page(self, *, limit: int, offset: int) -> tuple[list[RunRow], int]:
        """Runs newest first, and how many there are."""
        with self._read() as connection:
            (total,) = connection.execute("SELECT COUNT(*) FROM runs").fetchone()
            found = connection.execute(
                f"{RUN_SELECT} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [run_from_row(row) for row in found], int(total)

    def run(self, run_id: int) -> tuple[RunRow, list[FileResultRow]] | None:
        """One run and its per-file results."""
        from vpo.library.file_queries import run_results

        with self._read() as connection:
            row = connection.execute(f"{RUN_SELECT} WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            return run_from_row(row), run_results(connection, run_id)

    # ------------------------------------------------- Sonarr/Radarr metadata (schema 5)

    def metadata_for(self, paths: Sequence[Path]) -> dict[Path, FileMetadata]:
        """The stored metadata of each of ``paths`` that has any (a page of paths per
        SELECT); the keys are the paths as given."""
        from vpo.library import metadata

        found: dict[Path, list[TitleMetadata]] = {}
        for start in range(0, len(paths), metadata.LOOKUP_PAGE):
            with self._read() as connection:
                for path, title in metadata.metadata_page(
                    connection, paths[start : start + metadata.LOOKUP_PAGE]
                ):
                    found.setdefault(path, []).append(title)
        return {path: metadata.as_file_metadata(titles) for path, titles in found.items()}

    def metadata_links(
        self, paths: Sequence[Path], source: MetadataSource
    ) -> tuple[set[Path], set[int]]:
        """Which of ``paths`` have a title from ``source``, and those titles' ids."""
        from vpo.library import metadata

        linked: set[Path] = set()
        ids: set[int] = set()
        for start in range(0, len(paths), metadata.LOOKUP_PAGE):
            page = paths[start : start + metadata.LOOKUP_PAGE]
            with self._read() as connection:
                linked |= metadata.linked_paths(connection, page, source)
                ids |= metadata.titles_of(connection, page, source)
        return linked, ids

    def stored_title_ids(self, source: MetadataSource) -> set[int]:
        from vpo.library import metadata

        with self._read() as connection:
            return metadata.stored_ids(connection, source)

    def store_metadata(self, titles: Sequence[StoredTitle], links: Sequence[FileLink]) -> None:
        """Write fetched titles and file links in one transaction (after the fetch)."""
        from vpo.library import metadata

        if titles or links:
            with self._write() as connection:
                metadata.store(connection, titles, links, time.time())

    # ---------------------------------------------------------------- plumbing

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        with self._registry_lock:
            if self._closed:
                raise LibraryError(f"{self.path}: the library database is closed")
            with self._errors():
                connection = connect(self.path)
            self._connections.append(connection)
        self._local.connection = connection
        return connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn any sqlite3 error into one LibraryError line naming the database."""
        try:
            yield
        except sqlite3.Error as error:
            raise LibraryError(explain(self.path, error)) from error

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


def _cached_page(
    connection: sqlite3.Connection, page: Sequence[tuple[Path, StatKey]]
) -> Iterator[tuple[Path, MediaFile]]:
    by_path = {rows.path_to_db(path): (path, key) for path, key in page}
    marks = ", ".join("?" * len(by_path))
    matched: dict[int, tuple[Path, StatKey, Sequence[object]]] = {}
    for row in connection.execute(
        f"SELECT id, path, size, mtime_ns, inode, ctime_ns, device, status, {_MEDIA_SELECT} "
        f"FROM files WHERE path IN ({marks})",
        tuple(by_path),
    ):
        file_id, encoded, size, mtime_ns, inode, ctime_ns, device, status = row[:8]
        path, key = by_path[encoded]
        stored = StatKey(size, mtime_ns, inode, device, ctime_ns)
        if status == FileStatus.OK.value and stored.matches(key):
            matched[file_id] = (path, replace(key, device=device), row[8:])
    if not matched:
        return
    ids = ", ".join("?" * len(matched))
    tracks: dict[int, list[Sequence[object]]] = {file_id: [] for file_id in matched}
    for file_id, *track in connection.execute(
        f"SELECT file_id, {', '.join(rows.TRACK_COLUMNS)} FROM tracks "
        f"WHERE file_id IN ({ids}) ORDER BY file_id, position",
        tuple(matched),
    ):
        tracks[file_id].append(track)
    attachments: dict[int, list[Sequence[object]]] = {file_id: [] for file_id in matched}
    for file_id, *attachment in connection.execute(
        f"SELECT file_id, {', '.join(rows.ATTACHMENT_COLUMNS)} FROM attachments "
        f"WHERE file_id IN ({ids}) ORDER BY file_id, position",
        tuple(matched),
    ):
        attachments[file_id].append(attachment)
    for file_id, (path, key, media_row) in matched.items():
        yield (
            path,
            rows.media_from_rows(
                path,
                key.size,
                key.mtime_ns,
                key.inode,
                key.device,
                media_row,
                tracks[file_id],
                attachments[file_id],
            ),
        )
