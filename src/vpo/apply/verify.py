"""Verification: the written file must be what the plan says before it replaces anything.

A truncated Matroska file passes mkvmerge -J and ffprobe with exit 0 and the full
duration, so the Segment size is checked against the file size first. Then a fresh
probe (in-process EBML header reader for Matroska, no process spawn) is compared
with ``plan.expected_result()``, limited to what the container can carry
(vpo.media.containers).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from vpo.apply.errors import VerificationError
from vpo.media.containers import ContainerCapabilities, capabilities
from vpo.media.model import Container, MediaFile, Track, TrackType
from vpo.plan import Plan
from vpo.probe.errors import ProbeError
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.probe.matroska_layout import read_segment_layout
from vpo.probe.probe import probe_file
from vpo.tools.locate import ToolPaths


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One difference between the plan and the output."""

    track: int | None  # output position, None for file-level differences
    field: str
    expected: object
    actual: object
    message: str


def duration_tolerance(source_seconds: float) -> float:
    """max(1 s, 0.5 %) of the source duration."""
    return max(1.0, 0.005 * source_seconds)


def container_expectation(expected: MediaFile) -> MediaFile:
    """What a perfect output looks like *in this container*.

    ffmpeg's mp4/mov muxers mark the first track of a type default when none is
    (measured with ffmpeg 5.1), so for MP4 and MOV that is what the output must show.
    """
    if not capabilities(expected.container).muxer_default:
        return expected
    tracks = list(expected.tracks)
    for track_type in TrackType:
        of_type = [i for i, t in enumerate(tracks) if t.type is track_type]
        if of_type and not any(tracks[i].flags.default for i in of_type):
            tracks[of_type[0]] = tracks[of_type[0]].with_flags(default=True)
    return replace(expected, tracks=tuple(tracks))


def compare_media(
    expected: MediaFile, actual: MediaFile, *, source_duration: float | None
) -> list[Mismatch]:
    """Every difference that matters; empty when the output matches the plan.

    ``source_duration`` is given for rewrites, where the duration must survive.
    """
    expected = container_expectation(expected)
    caps = capabilities(expected.container)
    mismatches: list[Mismatch] = []
    if actual.container is not expected.container:
        mismatches.append(
            Mismatch(
                None,
                "container",
                expected.container.value,
                actual.container.value,
                f"container is {actual.container.value}, plan says {expected.container.value}",
            )
        )
    want_types = [t.type for t in expected.tracks]
    got_types = [t.type for t in actual.tracks]
    if want_types != got_types:
        mismatches.append(
            Mismatch(
                None,
                "tracks",
                _type_list(expected.tracks),
                _type_list(actual.tracks),
                f"tracks are [{_type_list(actual.tracks)}], "
                f"plan says [{_type_list(expected.tracks)}]",
            )
        )
        return mismatches
    for position, (want, got) in enumerate(zip(expected.tracks, actual.tracks, strict=True)):
        mismatches += _compare_track(position, want, got, caps)
    if source_duration and actual.duration is not None:
        tolerance = duration_tolerance(source_duration)
        if abs(actual.duration - source_duration) > tolerance:
            mismatches.append(
                Mismatch(
                    None,
                    "duration",
                    source_duration,
                    actual.duration,
                    f"duration is {actual.duration:.2f} s, source has {source_duration:.2f} s "
                    f"(tolerance {tolerance:.2f} s)",
                )
            )
    return mismatches


def _compare_track(
    position: int, want: Track, got: Track, caps: ContainerCapabilities
) -> list[Mismatch]:
    label = f"track {position} ({want.type.value})"
    found: list[Mismatch] = []

    def differ(field: str, expected: object, actual: object) -> None:
        if expected != actual:
            found.append(
                Mismatch(
                    position,
                    field,
                    expected,
                    actual,
                    f"{label}: {field} is {actual!r}, plan says {expected!r}",
                )
            )

    differ("codec", want.codec, got.codec)
    if want.type in caps.languages:
        differ("language", want.language, got.language)
    if want.type in caps.titles:
        differ("title", _text(want.title), _text(got.title))
    for flag in sorted(caps.flags):
        differ(flag, getattr(want.flags, flag), getattr(got.flags, flag))
    return found


def _text(value: str | None) -> str | None:
    """Titles compare as the probes report them: surrounding whitespace stripped."""
    return (value or "").strip() or None


def _type_list(tracks: tuple[Track, ...]) -> str:
    return ", ".join(t.type.value for t in tracks)


def check_segment_size(path: Path) -> None:
    """A Matroska output whose Segment is cut short is rejected before anything else."""
    try:
        layout = read_segment_layout(path, allow_truncated=True)
    except ProbeError as error:
        raise VerificationError(
            path, f"output is not valid Matroska: {error.detail or error}"
        ) from error
    if layout.is_truncated:
        declared_end = layout.data_offset + (layout.declared_size or 0)
        raise VerificationError(
            path,
            f"output is truncated: Segment ends at byte {declared_end}, "
            f"file has {layout.file_size} bytes",
        )


def probe_output(path: Path, container: Container, tools: ToolPaths) -> MediaFile:
    """A fresh probe: in-process for Matroska (no spawn), ffprobe for the rest."""
    try:
        if container in (Container.MATROSKA, Container.WEBM):
            return probe_matroska_headers(path)
        return probe_file(path, tools)
    except ProbeError as error:
        raise VerificationError(
            path, f"output cannot be probed: {error.detail or error}"
        ) from error


def verify_result(
    path: Path, plan: Plan, tools: ToolPaths, *, rewrite: bool | None = None
) -> MediaFile:
    """Check ``path`` against ``plan``; returns the fresh MediaFile or raises
    VerificationError naming the first differing track and field."""
    if plan.container in (Container.MATROSKA, Container.WEBM):
        check_segment_size(path)
    actual = probe_output(path, plan.container, tools)
    is_rewrite = plan.needs_rewrite if rewrite is None else rewrite
    mismatches = compare_media(
        plan.expected_result(),
        actual,
        source_duration=plan.source.duration if is_rewrite else None,
    )
    title = plan.title_change()
    if title is not None and _text(actual.title) != _text(title[1]):
        # set_container_metadata: checked only when the plan sets it (tools differ in
        # whether a remux keeps a title nobody asked to change)
        mismatches.append(
            Mismatch(
                None,
                "title",
                title[1],
                actual.title,
                f"container title is {actual.title!r}, plan says {title[1]!r}",
            )
        )
    for name, _before, after in plan.tag_changes():
        found = actual.tag(name)
        if _text(found) != _text(after):  # set_container_metadata, like the title
            mismatches.append(
                Mismatch(
                    None,
                    name,
                    after,
                    found,
                    f"container tag '{name}' is {found!r}, plan says {after!r}",
                )
            )
    if mismatches:
        first = mismatches[0]
        more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        raise VerificationError(
            path,
            f"verification failed: {first.message}{more}",
            track=first.track,
            field=first.field,
        )
    return actual
