"""A file is a transaction: every phase planned first, the whole change written once.

1. **Plan.** Every selected phase is evaluated on the expected result of the ones
   before it (``Plan.expected_result()``, as dry-run does), with the one
   implementation of skip_when/run_if/depends_on/on_error (vpo.policy.phases).
   A phase whose own result would not satisfy it again fails here, before
   anything is written.
2. **Group.** Consecutive phases are composed into one plan from the original
   (vpo.policy.compose); a group ends after an encode, because what follows an
   encode is planned again on a real probe of the encoded output.
3. **Execute** with a ``PlanExecutor`` chosen by the caller: ``ApplyExecutor``
   writes (one lock for the whole file, steps before the last one on private
   temps, the original replaced once after the final file is verified);
   ``SimulateExecutor`` returns each plan's expected result (dry-run).

At every instant the file is the untouched original or the complete final result
(docs/apply.md, "A file is a transaction"). ``FileResult.phases`` still says what
each phase contributed; ``FileResult.evaluation`` carries the plans.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from vpo.apply.choose import Tool, choose_tool
from vpo.apply.errors import ApplyError
from vpo.apply.outcome import ApplyOutcome
from vpo.apply.settings import ApplySettings
from vpo.errors import FileError
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import MediaFile
from vpo.plan import Plan, PlanKind, TimeSource, identity_plan
from vpo.policy.compose import NotComposableError, compose_plans
from vpo.policy.evaluate import evaluate
from vpo.policy.phases import FileEvaluation, PhaseOutcome, run_phases
from vpo.policy.phases import PhaseResult as PlannedPhase
from vpo.policy.schema import Phase, Policy
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress
from vpo.tools.runner import ToolError, ToolTimeoutError
from vpo.workflow.changes import describe_plan
from vpo.workflow.result import FileResult, FileStatus, PhaseResult, PhaseStatus

if TYPE_CHECKING:  # the writing machinery is imported by ApplyExecutor: a dry run needs none
    from vpo.apply.encode import TranscodeSettings

ProgressCallback = Callable[[EncodeProgress], None]


class NonConvergentPolicyError(FileError):
    """Applying a phase would leave work for the same phase: the policy would loop."""


class ApplyFailedError(FileError):
    """A tool failed while applying a plan (the original is untouched)."""


class PlanSession(Protocol):
    """One file's execution: steps, the last one ``final`` (see FileTransaction)."""

    def apply(self, plan: Plan, *, final: bool) -> ApplyOutcome: ...

    def set_time(self, media: MediaFile, mtime_ns: int | None) -> MediaFile:
        """Give the file ``media`` describes the modification time (None: now)."""
        ...


class PlanExecutor(Protocol):
    """How plans are carried out: written for real, or simulated (dry-run).
    Implementations are small frozen dataclasses, so they pickle to any worker."""

    def session(
        self, path: Path, on_progress: ProgressCallback | None
    ) -> AbstractContextManager[PlanSession]: ...


class _Simulation:
    def apply(self, plan: Plan, *, final: bool) -> ApplyOutcome:
        choice = choose_tool(plan)
        media = plan.source if choice.tool is Tool.NONE else plan.expected_result()
        return ApplyOutcome(choice.tool, choice.reason, 0.0, 0, media)

    def set_time(self, media: MediaFile, mtime_ns: int | None) -> MediaFile:
        return media if mtime_ns is None else replace(media, mtime_ns=mtime_ns)


@dataclass(frozen=True, slots=True)
class SimulateExecutor:
    """Dry-run: every step yields its plan's expected result; nothing is touched."""

    def session(
        self, path: Path, on_progress: ProgressCallback | None
    ) -> AbstractContextManager[PlanSession]:
        return nullcontext(_Simulation())


def _default_transcode() -> TranscodeSettings:
    from vpo.apply.encode import TranscodeSettings

    return TranscodeSettings()


@dataclass(frozen=True, slots=True)
class ApplyExecutor:
    """The real run: one locked FileTransaction per file (vpo.apply.execute)."""

    tools: ToolPaths
    settings: ApplySettings
    transcode: TranscodeSettings = field(default_factory=_default_transcode)

    def session(
        self, path: Path, on_progress: ProgressCallback | None
    ) -> AbstractContextManager[PlanSession]:
        from vpo.apply.execute import file_transaction

        return file_transaction(
            path, self.tools, self.settings, transcode=self.transcode, on_progress=on_progress
        )


