"""``vpo demo [DIR]``: build a small demo library and walk through vpo on it.

The walk-through is the list DEMO_STEPS; later features add a step there
(a step whose command is not built yet is skipped).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from vpo.cli.common import load_config_or_exit, tool_paths
from vpo.errors import ExitCode
from vpo.testmedia.demo import (
    DEMO_DATABASE_NAME,
    DEMO_FILES,
    DEMO_POLICY_NAME,
    MARKER_NAME,
    DemoDirectoryError,
    build_demo_library,
    check_demo_target,
    demo_files,
    existing_demo_library,
    remove_demo_library,
    write_demo_policy,
)
from vpo.tools.runner import ToolError

FILES = "{files}"  # expands to every demo file
LIBRARY = "{library}"  # expands to the library folder


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One vpo command the demo runs, with why it is worth seeing."""

    title: str
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A command to try next, shown only when its command (and ``needs`` file) exists."""

    args: tuple[str, ...]
    why: str
    needs: str | None = None


POLICY = "{policy}"  # expands to the demo policy written beside the library
DATABASE = "{database}"  # the demo's own library database (not the user's)

DEMO_STEPS: tuple[DemoStep, ...] = (
    DemoStep("what vpo sees in each file: tracks, languages, flags", ("inspect", FILES)),
    DemoStep(
        "the plan first: what the demo policy would change (nothing is written)",
        ("process", "--dry-run", "-p", POLICY, FILES),
    ),
    DemoStep(
        "apply it: metadata edits in place, remuxes through a verified temp file",
        ("process", "--db", DATABASE, "-p", POLICY, FILES),
    ),
    DemoStep(
        "run it again: a conforming library needs nothing (no probe, no write)",
        ("process", "--db", DATABASE, "-p", POLICY, FILES),
    ),
)

SUGGESTIONS: tuple[Suggestion, ...] = (
    Suggestion(("inspect", "--json", "{anime}"), "the same facts as JSON, for scripts"),
    Suggestion(
        ("process", "--dry-run", "-p", "examples/policies/anime.yaml", LIBRARY),
        "what the anime policy would change (dry-run: nothing is written)",
        needs="examples/policies/anime.yaml",
    ),
    Suggestion(("doctor",), "which tools vpo found, and their versions"),
    Suggestion(("config", "show"), "the effective settings and where each came from"),
)


def expand(args: Sequence[str], library: Path, files: Sequence[Path]) -> list[str]:
    """Replace the placeholders of a step or suggestion with real paths."""
    anime = next(p for p in files if "Anime" in p.parts)
    expanded: list[str] = []
    for arg in args:
        if arg == FILES:
            expanded += [str(p) for p in files]
        else:
            expanded.append(
                arg.replace(LIBRARY, str(library))
                .replace("{anime}", str(anime))
                .replace(POLICY, str(library / DEMO_POLICY_NAME))
                .replace(DATABASE, str(library / DEMO_DATABASE_NAME))
            )
    return expanded


def _display(args: Sequence[str], library: Path) -> str:
    """A command line as the user would type it, with paths relative to the cwd."""
    cwd = Path.cwd()

    def shown(arg: str) -> str:
        path = Path(arg)
        if path.is_absolute() and path.is_relative_to(cwd):
            return str(path.relative_to(cwd))
        return arg

    return " ".join(["vpo", *(shlex.quote(shown(a)) for a in args)])


def _available(ctx: click.Context, name: str) -> click.Command | None:
    root = ctx.find_root()
    group = root.command
    return group.get_command(root, name) if isinstance(group, click.Group) else None


def _run_step(ctx: click.Context, args: list[str]) -> int:
    """Run one vpo command in-process and return its exit code."""
    command = _available(ctx, args[0])
    assert command is not None
    try:
        result = command.main(args=args[1:], prog_name=f"vpo {args[0]}", standalone_mode=False)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return result if isinstance(result, int) else 0


def _prepare(root: Path, force: bool, ctx: click.Context) -> list[Path]:
    """Reuse an existing demo library, or (re)build it; refuse anybody else's folder."""
    try:
        check_demo_target(root)
        if existing_demo_library(root) and not force:
            click.echo(f"Using the demo library in {root} (--force rebuilds it).")
            return demo_files(root)
        tools = tool_paths(load_config_or_exit().config)
        if tools.missing():
            click.echo(
                f"vpo: the demo needs {', '.join(tools.missing())}, not found; install ffmpeg "
                "and mkvtoolnix (./quickstart.sh does it), then run 'vpo doctor'",
                err=True,
            )
            ctx.exit(ExitCode.TOOL_MISSING)
        if (root / MARKER_NAME).exists():
            remove_demo_library(root)
        click.echo(f"Building the demo library in {root} …")
        started = time.monotonic()
        paths = build_demo_library(root, tools)
    except DemoDirectoryError as error:
        click.echo(f"vpo: {error}", err=True)
        ctx.exit(ExitCode.USAGE)
    except ToolError as error:
        click.echo(f"vpo: building the demo library failed: {error}", err=True)
        ctx.exit(ExitCode.FILES_FAILED)
    except OSError as error:
        click.echo(f"vpo: {root}: cannot write the demo library: {error.strerror}", err=True)
        ctx.exit(ExitCode.FILES_FAILED)
    for item in DEMO_FILES:
        click.echo(f"  {item.relative_path}\n      {item.shows}")
    click.echo(f"Built {len(paths)} files in {time.monotonic() - started:.1f} s.")
    return paths


@click.command("demo")
@click.argument(
    "directory",
    required=False,
    default="demo-library",
    type=click.Path(file_okay=True, path_type=Path),
)
@click.option("--force", is_flag=True, help="Rebuild the demo library even if it exists.")
@click.pass_context
def demo(ctx: click.Context, directory: Path, force: bool) -> None:
    """Build a demo library in DIRECTORY (default ./demo-library) and show vpo on it.

    Refuses a non-empty directory that is not a vpo demo library; --force only
    ever deletes the demo's own files.
    """
    root = directory.absolute()
    files = _prepare(root, force, ctx)
    write_demo_policy(root)
    worst = 0
    for number, step in enumerate(DEMO_STEPS, start=1):
        args = expand(step.args, root, files)
        click.echo(f"\n== Step {number}: {step.title}")
        if _available(ctx, args[0]) is None:
            click.echo(f"(skipped: 'vpo {args[0]}' is not part of this build yet)")
            continue
        click.echo(f"$ {_display(args, root)}\n")
        code = _run_step(ctx, args)
        if code:
            click.echo(f"(step {number} exited with code {code})", err=True)
            worst = worst or code
    click.echo("\nWhat to try next:")
    for suggestion in SUGGESTIONS:
        if suggestion.needs is not None and not Path(suggestion.needs).is_file():
            continue
        if _available(ctx, suggestion.args[0]) is not None:
            command_line = _display(expand(suggestion.args, root, files), root)
            click.echo(f"  {command_line}\n      {suggestion.why}")
    ctx.exit(worst)
