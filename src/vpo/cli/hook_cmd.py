"""``vpo hook sonarr|radarr``: the custom script Sonarr/Radarr run (see docs/automation.md)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from vpo.cli.common import load_config_or_exit, tool_paths

CLI_FLAGS = {"library.database": "--db"}


@click.command("hook")
@click.argument("program", type=click.Choice(["sonarr", "radarr"]))
@click.option(
    "--db", "database", type=click.Path(path_type=Path), default=None, help="Library database."
)
@click.pass_context
def hook(ctx: click.Context, program: str, database: Path | None) -> None:
    """Handle one Sonarr/Radarr custom-script call (its variables are in the environment)."""
    from vpo.integrations.arr import Arr
    from vpo.integrations.hook import HookContext, run_hook
    from vpo.server.services import policy_dir_of

    loaded = load_config_or_exit({"library.database": database}, cli_flags=CLI_FLAGS)
    code = run_hook(
        Arr(program),
        os.environ,
        HookContext(
            config=loaded.config,
            policy_dir=policy_dir_of(loaded.config, loaded.path),
            tools=tool_paths(loaded.config),
            say=lambda line: click.echo(line, err=True),
        ),
    )
    ctx.exit(code)