def plan_file(
    policy: Policy,
    phases: Sequence[Phase],
    media: MediaFile,
    *,
    prior: Sequence[PlannedPhase] = (),
    metadata: FileMetadata = NO_METADATA,
) -> FileEvaluation:
    """Every phase planned on the expected result of the ones before (pure).

    A phase whose expected result it would change again fails (on_error applies).
    """

    def expect(phase: Phase, plan: Plan) -> MediaFile:
        if plan.is_noop:
            return plan.source
        expected = plan.expected_result()
        _check_convergence(phase, expected, policy, metadata)
        return expected

    return run_phases(policy, phases, media, expect, prior=prior, metadata=metadata)


def _check_convergence(
    phase: Phase, media: MediaFile, policy: Policy, metadata: FileMetadata = NO_METADATA
) -> None:
    again = evaluate(phase, media, policy.config, metadata)
    if not again.is_noop:
        remaining = "; ".join(describe_plan(again)) or again.kind.value
        raise NonConvergentPolicyError(
            f"does not converge: after applying it, the phase still wants: {remaining}"
        )


@dataclass(frozen=True, slots=True)
class _Group:
    """Consecutive planned phases carried out by one step."""

    positions: tuple[int, ...]  # indexes into the evaluation's phase results
    plan: Plan  # composed, from the step's source

    @property
    def end(self) -> int:
        return self.positions[-1] + 1


def _groups(results: Sequence[PlannedPhase], start: int) -> list[_Group]:
    """Steps for the phases from ``start`` on: consecutive changes composed, a
    group ending after an encode (what follows is planned again on a real probe)."""
    groups: list[_Group] = []
    positions: list[int] = []
    plans: list[Plan] = []

    def close() -> None:
        if plans:
            groups.append(_Group(tuple(positions), compose_plans(plans)))
            positions.clear()
            plans.clear()

    for position in range(start, len(results)):
        result = results[position]
        plan = result.plan
        if result.outcome is not PhaseOutcome.COMPLETED or plan is None or plan.is_noop:
            continue
        try:
            compose_plans([*plans, plan])
        except NotComposableError:
            close()
        positions.append(position)
        plans.append(plan)
        if plan.kind is PlanKind.ENCODE:
            close()
    close()
    return groups


@dataclass(slots=True)
class _Step:
    group: _Group
    outcome: ApplyOutcome


@dataclass(slots=True)
class _Failure:
    group: _Group | None
    cause: str
    aborted: bool = False  # its tool was stopped by Ctrl-C/SIGTERM, not a tool failure


def run_transaction(
    path: Path,
    before: MediaFile,
    policy: Policy,
    phases: Sequence[Phase],
    executor: PlanExecutor,
    *,
    before_ctime_ns: int | None = None,
    on_progress: ProgressCallback | None = None,
    metadata: FileMetadata = NO_METADATA,
) -> FileResult:
    """Plan every phase, then carry out the whole file's change; never raises for
    per-file trouble (the result says what happened). ``metadata``: what
    Sonarr/Radarr know about the file's title, for every evaluation."""
    started = time.monotonic()
    worker = threading.current_thread().name
    evaluation = plan_file(policy, phases, before, metadata=metadata)
    results = list(evaluation.phases)
    stop_batch = evaluation.stop_batch
    steps: list[_Step] = []
    failure: _Failure | None = None
    final = evaluation.final or before
    groups = _groups(results, 0)
    group: _Group | None = None
    try:
        if groups:
            with executor.session(path, on_progress) as session:
                while groups:
                    group = groups[0]
                    last = len(groups) == 1
                    outcome = session.apply(group.plan, final=last)
                    steps.append(_Step(group, outcome))
                    if last:
                        break
                    # an encode: plan what follows again, on the real (staged) output
                    again = plan_file(
                        policy,
                        [phases[i] for i in range(group.end, len(results))],
                        outcome.media,
                        prior=results[: group.end],
                        metadata=metadata,
                    )
                    stop_batch = stop_batch or again.stop_batch
                    results = [*results[: group.end], *again.phases]
                    groups = _groups(results, group.end)
                    if not groups:  # nothing more to do: install what is staged
                        keep = identity_plan(outcome.media, group.plan.phase)
                        steps[-1].outcome = _installed(
                            steps[-1].outcome, session.apply(keep, final=True)
                        )
                group = None
                final = steps[-1].outcome.media
                final, results = _set_file_time(session, results, before, steps, final)
    except ApplyError as error:
        if error.skipped:
            return _skipped(path, started, worker, error.detail, before, evaluation)
        failure = _failure(group, error)
    except ToolError as error:
        failure = _failure(group, error)
    except FileError as error:
        failure = _Failure(group, _cause(error))
    if failure is not None:
        steps = []
        final = before
    elif steps:
        results = _check_final(policy, phases, results, steps[-1], final, metadata)
    executed = FileEvaluation(before, tuple(results), stop_batch=stop_batch, final=final)
    return _result(
        path,
        executed,
        steps,
        failure,
        started=started,
        worker=worker,
        after_ctime_ns=ctime_if_unchanged(final) if steps else before_ctime_ns,
        stops_batch=failure is not None and _fails_batch(policy, phases, failure),
    )


