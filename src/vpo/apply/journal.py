"""Undo journal for in-place mkvpropedit edits.

Measured (docs/apply.md): mkvpropedit rewrites the Segment size, SeekHead, Void
and the edited header elements (Tracks, Info, Tags) in place, or appends a grown
element at the end of the file and voids the old one; it never writes inside a
Cluster. So the journal holds the original length plus the bytes of the EBML
header, the Segment header and every non-Cluster top-level element. Restoring
them and truncating to the original length gives the original byte for byte.

The journal is JSON (``.vpo-journal-<name>.json``) written with fsync of the file
and the directory before the edit starts. It also records what the file *was*
(size, mtime, ctime, inode, a hash of the journalled ranges, a hash of sampled
bytes outside them, which an edit never writes) and, once the tool has exited,
what it must be *after* (size, hash of the ranges plus the appended tail), so
recovery writes the old headers back only into the file they came from
(``match_journal``; docs/apply.md).
"""

from __future__ import annotations

import base64
import contextlib
import enum
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from vpo.apply.fsio import fsync_directory, write_durably
from vpo.apply.host import this_host
from vpo.apply.names import journal_name, temp_name

JOURNAL_VERSION = 2
_READABLE_VERSIONS = (1, 2)
SAMPLE_COUNT = 16
SAMPLE_LENGTH = 4096


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
class EditedState:
    """What the file is once the edit finished: its size and the hash of the
    journalled ranges plus everything appended past the original length."""

    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Journal:
    """Everything needed to put a file back exactly as it was before an edit, and
    to recognise that file (``samples``: byte ranges outside the journalled ones,
    which no edit writes, and ``samples_sha256`` their hash before the edit)."""

    media_name: str
    original_size: int
    mtime_ns: int
    device: int
    inode: int
    pid: int
    regions: tuple[Region, ...]
    ctime_ns: int = 0
    samples: tuple[tuple[int, int], ...] = ()
    samples_sha256: str = ""
    after: EditedState | None = None
    host: str = ""  # host id of the writer (apply.host); "" in journals of older versions

    @property
    def before_sha256(self) -> str:
        """Hash of the journalled ranges as they were before the edit."""
        digest = hashlib.sha256()
        for region in self.regions:
            digest.update(region.data)
        return digest.hexdigest()


class JournalMatch(str, enum.Enum):
    BEFORE = "before"  # the original: nothing (or nothing visible) was written yet
    AFTER = "after"  # exactly the finished edit
    PARTIAL = "partial"  # the same file, cut off mid-edit (no after-state recorded yet)
    FOREIGN = "foreign"  # not the file the journal was written for: never touch it


def sample_ranges(
    ranges: Sequence[tuple[int, int]],
    size: int,
    count: int = SAMPLE_COUNT,
    length: int = SAMPLE_LENGTH,
) -> tuple[tuple[int, int], ...]:
    """Pure: up to ``count`` ranges of ``length`` bytes spread evenly over the bytes
    of ``[0, size)`` outside ``ranges`` (the Clusters, which an edit never writes)."""
    gaps: list[tuple[int, int]] = []
    position = 0
    for start, end in merge_ranges(ranges):
        if start > position:
            gaps.append((position, min(start, size)))
        position = max(position, end)
    if position < size:
        gaps.append((position, size))
    gaps = [(a, b) for a, b in gaps if b > a]
    total = covered_bytes(gaps)
    if total == 0:
        return ()
    picked: list[tuple[int, int]] = []
    for index in range(count):
        target = total * index // count
        for start, end in gaps:
            if target < end - start:
                begin = start + target
                picked.append((begin, min(begin + length, end)))
                break
            target -= end - start
    return tuple(merge_ranges(picked))


def hash_ranges(fd: int, ranges: Iterable[tuple[int, int]]) -> str:
    """sha256 of the bytes of ``ranges`` in order (short reads at the end of file count)."""
    digest = hashlib.sha256()
    for start, end in ranges:
        digest.update(os.pread(fd, end - start, start))
    return digest.hexdigest()


def edited_state(fd: int, journal: Journal) -> EditedState:
    """The file's state now, in the terms ``Journal.after`` records."""
    size = os.fstat(fd).st_size
    return EditedState(size, hash_ranges(fd, _after_ranges(journal, size)))


