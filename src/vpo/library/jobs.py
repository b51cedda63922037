"""The job queue's SQL (schema 4): one row per job, plans of plan jobs, runs of a job.

``JobQueue`` works on a Library's connections and transactions, so the queue is
as safe under threads and processes as the rest of the library: every state
change is one short ``BEGIN IMMEDIATE`` transaction whose WHERE clause names the
states it may leave, so two clients cancelling one job change it once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpo.jobs.model import (
    CANCELLABLE,
    RETRYABLE,
    Job,
    JobOptions,
    JobProgress,
    JobStatus,
    JobType,
    NewJob,
    PlannedFile,
)
from vpo.library import rows

if TYPE_CHECKING:
    from vpo.library.database import Library

_JOB_COLUMNS = (
    "id, type, dry_run, paths, policy_name, policy_hash, priority, status, files_done, "
    "files_total, active, options, created_at, started_at, finished_at, error"
)


@dataclass(frozen=True, slots=True)
class PlanItem:
    """A plan to store: the file, its stat key when planned, and the plan document."""

    path: Path
    size: int | None
    mtime_ns: int | None
    inode: int | None
    ctime_ns: int | None
    kind: str | None
    plan: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of cancel/retry: the job after, and whether this call changed it."""

    job: Job | None
    changed: bool
    previous: JobStatus | None


