"""``mkvmerge -J`` output → MediaFile (pure; tested on captured output).

mkvmerge is the authority for Matroska: its track ids are the ones mkvmerge
and mkvpropedit act on, and it reports Matroska defaults faithfully (an absent
FlagDefault is ``true``, an absent Language is ``eng``). The in-process EBML
reader (matroska_headers) must give the same MediaFile for every field both
can know, so the derivations here (frame rate, overall bit rate) are public.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vpo.media.language import normalize_language_lenient
from vpo.media.model import (
    Attachment,
    Container,
    MediaFile,
    Track,
    TrackFlags,
    TrackType,
    container_tags,
)
from vpo.probe.codecs import UNKNOWN_CODEC, codec_from_matroska_id
from vpo.probe.errors import NotMediaError, UnexpectedProbeOutputError

MATROSKA_DEFAULT_LANGUAGE = "eng"
"""What an absent Language element means (Matroska spec default)."""

FRAME_RATE_DECIMALS = 3
"""Frame rates are rounded so 41708333 ns and 24000/1001 both read 23.976."""

_TRACK_TYPES: Mapping[str, TrackType] = {
    "video": TrackType.VIDEO,
    "audio": TrackType.AUDIO,
    "subtitles": TrackType.SUBTITLE,
}

_CONTAINER_TYPES: Mapping[str, Container] = {
    "Matroska": Container.MATROSKA,
    "QuickTime/MP4": Container.MP4,
    "AVI": Container.AVI,
    "MPEG transport stream": Container.MPEGTS,
}


def frame_rate_from_default_duration(nanoseconds: int | None) -> float | None:
    """Frames per second from a Matroska DefaultDuration (ns per frame)."""
    if nanoseconds is None or nanoseconds <= 0:
        return None
    rate = round(1_000_000_000 / nanoseconds, FRAME_RATE_DECIMALS)
    return rate or None


def overall_bit_rate(size: int, duration: float | None) -> int | None:
    """Bits per second over the whole file, computed as ffprobe does (size × 8 / duration)."""
    if duration is None or duration <= 0:
        return None
    return int(size * 8 / duration)


def parse_mkvmerge_json(
    data: Mapping[str, Any],
    *,
    path: Path,
    size: int,
    mtime_ns: int,
    inode: int | None,
    device: int | None,
    doctype: str | None = None,
) -> MediaFile:
    """Build the MediaFile for ``path`` from mkvmerge's identification JSON.

    ``doctype`` is the EBML DocType (``matroska``/``webm``), which mkvmerge does
    not report; without it a ``.webm`` suffix decides. Raises NotMediaError when
    mkvmerge did not recognise the file and UnexpectedProbeOutputError when the
    JSON does not have the documented shape.
    """
    container_info = _mapping(data.get("container"))
    errors = [str(e).strip() for e in _sequence(data.get("errors")) if str(e).strip()]
    if errors:
        # The first line repeats the file name; the last one says why.
        raise NotMediaError(path, errors[0].splitlines()[-1].strip())
    if not container_info.get("recognized", False) or not container_info.get("supported", False):
        raise NotMediaError(path, "mkvmerge does not recognise the format")
    properties = _mapping(container_info.get("properties"))
    container = _container(str(container_info.get("type", "")), doctype, path)
    duration_ns = _int(properties.get("duration"))
    duration = duration_ns / 1_000_000_000 if duration_ns is not None else None
    return MediaFile(
        path=path,
        container=container,
        size=size,
        mtime_ns=mtime_ns,
        tracks=tuple(_tracks(data.get("tracks"), path)),
        duration=duration,
        bit_rate=overall_bit_rate(size, duration),
        attachments=tuple(_attachments(data.get("attachments"), path)),
        chapter_count=sum(_int(c.get("num_entries")) or 0 for c in _mappings(data.get("chapters"))),
        title=_text(properties.get("title")),
        tags=container_tags((), _text(properties.get("title"))),  # the values: read_global_tags
        inode=inode,
        device=device,
        format_name=container.value if container.is_matroska_family else None,
    )


def _container(type_name: str, doctype: str | None, path: Path) -> Container:
    container = _CONTAINER_TYPES.get(type_name, Container.OTHER)
    if container is Container.MATROSKA:
        is_webm = doctype == "webm" if doctype else path.suffix.lower() == ".webm"
        return Container.WEBM if is_webm else Container.MATROSKA
    return container


def _tracks(value: object, path: Path) -> list[Track]:
    tracks: list[Track] = []
    for entry in _sequence(value):
        if not isinstance(entry, Mapping):
            raise UnexpectedProbeOutputError(path, "mkvmerge track entry is not an object")
        track_id = _int(entry.get("id"))
        if track_id is None:
            raise UnexpectedProbeOutputError(path, "mkvmerge track without an id")
        track_type = _TRACK_TYPES.get(str(entry.get("type", "")))
        if track_type is None:
            continue  # buttons and other track types vpo does not manage
        tracks.append(_track(track_id, track_type, _mapping(entry.get("properties"))))
    return tracks


def _track(track_id: int, track_type: TrackType, props: Mapping[str, Any]) -> Track:
    language_ietf = _text(props.get("language_ietf"))
    # Matroska: when the BCP 47 element is present, the legacy Language is ignored.
    legacy = _text(props.get("language")) or MATROSKA_DEFAULT_LANGUAGE
    width, height = _dimensions(props.get("pixel_dimensions"))
    is_audio = track_type is TrackType.AUDIO
    is_video = track_type is TrackType.VIDEO
    return Track(
        index=track_id,
        track_id=track_id,
        type=track_type,
        codec=_codec(props),
        language=normalize_language_lenient(language_ietf or legacy),
        language_ietf=language_ietf,
        title=_text(props.get("track_name")),
        flags=TrackFlags(
            default=_bool(props.get("default_track"), missing=True),
            forced=_bool(props.get("forced_track")),
            hearing_impaired=_bool(props.get("flag_hearing_impaired")),
            visual_impaired=_bool(props.get("flag_visual_impaired")),
            commentary=_bool(props.get("flag_commentary")),
            original=_bool(props.get("flag_original")),
        ),
        channels=_int(props.get("audio_channels")) if is_audio else None,
        sample_rate=_int(props.get("audio_sampling_frequency")) if is_audio else None,
        width=width if is_video else None,
        height=height if is_video else None,
        frame_rate=(
            frame_rate_from_default_duration(_int(props.get("default_duration")))
            if is_video
            else None
        ),
        bit_rate=_int(props.get("tag_bps")),
        uid=_int(props.get("uid")),
    )


def _codec(props: Mapping[str, Any]) -> str:
    codec_id = _text(props.get("codec_id"))
    if codec_id is None:
        return UNKNOWN_CODEC
    return codec_from_matroska_id(
        codec_id,
        bits_per_sample=_int(props.get("audio_bits_per_sample")),
        codec_private=_hex_bytes(props.get("codec_private_data")),
    )


def _hex_bytes(value: object) -> bytes | None:
    """mkvmerge prints CodecPrivate as hex; None when absent or not hex."""
    if not isinstance(value, str):
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _attachments(value: object, path: Path) -> list[Attachment]:
    attachments: list[Attachment] = []
    for entry in _mappings(value):
        attachment_id = _int(entry.get("id"))
        if attachment_id is None:
            raise UnexpectedProbeOutputError(path, "mkvmerge attachment without an id")
        attachments.append(
            Attachment(
                attachment_id=attachment_id,
                file_name=_text(entry.get("file_name")) or "",
                mime_type=_text(entry.get("content_type")),
                size=_int(entry.get("size")),
                description=_text(entry.get("description")),
            )
        )
    return attachments


def _dimensions(value: object) -> tuple[int | None, int | None]:
    """``"1920x1080"`` → (1920, 1080); anything else → (None, None)."""
    width, _, height = str(value or "").partition("x")
    if width.isdigit() and height.isdigit():
        return int(width), int(height)
    return None, None


# --- tolerant accessors: JSON from a tool is typed loosely --------------------------------


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: object) -> Sequence[object]:
    return value if isinstance(value, list) else []


def _mappings(value: object) -> list[Mapping[str, Any]]:
    return [entry for entry in _sequence(value) if isinstance(entry, Mapping)]


def _int(value: object) -> int | None:
    """An int from a JSON number or numeric string (mkvmerge's tags are strings)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value) if math.isfinite(value) else None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bool(value: object, *, missing: bool = False) -> bool:
    return missing if value is None else bool(value)
