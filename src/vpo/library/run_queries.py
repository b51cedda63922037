"""SQL of processing runs: starting, closing and recording them, and reading them back.

Run on a connection Library hands in (it owns transactions, locks and error
text); these functions own the statements and turn rows into records.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable

from vpo.library.records import FileResultRow, LibraryError, RunCounts, RunOutcome, RunRow
from vpo.library.report_queries import RUN_SELECT, file_result_from_row, run_from_row

_RESULT_SELECT = (
    "SELECT r.id, r.run_id, u.batch_id, u.policy_name, r.recorded_at, r.path, "
    "r.outcome, r.plan_kind, r.tool, r.phase, r.before_summary, "
    "r.after_summary, r.changes, r.bytes_written, r.seconds, r.error, "
    "r.original_size, r.bytes_saved, r.encode_seconds, r.encode_speed "
    "FROM file_results r JOIN runs u ON u.id = r.run_id"
)


def insert_run(
    connection: sqlite3.Connection,
    *,
    policy_name: str | None,
    policy_hash: str | None,
    workers: int,
    batch_id: str | None,
    started_at: float,
    owner: str,
    job_id: int | None,
) -> int:
    columns = "batch_id, policy_name, policy_hash, started_at, workers, outcome, bytes_saved, owner"
    values: list[object] = [
        batch_id or uuid.uuid4().hex,
        policy_name,
        policy_hash,
        started_at,
        workers,
        owner,
    ]
    if job_id is not None:  # only then: a run outside any job needs no schema 4
        columns += ", job_id"
        values.append(job_id)
    marks = "?, ?, ?, ?, ?, 'running', 0, ?" + (", ?" if job_id is not None else "")
    cursor = connection.execute(f"INSERT INTO runs ({columns}) VALUES ({marks})", values)
    run_id = cursor.lastrowid
    assert run_id is not None
    return run_id


def close_abandoned(
    connection: sqlite3.Connection, gone: Callable[[str | None], bool]
) -> list[int]:
    """Close as ``interrupted`` every ``running`` run whose owner is ``gone``, its
    counts rebuilt from the records it left; their ids."""
    closed: list[int] = []
    running = connection.execute("SELECT id, owner FROM runs WHERE outcome = 'running'").fetchall()
    for run_id, owner in running:
        if not gone(owner):
            continue
        connection.execute(
            "UPDATE runs SET outcome = 'interrupted', "
            "finished_at = COALESCE((SELECT MAX(recorded_at) FROM file_results "
            "WHERE run_id = runs.id), started_at), "
            + ", ".join(
                f"files_{name} = (SELECT COUNT(*) FROM file_results "
                f"WHERE run_id = runs.id AND outcome = '{name}')"
                for name in ("changed", "unchanged", "skipped", "failed")
            )
            + ", bytes_written = (SELECT COALESCE(SUM(bytes_written), 0) "
            "FROM file_results WHERE run_id = runs.id) WHERE id = ?",
            (run_id,),
        )
        closed.append(run_id)
    return closed


def finish_run(
    connection: sqlite3.Connection,
    run_id: int,
    counts: RunCounts,
    outcome: RunOutcome,
    finished_at: float,
    database: str,
) -> None:
    cursor = connection.execute(
        "UPDATE runs SET finished_at = ?, outcome = ?, files_changed = ?, "
        "files_unchanged = ?, files_skipped = ?, files_failed = ?, bytes_written = ? "
        "WHERE id = ?",
        (
            finished_at,
            outcome.value,
            counts.changed,
            counts.unchanged,
            counts.skipped,
            counts.failed,
            counts.bytes_written,
            run_id,
        ),
    )
    if cursor.rowcount != 1:
        raise LibraryError(f"{database}: no processing run with id {run_id}")


def runs(connection: sqlite3.Connection, where: str, params: list[object]) -> list[RunRow]:
    """Runs matching ``where`` (a clause from report_queries.run_filters, with its
    order and limit)."""
    return [run_from_row(row) for row in connection.execute(f"{RUN_SELECT}{where}", params)]


def runs_page(connection: sqlite3.Connection, limit: int, offset: int) -> tuple[list[RunRow], int]:
    (total,) = connection.execute("SELECT COUNT(*) FROM runs").fetchone()
    found = connection.execute(
        f"{RUN_SELECT} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    return [run_from_row(row) for row in found], int(total)


def run_row(connection: sqlite3.Connection, run_id: int) -> RunRow | None:
    row = connection.execute(f"{RUN_SELECT} WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else run_from_row(row)


def file_results_after(
    connection: sqlite3.Connection, where: str, params: list[object], last_id: int, limit: int
) -> tuple[list[FileResultRow], int]:
    """Up to ``limit`` records matching ``where`` with an id above ``last_id``, in
    the order they were written (one page), and the id of the page's last record."""
    paged = f"{where}{' AND' if where else ' WHERE'} r.id > ?"
    page = connection.execute(
        f"{_RESULT_SELECT}{paged} ORDER BY r.id LIMIT ?", [*params, last_id, limit]
    ).fetchall()
    return [file_result_from_row(row) for row in page], (page[-1][0] if page else last_id)
