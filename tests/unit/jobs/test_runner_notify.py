"""What the job runner hands to ``[notifications]``: one message per finished job with its
counts and first failures, failed files at once, nothing for a job the run window sent
back to the queue. A stand-in engine; the notifier's own thread and HTTP are tested in
tests/unit/integrations/test_notify.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vpo.config.models import VPOConfig
from vpo.integrations.notify import Message, Notifier, NotifyEvent
from vpo.jobs.execute import JobEnd, JobEnvironment, JobOutcome
from vpo.jobs.model import Job, JobEvent, JobType, NewJob
from vpo.jobs.runner import JobRunner
from vpo.library import Library
from vpo.tools.locate import ToolPaths

WAIT = 10.0


class Recording(Notifier):
    """The real selection and text; messages kept instead of sent."""

    def __init__(self, *on: NotifyEvent) -> None:
        super().__init__([], on, timeout=1.0)
        self.messages: list[Message] = []
        self.arrived = threading.Condition()

    def _put(self, message: Message) -> None:
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()

    def wait_for(self, count: int) -> list[Message]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.messages) >= count, WAIT)
            return list(self.messages)


class NoEvents:
    def publish(self, event: JobEvent) -> None:
        pass


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    with Library.open(tmp_path / "library.db") as opened:
        yield opened


def engine(results: list[dict[str, object]], end: JobEnd = JobEnd.COMPLETED) -> object:
    def run(job: Job, policy_text: str | None, env: JobEnvironment, **kw: object) -> JobOutcome:
        observer = kw["observer"]
        for data in results:
            observer.file_result(data)  # type: ignore[attr-defined]
        counts = {"changed": 0, "unchanged": 0, "skipped": 0, "failed": 0}
        for data in results:
            counts[str(data["status"])] += 1
        return JobOutcome(end, None, counts)

    return run


RunOne = Callable[[Notifier, object], tuple[Job, JobRunner]]


@pytest.fixture
def run_one(library: Library) -> Iterator[RunOne]:
    """Queue one job and start a runner on it; every runner stops before the library closes."""
    started: list[JobRunner] = []

    def start(notifier: Notifier, run: object) -> tuple[Job, JobRunner]:
        job = library.jobs.add(
            NewJob(type=JobType.PROCESS, paths=["/m"], policy_name="films", policy_text="p")
        )
        env = JobEnvironment(library, VPOConfig(), ToolPaths())
        runner = JobRunner(env, NoEvents(), run=run, notifier=notifier)  # type: ignore[arg-type]
        started.append(runner)
        runner.start()
        return job, runner

    yield start
    for runner in started:
        runner.shutdown(WAIT)


FILES: list[dict[str, object]] = [
    {"path": "/m/a.mkv", "status": "changed", "error": None},
    {"path": "/m/b.mkv", "status": "failed", "error": "mkvmerge failed (exit 2): disk full"},
    {"path": "/m/c.mkv", "status": "unchanged", "error": None},
]


def test_a_finished_job_is_one_message_with_its_counts_and_failures(run_one: RunOne) -> None:
    notifier = Recording(NotifyEvent.JOB_FINISHED)
    job, _ = run_one(notifier, engine(FILES))
    (message,) = notifier.wait_for(1)
    assert message.title == (
        f"vpo: job {job.id} (process, policy films) completed: "
        "1 changed, 1 unchanged, 0 skipped, 1 failed"
    )
    assert "- /m/b.mkv: mkvmerge failed (exit 2): disk full" in message.body
    assert message.failure


def test_each_failed_file_is_told_as_it_fails(run_one: RunOne) -> None:
    notifier = Recording(NotifyEvent.FILE_FAILED, NotifyEvent.JOB_FAILED)
    job, _ = run_one(notifier, engine(FILES))
    file_message, job_message = notifier.wait_for(2)
    assert file_message.body == f"job {job.id}: /m/b.mkv: mkvmerge failed (exit 2): disk full"
    assert job_message.title.startswith(f"vpo: job {job.id} (process, policy films) completed")


def test_a_clean_job_is_quiet_under_job_failed(run_one: RunOne) -> None:
    notifier = Recording(NotifyEvent.JOB_FAILED)
    done = threading.Event()

    def run(*args: object, **kw: object) -> JobOutcome:
        try:
            return engine([FILES[0], FILES[2]])(*args, **kw)  # type: ignore[operator, no-any-return]
        finally:
            done.set()

    _, runner = run_one(notifier, run)
    assert done.wait(WAIT)
    runner.shutdown(WAIT)  # the runner thread has concluded the job and ended
    assert notifier.messages == []


def test_a_job_sent_back_by_the_run_window_is_not_finished(run_one: RunOne) -> None:
    notifier = Recording(NotifyEvent.JOB_FINISHED)
    ends = iter([JobEnd.WINDOW, JobEnd.COMPLETED])

    def run(*args: object, **kw: object) -> JobOutcome:
        return engine([FILES[0]], next(ends))(*args, **kw)  # type: ignore[operator, no-any-return]

    job, _ = run_one(notifier, run)  # requeued, then claimed again at once
    (message,) = notifier.wait_for(1)
    assert message.title.startswith(f"vpo: job {job.id} (process, policy films) completed")
