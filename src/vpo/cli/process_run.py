"""``vpo process`` on the batch coordinator: the CLI's side of a run (and of a dry run).

The coordinator (vpo.batch.process) does the work and owns the library; this
module only builds the request, the executor and the display, installs the
Ctrl-C handler and prints the summary.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from vpo.batch.process import ProcessRequest, run_process_batch
from vpo.batch.progress import ProgressTracker
from vpo.cli.interrupt import InterruptController
from vpo.cli.render import plan_json, plan_table
from vpo.cli.render.batch_progress import BatchProgressDisplay
from vpo.cli.render.process_summary import process_document, summary_lines
from vpo.errors import ExitCode
from vpo.library import Library
from vpo.tools.progress import EncodeProgress
from vpo.workflow.result import FileResult


def _threads(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(workers, thread_name_prefix="vpo-worker")


def run_process(
    request: ProcessRequest,
    *,
    database: Path,
    as_json: bool,
    quiet: bool,
    policy_label: str,
) -> ExitCode:
    """Process every file of ``request``; returns the exit code (README table)."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    stop = threading.Event()
    tracker = ProgressTracker(None)
    live = console.is_terminal and not as_json
    with (
        Library.open(database) as library,
        BatchProgressDisplay(tracker, console, live=live, quiet=quiet) as display,
        InterruptController(
            stop, lambda text: display.message(f"vpo: {text}", "yellow")
        ) as interrupt,
        _threads(request.workers) as executor,
    ):
        batch = run_process_batch(
            request, executor=executor, observer=display, stop=stop, library=library
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
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for line in summary_lines(batch, interrupted=interrupted):
            click.echo(line)
    if interrupted:
        return ExitCode.INTERRUPTED
    if batch.failed or batch.stopped_early:
        return ExitCode.FILES_FAILED
    return ExitCode.OK


def run_dry_run(
    request: ProcessRequest, *, database: Path, as_json: bool, policy_label: str
) -> ExitCode:
    """The dry run: the same coordinator, prober, cache and workers, with ``plan_file``
    as the per-file work; plans are printed in the order of the files."""
    view = DryRunView(as_json=as_json)
    stop = threading.Event()
    library = Library.open(database) if database.is_file() else None  # read only: never created
    with (
        library if library is not None else nullcontext(),
        InterruptController(stop, lambda text: click.echo(f"vpo: {text}", err=True)) as interrupt,
        _threads(request.workers) as executor,
    ):
        batch = run_process_batch(
            request, executor=executor, observer=view, stop=stop, library=library
        )
    view.flush()
    if as_json:
        document = plan_json.document(
            policy_label, [p.name for p in request.phases], view.documents, view.summary()
        )
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(plan_table.render_summary(dict(view.kinds), view.total))
    if interrupt.interrupted:
        return ExitCode.INTERRUPTED
    if view.stopped or view.kinds.get("errors"):
        return ExitCode.FILES_FAILED
    return ExitCode.FILES_FAILED if batch.stopped_early else ExitCode.OK


class DryRunView:
    """Prints each file's plans (or JSON) in discovery order, whatever order the
    workers finish in: results wait until every file started before them is out."""

    def __init__(self, *, as_json: bool) -> None:
        self._as_json = as_json
        self._order: list[Path] = []
        self._next = 0
        self._done: dict[Path, FileResult] = {}
        self.kinds: Counter[str] = Counter()
        self.total = 0
        self.documents: list[dict[str, Any]] = []
        self.stopped = False

    def batch_started(self, total: int) -> None:
        """Nothing to show before the first plan."""

    def file_started(self, path: Path) -> None:
        self._order.append(path)

    def file_finished(self, result: FileResult) -> None:
        self._done[result.path] = result
        while self._next < len(self._order) and self._order[self._next] in self._done:
            self._show(self._done.pop(self._order[self._next]))
            self._next += 1

    def progress(self, progress: EncodeProgress) -> None:
        """A dry run encodes nothing."""

    def notice(self, path: Path, text: str, *, important: bool) -> None:
        self._error(path, text)

    def flush(self) -> None:
        for result in self._done.values():  # left over only when a worker vanished
            self._show(result)
        self._done.clear()

    def summary(self) -> dict[str, int]:
        return {
            "files": self.total,
            **{k: self.kinds.get(k, 0) for k in ("noop", "metadata", "remux", "encode")},
            "errors": self.kinds.get("errors", 0),
        }

    def _show(self, result: FileResult) -> None:
        evaluation = result.evaluation
        if evaluation is None:
            self._error(result.path, result.error or result.skip_reason or "failed")
            return
        self.total += 1
        self.kinds["errors" if evaluation.failed else evaluation.kind.value] += 1
        if self._as_json:
            self.documents.append(plan_json.file_dict(evaluation))
        else:
            click.echo(plan_table.render_file(evaluation))
        if evaluation.stop_batch:
            click.echo("vpo: on_error is 'fail': stopping the batch", err=True)
            self.stopped = True

    def _error(self, path: Path, cause: str) -> None:
        message = f"{plan_table.display_path(path)}: {cause}"
        click.echo(f"vpo: {message}", err=True)
        self.total += 1
        self.kinds["errors"] += 1
        self.documents.append(plan_json.error_dict(str(path), message))
