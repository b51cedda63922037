"""``vpo jobs list|show|cancel|retry``: the job queue, through a running daemon or directly.

When a ``vpo serve`` holds the library, the commands go through its API (so a
cancel stops the running job at once); otherwise they work on the database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vpo.cli.common import load_config_or_exit
from vpo.errors import ExitCode
from vpo.jobs.model import Job, JobStatus
from vpo.library import Library
from vpo.library.jobs import Transition
from vpo.library.maintenance import running_daemon
from vpo.server.client import call
from vpo.text import one_line

CLI_FLAGS = {"library.database": "--db"}
_db_option = click.option(
    "--db", "database", type=click.Path(path_type=Path), default=None, help="Library database."
)


@click.group("jobs")
def jobs() -> None:
    """The job queue of vpo serve (works without a running daemon too)."""


def _context(database: Path | None) -> tuple[Path, str | None, str | None]:
    config = load_config_or_exit({"library.database": database}, cli_flags=CLI_FLAGS).config
    path = config.library.database
    return path, running_daemon(path), config.server.token


def format_job(job: Job) -> str:
    """``12  process  running   3/10  p0  movies  /media/films``."""
    total = "?" if job.progress.files_total is None else str(job.progress.files_total)
    kind = f"{job.type.value}{' (dry run)' if job.dry_run else ''}"
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
    policy = job.policy_name or "-"
    paths = one_line(" ".join(job.paths))
    return (
        f"{job.id:>5}  {when}  {kind:<17} {job.status.value:<11} "
        f"{job.progress.files_done}/{total:<5} p{job.priority:<3} {policy:<12} {paths}"
    )


@jobs.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in JobStatus]),
    help="Only jobs in this state (repeatable).",
)
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@_db_option
def list_jobs(statuses: tuple[str, ...], limit: int, as_json: bool, database: Path | None) -> None:
    """List jobs, newest first."""
    path, address, token = _context(database)
    if address is not None:
        query = "&".join([f"limit={limit}", *(f"status={s}" for s in statuses)])
        page = call(address, "GET", f"/jobs?{query}", token)
        items = [Job.model_validate(item) for item in page["items"]]
        total = int(page["total"])
    else:
        with Library.open(path) as library:
            items, total = library.jobs.page(statuses=[JobStatus(s) for s in statuses], limit=limit)
    if as_json:
        document = {"items": [j.model_dump(mode="json") for j in items], "total": total}
        click.echo(json.dumps(document, indent=2))
        return
    if not items:
        click.echo("No jobs.")
        return
    for job in items:
        click.echo(format_job(job))
    if total > len(items):
        click.echo(f"({len(items)} of {total} jobs shown; use --limit)")


@jobs.command("show")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@_db_option
@click.pass_context
def show(ctx: click.Context, job_id: int, as_json: bool, database: Path | None) -> None:
    """Show one job: state, progress, error and its runs."""
    path, address, token = _context(database)
    if address is not None:
        job: Job | None = Job.model_validate(call(address, "GET", f"/jobs/{job_id}", token))
    else:
        with Library.open(path) as library:
            job = library.jobs.get(job_id)
    if job is None:
        click.echo(f"vpo: no job {job_id}", err=True)
        ctx.exit(ExitCode.USAGE)
    assert job is not None
    if as_json:
        click.echo(json.dumps(job.model_dump(mode="json"), indent=2))
        return
    click.echo(format_job(job))
    for label, value in _details(job):
        click.echo(f"  {label}: {value}")


def _details(job: Job) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if job.started_at:
        found.append(
            ("started", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.started_at)))
        )
    if job.finished_at:
        found.append(
            ("finished", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.finished_at)))
        )
    for name, detail in job.progress.active.items():
        found.append(("active", f"{one_line(name)} ({detail})"))
    if job.error:
        found.append(("error", one_line(job.error)))
    if job.run_ids:
        found.append(("runs", ", ".join(str(r) for r in job.run_ids)))
    return found


def _transition(
    ctx: click.Context,
    job_id: int,
    database: Path | None,
    verb: str,
    action: Callable[[Library], Transition],
) -> None:
    path, address, token = _context(database)
    if address is not None:
        job = Job.model_validate(call(address, "POST", f"/jobs/{job_id}/{verb}", token))
        click.echo(format_job(job))
        return
    with Library.open(path) as library:
        transition = action(library)
    if transition.job is None:
        click.echo(f"vpo: no job {job_id}", err=True)
        ctx.exit(ExitCode.USAGE)
    if not transition.changed:
        state = transition.previous.value if transition.previous else "unknown"
        click.echo(f"vpo: job {job_id} is {state}: nothing to {verb}", err=True)
        ctx.exit(ExitCode.USAGE)
    assert transition.job is not None
    click.echo(format_job(transition.job))


@jobs.command("cancel")
@click.argument("job_id", type=int)
@_db_option
@click.pass_context
def cancel(ctx: click.Context, job_id: int, database: Path | None) -> None:
    """Cancel a queued or running job (a running one starts no new file)."""
    _transition(ctx, job_id, database, "cancel", lambda lib: lib.jobs.cancel(job_id))


@jobs.command("retry")
@click.argument("job_id", type=int)
@_db_option
@click.pass_context
def retry(ctx: click.Context, job_id: int, database: Path | None) -> None:
    """Queue a failed, cancelled or interrupted job again."""
    _transition(ctx, job_id, database, "retry", lambda lib: lib.jobs.retry(job_id))
