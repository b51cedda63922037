"""The runner thread with a stand-in engine: order, run window, cancel, shutdown, events."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from vpo.config.models import VPOConfig
from vpo.jobs.execute import JobEnd, JobEnvironment, JobOutcome
from vpo.jobs.limits import StartGate
from vpo.jobs.model import Job, JobEvent, JobProgress, JobStatus, JobType, NewJob
from vpo.jobs.runner import JobRunner
from vpo.jobs.window import parse_window
from vpo.library import Library
from vpo.tools.locate import ToolPaths

WAIT = 10.0


class Events:
    def __init__(self) -> None:
        self.items: list[JobEvent] = []
        self.changed = threading.Condition()

    def publish(self, event: JobEvent) -> None:
        with self.changed:
            self.items.append(event)
            self.changed.notify_all()

    def wait_for(self, job_id: int, status: JobStatus) -> None:
        def seen() -> bool:
            return any(
                e.event == "job" and e.job_id == job_id and e.data["status"] == status.value
                for e in self.items
            )

        with self.changed:
            assert self.changed.wait_for(seen, WAIT), (job_id, status, self.items)


class FakeEngine:
    """Runs a job by starting one 'file' per gate admission; blocks on ``release``."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self.files = 3

    def __call__(
        self,
        job: Job,
        policy_text: str | None,
        env: JobEnvironment,
        *,
        gate: StartGate,
        stop: threading.Event,
        observer: object,
    ) -> JobOutcome:
        self.order.append(job.id)
        self.started.set()
        for done in range(self.files):
            if stop.is_set():
                return JobOutcome(JobEnd.STOPPED, "interrupted")
            refusal = gate.admit()
            if refusal is not None:
                return JobOutcome(JobEnd.WINDOW, refusal.reason)
            self.release.wait(WAIT)
            observer.progress(JobProgress(files_done=done + 1, files_total=self.files))  # type: ignore[attr-defined]
        return JobOutcome(JobEnd.COMPLETED)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    with Library.open(tmp_path / "library.db") as opened:
        yield opened


def make_runner(
    library: Library, engine: FakeEngine, events: Events, **kwargs: object
) -> JobRunner:
    env = JobEnvironment(library, VPOConfig(), ToolPaths())
    return JobRunner(env, events, run=engine, **kwargs)  # type: ignore[arg-type]


def queue(library: Library, priority: int = 0) -> Job:
    return library.jobs.add(
        NewJob(type=JobType.PROCESS, paths=["/x"], policy_text="p", priority=priority)
    )


def test_jobs_run_by_priority_and_progress_is_persisted(library: Library) -> None:
    engine, events = FakeEngine(), Events()
    engine.release.set()
    low, high = queue(library, 0), queue(library, 5)
    runner = make_runner(library, engine, events)
    runner.start()
    events.wait_for(low.id, JobStatus.COMPLETED)
    runner.shutdown(WAIT)
    assert engine.order == [high.id, low.id]
    stored = library.jobs.get(low.id)
    assert stored is not None
    assert (stored.progress.files_done, stored.progress.files_total) == (3, 3)


def test_a_job_queued_later_wakes_the_idle_runner(library: Library) -> None:
    engine, events = FakeEngine(), Events()
    engine.release.set()
    runner = make_runner(library, engine, events)
    runner.start()
    job = queue(library)
    runner.wake()
    events.wait_for(job.id, JobStatus.COMPLETED)
    runner.shutdown(WAIT)


def test_no_file_starts_outside_the_window_and_the_job_waits_for_it(library: Library) -> None:
    clock = Clock(datetime(2026, 12, 3, 12, 0))
    engine, events = FakeEngine(), Events()
    engine.release.set()
    job = queue(library)
    runner = make_runner(library, engine, events, window=parse_window("01:00-07:00"), clock=clock)
    runner.start()
    runner.wake()
    assert not engine.started.wait(0.3)  # closed: nothing claimed
    assert library.jobs.get(job.id).status is JobStatus.QUEUED  # type: ignore[union-attr]
    clock.now = datetime(2026, 12, 3, 1, 30)
    runner.wake()
    events.wait_for(job.id, JobStatus.COMPLETED)
    runner.shutdown(WAIT)


def test_a_window_closing_mid_job_requeues_it(library: Library) -> None:
    clock = Clock(datetime(2026, 12, 3, 6, 59))
    engine, events = FakeEngine(), Events()
    job = queue(library)
    runner = make_runner(library, engine, events, window=parse_window("01:00-07:00"), clock=clock)
    runner.start()
    assert engine.started.wait(WAIT)
    clock.now = datetime(2026, 12, 3, 7, 0)  # the first file is running; the window closes
    engine.release.set()
    events.wait_for(job.id, JobStatus.QUEUED)
    stored = library.jobs.get(job.id)
    assert stored is not None
    assert stored.status is JobStatus.QUEUED
    assert stored.progress.files_done == 1  # the active file finished, no other started
    runner.shutdown(WAIT)


def test_cancel_stops_a_running_job_and_it_stays_cancelled(library: Library) -> None:
    engine, events = FakeEngine(), Events()
    job = queue(library)
    runner = make_runner(library, engine, events)
    runner.start()
    assert engine.started.wait(WAIT)
    assert runner.cancel(job.id).changed
    assert not runner.cancel(job.id).changed  # the second client: nothing to do
    engine.release.set()
    runner.shutdown(WAIT)
    stored = library.jobs.get(job.id)
    assert stored is not None
    assert stored.status is JobStatus.CANCELLED
    assert stored.progress.files_done < 3


def test_shutdown_interrupts_the_running_job(library: Library) -> None:
    engine, events = FakeEngine(), Events()
    job, other = queue(library), queue(library)
    runner = make_runner(library, engine, events)
    runner.start()
    assert engine.started.wait(WAIT)
    runner.begin_shutdown()
    engine.release.set()
    runner.shutdown(WAIT)
    assert library.jobs.get(job.id).status is JobStatus.INTERRUPTED  # type: ignore[union-attr]
    assert library.jobs.get(other.id).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert engine.order == [job.id]
    assert library.jobs.recover() == [job.id]


def test_an_engine_error_fails_the_job_not_the_runner(library: Library) -> None:
    events = Events()

    def broken(*args: object, **kwargs: object) -> JobOutcome:
        raise RuntimeError("bug")

    env = JobEnvironment(library, VPOConfig(), ToolPaths())
    runner = JobRunner(env, events, run=broken)
    job = queue(library)
    runner.start()
    events.wait_for(job.id, JobStatus.FAILED)
    second = queue(library)
    runner.wake()
    events.wait_for(second.id, JobStatus.FAILED)
    runner.shutdown(WAIT)
    assert "internal error: RuntimeError: bug" in (library.jobs.get(job.id).error or "")  # type: ignore[union-attr]
