"""Phase control (skip_when, depends_on, run_if, on_error) and the per-file
evaluation of a whole policy.

``evaluate_file`` is the per-file unit a batch runs: it takes (policy, phases,
media) and returns plans; dry-run simulates each phase's result with
``Plan.expected_result()`` so later phases see what earlier ones will produce.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vpo.errors import FatalError, FileError
from vpo.media.metadata import NO_METADATA, FileMetadata
from vpo.media.model import MediaFile, TrackType
from vpo.plan import Plan, PlanKind
from vpo.policy.evaluate import evaluate
from vpo.policy.schema import OnError, Phase, Policy, SkipWhen


class PhaseOutcome(str, enum.Enum):
    COMPLETED = "completed"  # a plan was made (possibly a no-op)
    SKIPPED = "skipped"  # skip_when, run_if or depends_on said not to run
    FAILED = "failed"  # the policy could not be satisfied for this file


@dataclass(frozen=True, slots=True)
class PhaseResult:
    phase: str
    outcome: PhaseOutcome
    plan: Plan | None = None
    reason: str | None = None  # why skipped or failed


@dataclass(frozen=True, slots=True)
class FileEvaluation:
    """Every phase's result for one file; ``stop_batch`` is on_error: fail firing."""

    media: MediaFile
    phases: tuple[PhaseResult, ...]
    stop_batch: bool = False
    final: MediaFile | None = None  # the file after the last phase that ran

    @property
    def failed(self) -> bool:
        return any(r.outcome is PhaseOutcome.FAILED for r in self.phases)

    @property
    def plans(self) -> tuple[Plan, ...]:
        return tuple(r.plan for r in self.phases if r.plan is not None)

    @property
    def kind(self) -> PlanKind:
        """The most expensive kind of work any phase needs."""
        order = list(PlanKind)
        kinds = [plan.kind for plan in self.plans] or [PlanKind.NOOP]
        return max(kinds, key=order.index)


class UnknownPhaseError(FatalError):
    """``--phases`` named a phase the policy does not have."""


def select_phases(policy: Policy, names: Sequence[str] | None) -> tuple[Phase, ...]:
    """The phases to run, in policy order; unknown names are a usage error."""
    if not names:
        return policy.phases
    known = policy.phase_names()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UnknownPhaseError(
            f"unknown phase(s): {', '.join(unknown)}; the policy has {', '.join(known)}"
        )
    return tuple(phase for phase in policy.phases if phase.name in names)


def skip_reason(rule: SkipWhen, media: MediaFile) -> str | None:
    """Why ``rule`` skips this file, or None. Unknown values never trigger a test."""
    video = media.video_tracks[0] if media.video_tracks else None
    tests: list[tuple[bool, str]] = []
    if rule.video_codec is not None:
        tests.append((video is not None and video.codec in rule.video_codec, "video codec matches"))
    if rule.audio_codec_exists is not None:
        codecs = rule.audio_codec_exists
        tests.append(
            (
                any(t.codec in codecs for t in media.tracks_of(TrackType.AUDIO)),
                "an audio track has codec " + "/".join(codecs),
            )
        )
    if rule.subtitle_language_exists is not None:
        languages = rule.subtitle_language_exists
        tests.append(
            (
                any(t.language in languages for t in media.tracks_of(TrackType.SUBTITLE)),
                "a subtitle is in " + "/".join(languages),
            )
        )
    if rule.container is not None:
        tests.append((media.container.value in rule.container, "container matches"))
    if rule.resolution is not None:
        height = video.height if video is not None else None
        tests.append((height is not None and height == rule.resolution, "resolution matches"))
    if rule.resolution_under is not None:
        height = video.height if video is not None else None
        tests.append(
            (height is not None and height < rule.resolution_under, "resolution under limit")
        )
    if rule.file_size_under is not None:
        tests.append((media.size < rule.file_size_under, "file size under limit"))
    if rule.file_size_over is not None:
        tests.append((media.size > rule.file_size_over, "file size over limit"))
    if rule.duration_under is not None:
        duration = media.duration
        tests.append(
            (duration is not None and duration < rule.duration_under, "duration under limit")
        )
    if rule.duration_over is not None:
        duration = media.duration
        tests.append(
            (duration is not None and duration > rule.duration_over, "duration over limit")
        )
    held = [reason for ok, reason in tests if ok]
    if rule.match == "all":
        return "skip_when: " + ", ".join(held) if len(held) == len(tests) else None
    return f"skip_when: {held[0]}" if held else None


