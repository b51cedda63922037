"""``vpo doctor``: is this machine ready to run vpo?

Each check is a function from a DoctorContext to CheckResults; the verdicts
come from pure functions (``assess_tool``, ``database_result``, …) so they are
tested without tools. Adding a check (e.g. journal recovery for ``--repair``)
means writing one more function and listing it in ``CHECKS``.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click

from vpo.cli.common import load_config_or_exit, tool_paths
from vpo.cli.doctor_repair import repair, repair_exit_code, repair_lines
from vpo.config import LoadedConfig
from vpo.config.settings import shown
from vpo.errors import ExitCode
from vpo.library.connection import quick_check
from vpo.tools.commands.encoders import (
    AUDIO_ENCODERS,
    SOFTWARE_VIDEO,
    EncoderInventory,
    hardware_candidates,
)
from vpo.tools.encoders_probe import encoder_inventory
from vpo.tools.locate import TOOL_NAMES, ToolPaths
from vpo.tools.runner import ToolError
from vpo.tools.versions import ToolState, ToolStatus, check_tool, format_version

DOCTOR_SCHEMA = "vpo.doctor/1"
VERSION_TIMEOUT = 10.0


class Level(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the doctor report; FAIL results carry the exit code they cause."""

    name: str
    level: Level
    summary: str
    details: tuple[str, ...] = ()
    exit_code: ExitCode = ExitCode.OK
    data: Mapping[str, object] = field(default_factory=dict)  # machine-readable, for --json


@dataclass(frozen=True, slots=True)
class DoctorContext:
    loaded: LoadedConfig
    tools: ToolPaths


Check = Callable[[DoctorContext], list[CheckResult]]


def tool_result(status: ToolStatus) -> CheckResult:
    """Pure: a tool's status as a report line (missing/old/broken tools fail with exit 3)."""
    minimum = format_version(status.minimum)
    data = tool_data(status)
    if status.state is ToolState.OK:
        summary = f"{status.version}  {shown(status.path)}"
        return CheckResult(status.tool, Level.OK, summary, data=data)
    if status.state is ToolState.UNKNOWN_VERSION:
        return CheckResult(
            status.tool,
            Level.WARN,
            f"{status.detail}  {shown(status.path)}",
            (f"needs {minimum} or newer",),
            data=data,
        )
    where = f"  ({shown(status.path)})" if status.path else ""
    needs = () if status.state is ToolState.TOO_OLD else (f"needs {minimum} or newer",)
    return CheckResult(
        status.tool,
        Level.FAIL,
        f"{status.state.value}: {status.detail}{where}",
        (*needs, f"without it: {status.unavailable}"),
        ExitCode.TOOL_MISSING,
        data,
    )


def tool_data(status: ToolStatus) -> dict[str, object]:
    """The ``data`` of a tool check in ``--json``."""
    version = status.version
    return {
        "path": status.path,
        "state": status.state.value,
        "version": version.text if version else None,
        "version_number": list(version.number) if version and version.number else None,
        "minimum": format_version(status.minimum),
        "needed_for": status.unavailable,
    }


def check_tools(context: DoctorContext) -> list[CheckResult]:
    configured = context.loaded.config.tools.configured_paths()
    results = []
    for name in TOOL_NAMES:
        explicit = configured[name]
        status = check_tool(
            name,
            getattr(context.tools, name),
            configured=str(explicit) if explicit else None,
            timeout=VERSION_TIMEOUT,
        )
        results.append(tool_result(status))
    return results


def config_file_result(loaded: LoadedConfig) -> CheckResult:
    """Pure: where the config file is and whether it is used."""
    state = "in use" if loaded.file_exists else "not present: defaults apply"
    data = {
        "path": str(loaded.path),
        "exists": loaded.file_exists,
        "from_env": loaded.location.from_env,
    }
    summary = f"{shown(loaded.path)}  ({state}; {loaded.location.reason})"
    return CheckResult("config file", Level.OK, summary, data=data)


