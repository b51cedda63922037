"""The encode path of apply: one ffmpeg run (two for a two-pass encode) into a temp
file on the scratch directory, checked harder than a remux before it replaces anything.

Checks: everything verify_result does (tracks, codecs, languages, flags, duration
within tolerance), the frame size and channel count the plan asks for, and a
decode of the first and the last second without errors. With ``keep_if_larger``
false an output that is not smaller leaves the original in place (reported as
skipped, with both sizes).

The safe-rewrite skeleton around it (lock, destination, preflight, temp, install)
is vpo.apply.execute's, shared with remuxes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar, Protocol

from vpo.apply.errors import ApplyError, PreflightError, VerificationError
from vpo.apply.fsio import fsync_file
from vpo.apply.verify import verify_result
from vpo.media.model import MediaFile, TrackType
from vpo.plan import Hardware, Plan
from vpo.tools.commands.encoders import EncoderChoice, EncoderInventory, EncoderUnavailableError
from vpo.tools.commands.ffmpeg import build_ffmpeg_argv, choose_encoders, file_url
from vpo.tools.encoders_probe import encoder_inventory
from vpo.tools.locate import ToolPaths
from vpo.tools.progress import EncodeProgress, StreamLimits, run_with_progress
from vpo.tools.runner import ToolError, ToolStalledError, ToolTimeoutError, run_tool

DECODE_CHECK_SECONDS = 1.0
DECODE_CHECK_TIMEOUT = 120.0
ProgressCallback = Callable[[EncodeProgress], None]


class TranscodeSection(Protocol):
    """The fields of ``vpo.config.models.TranscodeConfig`` that the encode path reads."""

    @property
    def stall_seconds(self) -> float: ...
    @property
    def timeout_factor(self) -> float: ...
    @property
    def niceness(self) -> int: ...
    @property
    def scratch_dir(self) -> Path | None: ...
    @property
    def keep_if_larger(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class TranscodeSettings:
    """How patient an encode is, how nice, where it writes, and which output it keeps.

    Timeout: ``timeout_floor`` + ``timeout_factor`` × the source duration (an
    unknown duration counts as one hour).
    """

    stall_seconds: float = 120.0
    timeout_factor: float = 20.0
    timeout_floor: float = 600.0
    niceness: int | None = 10
    scratch_dir: Path | None = None
    keep_if_larger: bool = True

    @classmethod
    def from_config(cls, section: TranscodeSection) -> TranscodeSettings:
        return cls(
            stall_seconds=section.stall_seconds,
            timeout_factor=section.timeout_factor,
            niceness=section.niceness or None,
            scratch_dir=section.scratch_dir,
            keep_if_larger=section.keep_if_larger,
        )

    def timeout_for(self, duration: float | None) -> float:
        return self.timeout_floor + self.timeout_factor * (duration or 3600.0)


class EncodeNotSmallerError(ApplyError):
    """keep_if_larger is false and the encode is not smaller: the original stays."""

    skipped: ClassVar[bool] = True

    def __init__(self, path: Path, original: int, encoded: int) -> None:
        self.original_size = original
        self.encoded_size = encoded
        super().__init__(
            path,
            f"encode not smaller ({_mb(encoded)} vs {_mb(original)} original); "
            "original kept (keep_if_larger: false)",
        )


@dataclass(frozen=True, slots=True)
class EncodeResult:
    """What the encode path did (the caller wraps it in an ApplyOutcome)."""

    media: MediaFile  # the verified output, at its final path
    bytes_written: int
    original_size: int
    encode_seconds: float
    backup: Path | None = None
    encoders: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def bytes_saved(self) -> int:
        return self.original_size - self.bytes_written

    @property
    def speed(self) -> float | None:
        """Seconds of media encoded per second of wall time (2.0 = twice real time)."""
        duration = self.media.duration
        if not duration or self.encode_seconds <= 0:
            return None
        return duration / self.encode_seconds


@dataclass(frozen=True, slots=True)
class EncodeWrite:
    """An encode written into a private temp and checked (not yet installed)."""

    media: MediaFile  # the verified probe of the temp
    encode_seconds: float
    encoders: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def encode_into(
    plan: Plan,
    tools: ToolPaths,
    transcode: TranscodeSettings,
    temp: Path,
    on_progress: ProgressCallback | None = None,
    *,
    name: Path | None = None,
) -> EncodeWrite:
    """Encode ``plan.source`` into ``temp`` as the plan says, fsync and check it.

    The rest of the safe rewrite (destination, preflight, temp, install) is
    vpo.apply.execute's. Errors name ``name`` (the original file; default: the source).
    """
    path = name or plan.source.path
    ffmpeg = tools.require("ffmpeg")
    try:
        inventory = encoder_inventory(ffmpeg, plan)  # tests only what the plan can use
        choices = choose_encoders(plan, inventory)
    except EncoderUnavailableError as error:
        raise PreflightError(path, f"cannot encode: {error}") from error
    notes = [c.note for c in choices if c is not None and c.note]
    try:
        seconds = _run_encode(plan, ffmpeg, inventory, temp, transcode, on_progress, path)
    except (ToolTimeoutError, ToolStalledError):
        raise  # a stalled encode is not the hardware's fault: no CPU retry
    except ToolError as error:
        if not _may_retry_on_cpu(plan, choices):
            raise
        # a hardware encoder that passed its test frame can still fail on a real
        # file (profile, size, driver): fallback_to_cpu means try the CPU
        inventory = replace(inventory, working_hardware=frozenset())
        choices = choose_encoders(plan, inventory)
        notes.append(f"hardware encode failed ({error.cause}); encoded on the CPU")
        seconds = _run_encode(plan, ffmpeg, inventory, temp, transcode, on_progress, path)
    fsync_file(temp)
    media = _checked_output(plan, tools, temp, ffmpeg, path)
    return EncodeWrite(
        media=media,
        encode_seconds=seconds,
        encoders=tuple(c.name for c in choices if c is not None),
        notes=tuple(notes),
    )


def check_smaller(path: Path, transcode: TranscodeSettings, original: int, written: int) -> None:
    """keep_if_larger: false and the encode is not smaller: the original stays."""
    if not transcode.keep_if_larger and written >= original:
        raise EncodeNotSmallerError(path, original, written)


def _may_retry_on_cpu(plan: Plan, choices: tuple[EncoderChoice | None, ...]) -> bool:
    """True when a hardware encoder ran for a track whose policy allows the CPU."""
    return any(
        choice is not None
        and choice.hardware is not Hardware.NONE
        and planned.encode is not None
        and planned.encode.video is not None
        and planned.encode.video.fallback_to_cpu
        for planned, choice in zip(plan.tracks, choices, strict=True)
    )


def _run_encode(
    plan: Plan,
    ffmpeg: str,
    inventory: EncoderInventory,
    temp: Path,
    transcode: TranscodeSettings,
    on_progress: ProgressCallback | None,
    path: Path,
) -> float:
    """One pass, or two when a video track asks for it; returns the seconds spent."""
    duration = plan.source.duration
    limits = StreamLimits(
        stall_seconds=transcode.stall_seconds,
        timeout=transcode.timeout_for(duration),
        niceness=transcode.niceness,
    )
    two_pass = any(
        t.encode is not None and t.encode.video is not None and t.encode.video.two_pass
        for t in plan.tracks
    )
    seconds = 0.0
    if not two_pass:
        argv = build_ffmpeg_argv(ffmpeg, plan, temp, inventory=inventory, progress=True)
        result = run_with_progress(
            argv, path=path, duration=duration, limits=limits, on_progress=on_progress
        )
        return result.seconds
    passlog = str(temp) + ".passlog"
    try:
        for number, share in ((1, (0.0, 0.5)), (2, (0.5, 1.0))):
            argv = build_ffmpeg_argv(
                ffmpeg,
                plan,
                temp,
                inventory=inventory,
                progress=True,
                pass_number=number,
                passlog=passlog,
            )
            result = run_with_progress(
                argv,
                path=path,
                duration=duration,
                limits=limits,
                on_progress=on_progress,
                share=share,
            )
            seconds += result.seconds
    finally:
        for leftover in temp.parent.glob(temp.name + ".passlog*"):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return seconds


def _checked_output(plan: Plan, tools: ToolPaths, temp: Path, ffmpeg: str, path: Path) -> MediaFile:
    """verify_result, then the encode-specific checks; errors name the original."""
    try:
        media = verify_result(temp, plan, tools, rewrite=True)
    except VerificationError as error:
        raise VerificationError(path, error.detail, track=error.track, field=error.field) from error
    problems = encode_mismatches(plan, media)
    if problems:
        raise VerificationError(path, f"verification failed: {problems[0]}")
    duration = media.duration or plan.source.duration or 0.0
    for start in decode_check_starts(duration):
        failure = decode_errors(ffmpeg, temp, start, path)
        if failure:
            where = "first" if start == 0 else "last"
            raise VerificationError(
                path, f"output does not decode cleanly ({where} second): {failure}"
            )
    return media


def encode_mismatches(plan: Plan, actual: MediaFile) -> list[str]:
    """Frame sizes and channel counts the plan asks for that the output lacks (pure)."""
    expected = plan.expected_result()
    problems: list[str] = []
    for position, (planned, want, got) in enumerate(
        zip(plan.tracks, expected.tracks, actual.tracks, strict=False)
    ):
        encode = planned.encode
        if encode is None:
            continue
        label = f"track {position} ({want.type.value})"
        scaled = encode.video is not None and encode.video.width is not None
        if (
            scaled
            and got.width is not None
            and (got.width, got.height) != (want.width, want.height)
        ):
            problems.append(
                f"{label}: frame is {got.width}x{got.height}, plan says {want.width}x{want.height}"
            )
        counted = want.type is TrackType.AUDIO and want.channels and got.channels is not None
        if counted and got.channels != want.channels:
            problems.append(f"{label}: {got.channels} channels, plan says {want.channels}")
    return problems


def decode_check_starts(duration: float) -> tuple[float, ...]:
    """Where the one-second decode checks start: 0 and one second before the end."""
    last = max(0.0, duration - DECODE_CHECK_SECONDS)
    return (0.0,) if last <= 0.0 else (0.0, round(last, 3))


def decode_check_argv(ffmpeg: str, output: Path, start: float) -> list[str]:
    return [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-ss",
        f"{start:.3f}",
        "-t",
        f"{DECODE_CHECK_SECONDS:g}",
        "-i",
        file_url(output),
        "-map",
        "0:v?",
        "-map",
        "0:a?",
        "-f",
        "null",
        "-",
    ]


def decode_errors(ffmpeg: str, output: Path, start: float, path: Path) -> str | None:
    """The last error line of decoding one second from ``start``; None when clean.

    ffmpeg exits 0 on many damaged streams, so any error output counts.
    """
    result = run_tool(
        decode_check_argv(ffmpeg, output, start),
        timeout=DECODE_CHECK_TIMEOUT,
        path=path,
        check=False,
    )
    lines = [line.strip() for line in result.stderr_text.splitlines() if line.strip()]
    if result.returncode != 0 or lines:
        return lines[-1] if lines else f"ffmpeg exit {result.returncode}"
    return None


def scratch_directory(path: Path, scratch: Path | None) -> Path:
    if scratch is None:
        return path.parent
    if not scratch.is_dir():
        raise PreflightError(path, f"[transcode] scratch_dir {scratch} is not a directory")
    return scratch


def _mb(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"
