"""Where a Matroska/WebM Segment and its top-level elements sit, read in-process.

Two jobs need it without starting a tool. A truncated file (Segment size
beyond the end of the file) passes mkvmerge and ffprobe with exit 0 and the full
duration, so the Segment size must be checked here, before trusting a probe and
after every write. And the in-place edit path (mkvpropedit) journals the bytes of
the top-level elements an edit may rewrite, so it needs their offsets and sizes.
The header probe (matroska_headers) uses the same reading to find its elements.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vpo.probe import matroska_ids as ids
from vpo.probe.ebml import (
    Buffer,
    EbmlError,
    EbmlTruncatedError,
    ElementHeader,
    element_body,
    encode_element_id,
    iter_children,
    iter_elements,
    parse_element_header,
    read_element_header,
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

MATROSKA_DOCTYPES = ("matroska", "webm")
HEAD_READ_SIZE = 4096
"""Bytes read at once from the start: the EBML header is a few dozen of them."""
MAX_HEADER_BODY_SIZE = 256 * 1024 * 1024
"""Info/Tracks/Chapters bodies larger than this are corrupt, not headers."""
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
class SegmentStart:
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
    with open_media(path) as (stream, stat):
        start = read_segment_start(stream, path, stat.st_size)
        if not allow_truncated:
            check_segment_size(path, start)
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
    with open_media(path) as (stream, stat):
        start = read_segment_start(stream, path, stat.st_size)
        check_segment_size(path, start)
    return start.doctype


# --- opening and the Segment header ------------------------------------------------------


@contextmanager
def open_media(path: Path) -> Iterator[tuple[BinaryIO, os.stat_result]]:
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


def read_segment_start(stream: BinaryIO, path: Path, file_size: int) -> SegmentStart:
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
            return SegmentStart(doctype, element, file_size)
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


def check_segment_size(path: Path, start: SegmentStart) -> None:
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
    start: SegmentStart,
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


def locate_elements(
    stream: BinaryIO, path: Path, start: SegmentStart, wanted_ids: Collection[int]
) -> dict[int, TopLevelElement]:
    """Find the first element of each of ``wanted_ids`` (Info, Tracks…) cheaply.

    Walks the children before the first Cluster (where mkvmerge puts them), then
    follows the SeekHeads for the rest (ffmpeg and mkvpropedit may put Tags or a
    rewritten Tracks at the end). Only without usable SeekHeads does it walk the
    Clusters too.
    """
    elements, _ = _scan_segment(stream, path, start, stop_at_cluster=True, allow_truncated=False)
    located: dict[int, TopLevelElement] = {}
    for element in elements:
        if element.element_id in wanted_ids:
            located.setdefault(element.element_id, element)
    pending = [e for e in elements if e.element_id == ids.SEEK_HEAD]
    visited: set[int] = set()
    while pending and len(visited) < _MAX_SEEK_HEADS:
        seek_head = pending.pop(0)
        if seek_head.offset in visited:
            continue
        visited.add(seek_head.offset)
        for entry in _parse_seek_head(read_body(stream, path, seek_head)):
            wanted = entry.element_id in wanted_ids and entry.element_id not in located
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
            if element.element_id in wanted_ids:
                located.setdefault(element.element_id, element)
    return located


def _element_at(stream: BinaryIO, start: SegmentStart, offset: int) -> TopLevelElement | None:
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


def read_body(stream: BinaryIO, path: Path, element: TopLevelElement | None) -> bytes:
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


def _parse_seek_head(body: Buffer) -> tuple[_SeekEntry, ...]:
    """The entries of a SeekHead; a damaged one is an index, not data: it counts as empty."""
    entries: list[_SeekEntry] = []
    try:
        for child_id, seek in iter_children(body):
            if child_id != ids.SEEK:
                continue
            element_id: int | None = None
            position: int | None = None
            for field_id, value in iter_children(seek):
                if field_id == ids.SEEK_ID:
                    element_id = read_uint(value)
                elif field_id == ids.SEEK_POSITION:
                    position = read_uint(value)
            if element_id is not None and position is not None:
                entries.append(_SeekEntry(element_id, position))
    except EbmlError:
        return ()
    return tuple(entries)