def database_result(
    path: Path, exists: bool, blocker: str | None, damage: str | None = None
) -> CheckResult:
    """Pure: can the library database be used or created? ``blocker`` says why not;
    ``damage`` is what SQLite's quick_check (or a missing log) found wrong with it."""
    data = {"path": str(path), "exists": exists, "problem": damage or blocker}
    if damage is not None:
        return CheckResult(
            "database",
            Level.FAIL,
            f"{shown(path)}  (damaged)",
            (damage,),
            exit_code=ExitCode.USAGE,
            data=data,
        )
    if blocker is not None:
        return CheckResult("database", Level.WARN, f"{shown(path)}  ({blocker})", data=data)
    state = "exists" if exists else "not created yet; created by the first scan"
    return CheckResult("database", Level.OK, f"{shown(path)}  ({state})", data=data)


def temp_dir_result(path: Path | None, blocker: str | None) -> CheckResult:
    """Pure: the configured temp directory, if any, must be a writable directory."""
    if path is None:
        summary = "beside each media file (jobs.temp_dir not set)"
        return CheckResult("temp dir", Level.OK, summary, data={"path": None, "problem": None})
    data = {"path": str(path), "problem": blocker}
    if blocker is not None:
        return CheckResult("temp dir", Level.WARN, f"{shown(path)}  ({blocker})", data=data)
    return CheckResult("temp dir", Level.OK, shown(path), data=data)


def writable_blocker(path: Path, *, directory: bool) -> str | None:
    """Why ``path`` cannot be written (or created), or None when it can."""
    if path.exists():
        if directory and not path.is_dir():
            return "not a directory"
        if not directory and path.is_dir():
            return "is a directory"
        return None if os.access(path, os.W_OK) else "not writable"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot be created: {shown(parent)} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created: {shown(parent)} is not writable"
    return None


def check_setup(context: DoctorContext) -> list[CheckResult]:
    config = context.loaded.config
    database = config.library.database
    temp_dir = config.jobs.temp_dir
    return [
        config_file_result(context.loaded),
        database_result(
            database,
            database.is_file(),
            writable_blocker(database, directory=False),
            quick_check(database) if database.is_file() else None,
        ),
        temp_dir_result(temp_dir, writable_blocker(temp_dir, directory=True) if temp_dir else None),
    ]


def encoder_results(inventory: EncoderInventory) -> list[CheckResult]:
    """Pure: which encoder makes each transcode target, and which hardware works.

    A target without an encoder is a warning (only policies that ask for it fail);
    no working hardware is fine (software encoding is the default).
    """
    results = []
    for kind, table in (("video", SOFTWARE_VIDEO), ("audio", AUDIO_ENCODERS)):
        found = {
            codec: next((n for n in names if n in inventory.encoders), None)
            for codec, names in table.items()
        }
        missing = [codec for codec, name in found.items() if name is None]
        summary = ", ".join(f"{codec} {name or '-'}" for codec, name in found.items())
        level = Level.WARN if missing else Level.OK
        details = tuple(f"no encoder for {codec}: policies targeting it fail" for codec in missing)
        results.append(
            CheckResult(f"{kind} encoders", level, summary, details, data={"encoders": found})
        )
    listed = hardware_candidates(inventory)
    working = sorted(inventory.working_hardware)
    hwaccels = ", ".join(sorted(inventory.hwaccels)) or "none"
    if working:
        summary = ", ".join(working)
    elif listed:
        summary = f"none working (listed, no device: {', '.join(listed)})"
    else:
        summary = "none"
    results.append(
        CheckResult(
            "hardware encoding",
            Level.OK,
            summary,
            (f"ffmpeg hwaccels: {hwaccels}",),
            data={
                "working": working,
                "listed": list(listed),
                "hwaccels": sorted(inventory.hwaccels),
            },
        )
    )
    return results


