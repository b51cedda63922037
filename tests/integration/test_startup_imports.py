"""Start-up stays small: what ``vpo --version``, ``vpo process --help`` and a dry run
on one file import, and the garbage collector that start-up turns off is back on
before any file is worked on.

Each case runs the real entry point (vpo.cli.entry.main) in a fresh interpreter
and reports ``sys.modules`` afterwards, so a module-level import added anywhere
on the path shows up here rather than as a slower command months later.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from vpo.cli.main import COMMANDS, SUMMARIES, cli
from vpo.testmedia.spec import AudioSpec, MediaSpec

MediaFactory = Callable[..., Path]

pytestmark = pytest.mark.integration

# Runs `vpo ARGS...` through the console-script entry point, then writes what it
# imported. argv[0] is "vpo", as for the installed command.
_MODULES_DRIVER = """
import json, sys
report, sys.argv = sys.argv[1], ["vpo", *sys.argv[2:]]
from vpo.cli.entry import main
try:
    main()
except SystemExit as end:
    code = end.code
with open(report, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

# Replaces what a command does with a note of whether the garbage collector is on
# at that moment (the command's own work would run exactly there).
_GC_DRIVER = """
import gc, json, sys
report, sys.argv = sys.argv[1], ["vpo", *sys.argv[2:]]
import vpo.cli.doctor_cmd, vpo.cli.process_dry_run, vpo.cli.process_run
seen = []
def note(*args, **kwargs):
    seen.append(gc.isenabled())
    return 0
vpo.cli.process_dry_run.run_dry_run = note
vpo.cli.process_run.run_process = note
vpo.cli.doctor_cmd.doctor.callback = note
from vpo.cli.entry import main
try:
    main()
except SystemExit:
    pass
with open(report, "w") as out:
    json.dump({"seen": seen, "after": gc.isenabled()}, out)
"""

# Never needed to print a version, a help text or the plans of one file.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "jinja2",
    "rich",
    "dask",
    "distributed",
    "watchfiles",
    "apprise",
    "langcodes",  # common language tags are answered without its registry
    "multiprocessing",  # only --executor processes
    "ctypes",  # only when the first tool starts
)
# What writes files: a dry run only simulates it.
WRITING = ("vpo.apply.execute", "vpo.apply.encode", "vpo.apply.journal", "vpo.apply.verify")
# Nor, for --version and --help, anything that validates, parses or stores.
ENGINE = ("pydantic", "ruamel", "sqlite3", "re2", "vpo.config", "vpo.policy", "vpo.batch")

POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: defaults
    default_flags:
      set_preferred_audio_default: true
"""


def run_driver(driver: str, tmp_path: Path, *args: str) -> dict[str, object]:
    report = tmp_path / "report.json"
    subprocess.run(
        [sys.executable, "-c", driver, str(report), *args],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )
    result: dict[str, object] = json.loads(report.read_text(encoding="utf-8"))
    return result


def imported(modules: object, names: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, list)
    return sorted(
        module
        for module in modules
        if any(module == name or module.startswith(f"{name}.") for name in names)
    )


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("process", "--help")])
def test_version_and_help_import_neither_the_engine_nor_heavy_libraries(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    report = run_driver(_MODULES_DRIVER, tmp_path, *args)
    assert report["code"] == 0
    assert imported(report["modules"], HEAVY + ENGINE) == []


def one_file_and_policy(media_factory: MediaFactory, tmp_path: Path) -> tuple[Path, Path]:
    movie = media_factory(MediaSpec(duration=1.0, audio=(AudioSpec(language="eng", default=True),)))
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return movie, policy


def test_a_dry_run_on_one_file_imports_no_heavy_library(
    media_factory: MediaFactory, tmp_path: Path
) -> None:
    movie, policy = one_file_and_policy(media_factory, tmp_path)
    database = str(tmp_path / "lib.db")
    report = run_driver(
        _MODULES_DRIVER, tmp_path, "process", "--db", database, "--dry-run", "-p", str(policy),
        str(movie),
    )  # fmt: skip
    assert report["code"] == 0
    assert imported(report["modules"], HEAVY + WRITING) == []
    assert "vpo.batch.process" in report["modules"]  # the dry run did run the engine


@pytest.mark.parametrize("dry_run", [True, False])
def test_process_collects_garbage_again_before_any_file_is_worked_on(
    media_factory: MediaFactory, tmp_path: Path, dry_run: bool
) -> None:
    movie, policy = one_file_and_policy(media_factory, tmp_path)
    database = str(tmp_path / "lib.db")
    flag = ("--dry-run",) if dry_run else ()
    report = run_driver(
        _GC_DRIVER, tmp_path, "process", "--db", database, *flag, "-p", str(policy), str(movie)
    )
    assert report == {"seen": [True], "after": True}


def test_other_commands_collect_garbage_again_before_they_run(tmp_path: Path) -> None:
    report = run_driver(_GC_DRIVER, tmp_path, "doctor")
    assert report == {"seen": [True], "after": True}


def test_a_cli_run_in_process_leaves_the_collector_as_its_caller_set_it() -> None:
    """Only the ``vpo`` command turns collection off and on again: a program (or a
    test) that runs the CLI in-process and keeps the collector off keeps it off."""
    assert gc.isenabled()
    gc.disable()
    try:
        result = CliRunner().invoke(cli, ["doctor", "--help"])
        assert result.exit_code == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_every_command_has_a_summary_and_no_other_name_does() -> None:
    assert set(SUMMARIES) == set(COMMANDS)


@pytest.mark.parametrize("width", [40, 60, 80, 120, 400])
def test_the_command_list_of_vpo_help_is_what_click_writes_from_the_commands(width: int) -> None:
    """The summaries are only a cache: the list reads exactly as click would write it
    from the imported commands (their help, hidden and deprecated flags), at any width."""
    context = click.Context(cli, terminal_width=width, max_content_width=width)
    ours = context.make_formatter()
    cli.format_commands(context, ours)
    clicks = context.make_formatter()
    click.Group.format_commands(cli, context, clicks)
    assert ours.getvalue() == clicks.getvalue()
    assert "process" in ours.getvalue()
