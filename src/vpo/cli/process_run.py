"""``vpo process`` on the batch coordinator: the CLI's side of a real run.

The coordinator (vpo.batch.process) does the work and owns the library; this
module only builds the request, the executor and the display, installs the
Ctrl-C handler and prints the summary.
"""

from __future__ import annotations

import threading
from pathlib import Path

import click
from rich.console import Console

from vpo.batch.executors import open_executor
from vpo.batch.process import ProcessRequest, run_process_batch
from vpo.batch.progress import ProgressTracker
from vpo.cli.interrupt import InterruptController
from vpo.cli.render.batch_progress import BatchProgressDisplay
from vpo.cli.render.process_summary import process_document, summary_lines
from vpo.errors import ExitCode
from vpo.library import Library
from vpo.text import json_text


def run_process(
    request: ProcessRequest,
    *,
    database: Path,
    as_json: bool,
    quiet: bool,
    policy_label: str,
    stop_seconds: float,
    executor: str = "threads",
) -> ExitCode:
    """Process every file of ``request``; returns the exit code (README table)."""
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
        ) as interrupt,
    ):
        batch = run_process_batch(
            request, executor=pool, observer=display, stop=stop, library=library
        )
    interrupted = interrupt.interrupted
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