def check_encoders(context: DoctorContext) -> list[CheckResult]:
    """Encoders and hardware acceleration of the configured ffmpeg (nothing when
    ffmpeg is missing: check_tools already fails for that)."""
    if context.tools.ffmpeg is None:
        return []
    try:
        inventory = encoder_inventory(context.tools.ffmpeg)
    except ToolError as error:
        return [CheckResult("encoders", Level.WARN, f"cannot list encoders: {error.cause}")]
    return encoder_results(inventory)


CHECKS: tuple[Check, ...] = (check_tools, check_setup, check_encoders)


def exit_code_for(results: Sequence[CheckResult]) -> ExitCode:
    """Pure: the first failing check decides; warnings alone still exit 0."""
    return next((r.exit_code for r in results if r.level is Level.FAIL), ExitCode.OK)


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option(
    "--repair",
    "repair_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Restore files from journals of interrupted edits and delete stale temp files "
    "under PATH (repeatable).",
)
@click.option(
    "--other-hosts",
    is_flag=True,
    help="With --repair: also treat leftovers written by other machines as abandoned "
    "before they are 6 hours old (stop vpo on those machines first).",
)
@click.pass_context
def doctor(
    ctx: click.Context, as_json: bool, repair_paths: tuple[Path, ...], other_hosts: bool
) -> None:
    """Check the external tools (path, version, minimum) and vpo's files.

    Exits 3 when a required tool is missing, too old or broken, 0 otherwise.
    With --repair, exits 1 when a leftover could not be repaired.
    """
    if repair_paths:
        config = load_config_or_exit().config
        temp_dirs = (config.jobs.temp_dir, config.transcode.scratch_dir)
        actions, problems = repair(repair_paths, temp_dirs, other_hosts=other_hosts)
        for line in repair_lines(actions) or ["nothing to repair"]:
            click.echo(line)
        for problem in problems:
            click.echo(f"vpo: {problem}", err=True)
        ctx.exit(repair_exit_code(actions, problems))
    loaded = load_config_or_exit()
    context = DoctorContext(loaded, tool_paths(loaded.config))
    results = [result for check in CHECKS for result in check(context)]
    code = exit_code_for(results)
    if as_json:
        click.echo(json.dumps(report_to_dict(results, code), indent=2, ensure_ascii=False))
    else:
        for line in report_lines(results, code):
            click.echo(line)
    ctx.exit(code)


def report_to_dict(results: Sequence[CheckResult], code: ExitCode) -> dict[str, object]:
    """The documented ``--json`` shape (docs/configuration.md)."""
    return {
        "schema": DOCTOR_SCHEMA,
        "ok": code is ExitCode.OK,
        "exit_code": int(code),
        "checks": [
            {
                "name": r.name,
                "level": r.level.value,
                "summary": r.summary,
                "details": list(r.details),
                **r.data,
            }
            for r in results
        ],
    }


_MARKS = {Level.OK: ("ok", "green"), Level.WARN: ("warn", "yellow"), Level.FAIL: ("FAIL", "red")}


def report_lines(results: Sequence[CheckResult], code: ExitCode) -> list[str]:
    width = max(len(r.name) for r in results)
    lines = []
    for result in results:
        mark, colour = _MARKS[result.level]
        label = click.style(f"{mark:<4}", fg=colour, bold=result.level is Level.FAIL)
        lines.append(f"{label}  {result.name:<{width}}  {result.summary}")
        lines.extend(f"      {'':<{width}}  {detail}" for detail in result.details)
    failures = sum(r.level is Level.FAIL for r in results)
    warnings = sum(r.level is Level.WARN for r in results)
    if code is ExitCode.OK:
        lines.append(f"vpo is ready ({warnings} warning(s))" if warnings else "vpo is ready")
    else:
        lines.append(
            f"{failures} problem(s): install or upgrade the tools above, or set their paths "
            "in [tools] (vpo config show)"
        )
    return lines
