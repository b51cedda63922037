"""The ``vpo`` entry point.

Commands live one per module and are imported only when used, so
``vpo inspect`` does not pay for the policy engine or the database.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

import click

from vpo import __version__
from vpo.errors import ExitCode, VpoError

# command name → "module:attribute"; each module owns one command (or group).
COMMANDS: dict[str, str] = {
    "inspect": "vpo.cli.inspect_cmd:inspect",
    "doctor": "vpo.cli.doctor_cmd:doctor",
    "config": "vpo.cli.config_cmd:config",
    "init": "vpo.cli.init_cmd:init",
    "policy": "vpo.cli.policy_cmd:policy",
    "process": "vpo.cli.process_cmd:process",
    "scan": "vpo.cli.scan_cmd:scan",
    "status": "vpo.cli.status_cmd:status",
    "report": "vpo.cli.report_cmd:report",
    "demo": "vpo.cli.demo_cmd:demo",
    "serve": "vpo.cli.serve_cmd:serve",
    "jobs": "vpo.cli.jobs_cmd:jobs",
    "db": "vpo.cli.db_cmd:db",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use.

    It is also the one place that turns a VpoError into its line and exit code
    (a missing tool: 3, an invalid policy: 2, …), for every command.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except VpoError as error:
            click.echo(f"vpo: {error}", err=True)
            ctx.exit(error.exit_code)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                return None  # command not built yet
            raise
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vpo")
def cli() -> None:
    """vpo: make every video file conform to a YAML policy."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and map every outcome to a documented exit code (called by
    vpo.cli.entry, which keeps Ctrl-C quiet until this point)."""
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # from here: KeyboardInterrupt
        result = cli.main(args=argv, prog_name="vpo", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("vpo: interrupted", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as error:
        error.show()
        sys.exit(ExitCode.USAGE if error.exit_code == 2 else error.exit_code)
    except VpoError as error:  # raised outside a command (LazyGroup.invoke maps the rest)
        click.echo(f"vpo: {error}", err=True)
        sys.exit(error.exit_code)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except Exception as error:
        if os.environ.get("VPO_DEBUG"):
            raise
        click.echo(
            f"vpo: internal error: {type(error).__name__}: {error} "
            "(set VPO_DEBUG=1 for a traceback and please report it)",
            err=True,
        )
        sys.exit(ExitCode.INTERNAL)
    sys.exit(result if isinstance(result, int) else ExitCode.OK)
