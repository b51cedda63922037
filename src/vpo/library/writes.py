"""SQL that writes probes and file results, run inside the caller's write transaction.

Library owns the transactions and the locks; these functions own the statements,
so each Library method stays a few lines.
"""

from __future__ import annotations

import sqlite3

from vpo.library import rows
from vpo.library.records import FileRecord, LibraryError, ProbeFailure
from vpo.media.model import MediaFile

_TRACK_INSERT = (
    f"INSERT INTO tracks (file_id, {', '.join(rows.TRACK_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(rows.TRACK_COLUMNS) + 1))})"
)
_ATTACHMENT_INSERT = (
    f"INSERT INTO attachments (file_id, {', '.join(rows.ATTACHMENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(rows.ATTACHMENT_COLUMNS) + 1))})"
)
_MEDIA_SELECT = ", ".join(rows.MEDIA_COLUMNS)
_MEDIA_MARKS = ", ".join("?" * len(rows.MEDIA_COLUMNS))
# The track summary the file list filters on (schema 6), written with the tracks.
_BROWSE_SELECT = ", ".join(rows.BROWSE_COLUMNS)
_BROWSE_MARKS = ", ".join("?" * len(rows.BROWSE_COLUMNS))
_BROWSE_UPDATE = ", ".join(f"{column} = excluded.{column}" for column in rows.BROWSE_COLUMNS)


def upsert_media(
    connection: sqlite3.Connection, media: MediaFile, ctime_ns: int | None, now: float
) -> int:
    encoded = rows.path_to_db(media.path)
    media_row = rows.media_to_row(media)
    connection.execute(
        "INSERT INTO files (path, size, mtime_ns, inode, device, ctime_ns, status, last_error, "
        f"{_MEDIA_SELECT}, tags, {_BROWSE_SELECT}, probed_at, first_seen, updated_at) "
        f"VALUES (?, ?, ?, ?, ?, ?, 'ok', NULL, {_MEDIA_MARKS}, ?, {_BROWSE_MARKS}, ?, ?, ?) "
        "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
        "inode = excluded.inode, device = excluded.device, ctime_ns = excluded.ctime_ns, "
        "status = 'ok', last_error = NULL, "
        "container = excluded.container, format_name = excluded.format_name, "
        "duration = excluded.duration, bit_rate = excluded.bit_rate, title = excluded.title, "
        f"chapter_count = excluded.chapter_count, tags = excluded.tags, {_BROWSE_UPDATE}, "
        "probed_at = excluded.probed_at, updated_at = excluded.updated_at",
        (
            encoded,
            media.size,
            media.mtime_ns,
            media.inode,
            media.device,
            ctime_ns,
            *media_row,
            rows.tags_to_db(media),
            *rows.browse_row(media),
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


def upsert_failure(connection: sqlite3.Connection, failure: ProbeFailure, now: float) -> None:
    encoded = rows.path_to_db(failure.path)
    key = failure.key
    connection.execute(
        "INSERT INTO files (path, size, mtime_ns, inode, device, ctime_ns, status, last_error, "
        "summary_exact, probed_at, first_seen, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'error', ?, 1, ?, ?, ?) "
        "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
        "inode = excluded.inode, device = excluded.device, ctime_ns = excluded.ctime_ns, "
        "status = 'error', "
        "last_error = excluded.last_error, container = NULL, format_name = NULL, "
        "duration = NULL, bit_rate = NULL, title = NULL, chapter_count = 0, tags = NULL, "
        "video_codec = NULL, video_height = NULL, audio_languages = NULL, "
        "subtitle_languages = NULL, summary_exact = 1, "
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


def insert_file_result(
    connection: sqlite3.Connection, run_id: int, record: FileRecord, now: float
) -> None:
    if record.after is not None and record.refresh_cache:
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
        file_id: int | None = upsert_media(connection, record.after, record.after_ctime_ns, now)
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