def _set_file_time(
    session: PlanSession,
    results: list[PlannedPhase],
    before: MediaFile,
    steps: Sequence[_Step],
    final: MediaFile,
) -> tuple[MediaFile, list[PlannedPhase]]:
    """Carry out ``file_timestamp`` of the last phase that has one, after the last
    step (the lock still held): a release date always; the original's time and
    ``now`` only on a file that was written. When the file was written and its time
    cannot be set, that phase fails and the written file stays (it is verified)."""
    timed = [
        (position, result.plan.file_time)
        for position, result in enumerate(results)
        if result.outcome is PhaseOutcome.COMPLETED
        and result.plan is not None
        and result.plan.file_time is not None
    ]
    if not timed:
        return final, results
    position, wanted = timed[-1]
    wrote = any(step.outcome.tool is not Tool.NONE for step in steps)
    if wanted.source is TimeSource.RELEASE:
        mtime_ns = wanted.mtime_ns
    elif wanted.source is TimeSource.ORIGINAL and wrote:
        mtime_ns = before.mtime_ns
    elif wanted.source is TimeSource.NOW and wrote:
        mtime_ns = None
    else:
        return final, results
    if mtime_ns is not None and final.mtime_ns == mtime_ns:
        return final, results
    try:
        return session.set_time(final, mtime_ns), results
    except (ApplyError, OSError) as error:
        if not wrote:
            raise
        cause = error.detail if isinstance(error, ApplyError) else str(error)
        failed = list(results)
        failed[position] = replace(
            failed[position],
            outcome=PhaseOutcome.FAILED,
            reason=f"file_timestamp: {cause}; the file was changed, its time was not set",
        )
        return final, failed


def planned_result(
    path: Path, evaluation: FileEvaluation, started: float, ctime_ns: int | None = None
) -> FileResult:
    """The result of a file whose phases were planned and nothing was written."""
    return _result(
        path,
        evaluation,
        [],
        None,
        started=started,
        worker=threading.current_thread().name,
        after_ctime_ns=ctime_ns,
    )


def _fails_batch(policy: Policy, phases: Sequence[Phase], failure: _Failure) -> bool:
    """on_error: fail on a phase whose write failed stops the batch, as it would
    for a phase that failed while planned."""
    if failure.group is None:
        return False
    names = {failure.group.plan.phase, *failure.group.plan.phase.split("+")}
    return any(
        (phase.on_error or policy.config.on_error) == "fail"
        for phase in phases
        if phase.name in names
    )


def _installed(staged: ApplyOutcome, install: ApplyOutcome) -> ApplyOutcome:
    """The staged step's outcome, now at the final path."""
    return replace(staged, media=install.media, backup=install.backup)


def _check_final(
    policy: Policy,
    phases: Sequence[Phase],
    results: list[PlannedPhase],
    step: _Step,
    final: MediaFile,
    metadata: FileMetadata = NO_METADATA,
) -> list[PlannedPhase]:
    """The last phase that changed the file, evaluated on the real result: what the
    container could not store (verified as far as it stores anything) shows here."""
    position = step.group.positions[-1]
    phase = next(p for p in phases if p.name == results[position].phase)
    try:
        _check_convergence(phase, final, policy, metadata)
    except NonConvergentPolicyError as error:
        results = list(results)
        results[position] = replace(
            results[position], outcome=PhaseOutcome.FAILED, reason=str(error)
        )
    return results