def analysis_reason(phase: Phase) -> str | None:
    """A phase with a ``transcription`` operation is skipped: it needs audio analysis."""
    if phase.transcription is None:
        return None
    return "transcription needs audio analysis, which this version of vpo does not provide"


def _gate_reason(phase: Phase, done: dict[str, PhaseResult]) -> str | None:
    for name in phase.depends_on:
        result = done.get(name)
        if result is None or result.outcome is not PhaseOutcome.COMPLETED:
            return f"depends_on: phase '{name}' did not complete"
    if phase.run_if is not None:
        result = done.get(phase.run_if.phase)
        completed = result is not None and result.outcome is PhaseOutcome.COMPLETED
        if phase.run_if.phase_completed and not completed:
            return f"run_if: phase '{phase.run_if.phase}' did not complete"
        if phase.run_if.phase_modified and not (
            completed and result is not None and result.plan is not None and not result.plan.is_noop
        ):
            return f"run_if: phase '{phase.run_if.phase}' did not modify the file"
    return None


PhaseExecutor = Callable[[Phase, Plan], MediaFile]
"""Carries out one phase's plan and returns the file as it is afterwards.

Dry-run simulates (``Plan.expected_result``); a real run applies and verifies.
A per-file failure is raised as FileError and handled by the phase's on_error.
"""


def simulate(phase: Phase, plan: Plan) -> MediaFile:
    """The dry-run executor: what the file will look like once the plan is applied."""
    return plan.expected_result()


def run_phases(
    policy: Policy,
    phases: Sequence[Phase],
    media: MediaFile,
    execute: PhaseExecutor,
    *,
    prior: Sequence[PhaseResult] = (),
    metadata: FileMetadata = NO_METADATA,
) -> FileEvaluation:
    """Run ``phases`` in order on one file, each on the previous one's result.

    The one implementation of skip_when, depends_on, run_if and on_error, shared by
    dry-run and real runs so both decide exactly alike. ``prior`` are the results of
    the phases before ``phases`` when a run continues on a real probe (after an
    encode); depends_on and run_if see them. They are not repeated in the result.
    ``metadata`` (Sonarr/Radarr's view of the file's title) goes to every evaluate.
    """
    done: dict[str, PhaseResult] = {result.phase: result for result in prior}
    results: list[PhaseResult] = []
    current = media
    for phase in phases:
        reason = (
            analysis_reason(phase)
            or _gate_reason(phase, done)
            or (skip_reason(phase.skip_when, current) if phase.skip_when else None)
        )
        if reason is not None:
            result = PhaseResult(phase.name, PhaseOutcome.SKIPPED, reason=reason)
        else:
            plan: Plan | None = None
            try:
                plan = evaluate(phase, current, policy.config, metadata)
                current = execute(phase, plan)
            except FileError as error:
                result = PhaseResult(
                    phase.name, PhaseOutcome.FAILED, plan=plan, reason=_cause(error)
                )
            else:
                result = PhaseResult(phase.name, PhaseOutcome.COMPLETED, plan=plan)
        results.append(result)
        done[phase.name] = result
        if result.outcome is PhaseOutcome.FAILED:
            on_error: OnError = phase.on_error or policy.config.on_error
            if on_error == "fail":
                return FileEvaluation(media, tuple(results), stop_batch=True, final=current)
            if on_error == "skip":
                break
    return FileEvaluation(media, tuple(results), final=current)


def evaluate_file(
    policy: Policy,
    phases: Sequence[Phase],
    media: MediaFile,
    metadata: FileMetadata = NO_METADATA,
) -> FileEvaluation:
    """Dry-run: evaluate ``phases`` on one file, simulating each phase's result."""
    return run_phases(policy, phases, media, simulate, metadata=metadata)


def _cause(error: FileError) -> str:
    """The error without the file name: result lines put a display-safe one in front."""
    return error.without_path()
