"""``vpo process`` on the batch coordinator: the CLI's side of a real run.

The coordinator (vpo.batch.process) does the work and owns the library; this
module only builds the request, the executor and the display, installs the
Ctrl-C handler and prints the summary.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import click
from rich.console import Console

from vpo.batch.executors import open_executor
from vpo.batch.process import ProcessObserver, ProcessRequest, run_process_batch
from vpo.batch.progress import ProgressTracker
from vpo.batch.runner import BatchResult
from vpo.cli.interrupt import InterruptController
from vpo.cli.render.batch_progress import BatchProgressDisplay
from vpo.cli.render.process_summary import process_document, summary_lines
from vpo.config.models import IntegrationsConfig
from vpo.errors import ExitCode
from vpo.integrations.notify import LISTED_FAILURES, Notifier, RunReport
from vpo.library import Library
from vpo.text import json_text
from vpo.tools.progress import EncodeProgress
from vpo.workflow.result import FileResult, FileStatus


def run_process(
    request: ProcessRequest,
    *,
    database: Path,
    as_json: bool,
    quiet: bool,
    policy_label: str,
    stop_seconds: float,
    executor: str = "threads",
    notifier: Notifier | None = None,
    what: str = "vpo process",
    integrations: IntegrationsConfig | None = None,
) -> ExitCode:
    """Process every file of ``request``; returns the exit code (README table).

    With a ``notifier``, failed files and the run's end are notified as ``what``.
    ``integrations``: Sonarr/Radarr to ask about titles the library does not hold."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    stop = threading.Event()
    tracker = ProgressTracker(None)
    live = console.is_terminal and not as_json
    with (
        Library.open(database) as library,
        BatchProgressDisplay(tracker, console, live=live, quiet=quiet) as display,
        open_executor(executor, request.workers) as pool,
        InterruptController(
            stop,
            lambda text: display.message(f"vpo: {text}", "yellow"),
            stop_seconds=stop_seconds,
            on_abort=getattr(pool, "stop_tools", None),  # remote workers' tools too
            on_stop=getattr(pool, "hold_queued", None),  # files queued on remote workers
        ) as interrupt,
    ):
        if integrations is not None and request.metadata_for is None:
            from vpo.integrations.metadata_source import batch_metadata

            lookup = batch_metadata(
                integrations, library, warn=lambda text: display.message(f"vpo: {text}", "yellow")
            )
            request = replace(request, metadata_for=lookup)
        observer = display if notifier is None else _Notifying(display, notifier, what)
        batch = run_process_batch(
            request, executor=pool, observer=observer, stop=stop, library=library
        )
    interrupted = interrupt.interrupted
    if notifier is not None:
        notifier.run_finished(run_report(batch, what, interrupted=interrupted))
        notifier.close()
    if as_json:
        document = process_document(
            batch,
            policy=policy_label,
            phases=[phase.name for phase in request.phases],
            interrupted=interrupted,
            run_id=batch.run_id,
        )
        click.echo(json_text(document))
    else:
        for line in summary_lines(batch, interrupted=interrupted):
            click.echo(line)
    if batch.database_error is not None:
        console.print(f"vpo: {batch.database_error}", markup=False)
        return ExitCode.USAGE
    if interrupted:
        return interrupt.exit_code
    if batch.failed or batch.stopped_early:
        return ExitCode.FILES_FAILED
    return ExitCode.OK


def run_report(batch: BatchResult, what: str, *, interrupted: bool) -> RunReport:
    """How an inline run ended, for its notification."""
    if interrupted:
        end = "interrupted"
    elif batch.stopped_early or batch.database_error is not None:
        end = "failed"
    else:
        end = "completed"
    return RunReport(
        what=what,
        end=end,
        counts={status.value: batch.count(status) for status in FileStatus},
        failures=tuple(
            (str(result.path), result.error or "failed")
            for result in batch.failed[:LISTED_FAILURES]
        ),
        reason=batch.database_error or (batch.stop_reason if end != "completed" else None),
    )


class _Notifying:
    """The display, plus a notification for each failed file as it fails."""

    def __init__(self, inner: ProcessObserver, notifier: Notifier, what: str) -> None:
        self._inner = inner
        self._notifier = notifier
        self._what = what

    def batch_started(self, total: int) -> None:
        self._inner.batch_started(total)

    def file_started(self, path: Path) -> None:
        self._inner.file_started(path)

    def file_finished(self, result: FileResult) -> None:
        self._inner.file_finished(result)
        if result.status is FileStatus.FAILED:
            self._notifier.file_failed(self._what, str(result.path), result.error or "failed")

    def progress(self, progress: EncodeProgress) -> None:
        self._inner.progress(progress)

    def notice(self, path: Path, text: str, *, important: bool, topic: str | None = None) -> None:
        self._inner.notice(path, text, important=important, topic=topic)
