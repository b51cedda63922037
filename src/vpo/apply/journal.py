"""Undo journal for in-place mkvpropedit edits.

Measured (docs/apply.md): mkvpropedit rewrites the Segment size, SeekHead, Void
and the edited header elements (Tracks, Info, Tags) in place, or appends a grown
element at the end of the file and voids the old one; it never writes inside a
Cluster. So the journal holds the original length plus the bytes of the EBML
header, the Segment header and every non-Cluster top-level element. Restoring
them and truncating to the original length gives the original byte for byte.

The journal is JSON (``.vpo-journal-<name>.json``) written with fsync of the file
and the directory before the edit starts.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vpo.apply.fsio import fsync_directory, write_durably
from vpo.apply.names import TEMP_PREFIX, journal_name

JOURNAL_VERSION = 1


class LayoutElement(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def offset(self) -> int: ...
    @property
    def header_size(self) -> int: ...
    @property
    def data_size(self) -> int | None: ...


class Layout(Protocol):
    """What ``vpo.probe.matroska_headers.read_segment_layout`` returns (the fields used here)."""

    @property
    def data_offset(self) -> int: ...
    @property
    def declared_size(self) -> int | None: ...
    @property
    def file_size(self) -> int: ...
    @property
    def elements(self) -> Sequence[LayoutElement]: ...
    @property
    def is_truncated(self) -> bool: ...
    @property
    def stopped_at(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Region:
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Journal:
    """Everything needed to put a file back exactly as it was before an edit."""

    media_name: str
    original_size: int
    mtime_ns: int
    device: int
    inode: int
    pid: int
    regions: tuple[Region, ...]


def journal_ranges(layout: Layout) -> list[tuple[int, int]] | None:
    """Byte ranges (start, end) an in-place edit may rewrite; None if they cannot be
    bounded (unknown sizes, truncated file), in which case edit a copy instead."""
    if layout.declared_size is None or layout.is_truncated or layout.stopped_at is not None:
        return None
    ranges: list[tuple[int, int]] = [(0, layout.data_offset)]
    for element in layout.elements:
        if element.name == "Cluster":
            continue
        if element.data_size is None:
            return None
        end = min(element.offset + element.header_size + element.data_size, layout.file_size)
        ranges.append((element.offset, end))
    return merge_ranges(ranges)


def merge_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping ranges covering the same bytes."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def covered_bytes(ranges: Iterable[tuple[int, int]]) -> int:
    return sum(end - start for start, end in ranges)


def encode_journal(journal: Journal) -> bytes:
    document = {
        "version": JOURNAL_VERSION,
        "media_name": journal.media_name,
        "original_size": journal.original_size,
        "mtime_ns": journal.mtime_ns,
        "device": journal.device,
        "inode": journal.inode,
        "pid": journal.pid,
        "regions": [
            {"offset": r.offset, "data": base64.b64encode(r.data).decode("ascii")}
            for r in journal.regions
        ],
    }
    return json.dumps(document).encode("utf-8")


class JournalFormatError(ValueError):
    """A journal file that is incomplete or not vpo's."""


def decode_journal(data: bytes) -> Journal:
    try:
        document = json.loads(data)
        if document.get("version") != JOURNAL_VERSION:
            raise JournalFormatError(f"unsupported journal version {document.get('version')!r}")
        return Journal(
            media_name=str(document["media_name"]),
            original_size=int(document["original_size"]),
            mtime_ns=int(document["mtime_ns"]),
            device=int(document["device"]),
            inode=int(document["inode"]),
            pid=int(document["pid"]),
            regions=tuple(
                Region(int(r["offset"]), base64.b64decode(r["data"], validate=True))
                for r in document["regions"]
            ),
        )
    except JournalFormatError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise JournalFormatError(f"unreadable journal: {error}") from error


def read_regions(fd: int, ranges: Sequence[tuple[int, int]]) -> tuple[Region, ...]:
    return tuple(Region(start, os.pread(fd, end - start, start)) for start, end in ranges)


def journal_path(media: Path) -> Path:
    return media.parent / journal_name(media.name)


def write_journal(media: Path, journal: Journal) -> Path:
    """Persist the journal (file and directory fsynced) before the edit may start."""
    target = journal_path(media)
    staging = media.parent / f"{TEMP_PREFIX}{journal.pid}-00000000-{target.name}"
    write_durably(target, encode_journal(journal), staging=staging)
    return target


def restore(media: Path, journal: Journal) -> None:
    """Write the saved regions back, truncate to the original length, fsync, and put the
    original mtime back: the file is byte-identical to before the edit."""
    fd = os.open(media, os.O_WRONLY | os.O_CLOEXEC)
    try:
        for region in journal.regions:
            view = memoryview(region.data)
            offset = region.offset
            while view:
                written = os.pwrite(fd, view, offset)
                view, offset = view[written:], offset + written
        os.ftruncate(fd, journal.original_size)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.utime(media, ns=(journal.mtime_ns, journal.mtime_ns))


def discard_journal(path: Path, *, durable: bool = True) -> None:
    """Delete a journal. After a verified, fsynced edit the deletion need not be
    durable: if it is lost, recovery merely undoes a good edit (nothing is lost)."""
    path.unlink(missing_ok=True)
    if durable:
        fsync_directory(path.parent)
