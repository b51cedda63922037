"""``vpo init``: write a commented starter configuration."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from vpo.config import CONFIG_ENV_VAR, config_location
from vpo.config.loader import CONFIG_FILE_NAME
from vpo.config.settings import shown
from vpo.config.template import StarterFile, starter_files
from vpo.errors import ConfigError, ExitCode


@click.command("init")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option(
    "--path",
    "target",
    type=click.Path(path_type=Path, dir_okay=True),
    help="Where to write the config: a .toml file, or a directory to put config.toml in. "
    f"Default: ${CONFIG_ENV_VAR} or the user config directory.",
)
@click.pass_context
def init(ctx: click.Context, force: bool, target: Path | None) -> None:
    """Write a config.toml documenting every setting (all commented out, so defaults stay).

    Refuses to overwrite an existing file unless --force is given (exit 2).
    """
    location = config_location()
    config_path = _resolve_target(target) if target is not None else location.path
    files = starter_files(config_path)
    existing = [f.path for f in files if f.path.exists() or f.path.is_symlink()]
    if existing and not force:
        names = ", ".join(shown(path) for path in existing)
        click.echo(f"vpo: {names}: already exists; use --force to overwrite", err=True)
        ctx.exit(ExitCode.USAGE)
    for starter in files:
        try:
            _write(starter)
        except ConfigError as error:
            click.echo(f"vpo: {error}", err=True)
            ctx.exit(ExitCode.USAGE)
        click.echo(f"wrote {starter.description}: {shown(starter.path)}")
    if config_path.absolute() != location.path.absolute():
        click.echo(
            f"vpo reads {shown(location.path)}; "
            f"set {CONFIG_ENV_VAR}={shown(config_path)} to use this file"
        )


def _resolve_target(target: Path) -> Path:
    """A directory (existing, or a new name without ``.toml``) gets ``config.toml`` inside."""
    target = target.expanduser()
    if target.is_dir() or (not target.exists() and target.suffix.lower() != ".toml"):
        return target / CONFIG_FILE_NAME
    return target


def _write(starter: StarterFile) -> None:
    """Write atomically (temp file in the same directory, fsync, rename)."""
    directory = starter.path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".vpo-tmp-{starter.path.name}-", dir=directory)
    except OSError as error:
        raise ConfigError(f"{shown(starter.path)}: cannot write: {error.strerror}") from None
    temp_path = Path(temp_name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(starter.content)
            stream.flush()
            os.fsync(stream.fileno())
        temp_path.chmod(0o644)
        temp_path.replace(starter.path)
    except OSError as error:
        temp_path.unlink(missing_ok=True)
        raise ConfigError(f"{shown(starter.path)}: cannot write: {error.strerror}") from None
