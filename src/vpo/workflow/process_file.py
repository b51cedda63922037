"""The per-file unit of ``vpo process``: probe (or cache) → phases → apply → verify.

Runs on a worker (a thread, or another process): it takes only plain, picklable
inputs (the path, a frozen WorkflowContext and the cached probe the coordinator
looked up) and returns a FileResult; the coordinator records and reports it.
Nothing here touches the library database or the display.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from vpo.apply.errors import ApplyError
from vpo.apply.settings import ApplySettings
from vpo.errors import FileError
from vpo.media.model import MediaFile
from vpo.plan import Plan
from vpo.policy.evaluate import evaluate
from vpo.policy.phases import FileEvaluation, PhaseOutcome, run_phases
from vpo.policy.schema import Phase
from vpo.tools.runner import ToolError, ToolTimeoutError
from vpo.workflow.changes import describe_plan
from vpo.workflow.context import CachedProbe, WorkflowContext, current_media, finish_early
from vpo.workflow.result import FileResult, FileStatus, PhaseResult, PhaseStatus

if TYPE_CHECKING:
    from vpo.tools.progress import EncodeProgress


class NonConvergentPolicyError(FileError):
    """Applying a phase left work for the same phase: the policy would loop forever."""


class _SkipFile(Exception):
    """Raised through the phase loop when the whole file must be skipped (busy, growing)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


__all__ = ["CachedProbe", "WorkflowContext", "ctime_if_unchanged", "process_file"]


@dataclass(slots=True)
class _Applied:
    tool: str
    seconds: float
    bytes_written: int
    changes: tuple[str, ...]
    original_size: int = 0  # size before the phase (the encode's own figure for an encode)
    final_size: int = 0  # size after it, as on disk
    encode_seconds: float | None = None
    encode_speed: float | None = None


def process_file(
    path: Path, context: WorkflowContext, cached: CachedProbe | None = None
) -> FileResult:
    """Make one file conform to every selected phase; never raises for per-file trouble.

    ``cached``: the library's probe, used when the file still matches it.
    """
    started = time.monotonic()
    worker = threading.current_thread().name
    try:
        before, ctime_ns = current_media(path, context, cached)
    except (FileError, ToolError) as error:
        return finish_early(
            path, started, worker, status=FileStatus.FAILED, error=error.without_path()
        )
    applied: dict[str, _Applied] = {}

    def report_progress(progress: EncodeProgress) -> None:
        # Keyed by the path the batch knows, even after a phase changed the extension.
        if context.on_progress is not None:
            context.on_progress(replace(progress, path=path))

    def execute(phase: Phase, plan: Plan) -> MediaFile:
        if plan.is_noop:
            return plan.source
        from vpo.apply.encode import TranscodeSettings
        from vpo.apply.execute import apply_plan

        try:
            outcome = apply_plan(
                plan,
                context.tools,
                _settings_for_next_change(context, applied),
                on_progress=report_progress if context.on_progress is not None else None,
                transcode=context.transcode or TranscodeSettings(),
            )
        except ApplyError as error:
            if error.skipped:
                raise _SkipFile(error.detail) from error
            _raise_if_aborted(error)
            raise
        except ToolError as error:
            _raise_if_aborted(error)
            raise ApplyFailedError(error.without_path()) from error
        encode = outcome.encode
        applied[phase.name] = _Applied(
            tool=outcome.tool.value,
            seconds=outcome.seconds,
            bytes_written=outcome.bytes_written,
            changes=describe_plan(plan),
            original_size=encode.original_size if encode else plan.source.size,
            final_size=outcome.media.size,
            encode_seconds=encode.encode_seconds if encode else None,
            encode_speed=encode.speed if encode else None,
        )
        nonlocal ctime_ns
        ctime_ns = ctime_if_unchanged(outcome.media)  # right after the replace, on this thread
        _check_convergence(phase, outcome.media, context)
        return outcome.media

    try:
        evaluation = run_phases(context.policy, context.phases, before, execute)
    except _SkipFile as skip:
        return finish_early(
            path, started, worker, status=FileStatus.SKIPPED, skip=skip.reason, before=before
        )
    return replace(
        _result_from(path, evaluation, applied, started, worker), after_ctime_ns=ctime_ns
    )


