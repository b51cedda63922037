"""Pure conversions between MediaFile and the column tuples the database stores.

Kept apart from the SQL so the round trip (MediaFile → rows → MediaFile gives
the same object) is a plain property test, with no database involved. The one
exception is ``path_to_db``: every path is normalised on its way in
(vpo.library.paths), which resolves directory symlinks on disk.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from vpo.library.paths import db_key
from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType

# Column order of the ``tracks`` table after ``file_id`` (see schema.py).
TRACK_COLUMNS = (
    "position",
    "track_id",
    "type",
    "codec",
    "language",
    "language_ietf",
    "title",
    "flag_default",
    "flag_forced",
    "flag_hearing_impaired",
    "flag_visual_impaired",
    "flag_commentary",
    "flag_original",
    "channels",
    "channel_layout",
    "sample_rate",
    "width",
    "height",
    "frame_rate",
    "bit_rate",
    "uid",
)
ATTACHMENT_COLUMNS = ("position", "attachment_id", "file_name", "mime_type", "size", "description")
# Per-file media columns of the ``files`` table (besides path, stat key and bookkeeping).
MEDIA_COLUMNS = ("container", "format_name", "duration", "bit_rate", "title", "chapter_count")
# ``tags`` (schema 7): the container's global tags as a JSON object (tags_to_db); NULL
# (a row probed before version 7) is never a cache hit, so a cached file knows its tags.
CACHED_MEDIA_COLUMNS = (*MEDIA_COLUMNS, "tags")
TAGS_POSITION = CACHED_MEDIA_COLUMNS.index("tags")

# The per-file track summary on ``files`` (schema 6) that the file list filters on.
BROWSE_COLUMNS = (
    "video_codec",
    "video_height",
    "audio_languages",
    "subtitle_languages",
    "summary_exact",
)

TrackRow = tuple[object, ...]
AttachmentRow = tuple[object, ...]
MediaRow = tuple[object, ...]


def path_to_db(path: Path) -> bytes:
    """Paths are stored as their raw bytes (any name the filesystem allows round-trips),
    absolute and with directory symlinks resolved (vpo.library.paths.normalise)."""
    return db_key(path)


def path_from_db(value: bytes) -> Path:
    return Path(os.fsdecode(value))


def track_to_row(track: Track) -> TrackRow:
    flags = track.flags
    return (
        track.index,
        track.track_id,
        track.type.value,
        track.codec,
        track.language,
        track.language_ietf,
        track.title,
        int(flags.default),
        int(flags.forced),
        int(flags.hearing_impaired),
        int(flags.visual_impaired),
        int(flags.commentary),
        int(flags.original),
        track.channels,
        track.channel_layout,
        track.sample_rate,
        track.width,
        track.height,
        track.frame_rate,
        track.bit_rate,
        _uid_to_db(track.uid),
    )


def track_from_row(row: Sequence[object]) -> Track:
    (
        index,
        track_id,
        track_type,
        codec,
        language,
        language_ietf,
        title,
        default,
        forced,
        hearing_impaired,
        visual_impaired,
        commentary,
        original,
        channels,
        channel_layout,
        sample_rate,
        width,
        height,
        frame_rate,
        bit_rate,
        uid,
    ) = row
    return Track(
        index=_int(index),
        track_id=_int(track_id),
        type=TrackType(track_type),
        codec=str(codec),
        language=str(language),
        language_ietf=_opt_str(language_ietf),
        title=_opt_str(title),
        flags=TrackFlags(
            default=bool(default),
            forced=bool(forced),
            hearing_impaired=bool(hearing_impaired),
            visual_impaired=bool(visual_impaired),
            commentary=bool(commentary),
            original=bool(original),
        ),
        channels=_opt_int(channels),
        channel_layout=_opt_str(channel_layout),
        sample_rate=_opt_int(sample_rate),
        width=_opt_int(width),
        height=_opt_int(height),
        frame_rate=_opt_float(frame_rate),
        bit_rate=_opt_int(bit_rate),
        uid=_uid_from_db(uid),
    )


def attachment_to_row(position: int, attachment: Attachment) -> AttachmentRow:
    return (
        position,
        attachment.attachment_id,
        attachment.file_name,
        attachment.mime_type,
        attachment.size,
        attachment.description,
    )


def attachment_from_row(row: Sequence[object]) -> Attachment:
    _, attachment_id, file_name, mime_type, size, description = row
    return Attachment(
        attachment_id=_int(attachment_id),
        file_name=str(file_name),
        mime_type=_opt_str(mime_type),
        size=_opt_int(size),
        description=_opt_str(description),
    )


def media_to_row(media: MediaFile) -> MediaRow:
    return (
        media.container.value,
        media.format_name,
        media.duration,
        media.bit_rate,
        media.title,
        media.chapter_count,
    )


def tags_to_db(media: MediaFile) -> str:
    """The ``tags`` column: a JSON object of the container tags."""
    return json.dumps(dict(media.tags), ensure_ascii=False)


def browse_row(media: MediaFile) -> tuple[object, ...]:
    """The ``BROWSE_COLUMNS`` of a probed file, what migration 6 computes from its tracks.

    Languages are listed in track order between commas (",eng,jpn,eng,"), None
    without such a track. ``summary_exact`` is 0 when a filter cannot be answered
    from the summary: several video tracks, or a language holding a comma.
    """
    ordered = sorted(media.tracks, key=lambda track: track.index)
    video = [track for track in ordered if track.type is TrackType.VIDEO]
    audio = [track.language for track in ordered if track.type is TrackType.AUDIO]
    subtitles = [track.language for track in ordered if track.type is TrackType.SUBTITLE]
    exact = len(video) <= 1 and not any("," in language for language in (*audio, *subtitles))
    return (
        video[0].codec if video else None,
        video[0].height if video else None,
        _listed(audio),
        _listed(subtitles),
        int(exact),
    )


def _listed(values: Sequence[str]) -> str | None:
    return f",{','.join(values)}," if values else None


def media_from_rows(
    path: Path,
    size: int,
    mtime_ns: int,
    inode: int | None,
    device: int | None,
    media_row: Sequence[object],
    tracks: Sequence[Sequence[object]],
    attachments: Sequence[Sequence[object]],
) -> MediaFile:
    container, format_name, duration, bit_rate, title, chapter_count, *rest = media_row
    tags = rest[0] if rest else None  # MEDIA_COLUMNS only (no schema-7 column): none known
    return MediaFile(
        path=path,
        container=_container(container, format_name),
        size=size,
        mtime_ns=mtime_ns,
        tracks=tuple(track_from_row(row) for row in tracks),
        duration=_opt_float(duration),
        bit_rate=_opt_int(bit_rate),
        attachments=tuple(attachment_from_row(row) for row in attachments),
        chapter_count=_int(chapter_count),
        title=_opt_str(title),
        inode=inode,
        device=device,
        format_name=_opt_str(format_name),
        tags=_tags(tags),
    )


def _tags(value: object) -> tuple[tuple[str, str], ...]:
    """The stored tags (a JSON object); NULL or a damaged value: none known."""
    if not isinstance(value, str):
        return ()
    try:
        loaded = json.loads(value)
    except ValueError:
        return ()
    if not isinstance(loaded, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in loaded.items()))


# Recorded as "other" before MOV and Ogg were containers of their own.
_FORMERLY_OTHER = {"mov": Container.MOV, "ogg": Container.OGG}


def _container(value: object, format_name: object) -> Container:
    container = Container(value)
    if container is Container.OTHER and isinstance(format_name, str):
        return _FORMERLY_OTHER.get(format_name, container)
    return container


def track_summary(media: MediaFile) -> str:
    """A compact, human-readable line per file for reports: ``v:h264 a:aac/eng* s:subrip/fre!``.

    ``*`` marks a default track, ``!`` a forced one.
    """
    return " ".join(_track_token(track) for track in media.tracks)


def _track_token(track: Track) -> str:
    token = f"{track.type.value[0]}:{track.codec}"
    if track.type is not TrackType.VIDEO:
        token += f"/{track.language}"
    if track.flags.default:
        token += "*"
    if track.flags.forced:
        token += "!"
    return token


# SQLite integers are signed 64-bit; Matroska UIDs are unsigned 64-bit.
_UINT64_SHIFT = 1 << 64


def _uid_to_db(uid: int | None) -> int | None:
    if uid is None:
        return None
    return uid - _UINT64_SHIFT if uid >= 1 << 63 else uid


def _uid_from_db(value: object) -> int | None:
    if value is None:
        return None
    number = _int(value)
    return number + _UINT64_SHIFT if number < 0 else number


def _int(value: object) -> int:
    assert isinstance(value, int), value
    return value


def _opt_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _opt_float(value: object) -> float | None:
    if value is None:
        return None
    assert isinstance(value, (int, float)), value
    return float(value)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)
