"""Matroska/WebM read in-process: the Segment layout and a probe from the headers alone.

Why not just ``mkvmerge -J``? Three reasons. A truncated file (Segment size
beyond the end of the file) passes mkvmerge and ffprobe with exit 0 and the full
duration, so the Segment size must be checked here, before trusting a probe and
after every write. The in-place edit path (mkvpropedit) journals the bytes of the
top-level elements an edit may rewrite, so it needs their offsets and sizes.
And starting mkvmerge costs ~30 ms per file while reading the headers costs well
under a millisecond, which decides how fast a library scan is.

What the headers cannot tell, and which probe is authoritative then:

* Codec profiles: DTS vs DTS-HD MA vs DTS:X, TrueHD Atmos, AAC-LC vs HE-AAC all
  share one CodecID; only the bitstream (ffprobe ``profile``) knows.
* ``channel_layout``: Matroska stores a channel count only (ffprobe knows the layout).
* Bit rates: only what a ``BPS`` statistics tag says (mkvmerge writes them;
  ``mkvmerge -J`` hides statistics tags, so this probe knows more than it there).
* Tracks whose real content differs from their headers (a wrong DefaultDuration,
  a missing PixelWidth): the bitstream tools are authoritative.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from vpo.media.language import normalize_language_lenient
from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType
from vpo.probe import matroska_ids as ids
from vpo.probe.codecs import codec_from_matroska_id
from vpo.probe.ebml import (
    Buffer,
    EbmlError,
    EbmlTruncatedError,
    ElementHeader,
    element_body,
    encode_element_id,
    iter_elements,
    iter_file_elements,
    parse_element_header,
    read_element_header,
    read_float,
    read_string,
    read_uint,
)
from vpo.probe.errors import (
    EmptyFileError,
    FileNotFoundProbeError,
    NotAFileError,
    NotMediaError,
    ProbeError,
    TruncatedFileError,
    UnreadableFileError,
)
from vpo.probe.mkvmerge_json import frame_rate_from_default_duration, overall_bit_rate

MATROSKA_DOCTYPES = ("matroska", "webm")
HEAD_READ_SIZE = 4096
"""Bytes read at once from the start: the EBML header is a few dozen of them."""
MAX_TAGS_SIZE = 4 * 1024 * 1024
"""Tags larger than this are not read for BPS (they are not "cheap to reach")."""
MAX_HEADER_BODY_SIZE = 256 * 1024 * 1024
"""Info/Tracks/Chapters bodies larger than this are corrupt, not headers."""
DEFAULT_TIMESTAMP_SCALE = 1_000_000
_WANTED = (ids.INFO, ids.TRACKS, ids.CHAPTERS, ids.ATTACHMENTS, ids.TAGS)
_MAX_SEEK_HEADS = 8
_EBML_MAGIC = encode_element_id(ids.EBML)


@dataclass(frozen=True, slots=True)
class TopLevelElement:
    """One direct child of the Segment: where it starts and how big it is."""

    name: str
    element_id: int
    offset: int
    header_size: int
    data_size: int | None

    @property
    def data_offset(self) -> int:
        return self.offset + self.header_size

    @property
    def end(self) -> int | None:
        """First byte after the element; ``None`` when its size is unknown."""
        return None if self.data_size is None else self.data_offset + self.data_size


@dataclass(frozen=True, slots=True)
class SegmentLayout:
    """Where the Segment and its top-level elements sit in a Matroska/WebM file.

    ``elements`` lists every Segment child in file order, Clusters included (so gaps
    are visible). ``stopped_at`` is the offset of an element of unknown size (a live
    stream's Cluster) where the scan stopped instead of reading the whole file;
    ``None`` means the list is complete.
    """

    segment_offset: int
    data_offset: int
    declared_size: int | None
    file_size: int
    elements: tuple[TopLevelElement, ...]
    doctype: str = "matroska"
    stopped_at: int | None = None

    @property
    def segment_end(self) -> int | None:
        """First byte after the Segment as declared; ``None`` for an unknown-size Segment."""
        return None if self.declared_size is None else self.data_offset + self.declared_size

    @property
    def is_truncated(self) -> bool:
        """The Segment declares more bytes than the file holds."""
        end = self.segment_end
        return end is not None and end > self.file_size

    @property
    def is_complete(self) -> bool:
        return self.stopped_at is None

    def named(self, name: str) -> tuple[TopLevelElement, ...]:
        """The elements called ``name`` (``"Tracks"``, ``"Cluster"``…), in file order."""
        return tuple(element for element in self.elements if element.name == name)

    @property
    def non_cluster_elements(self) -> tuple[TopLevelElement, ...]:
        """Everything but Clusters: what a header edit (mkvpropedit) may rewrite, Voids included."""
        return tuple(element for element in self.elements if element.element_id != ids.CLUSTER)


@dataclass(frozen=True, slots=True)
class _SegmentStart:
    """What the EBML header and the Segment header say."""

    doctype: str
    segment: ElementHeader
    file_size: int


def read_segment_layout(path: Path, *, allow_truncated: bool = False) -> SegmentLayout:
    """The Segment of ``path`` and its top-level elements, read header by header.

    Clusters are skipped by their size, so the cost grows with their number, not
    with the file size. Raises NotMediaError for anything that is not Matroska or
    WebM and TruncatedFileError when the file is shorter than it declares (unless
    ``allow_truncated``: then the layout says so through ``is_truncated``).
    """
    with _open_media(path) as (stream, stat):
        start = _read_segment_start(stream, path, stat.st_size)
        if not allow_truncated:
            _check_segment_size(path, start)
        elements, stopped_at = _scan_segment(
            stream, path, start, stop_at_cluster=False, allow_truncated=allow_truncated
        )
    segment = start.segment
    return SegmentLayout(
        segment_offset=segment.offset,
        data_offset=segment.data_offset,
        declared_size=segment.data_size,
        file_size=start.file_size,
        elements=elements,
        doctype=start.doctype,
        stopped_at=stopped_at,
    )


def check_segment_header(path: Path) -> str:
    """Reject a file that is not Matroska/WebM or is shorter than its Segment declares.

    Reads only the EBML header and the Segment's size (one small read), so it is
    the check to run before trusting a tool that reports success on truncated
    files. Returns the DocType (``matroska`` or ``webm``).
    """
    with _open_media(path) as (stream, stat):
        start = _read_segment_start(stream, path, stat.st_size)
        _check_segment_size(path, start)
    return start.doctype


def probe_matroska_headers(path: Path) -> MediaFile:
    """Describe a Matroska/WebM file from its headers, without starting a process.

    Gives the same MediaFile as the ``mkvmerge -J`` path for every field both can
    know (see the module docstring for what only the bitstream tools know). It
    stops at the first Cluster, so in an unknown-size Segment (a live recording)
    a cut inside the Clusters is only found by read_segment_layout.
    """
    with _open_media(path) as (stream, stat):
        start = _read_segment_start(stream, path, stat.st_size)
        _check_segment_size(path, start)
        located = _locate_header_elements(stream, path, start)
        try:
            info = _parse_info(_read_body(stream, path, located.get(ids.INFO)))
            tracks = _parse_tracks(_read_body(stream, path, located.get(ids.TRACKS)))
            chapters = _read_body(stream, path, located.get(ids.CHAPTERS))
            chapter_count = _count_chapter_atoms(chapters)
            tags = located.get(ids.TAGS)
            if tags is not None and tags.data_size is not None and tags.data_size <= MAX_TAGS_SIZE:
                tags_body = _read_body(stream, path, tags)
                if b"BPS" in tags_body.upper():  # most Tags carry no statistics: skip the parse
                    tracks = _with_bit_rates(tracks, _parse_track_bps(tags_body))
        except EbmlError as error:
            raise NotMediaError(path, f"corrupt Matroska headers: {error}") from error
        attachments = _read_attachments(stream, path, located.get(ids.ATTACHMENTS))
    container = Container.WEBM if start.doctype == "webm" else Container.MATROSKA
    duration = info.duration_seconds
    return MediaFile(
        path=path,
        container=container,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        tracks=tracks,
        duration=duration,
        bit_rate=overall_bit_rate(stat.st_size, duration),
        attachments=attachments,
        chapter_count=chapter_count,
        title=info.title,
        inode=stat.st_ino,
        device=stat.st_dev,
        format_name=container.value,
    )


# --- opening and the Segment header ------------------------------------------------------


@contextmanager
def _open_media(path: Path) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """Open unbuffered (we read small pieces at scattered offsets); OS errors become ProbeErrors."""
    try:
        stream = path.open("rb", buffering=0)
    except FileNotFoundError as error:
        raise FileNotFoundProbeError(path) from error
    except IsADirectoryError as error:
        raise NotAFileError(path, "it is a directory") from error
    except PermissionError as error:
        raise UnreadableFileError(path) from error
    except OSError as error:
        raise ProbeError(path, error.strerror or str(error)) from error
    with stream:
        try:
            stat = os.fstat(stream.fileno())
            if stat.st_size == 0:
                raise EmptyFileError(path)
            yield stream, stat
        except OSError as error:
            raise ProbeError(path, f"read error: {error.strerror or error}") from error


def _read_segment_start(stream: BinaryIO, path: Path, file_size: int) -> _SegmentStart:
    """Check the EBML header (DocType matroska/webm) and find the Segment after it."""
    head = stream.read(min(HEAD_READ_SIZE, file_size))
    try:
        header = parse_element_header(head)
    except EbmlTruncatedError as error:
        if _EBML_MAGIC.startswith(head[:4]):
            raise TruncatedFileError(path, "the file ends inside the EBML header") from error
        raise NotMediaError(path, "no EBML header (not Matroska or WebM)") from error
    except EbmlError as error:
        raise NotMediaError(path, "no EBML header (not Matroska or WebM)") from error
    if header.element_id != ids.EBML:
        raise NotMediaError(path, "no EBML header (not Matroska or WebM)")
    if header.end is None or header.end > len(head):
        if header.end is not None and header.end > file_size:
            raise TruncatedFileError(path, "the file ends inside the EBML header")
        raise NotMediaError(path, "corrupt EBML header")
    doctype = _doctype(path, head, header)
    if doctype not in MATROSKA_DOCTYPES:
        raise NotMediaError(path, f"EBML document type '{doctype}' is not Matroska or WebM")
    position = header.end
    while True:
        if position >= file_size:
            raise TruncatedFileError(path, "the file ends before the Segment starts")
        element = _read_header(stream, path, position, file_size)
        if element.element_id == ids.SEGMENT:
            return _SegmentStart(doctype, element, file_size)
        if element.element_id not in (ids.VOID, ids.CRC32) or element.end is None:
            raise NotMediaError(
                path, f"no Matroska Segment after the EBML header (byte {position})"
            )
        position = element.end


def _doctype(path: Path, head: Buffer, header: ElementHeader) -> str:
    try:
        for child in iter_elements(head, header.data_offset, header.end):
            if child.element_id == ids.DOC_TYPE:
                return read_string(element_body(head, child)).strip().lower()
    except EbmlError as error:
        raise NotMediaError(path, f"corrupt EBML header: {error}") from error
    return "matroska"  # the EBML default DocType


def _check_segment_size(path: Path, start: _SegmentStart) -> None:
    segment = start.segment
    if segment.end is not None and segment.end > start.file_size:
        raise TruncatedFileError(
            path,
            f"segment declares {segment.data_size} bytes but the file ends after "
            f"{start.file_size - segment.data_offset}",
        )


def _read_header(stream: BinaryIO, path: Path, offset: int, limit: int) -> ElementHeader:
    """The element header at ``offset``; corrupt bytes and a cut header become ProbeErrors."""
    try:
        return read_element_header(stream, offset, limit)
    except EbmlTruncatedError as error:
        raise TruncatedFileError(
            path, f"the file ends inside an element header at byte {offset}"
        ) from error
    except EbmlError as error:
        raise NotMediaError(path, f"corrupt Matroska data at byte {offset}: {error}") from error


# --- scanning the Segment ------------------------------------------------------------------


def _scan_segment(
    stream: BinaryIO,
    path: Path,
    start: _SegmentStart,
    *,
    stop_at_cluster: bool,
    allow_truncated: bool,
) -> tuple[tuple[TopLevelElement, ...], int | None]:
    """The Segment's children in order, and where the scan stopped at an unknown size."""
    segment = start.segment
    file_size = start.file_size
    segment_end = file_size if segment.end is None else segment.end
    limit = min(segment_end, file_size)
    unknown_size = segment.data_size is None
    elements: list[TopLevelElement] = []
    position = segment.data_offset
    while position < limit:
        if allow_truncated and limit - position < 2:
            break
        try:
            header = _read_header(stream, path, position, limit)
        except TruncatedFileError:
            if allow_truncated:
                break
            raise
        element_id, _, header_size, data_size = header
        if unknown_size and element_id in (ids.EBML, ids.SEGMENT):
            break  # an unknown-size Segment ends where the next one starts
        name = ids.element_name(element_id)
        elements.append(TopLevelElement(name, element_id, position, header_size, data_size))
        if data_size is None:
            return tuple(elements), position
        end = position + header_size + data_size
        if end > file_size and not allow_truncated:
            raise TruncatedFileError(
                path,
                f"{name} at byte {position} declares {data_size} bytes but the file "
                f"ends after {file_size - position - header_size}",
            )
        if not unknown_size and end > segment_end:
            raise NotMediaError(path, f"{name} at byte {position} overruns the end of the Segment")
        if stop_at_cluster and element_id == ids.CLUSTER:
            break
        position = end
    return tuple(elements), None


@dataclass(frozen=True, slots=True)
class _SeekEntry:
    element_id: int
    position: int  # relative to the Segment data


def _locate_header_elements(
    stream: BinaryIO, path: Path, start: _SegmentStart
) -> dict[int, TopLevelElement]:
    """Find Info, Tracks, Chapters, Attachments and Tags cheaply.

    Walks the children before the first Cluster (where mkvmerge puts them), then
    follows the SeekHeads for the rest (ffmpeg and mkvpropedit may put Tags or a
    rewritten Tracks at the end). Only without usable SeekHeads does it walk the
    Clusters too.
    """
    elements, _ = _scan_segment(stream, path, start, stop_at_cluster=True, allow_truncated=False)
    located: dict[int, TopLevelElement] = {}
    for element in elements:
        if element.element_id in _WANTED:
            located.setdefault(element.element_id, element)
    pending = [e for e in elements if e.element_id == ids.SEEK_HEAD]
    visited: set[int] = set()
    while pending and len(visited) < _MAX_SEEK_HEADS:
        seek_head = pending.pop(0)
        if seek_head.offset in visited:
            continue
        visited.add(seek_head.offset)
        for entry in _parse_seek_head(_read_body(stream, path, seek_head)):
            wanted = entry.element_id in _WANTED and entry.element_id not in located
            if not wanted and entry.element_id != ids.SEEK_HEAD:
                continue
            found = _element_at(stream, start, start.segment.data_offset + entry.position)
            if found is None or found.element_id != entry.element_id:
                continue  # a stale SeekHead entry: ignore it, as players do
            if entry.element_id == ids.SEEK_HEAD:
                pending.append(found)
            else:
                located[entry.element_id] = found
    if ids.TRACKS not in located and elements and elements[-1].element_id == ids.CLUSTER:
        everything, _ = _scan_segment(
            stream, path, start, stop_at_cluster=False, allow_truncated=False
        )
        for element in everything:
            if element.element_id in _WANTED:
                located.setdefault(element.element_id, element)
    return located


def _element_at(stream: BinaryIO, start: _SegmentStart, offset: int) -> TopLevelElement | None:
    """The element a SeekHead points to, if the pointer lands on a sound header."""
    limit = start.file_size if start.segment.end is None else start.segment.end
    if not start.segment.data_offset <= offset < limit:
        return None
    try:
        header = read_element_header(stream, offset, limit)
    except EbmlError:
        return None
    if header.end is None or header.end > limit:
        return None
    name = ids.element_name(header.element_id)
    return TopLevelElement(name, header.element_id, offset, header.header_size, header.data_size)


def _read_body(stream: BinaryIO, path: Path, element: TopLevelElement | None) -> bytes:
    """The whole body of a (small) header element; empty when it is absent."""
    if element is None or element.data_size is None:
        return b""
    if element.data_size > MAX_HEADER_BODY_SIZE:
        raise NotMediaError(path, f"{element.name} at byte {element.offset} is implausibly large")
    stream.seek(element.data_offset)
    body = stream.read(element.data_size)
    if len(body) < element.data_size:
        raise TruncatedFileError(
            path, f"the file ends inside {element.name} at byte {element.offset}"
        )
    return body


# --- pure parsers of element bodies ---------------------------------------------------------


def _children(body: Buffer) -> Iterator[tuple[int, memoryview]]:
    """(ID, body) of each child of a master element held in memory."""
    view = memoryview(body)
    for element_id, offset, header_size, data_size in iter_elements(view):
        start = offset + header_size
        yield element_id, view[start : len(view) if data_size is None else start + data_size]


def _parse_seek_head(body: Buffer) -> tuple[_SeekEntry, ...]:
    """The entries of a SeekHead; a damaged one is an index, not data: it counts as empty."""
    entries: list[_SeekEntry] = []
    try:
        for child_id, seek in _children(body):
            if child_id != ids.SEEK:
                continue
            element_id: int | None = None
            position: int | None = None
            for field_id, value in _children(seek):
                if field_id == ids.SEEK_ID:
                    element_id = read_uint(value)
                elif field_id == ids.SEEK_POSITION:
                    position = read_uint(value)
            if element_id is not None and position is not None:
                entries.append(_SeekEntry(element_id, position))
    except EbmlError:
        return ()
    return tuple(entries)


@dataclass(frozen=True, slots=True)
class _Info:
    timestamp_scale: int = DEFAULT_TIMESTAMP_SCALE
    duration: float | None = None  # in timestamp-scale units, as stored
    title: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        """Seconds, via whole nanoseconds as mkvmerge reports them (so both probes agree)."""
        if self.duration is None:
            return None
        return int(self.duration * self.timestamp_scale) / 1e9


def _parse_info(body: Buffer) -> _Info:
    timestamp_scale = DEFAULT_TIMESTAMP_SCALE
    duration: float | None = None
    title: str | None = None
    for child_id, value in _children(body):
        if child_id == ids.TIMESTAMP_SCALE:
            timestamp_scale = read_uint(value) or DEFAULT_TIMESTAMP_SCALE
        elif child_id == ids.DURATION:
            duration = read_float(value)
        elif child_id == ids.TITLE:
            title = read_string(value).strip() or None
    return _Info(timestamp_scale, duration, title)


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


def _parse_tracks(body: Buffer) -> tuple[Track, ...]:
    """Tracks in TrackEntry order; ``track_id`` counts every entry, as mkvmerge does.

    Entries of other types (buttons, metadata…) keep their number but are left out.
    """
    tracks: list[Track] = []
    entries = [value for child_id, value in _children(body) if child_id == ids.TRACK_ENTRY]
    for order, entry in enumerate(entries):
        track = _parse_track_entry(order, entry)
        if track is not None:
            tracks.append(track)
    return tuple(tracks)


def _parse_track_entry(order: int, entry: Buffer) -> Track | None:
    values: dict[int, memoryview] = {}
    for child_id, value in _children(entry):
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
    audio = dict(_children(values[ids.AUDIO])) if ids.AUDIO in values else None
    video = dict(_children(values[ids.VIDEO])) if ids.VIDEO in values else None
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


def _count_chapter_atoms(body: Buffer) -> int:
    """Top-level ChapterAtoms of every edition: the ``num_entries`` mkvmerge -J reports."""
    return sum(
        1
        for child_id, edition in _children(body)
        if child_id == ids.EDITION_ENTRY
        for atom_id, _ in _children(edition)
        if atom_id == ids.CHAPTER_ATOM
    )


def _parse_track_bps(body: Buffer) -> dict[int, int]:
    """TrackUID → the ``BPS`` statistics tag (bits per second) of that track."""
    rates: dict[int, int] = {}
    for child_id, tag in _children(body):
        if child_id != ids.TAG:
            continue
        uids: list[int] = []
        bps: int | None = None
        for field_id, value in _children(tag):
            if field_id == ids.TARGETS:
                uids.extend(read_uint(v) for t, v in _children(value) if t == ids.TAG_TRACK_UID)
            elif field_id == ids.SIMPLE_TAG and b"BPS" in value.tobytes().upper():
                simple = dict(_children(value))
                name = read_string(simple.get(ids.TAG_NAME, b""))
                text = read_string(simple.get(ids.TAG_STRING, b"")).strip()
                if name.strip().upper() == "BPS" and text.isdigit():
                    bps = int(text)
        if bps is not None:
            for uid in uids:
                rates[uid] = bps
    return rates


def _with_bit_rates(tracks: tuple[Track, ...], rates: dict[int, int]) -> tuple[Track, ...]:
    if not rates:
        return tracks
    return tuple(
        replace(track, bit_rate=rates[track.uid]) if track.uid in rates else track
        for track in tracks
    )


# --- attachments (read header by header: FileData can be megabytes) -------------------------


def _read_attachments(
    stream: BinaryIO, path: Path, element: TopLevelElement | None
) -> tuple[Attachment, ...]:
    """Attachments numbered from 1 as mkvmerge does; FileData is measured, never read."""
    if element is None or element.end is None:
        return ()
    attachments: list[Attachment] = []
    try:
        files = [
            (header.data_offset, header.end)
            for header in iter_file_elements(stream, element.data_offset, element.end)
            if header.element_id == ids.ATTACHED_FILE and header.end is not None
        ]
        for number, (start, end) in enumerate(files, start=1):
            attachments.append(_read_attached_file(stream, number, start, end))
    except EbmlError as error:
        raise NotMediaError(
            path, f"corrupt Attachments at byte {element.offset}: {error}"
        ) from error
    return tuple(attachments)


def _read_attached_file(stream: BinaryIO, number: int, start: int, end: int) -> Attachment:
    texts: dict[int, str] = {}
    size: int | None = None
    for child in iter_file_elements(stream, start, end):
        if child.element_id == ids.FILE_DATA:
            size = child.data_size
        elif child.element_id in (ids.FILE_NAME, ids.FILE_MEDIA_TYPE, ids.FILE_DESCRIPTION):
            stream.seek(child.data_offset)
            texts[child.element_id] = read_string(stream.read(child.data_size or 0)).strip()
    return Attachment(
        attachment_id=number,
        file_name=texts.get(ids.FILE_NAME, ""),
        mime_type=texts.get(ids.FILE_MEDIA_TYPE) or None,
        size=size,
        description=texts.get(ids.FILE_DESCRIPTION) or None,
    )
