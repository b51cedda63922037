"""``vpo serve [--bind ADDR] [--port N]``: run the job daemon and its REST API."""

from __future__ import annotations

from pathlib import Path

import click

from vpo.cli.common import load_config_or_exit, tool_paths
from vpo.errors import ExitCode
from vpo.tools.runner import ToolNotFoundError

CLI_FLAGS = {"library.database": "--db"}


@click.command("serve")
@click.option("--bind", default=None, help="Address to listen on (default: [server] bind).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="TCP port (default: [server] port, 8321; 0: any free port).",
)
@click.option(
    "--db", "database", type=click.Path(path_type=Path), default=None, help="Library database."
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per job event, file result and request.",
)
@click.option(
    "--log-file", type=click.Path(path_type=Path), default=None, help="Log here, not stderr."
)
@click.pass_context
def serve(
    ctx: click.Context,
    bind: str | None,
    port: int | None,
    database: Path | None,
    log_format: str,
    log_file: Path | None,
) -> None:
    """Run queued jobs and serve the REST API until SIGTERM (see docs/server.md)."""
    from vpo.server.daemon import ServeOptions
    from vpo.server.daemon import serve as run_daemon
    from vpo.server.logs import configure

    loaded = load_config_or_exit(
        {"library.database": database, "server.bind": bind}, cli_flags=CLI_FLAGS
    )
    config = loaded.config
    tools = tool_paths(config)
    for name in ("ffprobe", "mkvmerge", "mkvpropedit", "ffmpeg"):
        if getattr(tools, name) is None:
            click.echo(
                f"vpo: {ToolNotFoundError(name, 'not on PATH and no path configured')}", err=True
            )
            ctx.exit(ExitCode.TOOL_MISSING)
    configure("json" if log_format == "json" else "text", log_file)
    run_daemon(
        ServeOptions(
            bind=config.server.bind,
            port=config.server.port if port is None else port,
            config=config,
            config_file=loaded.path,
            tools=tools,
            announce=lambda line: click.echo(line, err=True),
            config_sources=loaded.sources,
        )
    )
    ctx.exit(ExitCode.OK)
