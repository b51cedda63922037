"""``vpo db backup|restore|check|optimize`` and the daemon's daily backups.

Backups use SQLite's online backup API, so they are consistent while vpo writes.
A restore copies a checked backup over the library (never while a daemon holds
the library: see ``daemon_lock``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from vpo.library.connection import explain
from vpo.library.database import Library
from vpo.library.records import LibraryError

DAILY_PREFIX = "daily-"


@dataclass(frozen=True, slots=True)
class CheckReport:
    integrity: tuple[str, ...]  # "ok" alone when the file is sound
    foreign_keys: tuple[str, ...]  # one line per dangling reference

    @property
    def ok(self) -> bool:
        return self.integrity == ("ok",) and not self.foreign_keys


def backup(library: Library, target: Path) -> Path:
    """Copy the whole library to ``target`` (must not exist), consistent under writes."""
    if target.exists():
        raise LibraryError(f"{target}: already exists; choose another backup name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.vpo-tmp")
    try:
        destination = sqlite3.connect(partial)
        try:
            with library._errors():
                library._connection().backup(destination)
        finally:
            destination.close()
        partial.replace(target)
    except (sqlite3.Error, OSError) as error:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise LibraryError(f"{target}: cannot write the backup: {error}") from error
    return target


def check(library: Library) -> CheckReport:
    with library._errors():
        connection = library._connection()
        integrity = tuple(str(row[0]) for row in connection.execute("PRAGMA integrity_check"))
        foreign = tuple(
            f"{table} row {rowid}: no {parent} row it refers to"
            for table, rowid, parent, _ in connection.execute("PRAGMA foreign_key_check")
        )
    return CheckReport(integrity, foreign)


def optimize(library: Library) -> tuple[int, int]:
    """ANALYZE, VACUUM and a WAL checkpoint; returns the file size before and after."""
    before = library.path.stat().st_size
    with library._write_lock, library._errors():
        connection = library._connection()
        connection.execute("ANALYZE")
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return before, library.path.stat().st_size


def optimize_planner(library: Library) -> None:
    """``PRAGMA optimize``: refreshes query statistics where they are stale (cheap)."""
    with library._write_lock, library._errors():
        library._connection().execute("PRAGMA optimize")


def restore(source: Path, database: Path) -> None:
    """Replace the library at ``database`` with the checked backup ``source``."""
    try:
        raw = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            result = raw.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        finally:
            raw.close()
    except sqlite3.Error as error:
        raise LibraryError(explain(source, error)) from error
    if result != ("ok",) or "schema_migrations" not in tables:
        raise LibraryError(f"{source}: not a sound vpo library backup; nothing was restored")
    partial = database.with_name(f".{database.name}.restore-tmp")
    try:
        source_connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(partial)
        try:
            source_connection.backup(target)
        finally:
            target.close()
            source_connection.close()
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{database}{suffix}").unlink()
        partial.replace(database)
    except (sqlite3.Error, OSError) as error:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise LibraryError(f"{database}: restore failed, library unchanged: {error}") from error


def daily_backup(library: Library, keep: int, *, now: float | None = None) -> Path | None:
    """Today's backup beside the library (once a day), keeping the newest ``keep``."""
    if keep <= 0:
        return None
    directory = library.path.parent / f"{library.path.name}.backups"
    stamp = time.strftime("%Y%m%d", time.localtime(time.time() if now is None else now))
    target = directory / f"{DAILY_PREFIX}{stamp}.db"
    made = None
    if not target.exists():
        made = backup(library, target)
    for old in sorted(directory.glob(f"{DAILY_PREFIX}*.db"))[:-keep]:
        old.unlink()
    return made


# ------------------------------------------------------------- the daemon lock


def lock_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.serve.lock")


@contextlib.contextmanager
def daemon_lock(database: Path, address: str) -> Iterator[None]:
    """Held by ``vpo serve`` while it runs; holds the address clients reach it at."""
    path = lock_path(database)
    handle: IO[str] = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LibraryError(
                f"{database}: another vpo serve is already running on this library"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(address)
        handle.flush()
        os.fsync(handle.fileno())
        yield
    finally:
        handle.close()


def running_daemon(database: Path) -> str | None:
    """The address of the vpo serve holding ``database``, or None when none runs."""
    path = lock_path(database)
    try:
        handle = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "unknown address"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
