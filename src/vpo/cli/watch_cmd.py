"""``vpo watch DIR... -p POLICY``: process files as they arrive (see docs/automation.md)."""

from __future__ import annotations

from pathlib import Path

import click

from vpo.cli.common import load_config_or_exit, tool_paths
from vpo.errors import ExitCode
from vpo.tools.runner import ToolNotFoundError

CLI_FLAGS = {"library.database": "--db"}


@click.command("watch")
@click.argument(
    "folders",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "-p",
    "--policy",
    required=True,
    help="Policy: a name in [server] policy_dir or a path to a YAML file.",
)
@click.option(
    "--db", "database", type=click.Path(path_type=Path), default=None, help="Library database."
)
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--log-file", type=click.Path(path_type=Path), default=None, help="Log here, not stderr."
)
@click.pass_context
def watch(
    ctx: click.Context,
    folders: tuple[Path, ...],
    policy: str,
    database: Path | None,
    log_format: str,
    log_file: Path | None,
) -> None:
    """Watch FOLDERS; queue or process each file once it has settled, until Ctrl-C/SIGTERM."""
    from vpo.server.logs import configure
    from vpo.server.services import policy_dir_of
    from vpo.watch.foreground import WatchOptions, watch_foreground

    loaded = load_config_or_exit({"library.database": database}, cli_flags=CLI_FLAGS)
    config = loaded.config
    tools = tool_paths(config)
    for name in ("ffprobe", "mkvmerge", "mkvpropedit", "ffmpeg"):
        if getattr(tools, name) is None:
            click.echo(
                f"vpo: {ToolNotFoundError(name, 'not on PATH and no path configured')}", err=True
            )
            ctx.exit(ExitCode.TOOL_MISSING)
    configure("json" if log_format == "json" else "text", log_file)
    if "/" not in policy and Path(policy).is_file():
        policy = f"./{policy}"  # a file in the current folder, not a name in policy_dir
    watch_foreground(
        WatchOptions(
            folders=folders,
            policy=policy,
            config=config,
            policy_dir=policy_dir_of(config, loaded.path),
            tools=tools,
            announce=lambda line: click.echo(line, err=True),
        )
    )
    ctx.exit(ExitCode.OK)