def _raise_if_aborted(error: BaseException) -> None:
    """A tool killed by a signal (second Ctrl-C) is an abort, not a tool failure."""
    seen: BaseException | None = error
    while seen is not None:
        if (
            isinstance(seen, ToolError)
            and not isinstance(seen, ToolTimeoutError)
            and seen.returncode is not None
            and seen.returncode < 0
        ):
            raise ApplyFailedError(
                f"aborted: {seen.tool} was stopped (signal {-seen.returncode}); "
                "the original is unchanged"
            ) from error
        seen = seen.__cause__ or seen.__context__


def _settings_for_next_change(
    context: WorkflowContext, applied: dict[str, _Applied]
) -> ApplySettings:
    """One backup per file: after the first change the original is already kept beside."""
    if applied and context.settings.keep_backup:
        return replace(context.settings, keep_backup=False)
    return context.settings


class ApplyFailedError(FileError):
    """A tool failed while applying a plan (the original is untouched)."""


def ctime_if_unchanged(media: MediaFile) -> int | None:
    """The ctime of the file ``media`` describes, when a fresh stat still matches its
    size, mtime and inode; None (never a cache hit) when it changed or is gone."""
    try:
        info = media.path.stat()
    except OSError:
        return None
    if (info.st_size, info.st_mtime_ns, info.st_ino) != (media.size, media.mtime_ns, media.inode):
        return None
    return info.st_ctime_ns


def _check_convergence(phase: Phase, media: MediaFile, context: WorkflowContext) -> None:
    again = evaluate(phase, media, context.policy.config)
    if not again.is_noop:
        remaining = "; ".join(describe_plan(again)) or again.kind.value
        raise NonConvergentPolicyError(
            f"does not converge: after applying it, the phase still wants: {remaining}"
        )


def _result_from(
    path: Path,
    evaluation: FileEvaluation,
    applied: dict[str, _Applied],
    started: float,
    worker: str,
) -> FileResult:
    phases: list[PhaseResult] = []
    for result in evaluation.phases:
        done = applied.get(result.phase)
        kind = result.plan.kind.value if result.plan is not None else None
        message: str | None
        if result.outcome is PhaseOutcome.FAILED:
            phase_status, message = PhaseStatus.FAILED, result.reason or "failed"
        elif result.outcome is PhaseOutcome.SKIPPED:
            phase_status, message = PhaseStatus.SKIPPED, result.reason
        elif done is not None:
            phase_status, message = PhaseStatus.CHANGED, None
        else:
            phase_status, message = PhaseStatus.UNCHANGED, None
        warnings = result.plan.warnings if result.plan is not None else ()
        phases.append(
            PhaseResult(
                phase=result.phase,
                status=phase_status,
                kind=kind,
                tool=done.tool if done else None,
                seconds=done.seconds if done else 0.0,
                message=message or ("; ".join(warnings) if warnings else None),
                changes=done.changes if done else (),
                original_size=done.original_size if done else None,
                bytes_saved=done.original_size - done.final_size if done else None,
                encode_seconds=done.encode_seconds if done else None,
                encode_speed=done.encode_speed if done else None,
            )
        )
    failed = [p for p in phases if p.status is PhaseStatus.FAILED]
    if failed:
        status = FileStatus.FAILED
    elif applied:
        status = FileStatus.CHANGED
    elif phases and all(p.status is PhaseStatus.SKIPPED for p in phases):
        status = FileStatus.SKIPPED
    else:
        status = FileStatus.UNCHANGED
    error = "; ".join(f"phase '{p.phase}': {p.message}" for p in failed) or None
    skip = "; ".join(p.message or "" for p in phases) if status is FileStatus.SKIPPED else None
    return FileResult(
        path=path,
        status=status,
        phases=tuple(phases),
        seconds=time.monotonic() - started,
        error=error,
        skip_reason=skip,
        bytes_written=sum(a.bytes_written for a in applied.values()),
        before=evaluation.media,
        after=evaluation.final,  # as it is on disk now (the input itself when unchanged)
        stops_batch=evaluation.stop_batch,
        worker=worker,
        started_at=started,
        finished_at=time.monotonic(),
    )
