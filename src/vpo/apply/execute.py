"""apply_plan: execute one Plan on one file so the original is never lost.

Sequence (docs/apply.md has what a crash at each step leaves):
lock → preflight → [in-place: journal → mkvpropedit → verify → fsync → drop journal]
                 | [rewrite: temp → tool → fsync → verify → attributes → rename → fsync dir]
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from vpo.apply.choose import Tool, choose_tool
from vpo.apply.encode import EncodeResult, TranscodeSettings, encode_file
from vpo.apply.errors import (
    ApplyError,
    FileBusyError,
    FileChangedError,
    PreflightError,
    VerificationError,
)
from vpo.apply.fsio import copy_durably, fsync_file, same_filesystem
from vpo.apply.identity import FileIdentity, changed_error, check_identity
from vpo.apply.journal import (
    covered_bytes,
    discard_journal,
    journal_path,
    journal_ranges,
    read_journal,
    record_after_state,
    restore,
    write_journal,
)
from vpo.apply.lock import locked_file
from vpo.apply.names import destination_path
from vpo.apply.preflight import (
    check_free_space,
    free_bytes,
    name_disk_full,
    run_preflight,
    space_needed,
)
from vpo.apply.recovery import RecoveryKind, processes_using, restore_journal
from vpo.apply.replace import install_output, temp_output, with_stat
from vpo.apply.settings import ApplySettings
from vpo.apply.verify import verify_result
from vpo.media.model import MediaFile
from vpo.plan import Plan, PlanKind
from vpo.probe.errors import ProbeError
from vpo.probe.matroska_layout import read_segment_layout
from vpo.probe.mkvmerge_json import parse_mkvmerge_json
from vpo.tools.commands.common import absolute
from vpo.tools.commands.ffmpeg import build_ffmpeg_argv
from vpo.tools.commands.mkvmerge import build_mkvmerge_argv, match_track_ids
from vpo.tools.commands.mkvpropedit import build_mkvpropedit_argv
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress
from vpo.tools.runner import ToolError, ToolResult, run_tool

_MKVTOOLNIX_OK = (0, 1)  # 1 = finished with warnings


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """What applying one plan did. ``media`` is the verified result, with the final
    path and its stat after the replace (update any cache with it)."""

    tool: Tool
    reason: str
    seconds: float
    bytes_written: int
    media: MediaFile
    backup: Path | None = None
    in_place: bool = False
    warnings: tuple[str, ...] = ()
    encode: EncodeResult | None = None  # sizes, encoders and speed of an encode


def apply_plan(
    plan: Plan,
    tools: ToolPaths,
    settings: ApplySettings,
    *,
    on_progress: Callable[[EncodeProgress], None] | None = None,
    transcode: TranscodeSettings | None = None,
) -> ApplyOutcome:
    """Make ``plan.source.path`` match ``plan``, or raise leaving it untouched.

    Raises the ApplyError family (PreflightError; FileBusyError, GrowingFileError and
    EncodeNotSmallerError, whose ``skipped`` is true; VerificationError; ApplyError for
    an OS error while writing) or ToolError. A no-op plan returns at once without
    touching the file. Encode plans go to vpo.apply.encode, which reports progress
    to ``on_progress`` and follows ``transcode`` (defaults when None).
    """
    started = time.monotonic()
    choice = choose_tool(plan)
    if choice.tool is Tool.NONE:
        return ApplyOutcome(choice.tool, choice.reason, 0.0, 0, plan.source)
    plan = _through_symlink(plan)
    path = plan.source.path
    try:
        with locked_file(path) as current:
            _recover_interrupted_edit(path)
            outcome: ApplyOutcome | None = None
            if plan.kind is PlanKind.ENCODE:
                outcome = _encode(plan, tools, settings, transcode, current, on_progress)
            elif choice.tool is Tool.MKVPROPEDIT and not settings.keep_backup:
                outcome = _edit_in_place(plan, tools, settings, current)
                if outcome is None:
                    outcome = _rewrite(plan, Tool.MKVPROPEDIT, tools, settings, current)
            else:
                outcome = _rewrite(plan, choice.tool, tools, settings, current)
    except ToolError as error:
        better = name_disk_full(error, settings.temp_dir or path.parent)
        if better is error:
            raise
        raise better from error
    except OSError as error:
        if isinstance(error, FileNotFoundError) and not os.path.lexists(path):
            raise changed_error(path, "moved away or deleted", "the rename over it") from error
        where = f" ({error.filename})" if error.filename else ""
        raise ApplyError(
            path, f"cannot write: {error.strerror or error}{where}; the original is unchanged"
        ) from error
    return replace(outcome, reason=choice.reason, seconds=time.monotonic() - started)


def _encode(
    plan: Plan,
    tools: ToolPaths,
    settings: ApplySettings,
    transcode: TranscodeSettings | None,
    current: os.stat_result,
    on_progress: Callable[[EncodeProgress], None] | None,
) -> ApplyOutcome:
    result = encode_file(
        plan, tools, settings, transcode or TranscodeSettings(), current, on_progress
    )
    return ApplyOutcome(
        Tool.FFMPEG,
        "",
        0.0,
        result.bytes_written,
        result.media,
        backup=result.backup,
        warnings=result.notes,
        encode=result,
    )


def _through_symlink(plan: Plan) -> Plan:
    """Apply to the file a symlink points at: renaming over the link itself would
    replace the link with a regular file and leave the real file unchanged."""
    path = plan.source.path
    if not path.is_symlink():
        return plan
    return replace(plan, source=replace(plan.source, path=path.resolve()))


def _recover_interrupted_edit(path: Path) -> None:
    journal = journal_path(path)
    if not journal.exists():
        return
    holders = processes_using(path)
    if holders:
        raise FileBusyError(path, f"busy: an interrupted edit's tool (pid {holders[0]}) still runs")
    action = restore_journal(journal, path)
    if action.kind is RecoveryKind.RESTORED:
        raise PreflightError(
            path, "was restored from an interrupted vpo edit; probe it again before processing"
        )
    if action.kind in (RecoveryKind.FAILED, RecoveryKind.SET_ASIDE):
        raise PreflightError(path, f"leftover journal needs attention: {action.detail}")


def _edit_in_place(
    plan: Plan, tools: ToolPaths, settings: ApplySettings, current: os.stat_result
) -> ApplyOutcome | None:
    """mkvpropedit on the file itself, under a journal; None when the journal cannot
    cover the edit (then the caller edits a copy)."""
    path = plan.source.path
    run_preflight(
        path,
        plan.source,
        current,
        stable_seconds=settings.stable_seconds,
        rewrite_into=None,
        preserve_mtime=settings.preserve_mtime,
    )
    try:
        layout = read_segment_layout(path)
    except ProbeError as error:
        raise PreflightError(
            path, f"cannot read Matroska headers: {error.detail or error}"
        ) from error
    ranges = journal_ranges(layout)
    if ranges is None or covered_bytes(ranges) > settings.journal_limit:
        return None
    journal = read_journal(path, current, ranges)
    argv = build_mkvpropedit_argv(tools.require("mkvpropedit"), plan, path)
    journal_file = write_journal(path, journal)
    try:
        check_identity(path, FileIdentity.of(current), step="the in-place edit")
    except FileChangedError:
        discard_journal(journal_file)
        raise
    try:
        result = run_tool(
            argv,
            timeout=settings.timeouts.for_header_edit(),
            path=path,
            ok_codes=_MKVTOOLNIX_OK,
        )
        record_after_state(path, journal)
        media = verify_result(path, plan, tools, rewrite=False)
        if settings.preserve_mtime:
            os.utime(path, ns=(current.st_atime_ns, current.st_mtime_ns))
        fsync_file(path)
    except BaseException:
        restore(path, journal)
        discard_journal(journal_file)
        raise
    discard_journal(journal_file, durable=False)
    return ApplyOutcome(
        Tool.MKVPROPEDIT,
        "",
        0.0,
        covered_bytes(ranges),
        with_stat(media, path),
        in_place=True,
        warnings=_warnings(result),
    )


def _rewrite(
    plan: Plan, tool: Tool, tools: ToolPaths, settings: ApplySettings, current: os.stat_result
) -> ApplyOutcome:
    """Write a new file beside the original (or in temp_dir), verify it, then rename it in."""
    path = plan.source.path
    destination = destination_path(path, plan.source.container, plan.container)
    if destination != path and os.path.lexists(destination):
        raise PreflightError(
            path, f"cannot convert: {destination.name} already exists in the same directory"
        )
    work_dir = _work_directory(path.parent, settings.temp_dir)
    run_preflight(
        path,
        plan.source,
        current,
        stable_seconds=settings.stable_seconds,
        rewrite_into=work_dir,
        preserve_mtime=settings.preserve_mtime,
        copy_back=settings.copy_back and destination == path,
    )
    staged_elsewhere = work_dir != path.parent and not same_filesystem(work_dir, path.parent)
    if staged_elsewhere:
        needed = space_needed(current.st_size)
        check_free_space(path, path.parent, needed, free_bytes(path.parent))
    with temp_output(work_dir, destination.name) as temp:
        tool, result = _run_rewrite_tool(plan, tool, tools, settings, temp, current.st_size)
        fsync_file(temp)
        try:
            media = verify_result(temp, plan, tools, rewrite=True)
        except VerificationError as error:
            raise VerificationError(
                path, error.detail, track=error.track, field=error.field
            ) from error
        written = temp.stat().st_size
        backup = install_output(
            path,
            current,
            temp,
            destination,
            staged_elsewhere=staged_elsewhere,
            preserve_mtime=settings.preserve_mtime,
            keep_backup=settings.keep_backup,
            copy_back=settings.copy_back,
        )
    return ApplyOutcome(
        tool,
        "",
        0.0,
        written,
        with_stat(media, destination),
        backup=backup,
        warnings=_warnings(result),
    )


def _run_rewrite_tool(
    plan: Plan, tool: Tool, tools: ToolPaths, settings: ApplySettings, temp: Path, size: int
) -> tuple[Tool, ToolResult]:
    """Write ``temp``; returns the tool that actually ran (mkvmerge falls back to
    ffmpeg when it sees a non-Matroska source's tracks differently than ffprobe)."""
    path = plan.source.path
    timeout = settings.timeouts.for_rewrite(size)
    if tool is Tool.MKVPROPEDIT:
        copy_durably(path, temp)
        argv = build_mkvpropedit_argv(tools.require("mkvpropedit"), plan, temp)
        return tool, run_tool(argv, timeout=timeout, path=path, ok_codes=_MKVTOOLNIX_OK)
    if tool is Tool.MKVMERGE:
        mkvmerge = tools.require("mkvmerge")
        track_ids = None
        if not plan.source.container.is_matroska_family:
            track_ids = _mkvmerge_track_ids(plan.source, mkvmerge)
        if plan.source.container.is_matroska_family or track_ids is not None:
            argv = build_mkvmerge_argv(mkvmerge, plan, temp, track_ids=track_ids)
            return tool, run_tool(argv, timeout=timeout, path=path, ok_codes=_MKVTOOLNIX_OK)
    argv = build_ffmpeg_argv(tools.require("ffmpeg"), plan, temp)
    return Tool.FFMPEG, run_tool(argv, timeout=timeout, path=path)


def _mkvmerge_track_ids(source: MediaFile, mkvmerge: str) -> tuple[int, ...] | None:
    """mkvmerge's own ids for a non-Matroska source (one ``mkvmerge -J``; a conversion
    copies the whole file anyway). None: mkvmerge sees other tracks, use ffmpeg."""
    result = run_tool(
        [mkvmerge, "-J", absolute(source.path)], timeout=60.0, path=source.path, ok_codes=(0, 1)
    )
    try:
        identified = parse_mkvmerge_json(
            json.loads(result.stdout),
            path=source.path,
            size=source.size,
            mtime_ns=source.mtime_ns,
            inode=source.inode,
            device=source.device,
        )
    except (ValueError, ProbeError):
        return None
    return match_track_ids(source.tracks, identified.tracks)


def _work_directory(media_dir: Path, temp_dir: Path | None) -> Path:
    if temp_dir is None:
        return media_dir
    if not temp_dir.is_dir():
        raise PreflightError(media_dir, f"[jobs] temp_dir {temp_dir} is not a directory")
    return temp_dir


def _warnings(result: ToolResult | None) -> tuple[str, ...]:
    if result is None or result.returncode == 0:
        return ()
    text = result.stdout_text + "\n" + result.stderr_text
    return tuple(line.strip() for line in text.splitlines() if "warning" in line.lower())
