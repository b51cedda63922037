"""Check a generated file against its spec, from the tools' own JSON.

Deliberately independent of vpo's probe code (which is what many tests test):
a small reading of ``mkvmerge -J`` / ffprobe JSON, compared field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vpo.media.language import normalize_language_lenient
from vpo.media.model import TrackFlags, TrackType
from vpo.testmedia.encoders import (
    AUDIO_CODECS,
    SUBTITLE_SOURCES,
    VIDEO_CODECS,
    WEBM_WEBVTT_ID,
)
from vpo.testmedia.sidecars import FONT_FILE_NAME
from vpo.testmedia.spec import MediaSpec, TrackLayout, expected_language


@dataclass(frozen=True, slots=True)
class SeenTrack:
    """What a tool reports about one track, reduced to what a spec states."""

    type: TrackType
    codec: str
    language: str
    language_ietf: str | None
    title: str | None
    flags: TrackFlags
    channels: int | None


@dataclass(frozen=True, slots=True)
class SeenFile:
    tracks: tuple[SeenTrack, ...]
    title: str | None
    chapters: int
    attachments: tuple[str, ...]
    duration: float | None


_MKVMERGE_TYPES = {
    "video": TrackType.VIDEO,
    "audio": TrackType.AUDIO,
    "subtitles": TrackType.SUBTITLE,
}
_FFPROBE_TYPES = {
    "video": TrackType.VIDEO,
    "audio": TrackType.AUDIO,
    "subtitle": TrackType.SUBTITLE,
}


def read_mkvmerge_json(data: Mapping[str, Any]) -> SeenFile:
    """Reduce ``mkvmerge -J`` output; codecs are Matroska CodecIDs."""
    tracks = []
    for track in data.get("tracks", []):
        props = track.get("properties", {})
        tracks.append(
            SeenTrack(
                type=_MKVMERGE_TYPES[track["type"]],
                codec=str(props.get("codec_id", "")),
                # An absent Language element means English in Matroska.
                language=normalize_language_lenient(props.get("language", "eng")),
                language_ietf=props.get("language_ietf"),
                title=props.get("track_name"),
                flags=TrackFlags(
                    default=bool(props.get("default_track", True)),
                    forced=bool(props.get("forced_track", False)),
                    hearing_impaired=bool(props.get("flag_hearing_impaired", False)),
                    visual_impaired=bool(props.get("flag_visual_impaired", False)),
                    commentary=bool(props.get("flag_commentary", False)),
                    original=bool(props.get("flag_original", False)),
                ),
                channels=props.get("audio_channels"),
            )
        )
    container = data.get("container", {}).get("properties", {})
    duration_ns = container.get("duration")
    return SeenFile(
        tracks=tuple(tracks),
        title=container.get("title") or None,
        chapters=sum(int(c.get("num_entries", 0)) for c in data.get("chapters", [])),
        attachments=tuple(str(a.get("file_name")) for a in data.get("attachments", [])),
        duration=duration_ns / 1e9 if duration_ns else None,
    )


def read_ffprobe_json(data: Mapping[str, Any]) -> SeenFile:
    """Reduce ffprobe JSON; codecs are ffmpeg codec names."""
    tracks = []
    for stream in data.get("streams", []):
        kind = _FFPROBE_TYPES.get(stream.get("codec_type", ""))
        if kind is None:
            continue  # data/attachment streams are not tracks
        tags = stream.get("tags", {})
        disposition = stream.get("disposition", {})
        tracks.append(
            SeenTrack(
                type=kind,
                codec=str(stream.get("codec_name", "")),
                language=normalize_language_lenient(tags.get("language")),
                language_ietf=None,
                title=tags.get("title"),
                flags=TrackFlags(
                    default=bool(disposition.get("default")),
                    forced=bool(disposition.get("forced")),
                    hearing_impaired=bool(disposition.get("hearing_impaired")),
                    visual_impaired=bool(disposition.get("visual_impaired")),
                    commentary=bool(disposition.get("comment")),
                    original=bool(disposition.get("original")),
                ),
                channels=stream.get("channels"),
            )
        )
    fmt = data.get("format", {})
    duration = fmt.get("duration")
    return SeenFile(
        tracks=tuple(tracks),
        title=fmt.get("tags", {}).get("title"),
        chapters=len(data.get("chapters", [])),
        attachments=(),
        duration=float(duration) if duration else None,
    )


def expected_codec(track: TrackLayout, container: str) -> str:
    """The codec name the checking tool reports for ``track`` in ``container``."""
    if container not in ("mkv", "webm"):
        return track.codec
    if track.type is TrackType.VIDEO:
        return VIDEO_CODECS[track.codec].matroska_id
    if track.type is TrackType.AUDIO:
        return AUDIO_CODECS[track.codec].matroska_id
    if container == "webm":
        return WEBM_WEBVTT_ID
    return SUBTITLE_SOURCES[track.codec][1]


def differences(spec: MediaSpec, seen: SeenFile) -> list[str]:
    """Every way ``seen`` departs from ``spec``; empty when the file is right."""
    problems: list[str] = []
    wanted = spec.tracks()
    if len(seen.tracks) != len(wanted):
        kinds = ", ".join(t.type.value for t in seen.tracks)
        return [f"expected {len(wanted)} tracks, found {len(seen.tracks)} ({kinds})"]
    for number, (want, got) in enumerate(zip(wanted, seen.tracks, strict=True)):
        problems += [f"track {number}: {issue}" for issue in _track_differences(spec, want, got)]
    if seen.title != spec.title:
        problems.append(f"title {seen.title!r}, expected {spec.title!r}")
    if seen.chapters != spec.chapters:
        problems.append(f"{seen.chapters} chapters, expected {spec.chapters}")
    if spec.container in ("mkv", "webm"):
        fonts = (FONT_FILE_NAME,) if spec.font_attachment else ()
        if seen.attachments != fonts:
            problems.append(f"attachments {seen.attachments}, expected {fonts}")
    if seen.duration is None or abs(seen.duration - spec.duration) > max(0.5, spec.duration / 10):
        problems.append(f"duration {seen.duration}, expected about {spec.duration}")
    return problems


def _track_differences(spec: MediaSpec, want: TrackLayout, got: SeenTrack) -> list[str]:
    problems: list[str] = []
    expected = {
        "type": want.type,
        "codec": expected_codec(want, spec.container),
        "language": expected_language(want.language, spec.container),
        "title": want.title,
        "flags": want.flags,
    }
    for field, value in expected.items():
        if getattr(got, field) != value:
            problems.append(f"{field} {getattr(got, field)!r}, expected {value!r}")
    if want.language_ietf is not None and got.language_ietf != want.language_ietf:
        problems.append(f"language_ietf {got.language_ietf!r}, expected {want.language_ietf!r}")
    if want.channels is not None and got.channels != want.channels:
        problems.append(f"channels {got.channels}, expected {want.channels}")
    return problems
