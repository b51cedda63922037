"""ffprobe JSON (``-show_format -show_streams -show_chapters``) → MediaFile (pure).

Used for every container except Matroska. Track ids are ffprobe stream
indexes, which is what ``ffmpeg -map 0:N`` acts on. Attachments (Matroska
attachment streams, MP4 cover art) are not tracks; their ``attachment_id`` is
the stream index so a remux can still map them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vpo.media.language import COMMON_ALPHA2, normalize_language_lenient
from vpo.media.model import (
    Attachment,
    Container,
    MediaFile,
    Track,
    TrackFlags,
    TrackType,
    container_tags,
)
from vpo.probe.codecs import UNKNOWN_CODEC
from vpo.probe.errors import NotMediaError
from vpo.probe.mkvmerge_json import FRAME_RATE_DECIMALS

_TRACK_TYPES: Mapping[str, TrackType] = {
    "video": TrackType.VIDEO,
    "audio": TrackType.AUDIO,
    "subtitle": TrackType.SUBTITLE,
}

# ffmpeg's MP4/MOV muxer stores a track title only as the handler name; the
# names muxers write when there is no title are not titles.
_GENERIC_HANDLER = re.compile(
    r"handler|core media|media file produced|^(mp4|iso|gpac|l-smash|bento4)\b|^\s*$",
    re.IGNORECASE,
)


def frame_rate_from_ratio(text: object) -> float | None:
    """``"24000/1001"`` → 23.976; ``"0/0"`` and garbage → None."""
    numerator, _, denominator = str(text or "").partition("/")
    try:
        num = float(numerator)
        den = float(denominator) if denominator else 1.0
    except ValueError:
        return None
    if not (math.isfinite(num) and math.isfinite(den)) or num <= 0 or den <= 0:
        return None
    return round(num / den, FRAME_RATE_DECIMALS) or None


def container_from_format(
    format_name: str, major_brand: str | None, path: Path, doctype: str | None = None
) -> tuple[Container, str]:
    """The Container and a short format name from ffprobe's ``format_name`` list.

    ffprobe names demuxers, not files: ``mov,mp4,m4a,3gp,3g2,mj2`` is any
    QuickTime-family file, so the ``ftyp`` major brand (or, without one, the
    suffix) tells MP4 from MOV/3GP; ``matroska,webm`` needs the EBML DocType.
    """
    names = set(format_name.split(","))
    if "matroska" in names:
        is_webm = doctype == "webm" if doctype else path.suffix.lower() == ".webm"
        return (Container.WEBM, "webm") if is_webm else (Container.MATROSKA, "mkv")
    if "mov" in names:
        brand = (major_brand or "").strip().lower()
        if brand.startswith("qt") or (not brand and path.suffix.lower() in (".mov", ".qt")):
            return Container.MOV, "mov"
        if brand.startswith("3g"):
            return Container.OTHER, "3gp"
        return Container.MP4, "mp4"
    if "avi" in names:
        return Container.AVI, "avi"
    if "mpegts" in names:
        return Container.MPEGTS, "mpegts"
    if "ogg" in names:
        return Container.OGG, "ogg"
    return Container.OTHER, format_name


def ietf_tag(language: str | None) -> str | None:
    """The tag itself when it is a BCP 47 tag rather than an ISO 639-2 code.

    ``en``, ``fr-CA`` and ``zh-Hant-TW`` are kept; ``eng``/``fre``/``und`` are
    the legacy three-letter form and give None.
    """
    if not language:
        return None
    text = language.strip()
    primary = text.split("-", 1)[0]
    if "-" not in text and len(primary) != 2:
        return None
    if text in COMMON_ALPHA2:
        return text  # a common ISO 639-1 code: valid without loading langcodes
    import langcodes  # only for an IETF tag: its registry is slow to load at start-up

    try:
        valid = bool(langcodes.Language.get(text).is_valid())
    except (LookupError, ValueError):
        return None
    return text if valid else None


def parse_ffprobe_json(
    data: Mapping[str, Any],
    *,
    path: Path,
    size: int,
    mtime_ns: int,
    inode: int | None,
    device: int | None,
    doctype: str | None = None,
) -> MediaFile:
    """Build the MediaFile for ``path`` from ffprobe's JSON.

    Raises NotMediaError when ffprobe found no container format at all.
    """
    fmt = _mapping(data.get("format"))
    format_name = _text(fmt.get("format_name"))
    if format_name is None:
        raise NotMediaError(path, "ffprobe found no container format")
    format_tags = _tags(fmt)
    container, short_name = container_from_format(
        format_name, format_tags.get("major_brand"), path, doctype
    )
    is_mov_family = "mov" in format_name.split(",")
    tracks: list[Track] = []
    attachments: list[Attachment] = []
    for stream in _mappings(data.get("streams")):
        index = _int(stream.get("index"))
        if index is None:
            continue
        disposition = _mapping(stream.get("disposition"))
        codec_type = _text(stream.get("codec_type"))
        if codec_type == "attachment" or (
            codec_type == "video" and disposition.get("attached_pic")
        ):
            attachments.append(_attachment(index, stream))
            continue
        track_type = _TRACK_TYPES.get(codec_type or "")
        if track_type is not None:
            tracks.append(_track(index, track_type, stream, is_mov_family=is_mov_family))
    duration = _float(fmt.get("duration"))
    return MediaFile(
        path=path,
        container=container,
        size=size,
        mtime_ns=mtime_ns,
        tracks=tuple(tracks),
        duration=duration if duration is not None and duration > 0 else None,
        bit_rate=_int(fmt.get("bit_rate")),
        attachments=tuple(attachments),
        chapter_count=len(_mappings(data.get("chapters"))),
        title=format_tags.get("title"),
        inode=inode,
        device=device,
        format_name=short_name,
        tags=container_tags((str(k), str(v)) for k, v in format_tags.items()),
    )


def _track(
    index: int, track_type: TrackType, stream: Mapping[str, Any], *, is_mov_family: bool
) -> Track:
    tags = _tags(stream)
    disposition = _mapping(stream.get("disposition"))
    language = tags.get("language")
    is_video = track_type is TrackType.VIDEO
    is_audio = track_type is TrackType.AUDIO
    title = tags.get("title")
    if title is None and is_mov_family:
        handler = tags.get("handler_name")
        title = None if handler is None or _GENERIC_HANDLER.search(handler) else handler
    return Track(
        index=index,
        track_id=index,
        type=track_type,
        codec=_text(stream.get("codec_name")) or UNKNOWN_CODEC,
        language=normalize_language_lenient(language),
        language_ietf=ietf_tag(language),
        title=title,
        flags=TrackFlags(
            default=bool(disposition.get("default")),
            forced=bool(disposition.get("forced")),
            hearing_impaired=bool(disposition.get("hearing_impaired")),
            visual_impaired=bool(disposition.get("visual_impaired")),
            commentary=bool(disposition.get("comment")),
            original=bool(disposition.get("original")),
        ),
        channels=_int(stream.get("channels")) if is_audio else None,
        channel_layout=_text(stream.get("channel_layout")) if is_audio else None,
        sample_rate=_int(stream.get("sample_rate")) if is_audio else None,
        width=_int(stream.get("width")) if is_video else None,
        height=_int(stream.get("height")) if is_video else None,
        frame_rate=(
            frame_rate_from_ratio(stream.get("avg_frame_rate"))
            or frame_rate_from_ratio(stream.get("r_frame_rate"))
            if is_video
            else None
        ),
        bit_rate=_int(stream.get("bit_rate")) or _int(tags.get("bps")) or _bps_any(tags),
    )


def _attachment(index: int, stream: Mapping[str, Any]) -> Attachment:
    tags = _tags(stream)
    codec = _text(stream.get("codec_name"))
    is_file = stream.get("codec_type") == "attachment"  # cover art has no file size
    return Attachment(
        attachment_id=index,
        file_name=tags.get("filename") or f"stream-{index}.{codec or 'bin'}",
        mime_type=tags.get("mimetype"),
        size=_int(stream.get("extradata_size")) if is_file else None,
        description=tags.get("title") or tags.get("comment"),
    )


def _tags(section: Mapping[str, Any]) -> dict[str, str]:
    """Tags with lower-cased keys (Matroska writes ``BPS``, MP4 ``language``)."""
    tags = _mapping(section.get("tags"))
    result: dict[str, str] = {}
    for key, value in tags.items():
        text = _text(value)
        if text is not None:
            result.setdefault(str(key).lower(), text)
    return result


def _bps_any(tags: Mapping[str, str]) -> int | None:
    """Matroska statistics tags may carry a language suffix (``BPS-eng``)."""
    for key, value in tags.items():
        if key.startswith("bps-"):
            return _int(value)
    return None


# --- tolerant accessors: ffprobe prints most numbers as strings ---------------------------


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _mappings(value: object) -> list[Mapping[str, Any]]:
    return (
        [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []
    )


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    number = _float(value)
    return int(number) if number is not None else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
