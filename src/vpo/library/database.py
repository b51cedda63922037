"""``Library``: the one entry point to the SQLite library (only vpo.library imports sqlite3).

Library owns connections, transactions and locks; the statements live beside it
in connection (PRAGMAs), migrate (schema upgrades), cache_queries (the file
cache), writes (probe and result rows), run_queries (processing runs),
report_queries (report SQL), file_queries (the API's file list) and metadata
(Sonarr/Radarr titles), each run on a connection it hands in.

Concurrency model (see docs/library.md): WAL journal, one connection per thread
(opened lazily), a busy timeout for other processes, and an in-process write lock
so threads of one vpo never race for the write lock. Writes are short explicit
``BEGIN IMMEDIATE`` transactions; no transaction is ever open while a tool runs.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from vpo.library import cache_queries, rows, run_queries
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
    read_totals,
    run_filters,
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
            return cache_queries.file_state(self._connection(), path)

    def cached_media(
        self, path: Path, size: int, mtime_ns: int, inode: int, ctime_ns: int
    ) -> MediaFile | None:
        """The cached MediaFile when the file on disk still matches it, else None.

        A hit means size, mtime, inode and ctime are unchanged and the last probe
        worked; pass them from one fresh ``os.stat``.
        """
        with self._read() as connection:
            return cache_queries.cached_media(connection, path, size, mtime_ns, inode, ctime_ns)

    def cached_media_many(self, keys: Sequence[tuple[Path, StatKey]]) -> dict[Path, MediaFile]:
        """``cached_media`` for many files at once: three SELECTs per page of paths
        instead of three per file. Only hits are in the result."""
        found: dict[Path, MediaFile] = {}
        for start in range(0, len(keys), _LOOKUP_PAGE):
            page = keys[start : start + _LOOKUP_PAGE]
            with self._read() as connection:
                found.update(cache_queries.cached_page(connection, page))
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
            cache_queries.move_files(connection, moved, now)
            for item in probed:
                upsert_media(connection, item.media, item.ctime_ns, now)
            for failure in failures:
                upsert_failure(connection, failure, now)
            cache_queries.mark_restored(connection, restored, now)

    def find_moved(self, key: StatKey) -> tuple[Path, ...]:
        """Stored paths with the same device, inode, size and mtime as ``key``: where
        a renamed file used to be (not the ctime: the rename itself changes it)."""
        with self._errors():
            return cache_queries.find_moved(self._connection(), key)

    def iter_paths_under(self, root: Path) -> Iterator[tuple[Path, FileStatus]]:
        """Stream (path, status) of stored files at or below ``root``, in path order.

        Pages through the index, so no transaction stays open between pages.
        """
        if root.is_dir():
            root = normalise_directory(root)
        encoded = rows.path_to_db(root)
        with self._errors():
            exact = cache_queries.status_of(self._connection(), encoded)
        if exact is not None:
            yield root, exact
        prefix = encoded if encoded.endswith(b"/") else encoded + b"/"
        last = prefix
        while True:
            with self._errors():
                page = cache_queries.paths_after(self._connection(), prefix, last, _PAGE)
            for path, status in page:
                yield rows.path_from_db(path), FileStatus(status)
            if len(page) < _PAGE:
                return
            last = page[-1][0]

    def mark_missing(self, paths: Sequence[Path]) -> None:
        """Files that vanished from disk: kept with their history, flagged missing."""
        with self._write() as connection:
            cache_queries.mark_missing(connection, paths, time.time())

    def prune(self, paths: Sequence[Path]) -> None:
        """Forget files entirely (tracks go too); their processing history stays."""
        with self._write() as connection:
            cache_queries.prune(connection, paths)

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
            return run_queries.insert_run(
                connection,
                policy_name=policy_name,
                policy_hash=policy_hash,
                workers=workers,
                batch_id=batch_id,
                started_at=time.time() if started_at is None else started_at,
                owner=current_owner(),
                job_id=job_id,
            )

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
        with self._write() as connection:
            return run_queries.close_abandoned(connection, gone)

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
            run_queries.finish_run(
                connection,
                run_id,
                counts,
                outcome,
                time.time() if finished_at is None else finished_at,
                str(self.path),
            )

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
        clauses += f" ORDER BY started_at {order}, id {order}"
        if limit is not None:
            clauses += " LIMIT ?"
            params.append(limit)
        with self._errors():
            return run_queries.runs(self._connection(), clauses, params)

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
            with self._errors():
                page, last_id = run_queries.file_results_after(
                    self._connection(), clauses, params, last_id, _PAGE
                )
            yield from page
            if len(page) < _PAGE:
                return

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
            return run_queries.runs_page(connection, limit, offset)

    def run(self, run_id: int) -> tuple[RunRow, list[FileResultRow]] | None:
        """One run and its per-file results."""
        from vpo.library.file_queries import run_results

        with self._read() as connection:
            row = run_queries.run_row(connection, run_id)
            return None if row is None else (row, run_results(connection, run_id))

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
