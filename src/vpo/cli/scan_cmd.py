"""``vpo scan PATH...``: bring the library database up to date with the disk.

Parses options, resolves tools and the database before touching anything, then
hands over to ``vpo.library.scan``; this module only draws progress (stderr)
and prints the summary (stdout, or JSON).
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import click
from rich.console import Console
from rich.live import Live
from rich.text import Text

from vpo.cli.common import load_config_or_exit, require_tools, tool_paths
from vpo.cli.interrupt import InterruptController
from vpo.errors import ExitCode
from vpo.library import Library
from vpo.library.scan import (
    ScanCounts,
    ScanEvent,
    ScanOptions,
    ScanProblem,
    ScanSummary,
    scan_paths,
)
from vpo.probe.cheapest import cheapest_prober
from vpo.text import json_text, one_line

_PLAIN_INTERVAL = 5.0  # seconds between progress lines when stderr is not a terminal
REQUIRED_TOOLS = ("ffprobe", "mkvmerge")


def progress_line(counts: ScanCounts, elapsed: float) -> str:
    """``Scanning: 1200 found, 12 new, 3 changed, 1180 unchanged, 1 error, 4 probing, 3.1 s``."""
    parts = [f"{counts.found} found", f"{counts.new} new", f"{counts.changed} changed"]
    parts.append(f"{counts.unchanged} unchanged")
    if counts.moved:
        parts.append(f"{counts.moved} moved")
    if counts.errors:
        parts.append(plural(counts.errors, "error"))
    if counts.probing:
        parts.append(f"{counts.probing} probing")
    return f"Scanning: {', '.join(parts)}, {elapsed:.1f} s"


def plural(count: int, noun: str) -> str:
    """``1 error``, ``0 errors``, ``2 errors``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_text(summary: ScanSummary) -> str:
    """The human summary printed on stdout."""
    c = summary.counts
    head = "Scan interrupted" if summary.interrupted else "Scanned"
    line = (
        f"{head}: {c.found} found, {c.new} new, {c.changed} changed, {c.unchanged} unchanged, "
        f"{c.moved} moved, {c.missing} missing, {plural(c.errors, 'error')} "
        f"in {summary.seconds:.1f} s"
    )
    if c.pruned:
        line += f" ({c.pruned} pruned from the library)"
    elif c.missing:
        line += " (run with --prune to forget missing files)"
    return line


def summary_json(summary: ScanSummary, database: Path) -> dict[str, Any]:
    c = summary.counts
    return {
        "database": str(database),
        "found": c.found,
        "new": c.new,
        "changed": c.changed,
        "unchanged": c.unchanged,
        "moved": c.moved,
        "missing": c.missing,
        "pruned": c.pruned,
        "errors": c.errors,
        "seconds": round(summary.seconds, 3),
        "interrupted": summary.interrupted,
        "problems": [{"path": str(p.path), "message": p.message} for p in summary.problems],
    }


class ScanDisplay:
    """Receives scan events on the coordinator thread and draws them on stderr."""

    def __init__(self, console: Console, *, live: bool, quiet: bool) -> None:
        self._console = console
        self._quiet = quiet
        self._live: Live | None = None
        self._use_live = live and not quiet
        self._line = Text("Scanning…")
        self._last_plain = time.monotonic()

    def __enter__(self) -> ScanDisplay:
        if self._use_live:
            self._live = Live(
                self._line, console=self._console, refresh_per_second=8, transient=True
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, traceback)

    def __call__(self, event: ScanEvent) -> None:
        if isinstance(event, ScanProblem):
            self._print(f"vpo: {one_line(event.message)}")
            return
        if self._quiet:
            return
        line = progress_line(event.counts, event.elapsed)
        if self._live is not None:
            self._live.update(Text(line))
        elif time.monotonic() - self._last_plain >= _PLAIN_INTERVAL:
            self._last_plain = time.monotonic()
            self._print(line)

    def notify(self, message: str) -> None:
        self._print(f"vpo: {message}")

    def _print(self, line: str) -> None:
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            self._console.print(line, markup=False, highlight=False, soft_wrap=True)


