"""The daemon's job runner: one thread that takes queued jobs by priority and runs them.

It sleeps on a condition (no polling): a new job, a retry, a cancel or shutdown
wakes it, and outside the run window it waits exactly until the window opens.
Progress and state changes are written to the library and published as events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from vpo.errors import VpoError
from vpo.integrations.notify import LISTED_FAILURES, Notifier, RunReport
from vpo.jobs.execute import JobEnd, JobEnvironment, JobOutcome, run_job
from vpo.jobs.limits import Clock, StartGate
from vpo.jobs.model import Job, JobEvent, JobProgress, JobStatus
from vpo.jobs.window import RunWindow
from vpo.library.jobs import Transition
from vpo.tools.runner import terminate_all_tools

log = logging.getLogger("vpo.jobs")

_PROGRESS_INTERVAL = 0.25  # seconds between persisted encode-percent updates of one job


class EventSink(Protocol):
    def publish(self, event: JobEvent) -> None: ...


class JobRunner:
    """Owns the runner thread; every public method is safe from any thread."""

    def __init__(
        self,
        env: JobEnvironment,
        events: EventSink,
        *,
        window: RunWindow | None = None,
        clock: Clock = datetime.now,
        run: Callable[..., JobOutcome] = run_job,
        on_changed: Callable[[Path], None] | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        self._env = env
        self._events = events
        self._window = window
        self._clock = clock
        self._run = run
        self._on_changed = on_changed  # told about every file a job changed (media servers)
        self._notifier = notifier  # [notifications]: finished jobs, failed files
        self._failures: list[tuple[str, str]] = []  # of the running job, for its message
        self._condition = threading.Condition()
        self._closing = False
        self._current: Job | None = None
        self._current_stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._last_progress = 0.0

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="vpo-job-runner", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A job was queued (or the clock moved, in tests): look at the queue again."""
        with self._condition:
            self._condition.notify_all()

    @property
    def running_job(self) -> int | None:
        with self._condition:
            return None if self._current is None else self._current.id

    def cancel(self, job_id: int) -> Transition:
        """Cancel in the database (atomically, once); a running job stops starting files."""
        transition = self._env.library.jobs.cancel(job_id)
        if transition.changed:
            with self._condition:
                if self._current is not None and self._current.id == job_id:
                    assert self._current_stop is not None
                    self._current_stop.set()
            self._state(transition.job)
        return transition

    def retry(self, job_id: int) -> Transition:
        transition = self._env.library.jobs.retry(job_id)
        if transition.changed:
            self._state(transition.job)
            self.wake()
        return transition

    def begin_shutdown(self) -> None:
        """SIGTERM: no new job and no new file starts; active files go on for now."""
        with self._condition:
            self._closing = True
            if self._current_stop is not None:
                self._current_stop.set()
            self._condition.notify_all()

    def shutdown(self, timeout: float) -> None:
        """Give active files ``timeout`` seconds, then stop their tools; wait for the end."""
        self.begin_shutdown()
        if self._thread is None:
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            stopped = terminate_all_tools()
            log.info("shutdown: stopped %d running tool process(es)", stopped)
            self._thread.join()

    # ------------------------------------------------------------------ thread

    def _loop(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            self._execute(job)

    def _next_job(self) -> Job | None:
        with self._condition:
            while not self._closing:
                wait = self._window.seconds_until_open(self._clock()) if self._window else 0.0
                if wait == 0.0:
                    job = self._env.library.jobs.claim_next()
                    if job is not None:
                        self._current = job
                        self._current_stop = threading.Event()
                        self._failures = []
                        return job
                    self._condition.wait()  # woken by wake(), retry() or shutdown
                else:
                    self._condition.wait(wait)
            return None

    def _execute(self, job: Job) -> None:
        assert self._current_stop is not None
        stop = self._current_stop
        self._state(job)
        log.info("job %d started: %s %s", job.id, job.type.value, " ".join(job.paths))
        gate = StartGate(self._window, job.options.limits, self._clock)
        try:
            outcome = self._run(
                job,
                self._env.library.jobs.policy_text(job.id),
                self._env,
                gate=gate,
                stop=stop,
                observer=_Observer(self, job.id),
            )
        except VpoError as error:
            outcome = JobOutcome(JobEnd.FAILED, str(error))
        except Exception as error:  # a bug must not end the daemon's runner
            log.exception("job %d: internal error", job.id)
            outcome = JobOutcome(JobEnd.FAILED, f"internal error: {type(error).__name__}: {error}")
        self._conclude(job, outcome)
        with self._condition:
            self._current = None
            self._current_stop = None

    def _conclude(self, job: Job, outcome: JobOutcome) -> None:
        jobs = self._env.library.jobs
        if outcome.end is JobEnd.WINDOW:
            status, error = JobStatus.QUEUED, None  # picked up again when the window opens
        elif outcome.end is JobEnd.STOPPED:
            status, error = JobStatus.INTERRUPTED, outcome.message
        elif outcome.end is JobEnd.FAILED:
            status, error = JobStatus.FAILED, outcome.message
        else:
            status, error = JobStatus.COMPLETED, outcome.message
        if jobs.finish(job.id, status, error):
            log.info(
                "job %d %s%s %s",
                job.id,
                status.value,
                f" ({error})" if error else "",
                " ".join(f"{k}={v}" for k, v in outcome.counts.items()),
            )
        final = jobs.get(job.id)
        self._state(final)
        if self._notifier is not None and status is not JobStatus.QUEUED:
            with self._condition:
                failures = tuple(self._failures)
            self._notifier.run_finished(
                RunReport(
                    what=_job_label(job),
                    end=(final.status if final is not None else status).value,
                    counts=outcome.counts,
                    failures=failures,
                    reason=error,
                )
            )

    # ------------------------------------------------------------------ events

    def _state(self, job: Job | None) -> None:
        if job is None:
            return
        self._events.publish(JobEvent(event="job", job_id=job.id, data=job.model_dump(mode="json")))

    def _progress(self, job_id: int, progress: JobProgress) -> None:
        now = time.monotonic()
        encode_only = any(v.startswith("encode") for v in progress.active.values())
        if encode_only and now - self._last_progress < _PROGRESS_INTERVAL:
            return
        self._last_progress = now
        self._env.library.jobs.set_progress(job_id, progress)
        self._events.publish(
            JobEvent(event="progress", job_id=job_id, data=progress.model_dump(mode="json"))
        )

    def _file(self, job_id: int, data: dict[str, object]) -> None:
        log.info(
            "job %d file %s: %s%s",
            job_id,
            data.get("path"),
            data.get("status"),
            f" ({data['error']})" if data.get("error") else "",
        )
        self._events.publish(JobEvent(event="file", job_id=job_id, data=data))
        if self._notifier is not None and data.get("status") == "failed":
            cause = str(data.get("error") or "failed")
            with self._condition:
                if len(self._failures) < LISTED_FAILURES:
                    self._failures.append((str(data["path"]), cause))
            self._notifier.file_failed(f"job {job_id}", str(data["path"]), cause)
        if self._on_changed is not None and data.get("status") == "changed":
            self._on_changed(Path(str(data["path"])))


def _job_label(job: Job) -> str:
    policy = f", policy {job.policy_name}" if job.policy_name else ""
    return f"job {job.id} ({job.type.value}{policy})"


class _Observer:
    def __init__(self, runner: JobRunner, job_id: int) -> None:
        self._runner = runner
        self._job_id = job_id

    def progress(self, progress: JobProgress) -> None:
        self._runner._progress(self._job_id, progress)

    def file_result(self, data: dict[str, object]) -> None:
        self._runner._file(self._job_id, data)
