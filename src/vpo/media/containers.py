"""What each container can store: one table, pure data and pure functions.

Every fact here was measured with ffmpeg 5.1 / ffprobe 5.1 (and mkvtoolnix for
Matroska) by writing a file with the field set and probing it back; a field is
"stored" only when it survives that round trip. Planning (vpo.policy),
verification (vpo.apply.verify) and the argv builders read this table, so a
plan never asks for what its container cannot hold and verification never
checks what the container drops. docs/containers.md prints the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from vpo.media.language import UNDETERMINED
from vpo.media.model import Container, TrackFlags, TrackType

FLAG_NAMES: tuple[str, ...] = TrackFlags.__slots__
_ALL_FLAGS = frozenset(FLAG_NAMES)
_ALL_TYPES = frozenset(TrackType)


@dataclass(frozen=True, slots=True)
class ContainerCapabilities:
    """What one container stores.

    ``flags``: the track flags it keeps. ``languages``/``titles``: the track
    types whose language / title it keeps. Codec sets are ffprobe codec names;
    ``None`` means any codec. ``exclusive_flags``: flags of which a track can
    carry only one (MPEG-TS has a single audio-type field). ``muxer_default``:
    the muxer marks the first track of a type default when none is.
    """

    name: str
    flags: frozenset[str]
    languages: frozenset[TrackType]
    titles: frozenset[TrackType]
    attachments: bool
    chapters: bool
    video_codecs: frozenset[str] | None
    audio_codecs: frozenset[str] | None
    subtitle_codecs: frozenset[str] | None
    exclusive_flags: tuple[str, ...] = ()
    muxer_default: bool = False
    tags: frozenset[str] | None = frozenset()
    """Container tags (``set_container_metadata``) other than ``title`` that ffmpeg
    or mkvtoolnix write and a probe reads back; None: any name."""

    def holds_tag(self, name: str) -> bool:
        """Can the container-level tag ``name`` (lower-case) be written here?"""
        return self.tags is None or name in self.tags

    def codecs(self, track_type: TrackType) -> frozenset[str] | None:
        """The codecs a track of ``track_type`` may have here (None: any)."""
        if track_type is TrackType.VIDEO:
            return self.video_codecs
        if track_type is TrackType.AUDIO:
            return self.audio_codecs
        return self.subtitle_codecs

    def holds(self, track_type: TrackType, codec: str) -> bool:
        """Can a ``track_type`` track in ``codec`` be stored (copied) here?"""
        allowed = self.codecs(track_type)
        if allowed is None:
            return True
        return codec in allowed or (
            track_type is TrackType.AUDIO and _is_pcm(codec) and _PCM in allowed
        )


_PCM = "pcm_*"  # any pcm_ codec


def _is_pcm(codec: str) -> bool:
    return codec.startswith("pcm_")


_MATROSKA = ContainerCapabilities(
    name="Matroska",
    flags=_ALL_FLAGS,
    languages=_ALL_TYPES,
    titles=_ALL_TYPES,
    attachments=True,
    chapters=True,
    video_codecs=None,
    audio_codecs=None,
    subtitle_codecs=None,
    tags=None,
)
_MP4_VIDEO = frozenset({"h264", "hevc", "av1", "vp9", "mpeg4", "mpeg2video", "mjpeg"})
_MP4_AUDIO = frozenset({"aac", "ac3", "eac3", "mp3", "mp2", "opus", "flac", "alac"})
# Container tags ffmpeg 5.1 writes and reads back (``-metadata NAME=value``). Not
# ``encoder``: the MP4/MOV muxer writes its own; AVI stores album as "product".
# MPEG-TS and Ogg keep no container-level tags (Ogg's comments are per stream).
_MOV_TAGS = frozenset({"album", "artist", "comment", "copyright", "date", "genre"})
_MP4_TAGS = _MOV_TAGS | {"composer", "description", "show", "synopsis"}
_AVI_TAGS = frozenset({"artist", "comment", "copyright", "date", "genre", "language"})
_TS_AUDIO = frozenset({"aac", "ac3", "eac3", "mp2", "mp3", "dts", "truehd", "opus", _PCM})

CAPABILITIES: dict[Container, ContainerCapabilities] = {
    Container.MATROSKA: _MATROSKA,
    Container.WEBM: ContainerCapabilities(
        name="WebM",
        flags=_ALL_FLAGS,
        languages=_ALL_TYPES,
        titles=_ALL_TYPES,
        attachments=False,
        chapters=True,
        video_codecs=frozenset({"vp8", "vp9", "av1"}),
        audio_codecs=frozenset({"opus", "vorbis"}),
        subtitle_codecs=frozenset({"webvtt"}),
        tags=None,
    ),
    # ffmpeg's mp4 muxer: "original" is lost; a title is stored as the handler name.
    Container.MP4: ContainerCapabilities(
        name="MP4",
        flags=_ALL_FLAGS - {"original"},
        languages=_ALL_TYPES,
        titles=_ALL_TYPES,
        attachments=False,
        chapters=True,
        video_codecs=_MP4_VIDEO,
        audio_codecs=_MP4_AUDIO,
        subtitle_codecs=frozenset({"mov_text"}),
        muxer_default=True,
        tags=_MP4_TAGS,
    ),
    # ffmpeg's mov muxer keeps only the default (track enabled) flag.
    Container.MOV: ContainerCapabilities(
        name="MOV",
        flags=frozenset({"default"}),
        languages=_ALL_TYPES,
        titles=_ALL_TYPES,
        attachments=False,
        chapters=True,
        video_codecs=_MP4_VIDEO | {"prores"},
        audio_codecs=_MP4_AUDIO | {_PCM},
        subtitle_codecs=frozenset({"mov_text"}),
        muxer_default=True,
        tags=_MOV_TAGS,
    ),
    # AVI keeps a stream name (strn) and nothing else per track.
    Container.AVI: ContainerCapabilities(
        name="AVI",
        flags=frozenset(),
        languages=frozenset(),
        titles=_ALL_TYPES,
        attachments=False,
        chapters=False,
        video_codecs=frozenset({"mpeg4", "h264", "msmpeg4v3", "mjpeg", "mpeg2video"}),
        audio_codecs=frozenset({"mp3", "mp2", "ac3", "dts", "aac", _PCM}),
        subtitle_codecs=frozenset(),
        tags=_AVI_TAGS,
    ),
    # MPEG-TS (and M2TS): an ISO 639 descriptor per audio/subtitle stream, whose
    # audio type says hearing impaired or visual impaired (one of them).
    Container.MPEGTS: ContainerCapabilities(
        name="MPEG-TS",
        flags=frozenset({"hearing_impaired", "visual_impaired"}),
        languages=frozenset({TrackType.AUDIO, TrackType.SUBTITLE}),
        titles=frozenset(),
        attachments=False,
        chapters=False,
        video_codecs=frozenset({"h264", "hevc", "mpeg2video", "mpeg4", "av1"}),
        audio_codecs=_TS_AUDIO,
        subtitle_codecs=frozenset({"dvb_subtitle"}),
        exclusive_flags=("hearing_impaired", "visual_impaired"),
    ),
    # Ogg: Vorbis comments carry language and title; no flags, no subtitles.
    Container.OGG: ContainerCapabilities(
        name="Ogg",
        flags=frozenset(),
        languages=_ALL_TYPES,
        titles=_ALL_TYPES,
        attachments=False,
        chapters=False,
        video_codecs=frozenset({"theora", "vp8"}),
        audio_codecs=frozenset({"vorbis", "opus", "flac", "speex"}),
        subtitle_codecs=frozenset(),
    ),
}
# Formats vpo does not write (ASF, FLV, 3GP …): plans leave such files as they are.
UNKNOWN = ContainerCapabilities(
    name="other",
    flags=frozenset(),
    languages=frozenset(),
    titles=frozenset(),
    attachments=False,
    chapters=False,
    video_codecs=frozenset(),
    audio_codecs=frozenset(),
    subtitle_codecs=frozenset(),
)


def capabilities(container: Container) -> ContainerCapabilities:
    """The row of the table for ``container`` (``UNKNOWN`` for anything else)."""
    return CAPABILITIES.get(container, UNKNOWN)


def stored_flags(container: Container, flags: TrackFlags) -> TrackFlags:
    """The flags a probe of a file written in ``container`` shows for ``flags``.

    Flags the container cannot hold read back as off; of exclusive flags only
    the first set one survives.
    """
    caps = capabilities(container)
    kept = {name: bool(getattr(flags, name)) and name in caps.flags for name in FLAG_NAMES}
    seen = False
    for name in caps.exclusive_flags:
        if kept[name] and seen:
            kept[name] = False
        seen = seen or kept[name]
    return TrackFlags(**kept)


def stored_language(container: Container, track_type: TrackType, language: str) -> str:
    """The language a probe reads back (``und`` where the container keeps none)."""
    if track_type in capabilities(container).languages:
        return language
    return UNDETERMINED


def stored_title(container: Container, track_type: TrackType, title: str | None) -> str | None:
    """The title a probe reads back (None where the container keeps none)."""
    if track_type in capabilities(container).titles:
        return title or None
    return None
