"""Browsing the library for the API: filtered file pages, one file with its history.

Every filter is a bound parameter; the page is ordered by id (stable under
inserts) and ``total`` counts every match in the same snapshot. Filters read
the per-file summary of schema 6 through the covering index ``files_browse``
(docs/library.md, Migrations); the page's ids come first, then its rows.
"""

from __future__ import annotations

import enum
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
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


# Every filter and the id order are read from one narrow covering index (schema 6):
# a filtered count or page is one scan of it, not of the wide table or of tracks.
# A file whose summary cannot answer a filter (summary_exact = 0: several video
# tracks, a language holding a comma) is answered from the tracks table instead.
_BROWSE = "files f INDEXED BY files_browse"


def _where(filters: FileFilters, path: str | None = None) -> tuple[str, list[object]]:
    """The WHERE clause on ``f`` (files_browse); ``path``: the column holding the
    file's path in the query, when it has one."""
    clauses = ["f.status != 'missing'"]
    params: list[object] = []
    if filters.path_contains:
        if path is None:  # the path index holds every path with its id: scanned alone
            clauses.append("f.id IN (SELECT n.id FROM files n WHERE instr(n.path, ?) > 0)")
        else:  # a page stops at its last row, without a list of every match
            clauses.append(f"instr({path}, ?) > 0")
        params.append(os.fsencode(filters.path_contains))
    if filters.container:
        clauses.append("f.container = ?")
        params.append(filters.container)
    if filters.video_codec:
        clauses.append(
            f"CASE WHEN f.summary_exact THEN f.video_codec = ? "
            f"ELSE f.id IN {_tracks_having('video', 'codec')} END"
        )
        params.extend((filters.video_codec, filters.video_codec))
    for track_type, value, present in (
        ("audio", filters.audio_language, True),
        ("audio", filters.no_audio_language, False),
        ("subtitle", filters.subtitle_language, True),
        ("subtitle", filters.no_subtitle_language, False),
    ):
        if value:
            clauses.append(_language_clause(track_type, present, value, params))
    if filters.resolution is not None:
        low, high = _HEIGHTS[filters.resolution]
        clauses.append(
            "CASE WHEN f.summary_exact THEN f.video_height BETWEEN ? AND ? ELSE f.id IN "
            "(SELECT t.file_id FROM tracks t WHERE t.type = 'video' "
            "AND t.height BETWEEN ? AND ?) END"
        )
        params.extend((low, high, low, high))
    # last_outcome: the outcome of the file's newest result (NULL: none), kept by triggers.
    if filters.never_processed:
        clauses.append("f.last_outcome IS NULL")
    if filters.last_failed:
        clauses.append("f.last_outcome = 'failed'")
    return " WHERE " + " AND ".join(clauses), params


def _language_clause(track_type: str, present: bool, value: str, params: list[object]) -> str:
    """Has (or has no) ``track_type`` track in ``value``: a search of the summary's
    ",eng,jpn," list, or of the tracks table when the summary cannot tell."""
    slow = f"f.id {'IN' if present else 'NOT IN'} {_tracks_having(track_type, 'language')}"
    if "," in value:  # cannot be told from a comma-separated list
        params.append(value)
        return slow
    column = f"f.{track_type}_languages"
    found = f"coalesce(instr({column}, ?), 0) > 0"
    params.extend((f",{value},", value))
    return f"CASE WHEN f.summary_exact THEN {'' if present else 'NOT '}{found} ELSE {slow} END"


def _tracks_having(track_type: str, column: str) -> str:
    """Files having a ``track_type`` track whose ``column`` is the bound value (one
    range scan of a covering tracks index, run only when a file needs it)."""
    return f"(SELECT t.file_id FROM tracks t WHERE t.type = '{track_type}' AND t.{column} = ?)"


# The list's columns; from the tracks table for a file without an exact summary.
_FIRST_VIDEO = (
    "(SELECT t.{column} FROM tracks t WHERE t.file_id = f.id AND +t.type = 'video' "
    "ORDER BY t.position LIMIT 1)"
)
_LANGUAGES = (
    "(SELECT group_concat(t.language, ',') FROM tracks t "
    "WHERE t.file_id = f.id AND +t.type = '{track_type}')"
)
_SUMMARY_COLUMNS = ", ".join(
    f"CASE WHEN f.summary_exact THEN {fast} ELSE {slow} END"
    for fast, slow in (
        ("f.video_codec", _FIRST_VIDEO.format(column="codec")),
        ("f.video_height", _FIRST_VIDEO.format(column="height")),
        *(
            (
                f"substr(f.{kind}_languages, 2, length(f.{kind}_languages) - 2)",
                _LANGUAGES.format(track_type=kind),
            )
            for kind in ("audio", "subtitle")
        ),
    )
)
_PAGE_IDS: dict[FileOrder | None, str] = {
    FileOrder.ID: f"SELECT f.id FROM {_BROWSE}{{where}} ORDER BY f.id LIMIT ? OFFSET ?",
    # Filtered by path: the table itself, in id order (it holds the summary too).
    None: "SELECT f.id FROM files f{where} ORDER BY f.id LIMIT ? OFFSET ?",
    # The path index gives the order (path and id only); the filters are read
    # from files_browse by id, so no row of the table is read before the page's.
    **{
        order: f"SELECT f.id FROM files p CROSS JOIN {_BROWSE} ON f.id = p.id{{where}} "
        f"ORDER BY p.path{direction} LIMIT ? OFFSET ?"
        for order, direction in ((FileOrder.PATH, ""), (FileOrder.PATH_DESC, " DESC"))
    },
}


def page_files(
    connection: sqlite3.Connection,
    filters: FileFilters,
    limit: int,
    offset: int,
    order: FileOrder = FileOrder.ID,
) -> tuple[list[FileSummary], int]:
    where, params = _where(filters)
    # Status and container alone: the narrower files_by_status covers the count.
    counted = "files f" if replace(filters, container=None) == FileFilters() else _BROWSE
    (total,) = connection.execute(f"SELECT COUNT(*) FROM {counted}{where}", params).fetchone()
    if filters.path_contains:
        by_path = order is not FileOrder.ID
        where, params = _where(filters, "p.path" if by_path else "f.path")
        query = _PAGE_IDS[order if by_path else None]
    else:
        query = _PAGE_IDS[order]
    ids = [
        file_id
        for (file_id,) in connection.execute(query.format(where=where), [*params, limit, offset])
    ]
    if not ids:
        return [], int(total)
    found = {
        row[0]: row
        for row in connection.execute(
            "SELECT f.id, f.path, f.size, f.status, f.container, f.duration, "
            f"{_SUMMARY_COLUMNS} FROM files f WHERE f.id IN ({', '.join('?' * len(ids))})",
            ids,
        )
    }
    return [_summary(found[file_id]) for file_id in ids], int(total)


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
