"""apply_plan: execute one Plan on one file so the original is never lost.

A file's change is one transaction (``file_transaction``): the lock is held from
the first step to the last, steps before the last write private temps, and the
original is replaced at most once. Sequence (docs/apply.md has what a crash at
each step leaves):
lock → preflight → [in-place: journal → mkvpropedit → verify → fsync → drop journal]
                 | [rewrite: temp → tool → fsync → verify (→ more steps on the temp)
                    → attributes → rename → fsync dir]
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from vpo.apply.choose import Tool, choose_tool
from vpo.apply.encode import (
    EncodeResult,
    EncodeWrite,
    TranscodeSettings,
    check_smaller,
    encode_into,
    scratch_directory,
)
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
    Journal,
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
from vpo.apply.outcome import ApplyOutcome as ApplyOutcome  # moved; still importable here
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
from vpo.media.model import Container, MediaFile
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
from vpo.tools.tag_files import global_tags_file

_MKVTOOLNIX_OK = (0, 1)  # 1 = finished with warnings


def apply_plan(
    plan: Plan,
    tools: ToolPaths,
    settings: ApplySettings,
    *,
    on_progress: Callable[[EncodeProgress], None] | None = None,
    transcode: TranscodeSettings | None = None,
) -> ApplyOutcome:
    """Make ``plan.source.path`` match ``plan``, or raise leaving it untouched.

    A transaction of one step. Raises the ApplyError family (PreflightError;
    FileBusyError, GrowingFileError and EncodeNotSmallerError, whose ``skipped`` is
    true; VerificationError; ApplyError for an OS error while writing) or ToolError.
    A no-op plan returns at once without touching the file. Encodes report progress
    to ``on_progress`` and follow ``transcode`` (defaults when None).
    """
    if plan.is_noop:
        return ApplyOutcome(Tool.NONE, choose_tool(plan).reason, 0.0, 0, plan.source)
    with file_transaction(
        plan.source.path, tools, settings, transcode=transcode, on_progress=on_progress
    ) as transaction:
        return transaction.apply(plan, final=True)


@contextmanager
def file_transaction(
    path: Path,
    tools: ToolPaths,
    settings: ApplySettings,
    *,
    transcode: TranscodeSettings | None = None,
    on_progress: Callable[[EncodeProgress], None] | None = None,
) -> Iterator[FileTransaction]:
    """Lock ``path`` (through a symlink, the file it points at) for a whole transaction.

    Everything written before the final step goes to private temps, removed on exit
    unless installed; the original is replaced at most once, by the final step.
    """
    real = path.resolve() if path.is_symlink() else path
    try:
        with locked_file(real) as current, ExitStack() as temps:
            _recover_interrupted_edit(real)
            yield FileTransaction(
                path,
                real,
                current,
                tools,
                settings,
                transcode or TranscodeSettings(),
                on_progress,
                temps,
            )
    except ToolError as error:
        better = name_disk_full(error, settings.temp_dir or real.parent)
        if better is error:
            raise
        raise better from error
    except OSError as error:
        if isinstance(error, FileNotFoundError) and not os.path.lexists(real):
            raise changed_error(real, "moved away or deleted", "the rename over it") from error
        where = f" ({error.filename})" if error.filename else ""
        raise ApplyError(
            real, f"cannot write: {error.strerror or error}{where}; the original is unchanged"
        ) from error


@dataclass(frozen=True, slots=True)
class _Written:
    """An output written into a temp, fsynced and verified against its plan."""

    tool: Tool
    temp: Path
    media: MediaFile  # the fresh probe of ``temp``
    warnings: tuple[str, ...] = ()
    encode: EncodeWrite | None = None
    source_size: int = 0  # size of what the step read


class FileTransaction:
    """The write side of one file's transaction; the file's lock is held throughout.

    ``apply(plan, final=False)`` writes the plan's result into a private temp (the
    next step reads it: its plan's source is that temp); ``apply(plan, final=True)``
    produces the end state and installs it over the original, the only replace.
    """

    def __init__(
        self,
        given: Path,
        path: Path,
        current: os.stat_result,
        tools: ToolPaths,
        settings: ApplySettings,
        transcode: TranscodeSettings,
        on_progress: Callable[[EncodeProgress], None] | None,
        temps: ExitStack,
    ) -> None:
        self._given = given
        self.path = path
        self._current = current
        self._tools = tools
        self._settings = settings
        self._transcode = transcode
        self._on_progress = on_progress
        self._temps = temps
        self._original: MediaFile | None = None  # the probe the first step was planned on
        self._staged: _Written | None = None
        self._wrote = False  # the file was replaced or edited in place

    @property
    def staged(self) -> MediaFile | None:
        """The verified state written so far into a private temp, if any."""
        return self._staged.media if self._staged is not None else None

    def apply(self, plan: Plan, *, final: bool) -> ApplyOutcome:
        """Carry out one step; see the class docstring. A no-op final step installs
        what is staged (if anything)."""
        started = time.monotonic()
        plan = self._on_real_path(plan)
        choice = choose_tool(plan)
        outcome: ApplyOutcome
        if choice.tool is Tool.NONE:
            if final and self._staged is not None:
                outcome = self._install(self._staged, plan.container, Tool.NONE)
            else:
                return ApplyOutcome(choice.tool, choice.reason, 0.0, 0, plan.source)
        elif self._staged is None and final:
            outcome = self._from_original(plan, choice.tool)
        else:
            written = self._stage(plan, choice.tool)
            outcome = (
                self._install(written, plan.container, written.tool)
                if final
                else _outcome(written, written.media, written.temp.stat().st_size)
            )
        return replace(outcome, reason=choice.reason, seconds=time.monotonic() - started)

    def set_time(self, media: MediaFile, mtime_ns: int | None) -> MediaFile:
        """Give the file ``media`` describes (the transaction's result, or the untouched
        original) the modification time ``mtime_ns`` (None: now); ``media`` with its
        new stat. The file must still be ``media`` (size, mtime, inode), and when vpo
        wrote nothing, the file the lock was taken on; else FileChangedError."""
        path = media.path
        step = "setting its modification time"
        try:
            info = path.stat()
        except FileNotFoundError:
            raise changed_error(path, "moved away or deleted", step) from None
        if (info.st_size, info.st_mtime_ns, info.st_ino) != (
            media.size,
            media.mtime_ns,
            media.inode,
        ):
            raise changed_error(path, "modified", step)
        if not self._wrote:
            check_identity(path, FileIdentity.of(self._current), step=step)
        try:
            if mtime_ns is None:
                os.utime(path)
            else:
                os.utime(path, ns=(info.st_atime_ns, mtime_ns))
        except OSError as error:
            raise ApplyError(
                path, f"cannot set the modification time: {error.strerror or error}"
            ) from error
        return with_stat(media, path)

    def _on_real_path(self, plan: Plan) -> Plan:
        """Plans made on the original name it as given; the steps use the real file."""
        if plan.source.path == self._given and self._given != self.path:
            return replace(plan, source=replace(plan.source, path=self.path))
        return plan

    def _from_original(self, plan: Plan, tool: Tool) -> ApplyOutcome:
        """The whole change in one step from the original: in place when it can be."""
        if tool is Tool.MKVPROPEDIT and not self._settings.keep_backup:
            edited = self._edit_in_place(plan)
            if edited is not None:
                return edited
        written = self._stage(plan, tool)
        return self._install(written, plan.container, written.tool)

    # the safe-rewrite skeleton: destination checks, work dir, preflight, temp,
    # tool, fsync, verify (here); install (below). Remux and encode share it.

    def _stage(self, plan: Plan, tool: Tool) -> _Written:
        from_original = plan.source.path == self.path
        if from_original:
            self._original = plan.source
        destination = self._destination(plan.container)
        if destination != self.path and os.path.lexists(destination):
            raise PreflightError(
                self.path,
                f"cannot convert: {destination.name} already exists in the same directory",
            )
        encodes = plan.kind is PlanKind.ENCODE
        work_dir = (
            scratch_directory(self.path, self._transcode.scratch_dir or self._settings.temp_dir)
            if encodes
            else _work_directory(self.path.parent, self._settings.temp_dir)
        )
        if from_original:
            run_preflight(
                self.path,
                plan.source,
                self._current,
                stable_seconds=self._settings.stable_seconds,
                rewrite_into=work_dir,
                preserve_mtime=self._settings.preserve_mtime,
                copy_back=self._settings.copy_back and destination == self.path,
            )
        else:
            needed = space_needed(plan.source.size)
            check_free_space(self.path, work_dir, needed, free_bytes(work_dir))
        temp = self._temps.enter_context(temp_output(work_dir, destination.name))
        if encodes:
            encode = encode_into(
                plan, self._tools, self._transcode, temp, self._on_progress, name=self.path
            )
            check_smaller(self.path, self._transcode, self._current.st_size, temp.stat().st_size)
            written = _Written(
                Tool.FFMPEG, temp, encode.media, encode.notes, encode, plan.source.size
            )
        else:
            ran, result = _run_rewrite_tool(
                plan, tool, self._tools, self._settings, temp, plan.source.size, self.path
            )
            fsync_file(temp)
            try:
                media = verify_result(temp, plan, self._tools, rewrite=True)
            except VerificationError as error:
                raise VerificationError(
                    self.path, error.detail, track=error.track, field=error.field
                ) from error
            written = _Written(ran, temp, media, _warnings(result), source_size=plan.source.size)
        self._staged = written
        return written

    def _install(self, written: _Written, container: Container, tool: Tool) -> ApplyOutcome:
        """The one replace of the transaction: the verified temp over the original."""
        destination = self._destination(container)
        work_dir = written.temp.parent
        staged_elsewhere = work_dir != self.path.parent and not same_filesystem(
            work_dir, self.path.parent
        )
        if staged_elsewhere:
            needed = space_needed(self._current.st_size)
            check_free_space(self.path, self.path.parent, needed, free_bytes(self.path.parent))
        size = written.temp.stat().st_size
        backup = install_output(
            self.path,
            self._current,
            written.temp,
            destination,
            staged_elsewhere=staged_elsewhere,
            preserve_mtime=self._settings.preserve_mtime,
            keep_backup=self._settings.keep_backup,
            copy_back=self._settings.copy_back,
        )
        self._staged = None
        self._wrote = True
        outcome = _outcome(written, with_stat(written.media, destination), size)
        return replace(outcome, backup=backup, tool=tool)

    def _destination(self, container: Container) -> Path:
        source_container = self._original.container if self._original is not None else container
        return destination_path(self.path, source_container, container)

    def _edit_in_place(self, plan: Plan) -> ApplyOutcome | None:
        """mkvpropedit on the file itself, under a journal; None when the journal cannot
        cover the edit (then the caller edits a copy)."""
        path, current, settings, tools = self.path, self._current, self._settings, self._tools
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
        with global_tags_file(plan) as tags_file:
            argv = build_mkvpropedit_argv(
                tools.require("mkvpropedit"), plan, path, tags_file=tags_file
            )
            return self._edit_with_journal(plan, argv, journal, ranges)

    def _edit_with_journal(
        self, plan: Plan, argv: list[str], journal: Journal, ranges: list[tuple[int, int]]
    ) -> ApplyOutcome:
        path, current, settings, tools = self.path, self._current, self._settings, self._tools
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
        self._wrote = True
        return ApplyOutcome(
            Tool.MKVPROPEDIT,
            "",
            0.0,
            covered_bytes(ranges),
            with_stat(media, path),
            in_place=True,
            warnings=_warnings(result),
        )


def _outcome(written: _Written, media: MediaFile, size: int) -> ApplyOutcome:
    encode = written.encode
    return ApplyOutcome(
        written.tool,
        "",
        0.0,
        size,
        media,
        warnings=written.warnings,
        encode=None
        if encode is None
        else EncodeResult(
            media=media,
            bytes_written=size,
            original_size=written.source_size,
            encode_seconds=encode.encode_seconds,
            encoders=encode.encoders,
            notes=encode.notes,
        ),
    )


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


def _run_rewrite_tool(
    plan: Plan,
    tool: Tool,
    tools: ToolPaths,
    settings: ApplySettings,
    temp: Path,
    size: int,
    path: Path,
) -> tuple[Tool, ToolResult]:
    """Write ``temp`` from ``plan.source``; returns the tool that actually ran (mkvmerge
    falls back to ffmpeg when it sees a non-Matroska source's tracks differently than
    ffprobe). Errors name ``path``, the original file."""
    timeout = settings.timeouts.for_rewrite(size)
    if tool is Tool.MKVPROPEDIT:
        copy_durably(plan.source.path, temp)
        with global_tags_file(plan) as tags_file:
            argv = build_mkvpropedit_argv(
                tools.require("mkvpropedit"), plan, temp, tags_file=tags_file
            )
            return tool, run_tool(argv, timeout=timeout, path=path, ok_codes=_MKVTOOLNIX_OK)
    if tool is Tool.MKVMERGE:
        mkvmerge = tools.require("mkvmerge")
        track_ids = None
        if not plan.source.container.is_matroska_family:
            track_ids = _mkvmerge_track_ids(plan.source, mkvmerge)
        if plan.source.container.is_matroska_family or track_ids is not None:
            with global_tags_file(plan) as tags_file:
                argv = build_mkvmerge_argv(
                    mkvmerge, plan, temp, track_ids=track_ids, tags_file=tags_file
                )
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
