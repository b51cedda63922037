"""Running schema migrations on open: each in its own transaction, recorded, backed up first.

See docs/library.md (Migrations). Apart from Library because it runs once per
open on one connection, before any other statement.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from vpo.library.connection import explain
from vpo.library.records import LibraryError
from vpo.library.schema import MIGRATIONS_TABLE, Migration


def current_version(connection: sqlite3.Connection) -> int:
    (version,) = connection.execute(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
    ).fetchone()
    return int(version)


def applied_versions(connection: sqlite3.Connection) -> set[int]:
    return {int(row[0]) for row in connection.execute("SELECT version FROM schema_migrations")}


def migrate(connection: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> None:
    """Apply pending migrations, each in its own transaction, recorded as applied.

    A migration is pending when its version is not recorded, even below the highest
    recorded one: version 4 (vpo serve) reached some libraries before version 3
    (path normalisation), which is then applied after it. Whether a migration is
    still pending is re-read inside its write transaction, so two vpo processes
    opening a new database at once do not both apply it.
    """
    latest = migrations[-1].version if migrations else 0
    try:
        connection.execute(MIGRATIONS_TABLE)
        connection.execute("BEGIN")  # one snapshot: another opener may be migrating
        try:
            current = current_version(connection)
            applied = applied_versions(connection)
            foreign = current == 0 and _has_foreign_tables(connection)
        finally:
            connection.execute("COMMIT")
        if foreign:
            raise LibraryError(
                f"{path}: an SQLite database that is not a vpo library; move it away or pass --db"
            )
    except sqlite3.Error as error:
        raise LibraryError(explain(path, error)) from error
    if current > latest:
        raise LibraryError(
            f"{path}: the library was written by a newer vpo (schema {current}, "
            f"this vpo knows up to {latest}); upgrade vpo"
        )
    held_data = current > 0  # a database created just now has nothing to back up
    for migration in migrations:
        if migration.version in applied:
            continue
        backup = (
            _backup(connection, path, current) if migration.rewrites_data and held_data else None
        )
        _apply(connection, path, migration, backup)
        current = max(current, migration.version)


def _apply(
    connection: sqlite3.Connection, path: Path, migration: Migration, backup: Path | None
) -> None:
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            if migration.version not in applied_versions(connection):
                for statement in migration.statements:
                    connection.execute(statement)
                if migration.rewrite is not None:
                    migration.rewrite(connection)
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
