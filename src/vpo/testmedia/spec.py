"""What a generated test file must contain, as frozen (hashable) data.

A spec is both the recipe and the expectation: the factory builds the file from
it and then checks the result against it, so a test can trust that a track with
``default=False`` really has FlagDefault 0. Specs a container cannot represent
exactly are rejected here, at construction, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from vpo.media.language import UNDETERMINED, is_known_language, normalize_language
from vpo.media.model import Container, TrackFlags, TrackType
from vpo.testmedia.encoders import (
    AUDIO_CODECS,
    CONTAINER_AUDIO,
    CONTAINER_SUBTITLES,
    CONTAINER_VIDEO,
    VIDEO_CODECS,
)

CONTAINERS = ("mkv", "mp4", "webm", "avi", "ts", "mov", "ogg")
FLAG_NAMES = ("default", "forced", "hearing_impaired", "visual_impaired", "commentary", "original")

# Flags each container can carry through ffmpeg/mkvtoolnix (a track flag the
# container cannot store would silently vanish, so such a spec is an error).
_CONTAINER_FLAGS: dict[str, frozenset[str]] = {
    "mkv": frozenset(FLAG_NAMES),
    "webm": frozenset(FLAG_NAMES),
    "mp4": frozenset({"default", "forced", "hearing_impaired", "visual_impaired", "commentary"}),
    "avi": frozenset(),
    "ts": frozenset({"hearing_impaired", "visual_impaired"}),
    "mov": frozenset({"default"}),
    "ogg": frozenset(),
}
# Containers that keep no track flag on video (so ``video_default`` is ignored).
_NO_VIDEO_FLAGS = ("avi", "ts", "ogg")
# Containers whose muxer marks the first track of a type default when none is.
_MUXER_DEFAULT = ("mp4", "mov")


def _flags_of(track: AudioSpec | SubtitleSpec) -> TrackFlags:
    return TrackFlags(**{name: bool(getattr(track, name)) for name in FLAG_NAMES})


def _check_language(language: str | None, language_ietf: str | None) -> None:
    if language is not None and not is_known_language(language):
        raise ValueError(f"unknown language code {language!r}")
    if language_ietf is None:
        return
    if language is None or not is_known_language(language_ietf):
        raise ValueError(f"language_ietf {language_ietf!r} needs a matching language")
    if normalize_language(language_ietf) != normalize_language(language):
        raise ValueError(f"language_ietf {language_ietf!r} does not match language {language!r}")


@dataclass(frozen=True, slots=True)
class AudioSpec:
    """One audio track. ``language=None`` means the file stores no language at all."""

    codec: str = "aac"
    language: str | None = "eng"
    title: str | None = None
    default: bool = False
    forced: bool = False
    commentary: bool = False
    channels: int = 2
    hearing_impaired: bool = False
    visual_impaired: bool = False
    original: bool = False
    language_ietf: str | None = None

    def __post_init__(self) -> None:
        if self.codec not in AUDIO_CODECS:
            raise ValueError(
                f"audio codec {self.codec!r} not supported; use one of "
                f"{', '.join(sorted(AUDIO_CODECS))}"
            )
        allowed = AUDIO_CODECS[self.codec].channels
        if self.channels not in allowed:
            raise ValueError(
                f"audio codec {self.codec!r} supports {allowed} channels, not {self.channels}"
            )
        _check_language(self.language, self.language_ietf)

    @property
    def flags(self) -> TrackFlags:
        return _flags_of(self)


@dataclass(frozen=True, slots=True)
class SubtitleSpec:
    """One text subtitle track (two short cues). ``language=None``: none stored.

    Codecs by container: mkv subrip/ass/webvtt (mkvmerge's S_TEXT/WEBVTT, which
    ffprobe 5.1 reports as codec "unknown"), webm webvtt, mp4 mov_text.
    """

    codec: str = "subrip"
    language: str | None = "eng"
    title: str | None = None
    default: bool = False
    forced: bool = False
    hearing_impaired: bool = False
    visual_impaired: bool = False
    commentary: bool = False
    original: bool = False
    language_ietf: str | None = None

    def __post_init__(self) -> None:
        known = sorted({c for codecs in CONTAINER_SUBTITLES.values() for c in codecs})
        if self.codec not in known:
            raise ValueError(
                f"subtitle codec {self.codec!r} not supported; use one of {', '.join(known)}"
            )
        _check_language(self.language, self.language_ietf)

    @property
    def flags(self) -> TrackFlags:
        return _flags_of(self)


TrackSpec = AudioSpec | SubtitleSpec


@dataclass(frozen=True, slots=True)
class TrackLayout:
    """One track as the generated file stores it (``language=None``: not stored)."""

    type: TrackType
    codec: str
    language: str | None
    language_ietf: str | None
    title: str | None
    flags: TrackFlags
    channels: int | None = None


@dataclass(frozen=True, slots=True)
class MediaSpec:
    """A whole file: one video track, then the audio tracks, then the subtitles.

    ``video_default`` is ignored for AVI, which has no track flags at all.
    """

    container: str = "mkv"
    video_codec: str = "h264"
    width: int = 64
    height: int = 48
    duration: float = 2.0
    audio: tuple[AudioSpec, ...] = (AudioSpec(),)
    subtitles: tuple[SubtitleSpec, ...] = ()
    font_attachment: bool = False
    chapters: int = 0
    title: str | None = None
    video_language: str | None = UNDETERMINED
    video_default: bool = True

    def __post_init__(self) -> None:
        for problem in _problems(self):
            raise ValueError(f"MediaSpec({self.container}): {problem}")

    @property
    def container_kind(self) -> Container:
        return {
            "mkv": Container.MATROSKA,
            "webm": Container.WEBM,
            "mp4": Container.MP4,
            "avi": Container.AVI,
            "ts": Container.MPEGTS,
            "mov": Container.MOV,
            "ogg": Container.OGG,
        }[self.container]

    @property
    def suffix(self) -> str:
        return f".{self.container}"

    def tracks(self) -> tuple[TrackLayout, ...]:
        """The file's tracks in order: video, audio, subtitles (AVI, MPEG-TS and Ogg
        keep no video flags)."""
        no_flags = self.container in _NO_VIDEO_FLAGS
        video = TrackLayout(
            TrackType.VIDEO,
            self.video_codec,
            self.video_language,
            None,
            None,
            TrackFlags(default=self.video_default and not no_flags),
        )
        audio = tuple(
            TrackLayout(
                TrackType.AUDIO, a.codec, a.language, a.language_ietf, a.title, a.flags, a.channels
            )
            for a in self.audio
        )
        subtitles = tuple(
            TrackLayout(TrackType.SUBTITLE, s.codec, s.language, s.language_ietf, s.title, s.flags)
            for s in self.subtitles
        )
        return (video, *audio, *subtitles)


def expected_language(language: str | None, container: str) -> str:
    """The ISO 639-2/B code a probe reports for a track whose spec says ``language``.

    No stored language reads as ``eng`` in Matroska (the element's default value)
    and as ``und`` everywhere else.
    """
    if language is None:
        return "eng" if container in ("mkv", "webm") else UNDETERMINED
    return normalize_language(language)


def _problems(spec: MediaSpec) -> list[str]:
    """Everything about ``spec`` its container cannot represent exactly."""
    if spec.container not in CONTAINERS:
        return [f"unknown container; use one of {', '.join(CONTAINERS)}"]
    problems: list[str] = []
    if spec.video_codec not in VIDEO_CODECS:
        problems.append(f"unknown video codec {spec.video_codec!r}")
    elif spec.video_codec not in CONTAINER_VIDEO[spec.container]:
        problems.append(
            f"video codec {spec.video_codec!r} not allowed; use one of "
            f"{', '.join(CONTAINER_VIDEO[spec.container])}"
        )
    if not (16 <= spec.width <= 1920 and 16 <= spec.height <= 1080):
        problems.append("width and height must be within 16..1920 x 16..1080")
    if spec.width % 2 or spec.height % 2:
        problems.append("width and height must be even (yuv420p)")
    if not 0.5 <= spec.duration <= 600:
        problems.append("duration must be within 0.5..600 seconds")
    if spec.chapters < 0 or spec.chapters > 99:
        problems.append("chapters must be within 0..99")
    if spec.chapters and spec.container in ("avi", "ts", "ogg"):
        problems.append(f"{spec.container} cannot carry chapters")
    if spec.title is not None and spec.container in ("ts", "ogg"):
        problems.append(f"{spec.container} keeps no file title")
    if spec.font_attachment and spec.container != "mkv":
        problems.append("only Matroska (mkv) carries font attachments")
    if spec.video_language is not None and not is_known_language(spec.video_language):
        problems.append(f"unknown video language {spec.video_language!r}")
    for index, audio in enumerate(spec.audio):
        if audio.codec not in CONTAINER_AUDIO[spec.container]:
            problems.append(
                f"audio {index}: codec {audio.codec!r} not allowed; use one of "
                f"{', '.join(CONTAINER_AUDIO[spec.container])}"
            )
    for index, subtitle in enumerate(spec.subtitles):
        if subtitle.codec not in CONTAINER_SUBTITLES[spec.container]:
            allowed = ", ".join(CONTAINER_SUBTITLES[spec.container]) or "none"
            problems.append(
                f"subtitle {index}: codec {subtitle.codec!r} not allowed; allowed: {allowed}"
            )
    problems.extend(_track_metadata_problems(spec))
    return problems


def _track_metadata_problems(spec: MediaSpec) -> list[str]:
    problems: list[str] = []
    tracks: list[tuple[str, TrackSpec]] = [
        *((f"audio {i}", a) for i, a in enumerate(spec.audio)),
        *((f"subtitle {i}", s) for i, s in enumerate(spec.subtitles)),
    ]
    carried = _CONTAINER_FLAGS[spec.container]
    for label, track in tracks:
        lost = [name for name in FLAG_NAMES if getattr(track, name) and name not in carried]
        if lost:
            problems.append(f"{label}: {spec.container} cannot carry flag(s) {', '.join(lost)}")
        if spec.container not in ("mkv", "webm") and track.language_ietf is not None:
            problems.append(f"{label}: only Matroska stores IETF language tags")
        if spec.container in ("mp4", "mov") and track.title is not None:
            problems.append(f"{label}: ffmpeg does not write MP4 track titles")
        if spec.container == "ts" and track.title is not None:
            problems.append(f"{label}: MPEG-TS stores no track titles")
        if spec.container == "ts" and track.hearing_impaired and track.visual_impaired:
            problems.append(f"{label}: MPEG-TS stores hearing or visual impaired, not both")
        if spec.container == "avi" and track.language is not None:
            problems.append(f"{label}: AVI stores no track language; use language=None")
    if spec.container in _MUXER_DEFAULT:
        # ffmpeg's MP4 muxer enables (marks default) the first track of a type
        # when none is default, so "none default" cannot be written.
        if not spec.video_default:
            problems.append("MP4 video is always default")
        for kind, group in (("audio", spec.audio), ("subtitle", spec.subtitles)):
            if group and not any(t.default for t in group):
                problems.append(
                    f"ffmpeg marks the first {kind} track default when none is; "
                    f"set default=True on one"
                )
    if spec.container in ("avi", "ts") and spec.video_language not in (None, UNDETERMINED):
        problems.append(f"{spec.container} stores no video track language")
    return problems
