"""Opening a library connection: the PRAGMAs every connection needs, and error text.

Kept apart from Library so the per-connection settings (WAL, busy timeout,
foreign keys) are in one place, and so migrations and queries explain SQLite
errors with the same one-line message naming the database.
"""

from __future__ import annotations

import sqlite3
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


def explain(path: Path, error: sqlite3.Error) -> str:
    """One line naming the database, what went wrong and what to do next."""
    text = str(error)
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in text:
        return f"{path}: not a vpo library database ({text}); move it away or pass --db"
    if "locked" in text or "busy" in text:
        return f"{path}: the library database is locked by another process ({text}); retry later"
    if "unable to open" in text or "readonly" in text:
        return f"{path}: cannot write the library database ({text}); check permissions or --db"
    return f"{path}: library database error: {text}"
