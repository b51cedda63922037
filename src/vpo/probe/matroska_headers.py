"""Matroska/WebM described in-process from its headers alone.

Why not just ``mkvmerge -J``? Starting mkvmerge costs ~30 ms per file while
reading the headers costs well under a millisecond, which decides how fast a
library scan is. The file is checked for truncation first (matroska_layout), as
mkvmerge and ffprobe report a cut file as whole.

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

from pathlib import Path
from typing import BinaryIO

from vpo.media.model import Attachment, Container, MediaFile, container_tags
from vpo.probe import matroska_ids as ids
from vpo.probe.ebml import EbmlError, iter_file_elements, read_string
from vpo.probe.errors import NotMediaError
from vpo.probe.matroska_elements import (
    count_chapter_atoms,
    parse_global_tags,
    parse_info,
    parse_track_bps,
    parse_tracks,
    with_bit_rates,
)
from vpo.probe.matroska_layout import (
    TopLevelElement,
    check_segment_size,
    locate_elements,
    open_media,
    read_body,
    read_segment_start,
)
from vpo.probe.mkvmerge_json import overall_bit_rate

MAX_TAGS_SIZE = 4 * 1024 * 1024
"""Tags larger than this are not read (they are not "cheap to reach"): no BPS, no
global tags."""
_WANTED = (ids.INFO, ids.TRACKS, ids.CHAPTERS, ids.ATTACHMENTS, ids.TAGS)


def probe_matroska_headers(path: Path) -> MediaFile:
    """Describe a Matroska/WebM file from its headers, without starting a process.

    Gives the same MediaFile as the ``mkvmerge -J`` path for every field both can
    know (see the module docstring for what only the bitstream tools know). It
    stops at the first Cluster, so in an unknown-size Segment (a live recording)
    a cut inside the Clusters is only found by read_segment_layout.
    """
    with open_media(path) as (stream, stat):
        start = read_segment_start(stream, path, stat.st_size)
        check_segment_size(path, start)
        located = locate_elements(stream, path, start, _WANTED)
        try:
            info = parse_info(read_body(stream, path, located.get(ids.INFO)))
            tracks = parse_tracks(read_body(stream, path, located.get(ids.TRACKS)))
            chapters = read_body(stream, path, located.get(ids.CHAPTERS))
            chapter_count = count_chapter_atoms(chapters)
            tags = located.get(ids.TAGS)
            global_tags: list[tuple[str, str]] = []
            if tags is not None and tags.data_size is not None and tags.data_size <= MAX_TAGS_SIZE:
                tags_body = read_body(stream, path, tags)
                if b"BPS" in tags_body.upper():  # most Tags carry no statistics: skip the parse
                    tracks = with_bit_rates(tracks, parse_track_bps(tags_body))
                global_tags = parse_global_tags(tags_body)
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
        tags=container_tags(global_tags, info.title),
    )


def read_global_tags(path: Path) -> tuple[tuple[str, str], ...]:
    """``MediaFile.tags`` of a Matroska/WebM file (its global tags and segment
    title), read in-process; for the ``mkvmerge -J`` probe, which counts tags but
    does not show them. Raises NotMediaError on headers it cannot read."""
    return probe_matroska_headers(path).tags


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
