"""The job queue in the library database: priority order, transitions, recovery, plans."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from vpo.jobs.model import JobProgress, JobStatus, JobType, NewJob
from vpo.library import Library
from vpo.library.jobs import PlanItem


@pytest.fixture
def library(tmp_path: Path) -> Library:
    opened = Library.open(tmp_path / "library.db")
    yield opened  # type: ignore[misc]
    opened.close()


def new(priority: int = 0, job_type: JobType = JobType.PROCESS) -> NewJob:
    return NewJob(
        type=job_type,
        paths=["/lib/a"],
        policy_name="p",
        policy_text="x",
        policy_hash="h",
        priority=priority,
    )


def test_a_new_job_is_queued_with_its_fields(library: Library) -> None:
    job = library.jobs.add(new(5), now=10.0)
    assert (job.status, job.type, job.paths, job.priority) == (
        JobStatus.QUEUED,
        JobType.PROCESS,
        ["/lib/a"],
        5,
    )
    assert (job.created_at, job.started_at, job.progress) == (10.0, None, JobProgress())
    assert library.jobs.policy_text(job.id) == "x"


def test_claim_takes_highest_priority_then_oldest(library: Library) -> None:
    low = library.jobs.add(new(0))
    high = library.jobs.add(new(9))
    low2 = library.jobs.add(new(0))
    order = []
    while (job := library.jobs.claim_next()) is not None:
        assert job.status is JobStatus.RUNNING
        order.append(job.id)
    assert order == [high.id, low.id, low2.id]


def test_progress_and_finish_are_persisted(library: Library) -> None:
    job = library.jobs.add(new())
    library.jobs.claim_next()
    library.jobs.set_progress(job.id, JobProgress(files_done=1, files_total=3, active={"/a": "x"}))
    stored = library.jobs.get(job.id)
    assert stored is not None
    assert stored.progress == JobProgress(files_done=1, files_total=3, active={"/a": "x"})
    assert library.jobs.finish(job.id, JobStatus.COMPLETED)
    done = library.jobs.get(job.id)
    assert done is not None
    assert done.status is JobStatus.COMPLETED
    assert done.progress.active == {}


def test_finish_does_not_overwrite_a_cancel(library: Library) -> None:
    job = library.jobs.add(new())
    library.jobs.claim_next()
    assert library.jobs.cancel(job.id).changed
    assert not library.jobs.finish(job.id, JobStatus.COMPLETED)
    stored = library.jobs.get(job.id)
    assert stored is not None
    assert stored.status is JobStatus.CANCELLED


def test_two_clients_cancelling_one_job_change_it_once(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    with Library.open(path) as first, Library.open(path) as second:
        job = first.jobs.add(new())
        results = []
        barrier = threading.Barrier(2)

        def cancel(library: Library) -> None:
            barrier.wait()
            results.append(library.jobs.cancel(job.id).changed)

        threads = [threading.Thread(target=cancel, args=(lib,)) for lib in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, True]
        stored = first.jobs.get(job.id)
        assert stored is not None
        assert stored.status is JobStatus.CANCELLED


def test_retry_requeues_only_finished_unsuccessful_jobs(library: Library) -> None:
    job = library.jobs.add(new())
    assert not library.jobs.retry(job.id).changed  # queued: nothing to retry
    library.jobs.claim_next()
    library.jobs.finish(job.id, JobStatus.FAILED, "boom")
    again = library.jobs.retry(job.id)
    assert again.changed
    assert again.job is not None
    assert (again.job.status, again.job.error) == (JobStatus.QUEUED, None)
    assert library.jobs.retry(12345).job is None


def test_recover_requeues_running_and_interrupted_jobs(library: Library) -> None:
    running = library.jobs.add(new())
    interrupted = library.jobs.add(new())
    done = library.jobs.add(new())
    for _ in range(3):
        library.jobs.claim_next()
    library.jobs.finish(interrupted.id, JobStatus.INTERRUPTED)
    library.jobs.finish(done.id, JobStatus.COMPLETED)
    assert library.jobs.recover() == [running.id, interrupted.id]
    statuses = [library.jobs.get(j.id).status for j in (running, interrupted, done)]  # type: ignore[union-attr]
    assert statuses == [JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.COMPLETED]


def test_runs_link_to_their_job(library: Library) -> None:
    job = library.jobs.add(new())
    run_id = library.start_run(policy_name="p", policy_hash="h", workers=1, job_id=job.id)
    stored = library.jobs.get(job.id)
    assert stored is not None
    assert stored.run_ids == [run_id]


def test_pages_and_filters(library: Library) -> None:
    for _ in range(5):
        library.jobs.add(new())
    library.jobs.add(new(job_type=JobType.SCAN))
    jobs, total = library.jobs.page(limit=2, offset=1)
    assert total == 6
    assert [j.id for j in jobs] == [5, 4]
    scans, total = library.jobs.page(job_type=JobType.SCAN)
    assert (len(scans), total) == (1, 1)
    none, total = library.jobs.page(statuses=[JobStatus.RUNNING])
    assert (none, total) == ([], 0)


def test_plans_round_trip(library: Library) -> None:
    job = library.jobs.add(new(job_type=JobType.PLAN))
    name = Path("/media-lib/caf\udce9.mkv")  # not UTF-8: still round-trips
    library.jobs.add_plans(job.id, [PlanItem(name, 1, 2, 3, 4, "metadata", {"k": [1]})])
    (item,) = library.jobs.plans(job.id)
    assert (item.path, item.size, item.kind, item.plan) == (name, 1, "metadata", {"k": [1]})
    (planned,) = library.jobs.planned_files(job.id)
    assert planned.kind == "metadata"
