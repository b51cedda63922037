"""SQL and row conversion for the report queries (``vpo report``, ``vpo status``).

Run on a connection Library hands in (it owns transactions and error text);
these functions only build statements and turn rows into records.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from vpo.library import rows
from vpo.library.records import (
    FileOutcome,
    FileResultRow,
    FileStatus,
    LibraryTotals,
    RunCounts,
    RunOutcome,
    RunRow,
)

RUN_SELECT = (
    "SELECT id, batch_id, policy_name, policy_hash, started_at, finished_at, workers, outcome, "
    "files_changed, files_unchanged, files_skipped, files_failed, bytes_written, bytes_saved "
    "FROM runs"
)


def read_totals(connection: sqlite3.Connection, recent_runs: int) -> LibraryTotals:
    """Library-wide counts for ``vpo status``; run it inside one read transaction."""
    by_status: dict[str, int] = {}
    total_bytes = 0
    for status, count, size in connection.execute(
        "SELECT status, COUNT(*), COALESCE(SUM(size), 0) FROM files GROUP BY status"
    ):
        by_status[status] = count
        if status != FileStatus.MISSING.value:
            total_bytes += size
    by_container = dict(
        connection.execute(
            "SELECT container, COUNT(*) FROM files WHERE status = 'ok' "
            "GROUP BY container ORDER BY COUNT(*) DESC, container"
        ).fetchall()
    )
    per_type = {
        kind: _count_files_by_track(connection, kind, column)
        for kind, column in (
            ("video", "codec"),
            ("audio", "language"),
            ("subtitle", "language"),
        )
    }
    (never_processed,) = connection.execute(
        "SELECT COUNT(*) FROM files f WHERE f.status != 'missing' AND NOT EXISTS "
        "(SELECT 1 FROM file_results r WHERE r.file_id = f.id "
        "AND r.outcome IN ('changed', 'unchanged'))"
    ).fetchone()
    recent = connection.execute(
        f"{RUN_SELECT} ORDER BY started_at DESC, id DESC LIMIT ?", (recent_runs,)
    ).fetchall()
    saved_by_policy = {
        str(policy): int(saved)
        for policy, saved in connection.execute(
            "SELECT COALESCE(policy_name, ''), SUM(bytes_saved) FROM runs "
            "WHERE bytes_saved IS NOT NULL GROUP BY policy_name "
            "HAVING SUM(bytes_saved) != 0 "
            "ORDER BY SUM(bytes_saved) DESC, policy_name"
        )
    }
    present = sum(n for s, n in by_status.items() if s != FileStatus.MISSING.value)
    return LibraryTotals(
        files=present,
        total_bytes=total_bytes,
        by_status=by_status,
        by_container=by_container,
        by_video_codec=per_type["video"],
        by_audio_language=per_type["audio"],
        by_subtitle_language=per_type["subtitle"],
        never_processed=never_processed,
        recent_runs=tuple(run_from_row(row) for row in recent),
        bytes_saved=sum(saved_by_policy.values()),
        saved_by_policy=saved_by_policy,
    )


def run_filters(
    since: float | None, policy: str | None, time_column: str, policy_column: str
) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if since is not None:
        clauses.append(f"{time_column} >= ?")
        params.append(since)
    if policy is not None:
        clauses.append(f"{policy_column} = ?")
        params.append(policy)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def run_from_row(row: Sequence[Any]) -> RunRow:
    return RunRow(
        run_id=row[0],
        batch_id=row[1],
        policy_name=row[2],
        policy_hash=row[3],
        started_at=row[4],
        finished_at=row[5],
        workers=row[6],
        outcome=RunOutcome(row[7]),
        counts=RunCounts(*row[8:13]),
        bytes_saved=row[13],
    )


def file_result_from_row(row: Sequence[Any]) -> FileResultRow:
    return FileResultRow(
        run_id=row[1],
        batch_id=row[2],
        policy_name=row[3],
        recorded_at=row[4],
        path=rows.path_from_db(row[5]),
        outcome=FileOutcome(row[6]),
        plan_kind=row[7],
        tool=row[8],
        phase=row[9],
        before_summary=row[10],
        after_summary=row[11],
        changes=tuple(row[12].splitlines()),
        bytes_written=row[13],
        seconds=row[14],
        error=row[15],
        original_size=row[16],
        bytes_saved=row[17],
        encode_seconds=row[18],
        encode_speed=row[19],
    )


def _count_files_by_track(
    connection: sqlite3.Connection, track_type: str, column: str
) -> dict[str, int]:
    """Files having at least one ``track_type`` track, per value of ``column``."""
    assert column in ("codec", "language")
    found = connection.execute(
        f"SELECT t.{column}, COUNT(DISTINCT t.file_id) FROM tracks t "
        "JOIN files f ON f.id = t.file_id WHERE t.type = ? AND f.status = 'ok' "
        f"GROUP BY t.{column} ORDER BY COUNT(DISTINCT t.file_id) DESC, t.{column}",
        (track_type,),
    ).fetchall()
    return {str(value): int(count) for value, count in found}
