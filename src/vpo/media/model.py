"""Immutable description of a media file and its tracks.

Probing produces these objects; policies, plans and reports only read them.
Everything a policy can ask about a file lives here, so evaluation needs no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path


class TrackType(str, enum.Enum):
    """The kind of elementary stream a track carries."""

    VIDEO = "video"
    AUDIO = "audio"
    SUBTITLE = "subtitle"


class Container(str, enum.Enum):
    """Container formats vpo recognises (``OTHER`` for anything ffprobe names differently)."""

    MATROSKA = "mkv"
    WEBM = "webm"
    MP4 = "mp4"
    AVI = "avi"
    MPEGTS = "ts"  # also M2TS (same format, 192-byte packets)
    MOV = "mov"  # QuickTime
    OGG = "ogg"
    OTHER = "other"

    @property
    def is_matroska_family(self) -> bool:
        """Matroska and WebM share EBML, mkvmerge and mkvpropedit."""
        return self in (Container.MATROSKA, Container.WEBM)


@dataclass(frozen=True, slots=True)
class TrackFlags:
    """Disposition flags; the Matroska names, which ffprobe's dispositions map onto."""

    default: bool = False
    forced: bool = False
    hearing_impaired: bool = False
    visual_impaired: bool = False
    commentary: bool = False
    original: bool = False


@dataclass(frozen=True, slots=True)
class Track:
    """One elementary stream of a file.

    ``index`` is the position among all tracks (ffprobe's stream index, mkvmerge's
    track order); ``track_id`` is the id mkvmerge and mkvpropedit act on (for
    non-Matroska files it equals the ffprobe stream index).
    """

    index: int
    track_id: int
    type: TrackType
    codec: str
    language: str = "und"
    language_ietf: str | None = None
    title: str | None = None
    flags: TrackFlags = field(default_factory=TrackFlags)
    channels: int | None = None
    channel_layout: str | None = None
    sample_rate: int | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bit_rate: int | None = None
    uid: int | None = None

    @property
    def is_default(self) -> bool:
        return self.flags.default

    @property
    def is_forced(self) -> bool:
        return self.flags.forced

    def with_flags(self, **changes: bool) -> Track:
        """Return a copy with some flags changed (used by plan simulation and tests)."""
        return replace(self, flags=replace(self.flags, **changes))


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file embedded in a Matroska container (usually a font for styled subtitles)."""

    attachment_id: int
    file_name: str
    mime_type: str | None = None
    size: int | None = None
    description: str | None = None


def container_tags(
    pairs: Iterable[tuple[str, str | None]], title: str | None = None
) -> tuple[tuple[str, str], ...]:
    """Normalise a container's tags for ``MediaFile.tags``: keys stripped and
    lower-cased, empty names and values dropped, the first of duplicate keys kept,
    sorted by key. ``title`` (the Matroska segment title) wins over a ``title`` tag."""
    found: dict[str, str] = {}
    if title:
        found["title"] = title
    for name, value in pairs:
        key = name.strip().lower()
        if key and value is not None and value.strip() and key not in found:
            found[key] = value.strip()
    return tuple(sorted(found.items()))


@dataclass(frozen=True, slots=True)
class MediaFile:
    """Everything vpo knows about one file after a probe."""

    path: Path
    container: Container
    size: int
    mtime_ns: int
    tracks: tuple[Track, ...]
    duration: float | None = None
    bit_rate: int | None = None
    attachments: tuple[Attachment, ...] = ()
    chapter_count: int = 0
    title: str | None = None
    inode: int | None = None
    device: int | None = None
    format_name: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    """The container's global tags, sorted by key: keys lower-cased, values strings
    (``title`` included when the file has one). See ``container_tags``."""

    def tag(self, name: str) -> str | None:
        """One container tag by (case-insensitive) name; None when absent."""
        wanted = name.lower()
        return next((value for key, value in self.tags if key == wanted), None)

    def tracks_of(self, track_type: TrackType) -> tuple[Track, ...]:
        """Tracks of one type, in file order."""
        return tuple(t for t in self.tracks if t.type is track_type)

    @property
    def video_tracks(self) -> tuple[Track, ...]:
        return self.tracks_of(TrackType.VIDEO)

    @property
    def audio_tracks(self) -> tuple[Track, ...]:
        return self.tracks_of(TrackType.AUDIO)

    @property
    def subtitle_tracks(self) -> tuple[Track, ...]:
        return self.tracks_of(TrackType.SUBTITLE)
