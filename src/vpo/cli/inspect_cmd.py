"""``vpo inspect FILE... [--json]``: show what vpo sees in each file.

A bad file costs one line on stderr and the others are still shown; the exit
code says whether every file could be read (docs/inspect.md).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from vpo.batch.ordered import map_ordered
from vpo.cli.common import load_config_or_exit, require_tools, tool_paths
from vpo.cli.render.tracks import (
    FLAG_LEGEND,
    display_path,
    media_header,
    media_to_dict,
    track_table,
)
from vpo.errors import ExitCode
from vpo.media.metadata import FileMetadata
from vpo.media.model import MediaFile
from vpo.probe.errors import ProbeError
from vpo.probe.probe import probe_file
from vpo.text import json_text
from vpo.tools.locate import ToolPaths
from vpo.tools.runner import ToolError

JSON_SCHEMA = "vpo.inspect/1"
REQUIRED_TOOLS = ("mkvmerge", "ffprobe")  # Matroska and everything else
PIPE_WIDTH = 200


@dataclass(frozen=True, slots=True)
class InspectFailure:
    """One file that could not be inspected."""

    path: Path
    kind: str
    cause: str

    def line(self) -> str:
        return f"vpo: {display_path(self.path)}: {self.cause}"

    def as_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "error": self.kind, "message": self.cause}


def failure_from(path: Path, error: ProbeError | ToolError) -> InspectFailure:
    """The error as kind + cause, with the path kept apart so it can be escaped."""
    if isinstance(error, ProbeError):
        return InspectFailure(path, error.kind, error.cause)
    code = f" (exit {error.returncode})" if error.returncode is not None else ""
    return InspectFailure(path, "tool_error", f"{error.tool} failed{code}: {error.cause}")


def inspect_document(
    media: Sequence[MediaFile],
    failures: Sequence[InspectFailure],
    metadata: Mapping[Path, FileMetadata] | None = None,
) -> dict[str, Any]:
    """The ``--json`` document (schema ``vpo.inspect/1``); a file with stored
    Sonarr/Radarr metadata has a ``metadata`` list."""
    files = []
    for m in media:
        entry = media_to_dict(m)
        stored = (metadata or {}).get(m.path)
        if stored:
            from vpo.cli.render.metadata import metadata_dicts

            entry["metadata"] = metadata_dicts(stored)
        files.append(entry)
    return {"schema": JSON_SCHEMA, "files": files, "errors": [f.as_dict() for f in failures]}


@click.command("inspect")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.pass_context
def inspect(ctx: click.Context, files: tuple[Path, ...], as_json: bool) -> None:
    """Show the container, tracks, flags and languages of each FILE.

    Use '--' before names that start with a dash: vpo inspect -- -odd.mkv
    """
    config = load_config_or_exit().config
    tools = tool_paths(config)
    require_tools(tools, REQUIRED_TOOLS)
    # In a pipe or a log there is no screen edge: don't fold titles at 80 columns.
    width = None if sys.stdout.isatty() else PIPE_WIDTH
    console = PipeFriendlyConsole(highlight=False, width=width)
    probed: list[MediaFile] = []
    failures: list[InspectFailure] = []
    probe = functools.partial(_probe_one, tools=tools, timeout=config.tools.probe_timeout)
    # Probes wait on a process each, not on an encode: [processing] workers at a time,
    # up to one per core, without the half-the-cores cap of `vpo process`.
    workers = max(1, min(config.processing.workers, os.cpu_count() or 2, len(files)))
    stored = _stored_metadata(config.library.database, files)
    with ThreadPoolExecutor(workers, thread_name_prefix="vpo-inspect") as executor:
        for outcome in map_ordered(probe, files, executor=executor, workers=workers):
            if isinstance(outcome, InspectFailure):
                failures.append(outcome)
                click.echo(outcome.line(), err=True)
                continue
            probed.append(outcome)
            if not as_json:
                _print_media(console, outcome, first=len(probed) == 1)
                _print_metadata(console, stored.get(outcome.path))
    if as_json:
        _write_stdout(json_text(inspect_document(probed, failures, stored)) + "\n")
    elif probed:
        console.print(FLAG_LEGEND, style="dim", markup=False, soft_wrap=True)
    ctx.exit(ExitCode.FILES_FAILED if failures else ExitCode.OK)


def _stored_metadata(database: Path, files: Sequence[Path]) -> dict[Path, FileMetadata]:
    """What the library holds about the files' titles (schema 5); nothing when there is
    no library yet (inspect never creates one) or it cannot be read."""
    if not database.is_file():
        return {}
    from vpo.library import Library, LibraryError

    try:
        with Library.open(database) as library:
            return library.metadata_for(list(files))
    except LibraryError:
        return {}


def _print_metadata(console: Console, metadata: FileMetadata | None) -> None:
    if metadata:
        from vpo.cli.render.metadata import metadata_lines

        for line in metadata_lines(metadata):
            console.print(line, markup=False, highlight=False, soft_wrap=True)


def _probe_one(path: Path, *, tools: ToolPaths, timeout: float) -> MediaFile | InspectFailure:
    """The per-file work, on a worker: the probe, or why it failed."""
    try:
        return probe_file(path, tools, timeout=timeout)
    except (ProbeError, ToolError) as error:
        return failure_from(path, error)


class PipeFriendlyConsole(Console):
    """A Console that reports a closed pipe (``vpo inspect … | head``) like every command.

    rich exits with status 1 on its own; raising BrokenPipeError instead lets the
    entry point map it, as it does for any other output.
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _discard_stdout()
        raise BrokenPipeError


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        raise


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the flush at exit cannot fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _print_media(console: Console, media: MediaFile, *, first: bool) -> None:
    if not first:
        console.print()
    console.print(media_header(media), style="bold", markup=False, soft_wrap=True)
    console.print(track_table(media))
