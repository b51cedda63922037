"""The real run of ``vpo process``: workers, live progress, Ctrl-C, library records.

The coordinator (this thread) owns everything shared: the display, the
``on_error`` decision (in vpo.batch.runner) and the database writes, which
happen only after the disk change succeeded.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import click
from rich.console import Console

from vpo.apply.encode import TranscodeSettings
from vpo.apply.recovery import RecoveryKind, recover_leftovers, recover_temp_dir
from vpo.apply.settings import ApplySettings
from vpo.batch.progress import ProgressTracker
from vpo.batch.runner import BatchResult, run_batch
from vpo.batch.workers import resolve_worker_count
from vpo.cli.interrupt import InterruptController
from vpo.cli.render.batch_progress import BatchProgressDisplay, display_path
from vpo.cli.render.process_summary import process_document, summary_lines
from vpo.config.models import VPOConfig
from vpo.discovery import iter_media_files
from vpo.errors import ExitCode
from vpo.library import Library, LibraryError
from vpo.library.records import FileOutcome, FileRecord, RunCounts, RunOutcome
from vpo.media.model import MediaFile
from vpo.policy.schema import Phase, Policy
from vpo.probe.cheapest import cheapest_prober
from vpo.text import json_text
from vpo.tools.locate import ToolPaths
from vpo.workflow.process_file import WorkflowContext, process_file
from vpo.workflow.result import FileResult, FileStatus

_RECORD_BATCH = 64  # results per database transaction
_RECORD_SECONDS = 1.0  # ... or fewer, but at least once a second


def run_process(
    *,
    policy_path: Path,
    policy: Policy,
    phases: tuple[Phase, ...],
    paths: Sequence[Path],
    config: VPOConfig,
    tools: ToolPaths,
    recursive: bool,
    as_json: bool,
    quiet: bool,
    workers_chosen: bool = True,
) -> ExitCode:
    """Process every file under ``paths``; returns the exit code (README table)."""
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    unreadable: list[FileResult] = []  # missing or unreadable paths: failed, never started

    def discovery_error(path: Path, cause: str) -> None:
        unreadable.append(FileResult(path=path, status=FileStatus.FAILED, error=cause))
        console.print(f"vpo: {display_path(path)}: {cause}", markup=False)

    stop = threading.Event()
    with InterruptController(
        stop,
        lambda text: console.print(f"vpo: {text}", style="yellow", markup=False),
        stop_seconds=config.jobs.stop_seconds,
    ) as interrupt:
        return _run(
            policy_path=policy_path,
            policy=policy,
            phases=phases,
            paths=paths,
            config=config,
            tools=tools,
            recursive=recursive,
            as_json=as_json,
            quiet=quiet,
            workers_chosen=workers_chosen,
            console=console,
            unreadable=unreadable,
            discovery_error=discovery_error,
            stop=stop,
            interrupt=interrupt,
        )


def _run(
    *,
    policy_path: Path,
    policy: Policy,
    phases: tuple[Phase, ...],
    paths: Sequence[Path],
    config: VPOConfig,
    tools: ToolPaths,
    recursive: bool,
    as_json: bool,
    quiet: bool,
    workers_chosen: bool,
    console: Console,
    unreadable: list[FileResult],
    discovery_error: Callable[[Path, str], None],
    stop: threading.Event,
    interrupt: InterruptController,
) -> ExitCode:
    """The body of run_process, with SIGINT/SIGTERM/SIGHUP already handled: a stop
    request before the batch starts means no file is started."""
    _recover(paths, (config.jobs.temp_dir, config.transcode.scratch_dir), console, quiet)
    files: list[Path] = []
    for path in iter_media_files(
        paths, config.discovery.extensions, recursive=recursive, on_error=discovery_error
    ):
        if stop.is_set():
            break
        files.append(path)
    decision = resolve_worker_count(
        config.processing.workers,
        max_workers=config.processing.max_workers,
        cpu_count=os.cpu_count(),
        file_count=len(files),
    )
    if decision.warning and workers_chosen and not quiet:  # the default needs no apology
        console.print(f"vpo: {decision.warning}", markup=False)
    with Library.open(config.library.database) as library:
        context = WorkflowContext(
            policy=policy,
            phases=phases,
            tools=tools,
            settings=ApplySettings.from_jobs_config(config.jobs),
            probe=cheapest_prober(tools, timeout=config.tools.probe_timeout),
            cached_media=partial(_cached, library),
            transcode=TranscodeSettings.from_config(config.transcode),
        )
        for closed in library.close_abandoned_runs():
            if not quiet:
                console.print(
                    f"vpo: run {closed} did not finish (its vpo is gone): recorded as interrupted",
                    markup=False,
                )
        run_id = library.start_run(
            policy_name=policy_path.name,
            policy_hash=_file_hash(policy_path),
            workers=decision.effective,
        )
        recorder = _Recorder(library, run_id, lambda text: _database_failed(text, stop, interrupt))
        tracker = ProgressTracker(len(files))
        live = console.is_terminal and not as_json
        plain_notify = interrupt.notify
        with (
            BatchProgressDisplay(tracker, console, live=live, quiet=quiet) as display,
            ThreadPoolExecutor(decision.effective, thread_name_prefix="vpo-worker") as executor,
        ):
            interrupt.notify = lambda text: display.message(f"vpo: {text}", "yellow")
            context = replace(context, on_progress=display.encode_progress)
            batch = run_batch(
                files,
                partial(process_file, context=context),
                executor=executor,
                workers=decision.effective,
                stop_on_failure=policy.config.on_error == "fail",
                stop=stop,
                observer=display,
                on_result=recorder.add,
            )
            interrupt.notify = plain_notify
        batch = replace(batch, results=(*unreadable, *batch.results))
        unrecorded: str | None = None
        try:
            recorder.flush()
            library.finish_run(
                run_id,
                RunCounts.from_mapping(batch.counts, sum(r.bytes_written for r in batch.results)),
                outcome=_run_outcome(batch, interrupt.interrupted or recorder.error is not None),
            )
        except LibraryError as error:
            unrecorded = (
                f"{error}; {recorder.pending} file result(s) of run {run_id} could not be "
                "recorded (the files themselves are complete); the next vpo process closes "
                "the run as interrupted"
            )
    _print_summary(batch, policy_path, phases, interrupt.interrupted, run_id, as_json, console)
    if unrecorded is not None:
        console.print(f"vpo: {unrecorded}", markup=False)
        return ExitCode.USAGE
    if recorder.error is not None:
        console.print(
            f"vpo: {recorder.error} (during the run: no new file was started; every "
            "result was recorded once the database could be written again)",
            markup=False,
        )
        return ExitCode.USAGE
    if interrupt.interrupted:
        return interrupt.exit_code
    if batch.failed or batch.stopped_early:
        return ExitCode.FILES_FAILED
    return ExitCode.OK


def _cached(library: Library, path: Path, info: os.stat_result) -> MediaFile | None:
    return library.cached_media(path, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)


class _Recorder:
    """Buffers results and writes them in small transactions from the coordinator thread.

    A write that fails (a full or damaged database) stops the batch: no new file
    starts, since its change could not be recorded either; the results stay pending
    for one more try at the end.
    """

    def __init__(self, library: Library, run_id: int, on_error: Callable[[str], None]) -> None:
        self._library = library
        self._run_id = run_id
        self._on_error = on_error
        self._pending: list[FileRecord] = []
        self._last_flush = time.monotonic()
        self.error: str | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, result: FileResult) -> None:
        self._pending.append(_record_of(result))
        due = time.monotonic() - self._last_flush >= _RECORD_SECONDS
        if self.error is None and (len(self._pending) >= _RECORD_BATCH or due):
            try:
                self.flush()
            except LibraryError as error:
                self.error = str(error)
                self._on_error(self.error)

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if self._pending:
            self._library.record_file_results(self._run_id, self._pending)
            self._pending = []


def _database_failed(text: str, stop: threading.Event, interrupt: InterruptController) -> None:
    stop.set()
    interrupt.notify(f"{text}; starting no new files (the ones in progress finish)")


def _record_of(result: FileResult) -> FileRecord:
    kinds = [p.kind for p in result.phases if p.kind]
    order = ["noop", "metadata", "remux", "encode"]
    return FileRecord(
        path=result.path,
        outcome=FileOutcome(result.status.value),
        plan_kind=max(kinds, key=order.index) if kinds else None,
        tool=",".join(dict.fromkeys(result.tools)) or None,
        phase=",".join(p.phase for p in result.phases) or None,
        before=result.before,
        after=result.after,
        changes=tuple(change for p in result.phases for change in p.changes),
        bytes_written=result.bytes_written,
        seconds=result.seconds,
        error=result.error or result.skip_reason,
        after_ctime_ns=result.after_ctime_ns,
        original_size=result.original_size,
        bytes_saved=result.bytes_saved,
        encode_seconds=result.encode_seconds,
        encode_speed=result.encode_speed,
    )


def _run_outcome(batch: BatchResult, interrupted: bool) -> RunOutcome:
    if interrupted:
        return RunOutcome.INTERRUPTED
    return RunOutcome.FAILED if batch.stopped_early else RunOutcome.COMPLETED


def _recover(
    paths: Sequence[Path], temp_dirs: Sequence[Path | None], console: Console, quiet: bool
) -> None:
    """Undo what a killed earlier run left (journals, temp files) before touching anything."""
    found = recover_temp_dir(*temp_dirs)
    for root in paths:
        if root.is_dir():
            found.extend(recover_leftovers(root))
    for action in found:
        if action.kind in (RecoveryKind.FAILED, RecoveryKind.SET_ASIDE) or not quiet:
            console.print(
                f"vpo: recovery: {display_path(action.path)}: {action.detail}", markup=False
            )


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _print_summary(
    batch: BatchResult,
    policy_path: Path,
    phases: tuple[Phase, ...],
    interrupted: bool,
    run_id: int,
    as_json: bool,
    console: Console,
) -> None:
    if as_json:
        document = process_document(
            batch,
            policy=str(policy_path),
            phases=[phase.name for phase in phases],
            interrupted=interrupted,
            run_id=run_id,
        )
        click.echo(json_text(document))
        return
    for line in summary_lines(batch, interrupted=interrupted):
        click.echo(line)
