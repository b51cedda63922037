"""``[jobs] replace = "copy"``: write a verified output *through* the original inode.

For files a rename cannot replace without loss: a shared library (the new file
would belong to whoever runs vpo), hard links (a rename splits them). The
original's inode, owner, group, mode, ACLs, attributes and links stay; only the
content changes. Crash-safe like the rename path:

1. check the original is still the planned file;
2. copy it to ``.vpo-copyback-<name>`` (fsync) — the durable backup;
3. write the copy-back journal (``.vpo-journal-<name>.json``, kind ``copy-back``,
   fsync): names the backup, records the original's identity and, at 16 sampled
   ranges, the hashes of both the original's and the output's bytes;
4. write the output over the original from offset 0, truncate, fsync;
5. re-read the original: its sha256 must be the output's (computed while copying);
6. put the mtime back, delete the backup and the journal.

A crash in 4–6 leaves the journal: recovery (``recover_copy_back``) checks the
file is the one being written — same inode, every sample either the original's
or the output's bytes in copy order (output first, at most one sample cut by the
crash, then original) — then either keeps the finished output (full hash equal)
or copies the backup back. Any other file is never touched: the journal is set
aside and the backup kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vpo.apply.errors import VerificationError
from vpo.apply.fsio import fsync_directory, remove_quietly, write_durably
from vpo.apply.host import this_host
from vpo.apply.identity import FileIdentity, check_identity
from vpo.apply.journal import sample_ranges
from vpo.apply.names import copyback_name, free_backup_path, journal_name, temp_name

KIND = "copy-back"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class CopyJournal:
    media_name: str
    backup_name: str
    device: int
    inode: int
    original_size: int
    mtime_ns: int
    output_size: int
    output_sha256: str
    samples: tuple[tuple[int, int], ...]
    original_hashes: tuple[str, ...]
    output_hashes: tuple[str, ...]
    pid: int
    host: str = ""  # host id of the writer (apply.host); "" in journals of older versions


def encode_copy_journal(journal: CopyJournal) -> bytes:
    document = {
        "version": 2,
        "kind": KIND,
        "media_name": journal.media_name,
        "backup_name": journal.backup_name,
        "device": journal.device,
        "inode": journal.inode,
        "original_size": journal.original_size,
        "mtime_ns": journal.mtime_ns,
        "output_size": journal.output_size,
        "output_sha256": journal.output_sha256,
        "samples": [list(r) for r in journal.samples],
        "original_hashes": list(journal.original_hashes),
        "output_hashes": list(journal.output_hashes),
        "pid": journal.pid,
        "host": journal.host,
    }
    return json.dumps(document).encode("utf-8")


def decode_copy_journal(document: dict[str, object]) -> CopyJournal:
    """From the parsed JSON of a journal whose kind is ``copy-back``; raises
    ValueError/KeyError/TypeError when it is incomplete."""

    def number(key: str) -> int:
        value = document[key]
        if not isinstance(value, int):
            raise TypeError(f"{key} is not a number")
        return value

    def strings(key: str) -> tuple[str, ...]:
        value = document[key]
        if not isinstance(value, list):
            raise TypeError(f"{key} is not a list")
        return tuple(str(v) for v in value)

    samples = document["samples"]
    if not isinstance(samples, list):
        raise TypeError("samples is not a list")
    return CopyJournal(
        media_name=str(document["media_name"]),
        backup_name=str(document["backup_name"]),
        device=number("device"),
        inode=number("inode"),
        original_size=number("original_size"),
        mtime_ns=number("mtime_ns"),
        output_size=number("output_size"),
        output_sha256=str(document["output_sha256"]),
        samples=tuple((int(a), int(b)) for a, b in samples),
        original_hashes=strings("original_hashes"),
        output_hashes=strings("output_hashes"),
        pid=number("pid"),
        host=str(document.get("host", "")),
    )


def copy_back(
    original: Path,
    current: os.stat_result,
    output: Path,
    *,
    preserve_mtime: bool,
    keep_backup: bool,
) -> Path | None:
    """Write the verified ``output`` into ``original``'s inode (steps in the module
    doc); returns the kept backup with ``keep_backup``. Raises FileChangedError
    when the original is no longer the planned file (nothing written)."""
    check_identity(original, FileIdentity.of(current), step="the copy into it")
    backup = original.parent / copyback_name(original.name)
    output_size = output.stat().st_size
    samples = sample_ranges((), max(current.st_size, output_size))
    _copy(original, backup, exclusive=True)
    journal = CopyJournal(
        media_name=original.name,
        backup_name=backup.name,
        device=current.st_dev,
        inode=current.st_ino,
        original_size=current.st_size,
        mtime_ns=current.st_mtime_ns,
        output_size=output_size,
        output_sha256=_sha256(output),
        samples=samples,
        original_hashes=_sample_hashes(backup, samples),
        output_hashes=_sample_hashes(output, samples),
        pid=os.getpid(),
        host=this_host(),
    )
    journal_file = _write_copy_journal(original, journal)
    try:
        check_identity(original, FileIdentity.of(current), step="the copy into it")
    except BaseException:
        remove_quietly(backup)
        journal_file.unlink()
        raise
    try:
        written = _copy(output, original, exclusive=False)
        if _sha256(original) != written or written != journal.output_sha256:
            raise VerificationError(original, "the copy into the original file is incomplete")
        if preserve_mtime:
            os.utime(original, ns=(current.st_atime_ns, current.st_mtime_ns))
    except BaseException:
        _restore_from_backup(original, backup, journal)
        remove_quietly(backup)
        journal_file.unlink()
        fsync_directory(original.parent)
        raise
    kept = _keep_or_drop(backup, original, keep_backup=keep_backup)
    journal_file.unlink()
    fsync_directory(original.parent)
    return kept


def _keep_or_drop(backup: Path, original: Path, *, keep_backup: bool) -> Path | None:
    if not keep_backup:
        backup.unlink()
        return None
    kept = free_backup_path(original)
    backup.rename(kept)
    return kept


def _write_copy_journal(original: Path, journal: CopyJournal) -> Path:
    target = original.parent / journal_name(original.name)
    staging = original.parent / temp_name(
        target.name, journal.pid, "00000000", journal.host or None
    )
    write_durably(target, encode_copy_journal(journal), staging=staging)
    return target


def _copy(source: Path, target: Path, *, exclusive: bool) -> str:
    """Copy the bytes of ``source`` into ``target`` (a new file, or the existing inode
    written from offset 0 and truncated), fsync; returns the sha256 of what was written."""
    flags = os.O_WRONLY | os.O_CLOEXEC | (os.O_CREAT | os.O_EXCL if exclusive else 0)
    digest = hashlib.sha256()
    with source.open("rb") as reader:
        fd = os.open(target, flags, 0o600)
        try:
            offset = 0
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                view = memoryview(chunk)
                while view:
                    done = os.pwrite(fd, view, offset)
                    view, offset = view[done:], offset + done
            os.ftruncate(fd, offset)
            os.fsync(fd)
        finally:
            os.close(fd)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sample_hashes(path: Path, samples: Sequence[tuple[int, int]]) -> tuple[str, ...]:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return tuple(
            hashlib.sha256(os.pread(fd, end - start, start)).hexdigest() for start, end in samples
        )
    finally:
        os.close(fd)


def _restore_from_backup(original: Path, backup: Path, journal: CopyJournal) -> None:
    _copy(backup, original, exclusive=False)
    with contextlib.suppress(PermissionError):  # only the owner may set times
        os.utime(original, ns=(journal.mtime_ns, journal.mtime_ns))


def copy_state(seen: Sequence[str]) -> str | None:
    """Pure: given what each sample shows now ("output", "original", "both" where the
    two contents are equal, or "neither"), None if that is a copy-back cut off
    somewhere (output first, at most one sample cut by the crash, then original),
    else the reason it is another file."""
    order = [s for s in seen if s != "both"]
    index = 0
    while index < len(order) and order[index] == "output":
        index += 1
    if index < len(order) and order[index] == "neither":
        index += 1
    while index < len(order) and order[index] == "original":
        index += 1
    if index == len(order):
        return None
    return "other content (sampled bytes are neither the original's nor vpo's output)"


def recover_copy_back(journal_file: Path, media: Path, journal: CopyJournal) -> tuple[str, str]:
    """Finish an interrupted copy-back; returns (outcome, detail) with outcome
    "restored", "finished", "foreign" or "failed". The caller holds the lock."""
    backup = media.parent / journal.backup_name
    try:
        info = media.stat()
    except FileNotFoundError:
        return "failed", f"{media.name} no longer exists; backup kept as {backup.name}"
    if (info.st_dev, info.st_ino) != (journal.device, journal.inode):
        return "foreign", "another file (different device or inode)"
    seen = _classify(media, journal)
    reason = copy_state(seen)
    if reason is not None:
        return "foreign", reason
    if info.st_size == journal.output_size and _sha256(media) == journal.output_sha256:
        remove_quietly(backup)
        journal_file.unlink()
        fsync_directory(media.parent)
        return "finished", "the interrupted copy of vpo's verified output had completed"
    if not backup.exists() or backup.stat().st_size != journal.original_size:
        return "failed", f"backup {backup.name} is missing or incomplete; left alone"
    _restore_from_backup(media, backup, journal)
    backup.unlink()
    journal_file.unlink()
    fsync_directory(media.parent)
    return "restored", "restored from its backup after an interrupted copy-back"


def _classify(media: Path, journal: CopyJournal) -> list[str]:
    fd = os.open(media, os.O_RDONLY | os.O_CLOEXEC)
    try:
        seen: list[str] = []
        for (start, end), before, after in zip(
            journal.samples, journal.original_hashes, journal.output_hashes, strict=True
        ):
            now = hashlib.sha256(os.pread(fd, end - start, start)).hexdigest()
            if now == after == before:
                seen.append("both")
            else:
                seen.append(
                    "output" if now == after else "original" if now == before else "neither"
                )
        return seen
    finally:
        os.close(fd)
