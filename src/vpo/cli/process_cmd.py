"""``vpo process -p POLICY [--dry-run] PATH...``: make files conform to a policy.

Options are parsed in one place (ProcessOptions) into one ProcessRequest; the
real run and the dry run both go through the batch coordinator
(vpo.batch.process) with the same prober, library cache and workers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from vpo.cli.common import load_config_or_exit, require_tools, tool_paths
from vpo.cli.entry import end_of_start_up
from vpo.errors import ExitCode
from vpo.tools.locate import TOOL_NAMES

if TYPE_CHECKING:
    from vpo.apply.encode import TranscodeSettings
    from vpo.config import VPOConfig

CLI_FLAGS = {
    "processing.workers": "--workers",
    "jobs.keep_backup": "--keep-backup",
    "library.database": "--db",
    "processing.executor": "--executor",
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
    max_files: int | None = None
    max_duration: float | None = None  # seconds
    end_by: str | None = None  # HH:MM, local time
    executor: str | None = None  # threads, processes or dask://HOST:PORT

    def config_overrides(self) -> dict[str, object]:
        """Options that override configuration keys (None: not given)."""
        return {
            "processing.workers": self.workers,
            "jobs.keep_backup": True if self.keep_backup else None,
            "library.database": self.database,
            "processing.executor": self.executor,
        }


def parse_phase_list(text: str | None) -> tuple[str, ...]:
    """``"a, b"`` → ``("a", "b")``; empty items are ignored."""
    if not text:
        return ()
    return tuple(name.strip() for name in text.split(",") if name.strip())


def end_by_timestamp(text: str, now: dt.datetime) -> float:
    """``HH:MM`` → the next such local wall-clock time after ``now``, as epoch seconds."""
    try:
        parsed = dt.datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a time like 06:30", param_hint="--end-by"
        ) from None
    moment = now.replace(hour=parsed.hour, minute=parsed.minute, second=0, microsecond=0)
    if moment <= now:
        moment += dt.timedelta(days=1)
    return moment.timestamp()


@click.command("process")
@click.option(
    "-p",
    "--policy",
    "policy_paths",
    required=True,
    multiple=True,
    type=click.Path(path_type=Path),
    help="Policy YAML file (one per run).",
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
@click.option(
    "--executor",
    default=None,
    metavar="threads|processes|dask://HOST:PORT",
    help="Where files are processed (default: [processing] executor, threads).",
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
@click.option(
    "--max-files", type=click.IntRange(min=1), default=None, help="Start at most N files."
)
@click.option(
    "--max-duration",
    type=click.FloatRange(min=0),
    default=None,
    help="Start no new file after this many seconds.",
)
@click.option("--end-by", default=None, metavar="HH:MM", help="Start no new file after HH:MM.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def process(
    ctx: click.Context,
    policy_paths: tuple[Path, ...],
    dry_run: bool,
    as_json: bool,
    phases_text: str | None,
    recursive: bool,
    workers: int | None,
    executor: str | None,
    keep_backup: bool,
    quiet: bool,
    database: Path | None,
    queue: bool,
    priority: int,
    max_files: int | None,
    max_duration: float | None,
    end_by: str | None,
    paths: tuple[Path, ...],
) -> None:
    """Make media files under PATHS conform to a policy (--dry-run: only show the plans)."""
    if len(policy_paths) > 1:
        raise click.UsageError(
            f"one policy per run, got {len(policy_paths)} (-p "
            + ", -p ".join(str(p) for p in policy_paths)
            + "); put the phases in one policy and pick them with --phases, or run vpo once "
            "per policy",
        )
    options = ProcessOptions(
        policy_path=policy_paths[0],
        paths=paths,
        dry_run=dry_run,
        as_json=as_json,
        phase_names=parse_phase_list(phases_text),
        recursive=recursive,
        workers=workers,
        keep_backup=keep_backup,
        quiet=quiet,
        database=database,
        max_files=max_files,
        max_duration=max_duration,
        end_by=end_by,
        executor=executor,
    )
    ctx.exit(_run(options, queue=queue, priority=priority))


def _run(options: ProcessOptions, *, queue: bool = False, priority: int = 0) -> ExitCode:
    from vpo.batch.executors import start_early

    # A dask:// executor's client process imports Dask and connects while this
    # process imports the engine and loads the configuration, the policy and the
    # library: started as soon as the executor is known (--executor >
    # VPO_PROCESSING_EXECUTOR > the file), before anything else.
    known = options.executor or os.environ.get("VPO_PROCESSING_EXECUTOR")
    if known and not queue:
        start_early(known)
    # Imported here: `vpo process --help` and a usage error need none of the engine.
    from vpo.apply.settings import ApplySettings
    from vpo.batch.pathmap import PathMap
    from vpo.batch.process import ProcessRequest
    from vpo.batch.resources import parse_resources
    from vpo.batch.runner import BatchLimits
    from vpo.batch.workers import resolve_worker_count
    from vpo.policy.loader import load_policy_source
    from vpo.policy.phases import select_phases

    end_by = None
    if options.end_by is not None:
        end_by = end_by_timestamp(options.end_by, dt.datetime.now().astimezone())
    loaded = load_config_or_exit(options.config_overrides(), cli_flags=CLI_FLAGS)
    config = loaded.config
    if not queue:
        start_early(config.processing.executor)  # the same one: nothing to do
    # fatal: exit 2 before any file is read
    policy, source = load_policy_source(options.policy_path)
    notice = policy.analysis_notice()
    if notice and not options.quiet:
        click.echo(f"vpo: {options.policy_path}: {notice}", err=True)
    phases = select_phases(policy, options.phase_names)
    end_of_start_up()  # the engine, the policy and the settings are loaded
    if queue:
        return _queue(options, config, priority)
    tools = tool_paths(config)
    if not config.processing.executor.startswith("dask://"):  # remote workers: checked there
        require_tools(tools, ("ffprobe", "mkvmerge") if options.dry_run else TOOL_NAMES)
    decision = resolve_worker_count(
        config.processing.workers,
        max_workers=config.processing.max_workers,
        cpu_count=os.cpu_count(),
    )
    chosen = loaded.sources.get("processing.workers", "default") != "default"
    remote = config.processing.executor.startswith("dask://")
    if remote:
        # at most that many files in flight across the cluster; default: all its threads
        workers = config.processing.workers if chosen else 0
    else:
        workers = decision.effective
        if decision.warning and chosen and not options.quiet and not options.dry_run:
            click.echo(f"vpo: {decision.warning}", err=True)  # the default needs no apology
    request = ProcessRequest(
        paths=options.paths,
        policy=policy,
        phases=phases,
        tools=tools,
        extensions=tuple(config.discovery.extensions),
        settings=ApplySettings.from_jobs_config(config.jobs),
        transcode=None if options.dry_run else _transcode_settings(config),
        probe_timeout=config.tools.probe_timeout,
        recursive=options.recursive,
        dry_run=options.dry_run,
        workers=workers,
        path_map=PathMap.parse(config.paths.map),
        encode_resources=parse_resources(config.processing.encode_resources),
        limits=BatchLimits(
            max_files=options.max_files, max_duration=options.max_duration, end_by=end_by
        ),
        policy_name=options.policy_path.name,
        policy_hash=hashlib.sha256(source).hexdigest()[:16],
        keep_results=options.as_json and not options.dry_run,  # the dry-run view keeps its own
    )
    label = str(options.policy_path)
    if options.dry_run:
        from vpo.cli.process_dry_run import run_dry_run

        return run_dry_run(
            request,
            database=config.library.database,
            as_json=options.as_json,
            policy_label=label,
            stop_seconds=config.jobs.stop_seconds,
            executor=config.processing.executor,
            integrations=config.integrations,
        )
    from vpo.cli.process_run import run_process
    from vpo.integrations.notify import Notifier

    notify = config.notifications.process  # opt-in: a bad URL stops the run before any file
    return run_process(
        request,
        database=config.library.database,
        as_json=options.as_json,
        quiet=options.quiet,
        policy_label=label,
        stop_seconds=config.jobs.stop_seconds,
        executor=config.processing.executor,
        notifier=Notifier.from_config(config.notifications, warn=_warn) if notify else None,
        what=f"vpo process ({options.policy_path.name})",
        integrations=config.integrations,
    )


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


def _transcode_settings(config: VPOConfig) -> TranscodeSettings:
    from vpo.apply.encode import TranscodeSettings

    return TranscodeSettings.from_config(config.transcode)


def _warn(line: str) -> None:
    click.echo(f"vpo: {line}", err=True)
