"""Browsing the library for the API: filtered file pages, one file with its history.

Every filter is a bound parameter; the page is ordered by id (stable under
inserts) and ``total`` counts every match in the same snapshot.
"""

from __future__ import annotations

import enum
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpo.library import rows
from vpo.library.records import FileResultRow, FileStatus
from vpo.library.report_queries import file_result_from_row
from vpo.media.model import MediaFile


class Resolution(str, enum.Enum):
    """Classes of the first video track's height."""

    SD = "sd"  # below 720
    HD = "hd"  # 720–1079
    FHD = "fhd"  # 1080–2159
    UHD = "uhd"  # 2160 and above


_HEIGHTS = {
    Resolution.SD: (0, 719),
    Resolution.HD: (720, 1079),
    Resolution.FHD: (1080, 2159),
    Resolution.UHD: (2160, 1 << 30),
}


class FileOrder(str, enum.Enum):
    """Sort orders of the file list (``-`` first: descending); ties broken by id.

    Only orders an index serves: at 100,000 files a sort by size (no index) took
    0.6 s per page (bench/web.py), so it is left for a schema change."""

    ID = "id"
    PATH = "path"
    PATH_DESC = "-path"


_ORDER_SQL = {
    FileOrder.ID: "f.id",
    FileOrder.PATH: "f.path, f.id",
    FileOrder.PATH_DESC: "f.path DESC, f.id DESC",
}


@dataclass(frozen=True, slots=True)
class FileFilters:
    """``GET /api/v1/files`` filters; None means "any"."""

    path_contains: str | None = None
    container: str | None = None
    video_codec: str | None = None
    audio_language: str | None = None
    no_audio_language: str | None = None
    subtitle_language: str | None = None
    no_subtitle_language: str | None = None
    resolution: Resolution | None = None
    never_processed: bool = False
    last_failed: bool = False


@dataclass(frozen=True, slots=True)
class FileSummary:
    """One row of the file list."""

    id: int
    path: Path
    size: int
    status: FileStatus
    container: str | None
    duration: float | None
    video_codec: str | None
    height: int | None
    audio_languages: tuple[str, ...]
    subtitle_languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FileDetail:
    """One file: its probe (tracks, flags, attachments) and its history of changes."""

    id: int
    path: Path
    status: FileStatus
    last_error: str | None
    media: MediaFile | None
    history: tuple[FileResultRow, ...]


def _where(filters: FileFilters) -> tuple[str, list[object]]:
    clauses = ["f.status != 'missing'"]
    params: list[object] = []
    if filters.path_contains:
        clauses.append("instr(f.path, ?) > 0")
        params.append(os.fsencode(filters.path_contains))
    if filters.container:
        clauses.append("f.container = ?")
        params.append(filters.container)
    # Set-based subqueries (one pass over an index each, then a lookup per file)
    # instead of one correlated probe per file: what keeps 100,000 files fast.
    for track_type, column, value, present in (
        ("video", "codec", filters.video_codec, True),
        ("audio", "language", filters.audio_language, True),
        ("audio", "language", filters.no_audio_language, False),
        ("subtitle", "language", filters.subtitle_language, True),
        ("subtitle", "language", filters.no_subtitle_language, False),
    ):
        if value:
            operator = "IN" if present else "NOT IN"
            clauses.append(
                f"f.id {operator} (SELECT t.file_id FROM tracks t "
                f"WHERE t.type = ? AND t.{column} = ?)"
            )
            params.extend((track_type, value))
    if filters.resolution is not None:
        low, high = _HEIGHTS[filters.resolution]
        clauses.append(
            "f.id IN (SELECT t.file_id FROM tracks t WHERE t.type = 'video' "
            "AND t.height BETWEEN ? AND ?)"
        )
        params.extend((low, high))
    if filters.never_processed:
        clauses.append(
            "f.id NOT IN (SELECT r.file_id FROM file_results r WHERE r.file_id IS NOT NULL)"
        )
    if filters.last_failed:
        clauses.append(
            "f.id IN (SELECT r.file_id FROM file_results r WHERE r.outcome = 'failed' "
            "AND r.id IN (SELECT MAX(l.id) FROM file_results l GROUP BY l.file_id))"
        )
    return " WHERE " + " AND ".join(clauses), params