class JobQueue:
    """Jobs in the library database. Get it from ``Library.jobs``."""

    def __init__(self, library: Library) -> None:
        self._library = library

    # ------------------------------------------------------------------ create

    def add(self, new: NewJob, *, now: float | None = None) -> Job:
        with self._library._write() as connection:
            cursor = connection.execute(
                "INSERT INTO jobs (type, dry_run, paths, policy_name, policy_text, policy_hash, "
                "options, priority, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.type.value,
                    int(new.dry_run),
                    json.dumps(new.paths),
                    new.policy_name,
                    new.policy_text,
                    new.policy_hash,
                    new.options.model_dump_json(),
                    new.priority,
                    JobStatus.QUEUED.value,
                    time.time() if now is None else now,
                ),
            )
            job_id = cursor.lastrowid
        assert job_id is not None
        job = self.get(job_id)
        assert job is not None
        return job

    # ------------------------------------------------------------------- read

    def get(self, job_id: int) -> Job | None:
        with self._library._read() as connection:
            row = connection.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                return None
            return _job_from_row(row, _run_ids(connection, job_id))

    def policy_text(self, job_id: int) -> str | None:
        with self._library._errors():
            row = (
                self._library._connection()
                .execute("SELECT policy_text FROM jobs WHERE id = ?", (job_id,))
                .fetchone()
            )
        return None if row is None else row[0]

    def page(
        self,
        *,
        statuses: Sequence[JobStatus] = (),
        job_type: JobType | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        """A page of jobs, newest first, and how many match in all."""
        clauses: list[str] = []
        params: list[object] = []
        if statuses:
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            params.extend(s.value for s in statuses)
        if job_type is not None:
            clauses.append("type = ?")
            params.append(job_type.value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._library._read() as connection:
            (total,) = connection.execute(f"SELECT COUNT(*) FROM jobs{where}", params).fetchone()
            found = connection.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs{where} ORDER BY id DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            jobs = [_job_from_row(row, _run_ids(connection, row[0])) for row in found]
        return jobs, int(total)

    def count(self, status: JobStatus) -> int:
        with self._library._errors():
            (found,) = (
                self._library._connection()
                .execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (status.value,))
                .fetchone()
            )
        return int(found)

    # --------------------------------------------------------------- the runner

    def claim_next(self, *, now: float | None = None) -> Job | None:
        """Mark the queued job of highest priority (oldest first) running and return it."""
        with self._library._write() as connection:
            row = connection.execute(
                "SELECT id FROM jobs WHERE status = 'queued' ORDER BY priority DESC, id LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            connection.execute(
                "UPDATE jobs SET status = 'running', started_at = ?, finished_at = NULL, "
                "error = NULL, files_done = 0, files_total = NULL, active = '{}' WHERE id = ?",
                (time.time() if now is None else now, row[0]),
            )
        return self.get(row[0])

    def set_progress(self, job_id: int, progress: JobProgress) -> None:
        with self._library._write() as connection:
            connection.execute(
                "UPDATE jobs SET files_done = ?, files_total = ?, active = ? "
                "WHERE id = ? AND status = 'running'",
                (
                    progress.files_done,
                    progress.files_total,
                    json.dumps(progress.active),
                    job_id,
                ),
            )

    def finish(
        self, job_id: int, status: JobStatus, error: str | None = None, *, now: float | None = None
    ) -> bool:
        """Close a running job; False when it is no longer running (cancelled meanwhile)."""
        with self._library._write() as connection:
            cursor = connection.execute(
                "UPDATE jobs SET status = ?, error = ?, finished_at = ?, active = '{}' "
                "WHERE id = ? AND status = 'running'",
                (status.value, error, time.time() if now is None else now, job_id),
            )
            return cursor.rowcount == 1

    def recover(self) -> list[int]:
        """At daemon start: jobs left running or interrupted are queued again."""
        with self._library._write() as connection:
            found = connection.execute(
                "SELECT id FROM jobs WHERE status IN ('running', 'interrupted') ORDER BY id"
            ).fetchall()
            connection.execute(
                "UPDATE jobs SET status = 'queued', active = '{}', finished_at = NULL "
                "WHERE status IN ('running', 'interrupted')"
            )
        return [job_id for (job_id,) in found]

    # ------------------------------------------------------------ client actions

    def cancel(self, job_id: int, *, now: float | None = None) -> Transition:
        return self._transition(job_id, CANCELLABLE, JobStatus.CANCELLED, now)

    def retry(self, job_id: int) -> Transition:
        return self._transition(job_id, RETRYABLE, JobStatus.QUEUED, None)

    def _transition(
        self,
        job_id: int,
        allowed: frozenset[JobStatus],
        target: JobStatus,
        now: float | None,
    ) -> Transition:
        marks = ", ".join("?" * len(allowed))
        finished_at = (time.time() if now is None else now) if target.finished else None
        with self._library._write() as connection:
            row = connection.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return Transition(None, False, None)
            cursor = connection.execute(
                f"UPDATE jobs SET status = ?, finished_at = ?, active = '{{}}', "
                f"error = CASE WHEN ? = 'queued' THEN NULL ELSE error END "
                f"WHERE id = ? AND status IN ({marks})",
                (target.value, finished_at, target.value, job_id, *(s.value for s in allowed)),
            )
            changed = cursor.rowcount == 1
        return Transition(self.get(job_id), changed, JobStatus(row[0]))

    def reject(self, job_id: int, *, now: float | None = None) -> Transition:
        """A completed plan job whose plans the user refused: cancelled, never approvable."""
        with self._library._write() as connection:
            row = connection.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return Transition(None, False, None)
            cursor = connection.execute(
                "UPDATE jobs SET status = 'cancelled', error = 'plans rejected', finished_at = ? "
                "WHERE id = ? AND type = 'plan' AND status = 'completed' AND NOT EXISTS "
                "(SELECT 1 FROM jobs a WHERE json_extract(a.options, '$.plan_job') = ?)",
                (time.time() if now is None else now, job_id, job_id),
            )
            changed = cursor.rowcount == 1
        return Transition(self.get(job_id), changed, JobStatus(row[0]))

    def approval_of(self, plan_job_id: int) -> int | None:
        """The process job that approved plan job ``plan_job_id``, if any."""
        with self._library._errors():
            row = (
                self._library._connection()
                .execute(
                    "SELECT id FROM jobs WHERE json_extract(options, '$.plan_job') = ? "
                    "ORDER BY id LIMIT 1",
                    (plan_job_id,),
                )
                .fetchone()
            )
        return None if row is None else int(row[0])

    # ------------------------------------------------------------------ plans

    def add_plans(self, job_id: int, items: Sequence[PlanItem]) -> None:
        with self._library._write() as connection:
            connection.executemany(
                "INSERT INTO job_plans (job_id, path, size, mtime_ns, inode, ctime_ns, kind, "
                "plan) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        job_id,
                        rows.path_to_db(item.path),
                        item.size,
                        item.mtime_ns,
                        item.inode,
                        item.ctime_ns,
                        item.kind,
                        json.dumps(item.plan, ensure_ascii=True),
                    )
                    for item in items
                ],
            )

    def plans(self, job_id: int) -> list[PlanItem]:
        with self._library._errors():
            found = (
                self._library._connection()
                .execute(
                    "SELECT path, size, mtime_ns, inode, ctime_ns, kind, plan FROM job_plans "
                    "WHERE job_id = ? ORDER BY id",
                    (job_id,),
                )
                .fetchall()
            )
        return [
            PlanItem(rows.path_from_db(p), s, m, i, c, k, json.loads(plan))
            for p, s, m, i, c, k, plan in found
        ]

    def planned_files(self, job_id: int) -> list[PlannedFile]:
        with self._library._errors():
            found = (
                self._library._connection()
                .execute(
                    "SELECT id, path, kind, plan FROM job_plans WHERE job_id = ? ORDER BY id",
                    (job_id,),
                )
                .fetchall()
            )
        return [
            PlannedFile(id=i, path=os.fsdecode(p), kind=k, plan=json.loads(plan))
            for i, p, k, plan in found
        ]


def _run_ids(connection: sqlite3.Connection, job_id: int) -> list[int]:
    found = connection.execute(
        "SELECT id FROM runs WHERE job_id = ? ORDER BY id", (job_id,)
    ).fetchall()
    return [run_id for (run_id,) in found]


def _job_from_row(row: Sequence[Any], run_ids: list[int]) -> Job:
    (
        job_id,
        job_type,
        dry_run,
        paths,
        policy_name,
        policy_hash,
        priority,
        status,
        files_done,
        files_total,
        active,
        options,
        created_at,
        started_at,
        finished_at,
        error,
    ) = row
    return Job(
        id=job_id,
        type=JobType(job_type),
        dry_run=bool(dry_run),
        paths=json.loads(paths),
        policy_name=policy_name,
        policy_hash=policy_hash,
        priority=priority,
        status=JobStatus(status),
        progress=JobProgress(
            files_done=files_done, files_total=files_total, active=json.loads(active)
        ),
        options=JobOptions.model_validate_json(options),
        created_at=created_at,
        started_at=started_at,
        finished_at=finished_at,
        error=error,
        run_ids=run_ids,
    )
