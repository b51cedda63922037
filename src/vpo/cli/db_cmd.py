"""``vpo db backup PATH|restore PATH|check|optimize``: care of the library database."""

from __future__ import annotations

from pathlib import Path

import click

from vpo.cli.common import load_config_or_exit
from vpo.errors import ExitCode
from vpo.library import Library, maintenance

CLI_FLAGS = {"library.database": "--db"}
_db_option = click.option(
    "--db", "database", type=click.Path(path_type=Path), default=None, help="Library database."
)


def _database(database: Path | None) -> Path:
    config = load_config_or_exit({"library.database": database}, cli_flags=CLI_FLAGS).config
    return config.library.database


@click.group("db")
def db() -> None:
    """Back up, restore, check and optimize the library database."""


@db.command("backup")
@click.argument("target", type=click.Path(path_type=Path))
@_db_option
def backup(target: Path, database: Path | None) -> None:
    """Write a consistent copy of the library to TARGET (safe while vpo runs)."""
    with Library.open(_database(database)) as library:
        maintenance.backup(library, target)
    click.echo(f"Backed up {library.path} to {target}")


@db.command("restore")
@click.argument("source", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@_db_option
@click.pass_context
def restore(ctx: click.Context, source: Path, database: Path | None) -> None:
    """Replace the library with the backup SOURCE (refused while vpo serve runs)."""
    path = _database(database)
    address = maintenance.running_daemon(path)
    if address is not None:
        click.echo(
            f"vpo: {path}: vpo serve is running on this library ({address}); stop it first",
            err=True,
        )
        ctx.exit(ExitCode.USAGE)
    maintenance.restore(source, path)
    with Library.open(path) as library:  # migrates an older backup, as any open does
        version = library.schema_version()
    click.echo(f"Restored {path} from {source} (schema {version})")


@db.command("check")
@_db_option
@click.pass_context
def check(ctx: click.Context, database: Path | None) -> None:
    """Check the library's integrity and foreign keys; exit 1 on a problem."""
    with Library.open(_database(database)) as library:
        report = maintenance.check(library)
    if report.ok:
        click.echo(f"{library.path}: ok")
        return
    for line in (*(i for i in report.integrity if i != "ok"), *report.foreign_keys):
        click.echo(f"{library.path}: {line}")
    ctx.exit(ExitCode.FILES_FAILED)


@db.command("optimize")
@_db_option
def optimize(database: Path | None) -> None:
    """Update query statistics and compact the library file."""
    with Library.open(_database(database)) as library:
        before, after = maintenance.optimize(library)
    click.echo(f"Optimized {library.path}: {before} → {after} bytes")