@click.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Files probed at once (default: [processing] workers).",
)
@click.option("--prune", is_flag=True, help="Remove files that vanished from the library.")
@click.option("--reprobe", is_flag=True, help="Probe every file again, even unchanged ones.")
@click.option(
    "--refresh-metadata",
    is_flag=True,
    help="Ask Sonarr/Radarr again about every scanned file's title (default: only new ones).",
)
@click.option(
    "--recursive/--no-recursive", default=True, show_default=True, help="Walk subdirectories."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Library database (default: [library] database).",
)
@click.option("--queue", is_flag=True, help="Queue a scan job for vpo serve instead.")
@click.pass_context
def scan(
    ctx: click.Context,
    paths: tuple[Path, ...],
    workers: int | None,
    prune: bool,
    reprobe: bool,
    refresh_metadata: bool,
    recursive: bool,
    as_json: bool,
    quiet: bool,
    db: Path | None,
    queue: bool,
) -> None:
    """Record the media files under PATHS in the library: probe new and changed
    files, skip unchanged ones, mark vanished ones missing."""
    loaded = load_config_or_exit(
        {"processing.workers": workers, "library.database": db},
        cli_flags={"library.database": "--db"},
    )
    config = loaded.config
    if queue:
        from vpo.jobs.enqueue import enqueue, queued_line
        from vpo.jobs.model import JobType

        queued = enqueue(config, JobType.SCAN, paths)
        if queued.warning:
            click.echo(f"vpo: {queued.warning}", err=True)
        click.echo(queued_line(queued))
        ctx.exit(ExitCode.OK)
    tools = tool_paths(config)
    require_tools(tools, REQUIRED_TOOLS)
    options = ScanOptions(
        extensions=config.discovery.extensions,
        workers=config.processing.workers,
        recursive=recursive,
        prune=prune,
        reprobe=reprobe,
    )
    prober = cheapest_prober(tools, timeout=config.tools.probe_timeout)
    console = Console(stderr=True, highlight=False)
    stop = threading.Event()
    workers = max(1, options.workers)
    with (
        Library.open(config.library.database) as library,
        ThreadPoolExecutor(workers, thread_name_prefix="vpo-scan") as executor,
    ):
        display = ScanDisplay(console, live=console.is_terminal, quiet=quiet)
        with (
            InterruptController(
                stop, display.notify, stop_seconds=config.jobs.stop_seconds
            ) as interrupt,
            display,
        ):
            summary = scan_paths(
                paths, library, prober, options, on_event=display, stop=stop, executor=executor
            )
        fetched = None
        if not summary.interrupted:
            from vpo.integrations.arr_metadata import fetch_for_scan

            fetched = fetch_for_scan(
                config.integrations,
                library,
                paths,
                refresh=refresh_metadata,
                warn=lambda text: display.notify(one_line(text)),
            )
            if fetched is None and refresh_metadata:
                display.notify(
                    "--refresh-metadata: no Sonarr/Radarr to ask; set [integrations.sonarr] "
                    "or [integrations.radarr] url and api_key"
                )
    if as_json:
        data = summary_json(summary, config.library.database)
        if fetched is not None:
            data["metadata"] = {
                "linked": fetched.linked,
                "titles": fetched.titles,
                "requests": fetched.requests,
            }
        click.echo(json_text(data))
    else:
        click.echo(summary_text(summary))
        if fetched is not None:
            click.echo(
                f"Metadata: {plural(fetched.linked, 'file')} linked to "
                f"{plural(fetched.titles, 'Sonarr/Radarr title')} "
                f"({plural(fetched.requests, 'request')})"
            )
    sys.stdout.flush()
    if summary.interrupted:
        ctx.exit(interrupt.exit_code)
    ctx.exit(ExitCode.FILES_FAILED if summary.counts.errors else ExitCode.OK)