def _result(
    path: Path,
    evaluation: FileEvaluation,
    steps: list[_Step],
    failure: _Failure | None,
    *,
    started: float,
    worker: str,
    after_ctime_ns: int | None,
    stops_batch: bool = False,
) -> FileResult:
    applied = {position: step for step in steps for position in step.group.positions}
    failed_group = set(failure.group.positions) if failure and failure.group else set()
    phases: list[PhaseResult] = []
    for position, planned in enumerate(evaluation.phases):
        plan = planned.plan
        kind = plan.kind.value if plan is not None else None
        warnings = "; ".join(plan.warnings) if plan is not None and plan.warnings else None
        if planned.outcome is PhaseOutcome.FAILED:
            message = planned.reason or "failed"
            phases.append(PhaseResult(planned.phase, PhaseStatus.FAILED, kind, message=message))
        elif planned.outcome is PhaseOutcome.SKIPPED:
            phases.append(PhaseResult(planned.phase, PhaseStatus.SKIPPED, message=planned.reason))
        elif position in applied:
            assert plan is not None
            phases.append(_changed(planned.phase, plan, applied[position], position, warnings))
        elif failure is not None and plan is not None and not plan.is_noop:
            if position in failed_group or failure.group is None:
                phases.append(
                    PhaseResult(planned.phase, PhaseStatus.FAILED, kind, message=failure.cause)
                )
            else:
                note = "not applied: the file's change failed; the original is unchanged"
                phases.append(PhaseResult(planned.phase, PhaseStatus.SKIPPED, kind, message=note))
        else:
            phases.append(PhaseResult(planned.phase, PhaseStatus.UNCHANGED, kind, message=warnings))
    if failure is not None:
        names = (
            "+".join(evaluation.phases[i].phase for i in sorted(failed_group))
            if failed_group
            else None
        )
        status = FileStatus.FAILED
        errors = [f"phase '{names}': {failure.cause}" if names else failure.cause]
    else:
        failed = [p for p in phases if p.status is PhaseStatus.FAILED]
        errors = [f"phase '{p.phase}': {p.message}" for p in failed]
        if failed:
            status = FileStatus.FAILED
        elif steps:
            status = FileStatus.CHANGED
        elif phases and all(p.status is PhaseStatus.SKIPPED for p in phases):
            status = FileStatus.SKIPPED
        else:
            status = FileStatus.UNCHANGED
    skip = "; ".join(p.message or "" for p in phases) if status is FileStatus.SKIPPED else None
    return FileResult(
        path=path,
        status=status,
        phases=tuple(phases),
        seconds=time.monotonic() - started,
        error="; ".join(errors) or None,
        skip_reason=skip,
        bytes_written=sum(step.outcome.bytes_written for step in steps),
        before=evaluation.media,
        after=evaluation.final,  # as it is on disk now (the input itself when unchanged)
        stops_batch=evaluation.stop_batch or stops_batch,
        after_ctime_ns=after_ctime_ns,
        worker=worker,
        started_at=started,
        finished_at=time.monotonic(),
        evaluation=evaluation,
        aborted=failure is not None and failure.aborted,
    )


def _changed(
    phase: str, plan: Plan, step: _Step, position: int, warnings: str | None
) -> PhaseResult:
    """A phase carried out by ``step``, possibly together with its neighbours: each
    says what it changed; the step's time is shared, its sizes told once."""
    outcome = step.outcome
    positions = step.group.positions
    first = position == positions[0]
    encode = outcome.encode if plan.kind is PlanKind.ENCODE else None
    original = step.group.plan.source.size
    if outcome.encode is not None:
        original = outcome.encode.original_size
    return PhaseResult(
        phase=phase,
        status=PhaseStatus.CHANGED,
        kind=plan.kind.value,
        tool=outcome.tool.value,
        seconds=outcome.seconds / len(positions),
        message=warnings,
        changes=describe_plan(plan),
        original_size=original if first else None,
        bytes_saved=original - outcome.media.size if first else None,
        encode_seconds=encode.encode_seconds if encode else None,
        encode_speed=encode.speed if encode else None,
    )


def _skipped(
    path: Path,
    started: float,
    worker: str,
    reason: str,
    before: MediaFile,
    evaluation: FileEvaluation,
) -> FileResult:
    return FileResult(
        path=path,
        status=FileStatus.SKIPPED,
        seconds=time.monotonic() - started,
        skip_reason=reason,
        before=before,
        worker=worker,
        started_at=started,
        finished_at=time.monotonic(),
        evaluation=evaluation,
    )


def _failure(group: _Group | None, error: ApplyError | ToolError) -> _Failure:
    aborted = _aborted(error)
    return _Failure(group, aborted or _cause(error), aborted=aborted is not None)


def _aborted(error: BaseException) -> str | None:
    """A tool killed by a signal (second Ctrl-C) is an abort, not a tool failure."""
    seen: BaseException | None = error
    while seen is not None:
        if (
            isinstance(seen, ToolError)
            and not isinstance(seen, ToolTimeoutError)
            and seen.returncode is not None
            and seen.returncode < 0
        ):
            return (
                f"aborted: {seen.tool} was stopped (signal {-seen.returncode}); "
                "the original is unchanged"
            )
        seen = seen.__cause__ or seen.__context__
    return None


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


def _cause(error: FileError | ToolError | ApplyError) -> str:
    """What went wrong without the file name (result lines add a display-safe path)."""
    return error.without_path() or "failed"


__all__ = [
    "ApplyExecutor",
    "ApplyFailedError",
    "NonConvergentPolicyError",
    "PlanExecutor",
    "PlanSession",
    "SimulateExecutor",
    "ctime_if_unchanged",
    "plan_file",
    "run_transaction",
]
