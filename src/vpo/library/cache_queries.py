"""SQL of the file cache: stored stat keys and probes, renames, files that vanished.

Run on a connection Library hands in (it owns transactions, locks and error
text); these functions own the statements and turn rows into records.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from vpo.library import rows
from vpo.library.records import FileState, FileStatus, MovedFile, StatKey
from vpo.media.model import MediaFile

_MEDIA_SELECT = ", ".join(rows.CACHED_MEDIA_COLUMNS)


def file_state(connection: sqlite3.Connection, path: Path) -> FileState | None:
    row = connection.execute(
        "SELECT size, mtime_ns, inode, device, ctime_ns, status, last_error "
        "FROM files WHERE path = ?",
        (rows.path_to_db(path),),
    ).fetchone()
    if row is None:
        return None
    size, mtime_ns, inode, device, ctime_ns, status, last_error = row
    return FileState(
        path, StatKey(size, mtime_ns, inode, device, ctime_ns), FileStatus(status), last_error
    )


def cached_media(
    connection: sqlite3.Connection, path: Path, size: int, mtime_ns: int, inode: int, ctime_ns: int
) -> MediaFile | None:
    """The stored probe of ``path`` when its last probe worked and the fresh stat
    (size, mtime, inode, ctime) still matches the stored one."""
    row = connection.execute(
        f"SELECT id, size, mtime_ns, inode, ctime_ns, device, status, {_MEDIA_SELECT} "
        "FROM files WHERE path = ?",
        (rows.path_to_db(path),),
    ).fetchone()
    if row is None:
        return None
    file_id, stored_size, stored_mtime, stored_inode, stored_ctime, device, status = row[:7]
    stored = StatKey(stored_size, stored_mtime, stored_inode, device, stored_ctime)
    if (
        status != FileStatus.OK.value
        or row[7 + rows.TAGS_POSITION] is None  # probed before schema 7: tags unknown
        or not stored.matches(StatKey(size, mtime_ns, inode, device, ctime_ns))
    ):
        return None
    tracks = connection.execute(
        f"SELECT {', '.join(rows.TRACK_COLUMNS)} FROM tracks WHERE file_id = ? ORDER BY position",
        (file_id,),
    ).fetchall()
    attachments = connection.execute(
        f"SELECT {', '.join(rows.ATTACHMENT_COLUMNS)} FROM attachments "
        "WHERE file_id = ? ORDER BY position",
        (file_id,),
    ).fetchall()
    return rows.media_from_rows(path, size, mtime_ns, inode, device, row[7:], tracks, attachments)


def cached_page(
    connection: sqlite3.Connection, page: Sequence[tuple[Path, StatKey]]
) -> Iterator[tuple[Path, MediaFile]]:
    """``cached_media`` for a page of paths: three SELECTs for the whole page."""
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
        if (
            status == FileStatus.OK.value
            and row[8 + rows.TAGS_POSITION] is not None  # NULL: probed before schema 7
            and stored.matches(key)
        ):
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


def move_files(connection: sqlite3.Connection, moved: Sequence[MovedFile], now: float) -> None:
    """Renamed files keep their row, tracks, history and Sonarr/Radarr title."""
    for move in moved:
        # The rename changed the ctime; a row without one (schema 1) stays without.
        connection.execute(
            "UPDATE files SET path = ?, status = 'ok', updated_at = ?, "
            "ctime_ns = CASE WHEN ctime_ns IS NULL THEN NULL ELSE ? END WHERE path = ?",
            (rows.path_to_db(move.new), now, move.ctime_ns, rows.path_to_db(move.old)),
        )
    if moved:
        from vpo.library.metadata import move_links

        move_links(connection, [(move.old, move.new) for move in moved])


def mark_restored(connection: sqlite3.Connection, paths: Sequence[Path], now: float) -> None:
    """Files marked missing that reappeared unchanged."""
    connection.executemany(
        "UPDATE files SET status = 'ok', updated_at = ? WHERE path = ? AND status = 'missing'",
        [(now, rows.path_to_db(path)) for path in paths],
    )


def mark_missing(connection: sqlite3.Connection, paths: Sequence[Path], now: float) -> None:
    connection.executemany(
        "UPDATE files SET status = 'missing', updated_at = ? WHERE path = ?",
        [(now, rows.path_to_db(path)) for path in paths],
    )


def prune(connection: sqlite3.Connection, paths: Sequence[Path]) -> None:
    connection.executemany(
        "DELETE FROM files WHERE path = ?", [(rows.path_to_db(path),) for path in paths]
    )


def find_moved(connection: sqlite3.Connection, key: StatKey) -> tuple[Path, ...]:
    found = connection.execute(
        "SELECT path FROM files WHERE status != 'error' AND inode = ? AND device = ? "
        "AND size = ? AND mtime_ns = ? ORDER BY path",
        (key.inode, key.device, key.size, key.mtime_ns),
    ).fetchall()
    return tuple(rows.path_from_db(path) for (path,) in found)


def status_of(connection: sqlite3.Connection, encoded: bytes) -> FileStatus | None:
    row = connection.execute("SELECT status FROM files WHERE path = ?", (encoded,)).fetchone()
    return None if row is None else FileStatus(row[0])


def paths_after(
    connection: sqlite3.Connection, prefix: bytes, last: bytes, limit: int
) -> list[tuple[bytes, str]]:
    """Up to ``limit`` (encoded path, status) below the directory ``prefix`` (ending
    in "/"), in path order, after ``last``: one page, served by the path index."""
    upper = prefix[:-1] + b"0"  # "0" sorts right after "/"
    return connection.execute(
        "SELECT path, status FROM files WHERE path >= ? AND path < ? AND path > ? "
        "ORDER BY path LIMIT ?",
        (prefix, upper, last, limit),
    ).fetchall()