def match_journal(journal: Journal, fd: int) -> tuple[JournalMatch, str]:
    """Is the open file ``fd`` the one ``journal`` was written for, and in which
    state? FOREIGN comes with the reason; only FOREIGN must not be restored."""
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino) != (journal.device, journal.inode):
        return JournalMatch.FOREIGN, "another file (different device or inode)"
    if info.st_size < journal.original_size:
        return JournalMatch.FOREIGN, (
            f"shorter than before the edit ({info.st_size} < {journal.original_size} bytes)"
        )
    if journal.samples and hash_ranges(fd, journal.samples) != journal.samples_sha256:
        return JournalMatch.FOREIGN, "other content (bytes no edit writes differ)"
    ranges = [(r.offset, r.offset + len(r.data)) for r in journal.regions]
    if info.st_size == journal.original_size and hash_ranges(fd, ranges) == journal.before_sha256:
        return JournalMatch.BEFORE, "still the original"
    if journal.after is None:
        return JournalMatch.PARTIAL, "cut off during the edit"
    if edited_state(fd, journal) == journal.after:
        return JournalMatch.AFTER, "the finished edit"
    return JournalMatch.FOREIGN, "changed after vpo's edit finished (another program wrote it)"


def _after_ranges(journal: Journal, size: int) -> list[tuple[int, int]]:
    ranges = [(r.offset, r.offset + len(r.data)) for r in journal.regions]
    if size > journal.original_size:
        ranges.append((journal.original_size, size))
    return merge_ranges(ranges)


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
        "host": journal.host,
        "regions": [
            {"offset": r.offset, "data": base64.b64encode(r.data).decode("ascii")}
            for r in journal.regions
        ],
        "ctime_ns": journal.ctime_ns,
        "before_sha256": journal.before_sha256,
        "samples": [list(r) for r in journal.samples],
        "samples_sha256": journal.samples_sha256,
        "after": None
        if journal.after is None
        else {"size": journal.after.size, "sha256": journal.after.sha256},
    }
    return json.dumps(document).encode("utf-8")


class JournalFormatError(ValueError):
    """A journal file that is incomplete or not vpo's."""


def decode_journal(data: bytes) -> Journal:
    try:
        document = json.loads(data)
        if document.get("version") not in _READABLE_VERSIONS:
            raise JournalFormatError(f"unsupported journal version {document.get('version')!r}")
        after = document.get("after")
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
            ctime_ns=int(document.get("ctime_ns", 0)),
            samples=tuple((int(a), int(b)) for a, b in document.get("samples", ())),
            samples_sha256=str(document.get("samples_sha256", "")),
            after=None if after is None else EditedState(int(after["size"]), str(after["sha256"])),
            host=str(document.get("host", "")),
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
    staging = media.parent / temp_name(target.name, journal.pid, "00000000", journal.host or None)
    write_durably(target, encode_journal(journal), staging=staging)
    return target


def read_journal(
    media: Path, current: os.stat_result, ranges: Sequence[tuple[int, int]]
) -> Journal:
    """The journal for an edit of ``media`` (locked, ``current`` its stat) in ``ranges``."""
    fd = os.open(media, os.O_RDONLY | os.O_CLOEXEC)
    try:
        samples = sample_ranges(ranges, current.st_size)
        return Journal(
            media_name=media.name,
            original_size=current.st_size,
            mtime_ns=current.st_mtime_ns,
            device=current.st_dev,
            inode=current.st_ino,
            pid=os.getpid(),
            host=this_host(),
            regions=read_regions(fd, ranges),
            ctime_ns=current.st_ctime_ns,
            samples=samples,
            samples_sha256=hash_ranges(fd, samples),
        )
    finally:
        os.close(fd)


def record_after_state(media: Path, journal: Journal) -> Journal:
    """Once the tool has exited: add what the file must now be to the journal
    (durably), so recovery can tell the finished edit from a later foreign write."""
    fd = os.open(media, os.O_RDONLY | os.O_CLOEXEC)
    try:
        finished = replace(journal, after=edited_state(fd, journal))
    finally:
        os.close(fd)
    write_journal(media, finished)
    return finished


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
    with contextlib.suppress(PermissionError):  # only the owner may set times: the
        os.utime(media, ns=(journal.mtime_ns, journal.mtime_ns))  # bytes are what matter


def discard_journal(path: Path, *, durable: bool = True) -> None:
    """Delete a journal. After a verified, fsynced edit the deletion need not be
    durable: if it is lost, recovery merely undoes a good edit (nothing is lost)."""
    path.unlink(missing_ok=True)
    if durable:
        fsync_directory(path.parent)
