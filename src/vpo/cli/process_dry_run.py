"""``vpo process --dry-run`` on the batch coordinator: plans printed in file order.

Kept apart from the real run's display so a dry run imports neither rich nor the
apply machinery.
"""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vpo.batch.executors import open_executor
from vpo.batch.process import ProcessRequest, run_process_batch
from vpo.cli.interrupt import InterruptController
from vpo.cli.render import plan_json, plan_table
from vpo.errors import ExitCode
from vpo.library import Library
from vpo.text import json_text
from vpo.workflow.result import FileResult

if TYPE_CHECKING:
    from vpo.config.models import IntegrationsConfig
    from vpo.tools.progress import EncodeProgress


def run_dry_run(
    request: ProcessRequest,
    *,
    database: Path,
    as_json: bool,
    policy_label: str,
    stop_seconds: float,
    executor: str = "threads",
    integrations: IntegrationsConfig | None = None,
) -> ExitCode:
    """The dry run: the same coordinator, prober, cache and workers, with ``plan_file``
    as the per-file work; plans are printed in the order of the files. Titles missing
    from the library are asked of ``integrations`` but not stored."""
    view = DryRunView(as_json=as_json)
    stop = threading.Event()
    library = Library.open(database) if database.is_file() else None  # read only: never created
    with (
        library if library is not None else nullcontext(),
        InterruptController(
            stop, lambda text: click.echo(f"vpo: {text}", err=True), stop_seconds=stop_seconds
        ) as interrupt,
        open_executor(executor, request.workers) as pool,
    ):
        if integrations is not None and request.metadata_for is None:
            from vpo.integrations.metadata_source import batch_metadata

            lookup = batch_metadata(
                integrations,
                library,
                warn=lambda text: click.echo(f"vpo: {text}", err=True),
                store=False,
            )
            request = replace(request, metadata_for=lookup)
        batch = run_process_batch(request, executor=pool, observer=view, stop=stop, library=library)
    view.flush()
    if as_json:
        document = plan_json.document(
            policy_label, [p.name for p in request.phases], view.documents, view.summary()
        )
        click.echo(json_text(document))
    else:
        click.echo(plan_table.render_summary(dict(view.kinds), view.total))
    if interrupt.interrupted:
        return interrupt.exit_code
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

    def notice(self, path: Path, text: str, *, important: bool, topic: str | None = None) -> None:
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
