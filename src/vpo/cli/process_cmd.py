"""``vpo process -p POLICY --dry-run PATH...``: show what a policy would do.

Options are parsed in one place (ProcessOptions); the per-file work is
``plan_file`` (probe → evaluate every phase), which the apply build reuses.
Nothing here writes to media files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from vpo.cli.common import load_config_or_exit, tool_paths
from vpo.cli.process_run import run_process
from vpo.cli.render import plan_json, plan_table
from vpo.config.models import VPOConfig
from vpo.discovery import iter_media_files
from vpo.errors import ExitCode, FileError
from vpo.media.model import MediaFile
from vpo.policy.loader import load_policy
from vpo.policy.phases import FileEvaluation, evaluate_file, select_phases
from vpo.policy.schema import Phase, Policy
from vpo.probe.probe import probe_file
from vpo.text import json_text
from vpo.tools.locate import TOOL_NAMES, ToolPaths
from vpo.tools.runner import ToolError, ToolNotFoundError

CLI_FLAGS = {
    "processing.workers": "--workers",
    "jobs.keep_backup": "--keep-backup",
    "library.database": "--db",
}


@dataclass(frozen=True, slots=True)
class ProcessOptions:
    """Every option of ``vpo process``, parsed and checked once."""

    policy_path: Path
    paths: tuple[Path, ...]
    dry_run: bool
    as_json: bool
    phase_names: tuple[str, ...]
    recursive: bool
    workers: int | None = None
    keep_backup: bool = False
    quiet: bool = False
    database: Path | None = None

    def config_overrides(self) -> dict[str, object]:
        """Options that override configuration keys (None: not given)."""
        return {
            "processing.workers": self.workers,
            "jobs.keep_backup": True if self.keep_backup else None,
            "library.database": self.database,
        }


def parse_phase_list(text: str | None) -> tuple[str, ...]:
    """``"a, b"`` → ``("a", "b")``; empty items are ignored."""
    if not text:
        return ()
    return tuple(name.strip() for name in text.split(",") if name.strip())


def plan_file(policy: Policy, phases: Sequence[Phase], media: MediaFile) -> FileEvaluation:
    """The per-file unit: evaluate the selected phases on one probed file."""
    return evaluate_file(policy, phases, media)


@dataclass(slots=True)
class _Tally:
    """Counts for the summary line."""

    kinds: Counter[str]
    total: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "files": self.total,
            **{k: self.kinds.get(k, 0) for k in ("noop", "metadata", "remux", "encode")},
            "errors": self.kinds.get("errors", 0),
        }


@click.command("process")
@click.option(
    "-p",
    "--policy",
    "policy_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Policy YAML file.",
)
@click.option("--dry-run", is_flag=True, help="Show the plans; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the plans as JSON on stdout.")
@click.option("--phases", "phases_text", default=None, help="Comma-separated phases to run.")
@click.option(
    "--recursive/--no-recursive", default=True, show_default=True, help="Walk directories."
)
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Files processed at once (default: [processing] workers, 2).",
)
@click.option("--keep-backup", is_flag=True, help="Keep each original beside its new version.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option(
    "--db", "database", type=click.Path(path_type=Path), default=None, help="Library database."
)
@click.option("--queue", is_flag=True, help="Queue a job for vpo serve instead of running now.")
@click.option(
    "--priority",
    type=click.IntRange(-100, 100),
    default=0,
    show_default=True,
    help="With --queue: higher runs first.",
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def process(
    ctx: click.Context,
    policy_path: Path,
    dry_run: bool,
    as_json: bool,
    phases_text: str | None,
    recursive: bool,
    workers: int | None,
    keep_backup: bool,
    quiet: bool,
    database: Path | None,
    queue: bool,
    priority: int,
    paths: tuple[Path, ...],
) -> None:
    """Make media files under PATHS conform to a policy (--dry-run: only show the plans)."""
    options = ProcessOptions(
        policy_path=policy_path,
        paths=paths,
        dry_run=dry_run,
        as_json=as_json,
        phase_names=parse_phase_list(phases_text),
        recursive=recursive,
        workers=workers,
        keep_backup=keep_backup,
        quiet=quiet,
        database=database,
    )
    policy = load_policy(options.policy_path)  # fatal: exit 2 before any file is read
    notice = policy.analysis_notice()
    if notice and not options.quiet:
        click.echo(f"vpo: {options.policy_path}: {notice}", err=True)
    phases = select_phases(policy, options.phase_names)
    loaded = load_config_or_exit(options.config_overrides(), cli_flags=CLI_FLAGS)
    if queue:
        ctx.exit(_queue(options, loaded.config, priority))
    tools = tool_paths(loaded.config)
    required = ("ffprobe", "mkvmerge") if options.dry_run else TOOL_NAMES
    for name in required:
        if getattr(tools, name) is None:
            click.echo(
                f"vpo: {ToolNotFoundError(name, 'not on PATH and no path configured')}", err=True
            )
            ctx.exit(ExitCode.TOOL_MISSING)
    if not options.dry_run:
        ctx.exit(
            run_process(
                policy_path=options.policy_path,
                policy=policy,
                phases=phases,
                paths=options.paths,
                config=loaded.config,
                tools=tools,
                recursive=options.recursive,
                as_json=options.as_json,
                quiet=options.quiet,
                workers_chosen=loaded.sources.get("processing.workers", "default") != "default",
            )
        )
    code = _dry_run(
        options,
        policy,
        phases,
        tools,
        loaded.config.discovery.extensions,
        loaded.config.tools.probe_timeout,
    )
    ctx.exit(code)


def _queue(options: ProcessOptions, config: VPOConfig, priority: int) -> ExitCode:
    """``--queue``: the (validated) policy and paths become a job of vpo serve."""
    from vpo.jobs.enqueue import enqueue, queued_line
    from vpo.jobs.model import JobType

    queued = enqueue(
        config,
        JobType.PROCESS,
        options.paths,
        policy_path=options.policy_path,
        dry_run=options.dry_run,
        priority=priority,
    )
    if queued.warning:
        click.echo(f"vpo: {queued.warning}", err=True)
    click.echo(queued_line(queued))
    return ExitCode.OK


def _dry_run(
    options: ProcessOptions,
    policy: Policy,
    phases: Sequence[Phase],
    tools: ToolPaths,
    extensions: Sequence[str],
    timeout: float,
) -> ExitCode:
    tally = _Tally(kinds=Counter())
    documents: list[dict[str, Any]] = []
    stopped = False

    def report_error(path: Path, cause: str) -> None:
        message = f"{plan_table.display_path(path)}: {cause}"
        click.echo(f"vpo: {message}", err=True)
        tally.total += 1
        tally.kinds["errors"] += 1
        documents.append(plan_json.error_dict(str(path), message))

    for path, outcome in _probe_all(options, tools, extensions, timeout, report_error):
        if isinstance(outcome, str):
            report_error(path, outcome)
            continue
        evaluation = plan_file(policy, phases, outcome)
        tally.total += 1
        tally.kinds["errors" if evaluation.failed else evaluation.kind.value] += 1
        if options.as_json:
            documents.append(plan_json.file_dict(evaluation))
        else:
            click.echo(plan_table.render_file(evaluation))
        if evaluation.stop_batch:
            click.echo("vpo: on_error is 'fail': stopping the batch", err=True)
            stopped = True
            break

    summary = tally.as_dict()
    if options.as_json:
        document = plan_json.document(
            str(options.policy_path), [p.name for p in phases], documents, summary
        )
        click.echo(json_text(document))
    else:
        click.echo(plan_table.render_summary(dict(tally.kinds), tally.total))
    return ExitCode.FILES_FAILED if stopped or summary["errors"] else ExitCode.OK


def _probe_all(
    options: ProcessOptions,
    tools: ToolPaths,
    extensions: Sequence[str],
    timeout: float,
    on_error: Callable[[Path, str], None],
) -> Iterator[tuple[Path, MediaFile | str]]:
    """Discover and probe; a per-file failure is yielded as its one-line cause."""
    for path in iter_media_files(
        options.paths, extensions, recursive=options.recursive, on_error=on_error
    ):
        try:
            yield path, probe_file(path, tools, timeout=timeout)
        except FileError as error:
            yield path, _without_path(str(error), path)
        except ToolError as error:
            yield path, _without_path(str(error), path)


def _without_path(message: str, path: Path) -> str:
    """Probe errors start with the path; the caller adds a display-safe one."""
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
