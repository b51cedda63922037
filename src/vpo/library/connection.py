"""Opening a library connection: the PRAGMAs every connection needs, and error text.

Kept apart from Library so the per-connection settings (WAL, busy timeout,
foreign keys) are in one place, and so migrations and queries explain SQLite
errors with the same one-line message naming the database.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 30.0


def connect(path: Path) -> sqlite3.Connection:
    """Autocommit (Library issues BEGIN itself), shareable, with the PRAGMAs applied."""
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


_SQLITE_CORRUPT, _SQLITE_FULL = 11, 13  # primary result codes (sqlite3.h)
WHAT_TO_DO_DAMAGED = (
    "run 'vpo db check'; restore a backup ('vpo db restore', or a "
    "NAME.schemaN-*.bak copy beside it) or move the file away to start a new library "
    "(the media files are not affected)"
)


def explain(path: Path, error: sqlite3.Error) -> str:
    """One line naming the database, what went wrong and what to do next."""
    text = str(error)
    code = getattr(error, "sqlite_errorcode", -1) & 0xFF  # the primary result code
    if code == _SQLITE_FULL or "database or disk is full" in text:
        return (
            f"{path}: no space left for the library database ({text}); free space on its "
            "disk (or move it with [library] database), then run 'vpo db check'"
        )
    if code == _SQLITE_CORRUPT or "malformed" in text:
        return f"{path}: the library database is damaged ({text}); {WHAT_TO_DO_DAMAGED}"
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in text:
        return (
            f"{path}: not a vpo library database, or a damaged one ({text}); "
            f"{WHAT_TO_DO_DAMAGED}, or pass --db"
        )
    if "disk I/O error" in text:
        return (
            f"{path}: the library database could not be written ({text}: a full, "
            "read-only or failing disk); free space or check the disk, then run 'vpo db check'"
        )
    if "locked" in text or "busy" in text:
        return f"{path}: the library database is locked by another process ({text}); retry later"
    if "unable to open" in text or "readonly" in text:
        return f"{path}: cannot write the library database ({text}); check permissions or --db"
    return f"{path}: library database error: {text}"


_WAL_INDEX_VERSION = 3007000


def missing_wal_text(path: Path) -> str:
    return (
        f"{path}: its write-ahead log {path.name}-wal is missing, so the latest changes it "
        f"held are lost; {WHAT_TO_DO_DAMAGED}, or delete {path.name}-shm to keep the database "
        "without them"
    )


def quick_check(path: Path) -> str | None:
    """Why the database at ``path`` is unusable (damaged, missing log, not SQLite), or
    None when it passes SQLite's quick_check. Opens it read-only: nothing is created,
    migrated or changed."""
    if missing_wal(path):
        return missing_wal_text(path)
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        return explain(path, error)
    try:
        found = [row[0] for row in connection.execute("PRAGMA quick_check(5)")]
    except sqlite3.Error as error:
        return explain(path, error)
    finally:
        connection.close()
    if found == ["ok"]:
        return None
    return f"{path}: the library database is damaged ({'; '.join(found)}); {WHAT_TO_DO_DAMAGED}"


def missing_wal(path: Path) -> bool:
    """True when the write-ahead log of ``path`` was deleted while it held changes.

    After an unclean end (kill -9, power loss) SQLite leaves ``NAME-wal`` (committed
    changes not yet copied into NAME) and ``NAME-shm`` (its index, whose header
    counts the frames in the log). Without the log SQLite opens the older main file
    silently: recent changes, or the whole schema, would be gone and vpo would start
    a fresh library over it. A clean close removes both files, the log first, so the
    index is looked at twice, 0.1 s apart, before calling the log missing.
    """
    for attempt in range(2):
        if attempt:
            time.sleep(0.1)
        if not path.is_file() or Path(f"{path}-wal").exists():
            return False
        try:
            header = Path(f"{path}-shm").read_bytes()[:48]
        except OSError:
            return False
        if len(header) < 48:
            return False
        version = int.from_bytes(header[0:4], sys.byteorder)
        frames = int.from_bytes(header[16:20], sys.byteorder)
        if version != _WAL_INDEX_VERSION or frames == 0:
            return False
    return True
