"""Pure parsers of Matroska header element bodies: Info, Tracks, Chapters, Tags.

They take bytes already read (by matroska_headers) and return model objects or
plain values, so each is tested on bytes alone. Values follow what ``mkvmerge -J``
reports (its parser is mkvmerge_json) so both probes give the same MediaFile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from vpo.media.language import normalize_language_lenient
from vpo.media.model import Track, TrackFlags, TrackType
from vpo.probe import matroska_ids as ids
from vpo.probe.codecs import codec_from_matroska_id
from vpo.probe.ebml import Buffer, iter_children, read_float, read_string, read_uint
from vpo.probe.mkvmerge_json import frame_rate_from_default_duration

DEFAULT_TIMESTAMP_SCALE = 1_000_000


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """The Info fields a MediaFile needs, as stored."""

    timestamp_scale: int = DEFAULT_TIMESTAMP_SCALE
    duration: float | None = None  # in timestamp-scale units, as stored
    title: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        """Seconds, via whole nanoseconds as mkvmerge reports them (so both probes agree)."""
        if self.duration is None:
            return None
        nanoseconds = self.duration * self.timestamp_scale
        if not math.isfinite(nanoseconds) or nanoseconds < 0:
            return None  # a damaged Duration element: unknown, not a crash
        return int(nanoseconds) / 1e9


def parse_info(body: Buffer) -> SegmentInfo:
    timestamp_scale = DEFAULT_TIMESTAMP_SCALE
    duration: float | None = None
    title: str | None = None
    for child_id, value in iter_children(body):
        if child_id == ids.TIMESTAMP_SCALE:
            timestamp_scale = read_uint(value) or DEFAULT_TIMESTAMP_SCALE
        elif child_id == ids.DURATION:
            duration = read_float(value)
        elif child_id == ids.TITLE:
            title = read_string(value).strip() or None
    return SegmentInfo(timestamp_scale, duration, title)


_TRACK_TYPES = {
    ids.TRACK_TYPE_VIDEO: TrackType.VIDEO,
    ids.TRACK_TYPE_AUDIO: TrackType.AUDIO,
    ids.TRACK_TYPE_SUBTITLE: TrackType.SUBTITLE,
}
_FLAG_FIELDS = {
    ids.FLAG_FORCED: "forced",
    ids.FLAG_HEARING_IMPAIRED: "hearing_impaired",
    ids.FLAG_VISUAL_IMPAIRED: "visual_impaired",
    ids.FLAG_COMMENTARY: "commentary",
    ids.FLAG_ORIGINAL: "original",
}


def parse_tracks(body: Buffer) -> tuple[Track, ...]:
    """Tracks in TrackEntry order; ``track_id`` counts every entry, as mkvmerge does.

    Entries of other types (buttons, metadata…) keep their number but are left out.
    """
    tracks: list[Track] = []
    entries = [value for child_id, value in iter_children(body) if child_id == ids.TRACK_ENTRY]
    for order, entry in enumerate(entries):
        track = _parse_track_entry(order, entry)
        if track is not None:
            tracks.append(track)
    return tuple(tracks)


def _parse_track_entry(order: int, entry: Buffer) -> Track | None:
    values: dict[int, memoryview] = {}
    for child_id, value in iter_children(entry):
        values.setdefault(child_id, value)
    track_type = _TRACK_TYPES.get(read_uint(values.get(ids.TRACK_TYPE, b"")))
    if track_type is None:
        return None
    flags = TrackFlags(
        default=_uint(values, ids.FLAG_DEFAULT, 1) != 0,  # the spec default is 1
        **{name: _uint(values, element_id, 0) != 0 for element_id, name in _FLAG_FIELDS.items()},
    )
    ietf = _text(values, ids.LANGUAGE_BCP47)
    legacy = _text(values, ids.LANGUAGE) or "eng"  # the spec default is eng
    audio = dict(iter_children(values[ids.AUDIO])) if ids.AUDIO in values else None
    video = dict(iter_children(values[ids.VIDEO])) if ids.VIDEO in values else None
    bit_depth = _uint(audio, ids.BIT_DEPTH, 0) if audio is not None else 0
    is_video = track_type is TrackType.VIDEO
    default_duration = _uint(values, ids.DEFAULT_DURATION, 0) if is_video else None
    return Track(
        index=order,
        track_id=order,
        type=track_type,
        codec=codec_from_matroska_id(
            _text(values, ids.CODEC_ID) or "",
            bits_per_sample=bit_depth or None,
            codec_private=bytes(values[ids.CODEC_PRIVATE]) if ids.CODEC_PRIVATE in values else None,
        ),
        language=normalize_language_lenient(ietf or legacy),
        language_ietf=ietf,
        title=_text(values, ids.NAME),
        flags=flags,
        channels=_uint(audio, ids.CHANNELS, 1) if audio is not None else None,
        sample_rate=_sample_rate(audio),
        width=_uint(video, ids.PIXEL_WIDTH, 0) or None if is_video else None,
        height=_uint(video, ids.PIXEL_HEIGHT, 0) or None if is_video else None,
        frame_rate=frame_rate_from_default_duration(default_duration),
        uid=_uint(values, ids.TRACK_UID, 0) if ids.TRACK_UID in values else None,
    )


def _uint(values: dict[int, memoryview] | None, element_id: int, default: int) -> int:
    if values is None or element_id not in values:
        return default
    return read_uint(values[element_id])


def _text(values: dict[int, memoryview], element_id: int) -> str | None:
    """A string element, stripped as the mkvmerge -J parser strips it; empty = absent."""
    if element_id not in values:
        return None
    return read_string(values[element_id]).strip() or None


def _sample_rate(audio: dict[int, memoryview] | None) -> int | None:
    if audio is None:
        return None
    if ids.SAMPLING_FREQUENCY not in audio:
        return 8000  # the spec default
    return round(read_float(audio[ids.SAMPLING_FREQUENCY]))


def count_chapter_atoms(body: Buffer) -> int:
    """Top-level ChapterAtoms of every edition: the ``num_entries`` mkvmerge -J reports."""
    return sum(
        1
        for child_id, edition in iter_children(body)
        if child_id == ids.EDITION_ENTRY
        for atom_id, _ in iter_children(edition)
        if atom_id == ids.CHAPTER_ATOM
    )


def parse_track_bps(body: Buffer) -> dict[int, int]:
    """TrackUID → the ``BPS`` statistics tag (bits per second) of that track."""
    rates: dict[int, int] = {}
    for child_id, tag in iter_children(body):
        if child_id != ids.TAG:
            continue
        uids: list[int] = []
        bps: int | None = None
        for field_id, value in iter_children(tag):
            if field_id == ids.TARGETS:
                uids.extend(read_uint(v) for t, v in iter_children(value) if t == ids.TAG_TRACK_UID)
            elif field_id == ids.SIMPLE_TAG and b"BPS" in value.tobytes().upper():
                simple = dict(iter_children(value))
                name = read_string(simple.get(ids.TAG_NAME, b""))
                text = read_string(simple.get(ids.TAG_STRING, b"")).strip()
                if name.strip().upper() == "BPS" and text.isdigit():
                    bps = int(text)
        if bps is not None:
            for uid in uids:
                rates[uid] = bps
    return rates


def parse_global_tags(body: Buffer) -> list[tuple[str, str]]:
    """(TagName, TagString) of every global tag, in file order: the SimpleTags of a
    Tag whose Targets name no track, edition, chapter or attachment (whatever its
    TargetTypeValue), as ffprobe reports them in ``format.tags``. Nested SimpleTags
    and binary values are not container tags and are left out."""
    found: list[tuple[str, str]] = []
    for child_id, tag in iter_children(body):
        if child_id != ids.TAG:
            continue
        fields = list(iter_children(tag))
        targeted = any(
            target_id in ids.TARGET_UIDS and read_uint(value) != 0
            for field_id, targets in fields
            if field_id == ids.TARGETS
            for target_id, value in iter_children(targets)
        )
        if targeted:
            continue
        for field_id, value in fields:
            if field_id != ids.SIMPLE_TAG:
                continue
            simple = dict(iter_children(value))
            if ids.TAG_NAME in simple and ids.TAG_STRING in simple:
                found.append(
                    (read_string(simple[ids.TAG_NAME]), read_string(simple[ids.TAG_STRING]))
                )
    return found


def with_bit_rates(tracks: tuple[Track, ...], rates: dict[int, int]) -> tuple[Track, ...]:
    if not rates:
        return tracks
    return tuple(
        replace(track, bit_rate=rates[track.uid]) if track.uid in rates else track
        for track in tracks
    )