def page_files(
    connection: sqlite3.Connection,
    filters: FileFilters,
    limit: int,
    offset: int,
    order: FileOrder = FileOrder.ID,
) -> tuple[list[FileSummary], int]:
    where, params = _where(filters)
    (total,) = connection.execute(f"SELECT COUNT(*) FROM files f{where}", params).fetchone()
    found = connection.execute(
        # "+t.type": look the page's tracks up by primary key (file_id), not by the
        # type indexes, which would scan every track of that type per row.
        "SELECT f.id, f.path, f.size, f.status, f.container, f.duration, "
        "(SELECT t.codec FROM tracks t WHERE t.file_id = f.id AND +t.type = 'video' "
        " ORDER BY t.position LIMIT 1), "
        "(SELECT t.height FROM tracks t WHERE t.file_id = f.id AND +t.type = 'video' "
        " ORDER BY t.position LIMIT 1), "
        "(SELECT group_concat(t.language, ',') FROM tracks t "
        " WHERE t.file_id = f.id AND +t.type = 'audio'), "
        "(SELECT group_concat(t.language, ',') FROM tracks t "
        " WHERE t.file_id = f.id AND +t.type = 'subtitle') "
        f"FROM files f{where} ORDER BY {_ORDER_SQL[order]} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return [_summary(row) for row in found], int(total)


def _summary(row: Sequence[Any]) -> FileSummary:
    file_id, path, size, status, container, duration, codec, height, audio, subs = row
    return FileSummary(
        id=file_id,
        path=rows.path_from_db(path),
        size=size,
        status=FileStatus(status),
        container=container,
        duration=duration,
        video_codec=codec,
        height=height,
        audio_languages=_languages(audio),
        subtitle_languages=_languages(subs),
    )


def _languages(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text.split(","))) if text else ()


def file_detail(connection: sqlite3.Connection, file_id: int) -> FileDetail | None:
    row = connection.execute(
        f"SELECT path, size, mtime_ns, inode, device, status, last_error, "
        f"{', '.join(rows.MEDIA_COLUMNS)} FROM files WHERE id = ?",
        (file_id,),
    ).fetchone()
    if row is None:
        return None
    path_bytes, size, mtime_ns, inode, device, status, last_error = row[:7]
    path = rows.path_from_db(path_bytes)
    media = None
    if status != FileStatus.ERROR.value and row[7] is not None:
        tracks = connection.execute(
            f"SELECT {', '.join(rows.TRACK_COLUMNS)} FROM tracks WHERE file_id = ? "
            "ORDER BY position",
            (file_id,),
        ).fetchall()
        attachments = connection.execute(
            f"SELECT {', '.join(rows.ATTACHMENT_COLUMNS)} FROM attachments WHERE file_id = ? "
            "ORDER BY position",
            (file_id,),
        ).fetchall()
        media = rows.media_from_rows(
            path, size, mtime_ns, inode, device, row[7:], tracks, attachments
        )
    history = connection.execute(
        "SELECT r.id, r.run_id, u.batch_id, u.policy_name, r.recorded_at, r.path, "
        "r.outcome, r.plan_kind, r.tool, r.phase, r.before_summary, "
        "r.after_summary, r.changes, r.bytes_written, r.seconds, r.error, "
        "r.original_size, r.bytes_saved, r.encode_seconds, r.encode_speed "
        "FROM file_results r JOIN runs u ON u.id = r.run_id "
        "WHERE r.file_id = ? OR r.path = ? ORDER BY r.id",
        (file_id, path_bytes),
    ).fetchall()
    return FileDetail(
        id=file_id,
        path=path,
        status=FileStatus(status),
        last_error=last_error,
        media=media,
        history=tuple(file_result_from_row(r) for r in history),
    )


def run_results(connection: sqlite3.Connection, run_id: int) -> list[FileResultRow]:
    found = connection.execute(
        "SELECT r.id, r.run_id, u.batch_id, u.policy_name, r.recorded_at, r.path, "
        "r.outcome, r.plan_kind, r.tool, r.phase, r.before_summary, "
        "r.after_summary, r.changes, r.bytes_written, r.seconds, r.error, "
        "r.original_size, r.bytes_saved, r.encode_seconds, r.encode_speed "
        "FROM file_results r JOIN runs u ON u.id = r.run_id WHERE r.run_id = ? ORDER BY r.id",
        (run_id,),
    ).fetchall()
    return [file_result_from_row(r) for r in found]
