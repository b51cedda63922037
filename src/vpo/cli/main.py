"""The ``vpo`` entry point.

Commands live one per module and are imported only when used, so
``vpo inspect`` does not pay for the policy engine or the database.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from types import FrameType

import click

from vpo import __version__
from vpo.cli.entry import end_of_start_up
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
    "watch": "vpo.cli.watch_cmd:watch",
    "hook": "vpo.cli.hook_cmd:hook",
}

# command name → the first sentence of its help, so that `vpo --help` lists the
# commands without importing all of them (a test checks each against its command).
SUMMARIES: dict[str, str] = {
    "config": "Show the effective configuration and where it comes from.",
    "db": "Back up, restore, check and optimize the library database.",
    "demo": "Build a demo library in DIRECTORY (default ./demo-library) and show vpo on it.",
    "doctor": "Check the external tools (path, version, minimum) and vpo's files.",
    "hook": "Handle one Sonarr/Radarr custom-script call (its variables are in the environment).",
    "init": "Write a config.toml documenting every setting (all commented out, so defaults stay).",
    "inspect": "Show the container, tracks, flags and languages of each FILE.",
    "jobs": "The job queue of vpo serve (works without a running daemon too).",
    "policy": "Check and inspect policy files.",
    "process": "Make media files under PATHS conform to a policy (--dry-run: only show the plans).",
    "report": "Show past processing: RUNS (one line per run), FILES (every file of every run) "
    "or CHANGES (only files that were changed: what, where, when, by which policy, bytes, "
    "time, space saved and, for encodes, codecs and speed).",
    "scan": "Record the media files under PATHS in the library: probe new and changed files, "
    "skip unchanged ones, mark vanished ones missing.",
    "serve": "Run queued jobs and serve the REST API until SIGTERM (see docs/server.md).",
    "status": "Library totals: files by container, codec and language, files never processed, "
    "and the last processing runs.",
    "watch": "Watch FOLDERS; queue or process each file once it has settled, until Ctrl-C/SIGTERM.",
}

# Commands that import their engine after parsing their options and call
# vpo.cli.entry.end_of_start_up() themselves once it is loaded.
ENDS_OWN_START_UP = frozenset({"process"})


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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``vpo --help``, as click writes it, from SUMMARIES:
        importing every command (the web server, Dask, ...) only to list them took
        longer than the rest of the help."""
        names = sorted(COMMANDS)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name not in ENDS_OWN_START_UP:
            end_of_start_up()  # the command module is imported: collect garbage as usual
        return name, command, rest

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
        _CtrlC.seen = False  # this run's Ctrl-C only (tests run several in one process)
        signal.signal(signal.SIGINT, _ctrl_c)  # from here: KeyboardInterrupt
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
        if _caused_by_ctrl_c(error):
            click.echo("vpo: interrupted", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        if os.environ.get("VPO_DEBUG"):
            raise
        click.echo(
            f"vpo: internal error: {type(error).__name__}: {error} "
            "(set VPO_DEBUG=1 for a traceback and please report it)",
            err=True,
        )
        sys.exit(ExitCode.INTERNAL)
    sys.exit(result if isinstance(result, int) else ExitCode.OK)


class _CtrlC:
    """Whether a Ctrl-C has reached the command (see _caused_by_ctrl_c)."""

    seen = False


def _ctrl_c(signum: int, frame: FrameType | None) -> None:
    """SIGINT while a command runs: noted, then the usual KeyboardInterrupt."""
    _CtrlC.seen = True
    raise KeyboardInterrupt


def _caused_by_ctrl_c(error: BaseException) -> bool:
    """An error a Ctrl-C caused on its way out. Python wraps one that lands while a
    class is being built (``__set_name__``, as pydantic's models are at import) in a
    RuntimeError with the KeyboardInterrupt as its cause; pydantic-core turns one
    that lands while it builds a validator into a SchemaError that only names it. So
    any error that ends a command after a Ctrl-C reached it counts as the Ctrl-C."""
    if _CtrlC.seen:
        return True
    seen: BaseException | None = error
    for _ in range(16):  # a chain, never a cycle we follow for long
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
