"""Temp output files and the atomic replace of the original."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from vpo.apply.errors import VerificationError
from vpo.apply.fsio import copy_durably, fsync_directory, remove_quietly
from vpo.apply.names import backup_name, temp_name
from vpo.media.model import MediaFile


@contextmanager
def temp_output(directory: Path, final_name: str) -> Iterator[Path]:
    """A new, locked, empty ``.vpo-tmp-<pid>-<token>-<name>`` that is removed on exit
    unless it was renamed away. The flock tells recovery its writer is alive."""
    path = directory / temp_name(final_name, os.getpid(), secrets.token_hex(4))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield path
    finally:
        os.close(fd)
        remove_quietly(path)


def copy_file_attributes(original: os.stat_result, target: Path, *, preserve_mtime: bool) -> None:
    """Give the output the original's permission bits, owner (when allowed) and mtime."""
    target.chmod(stat.S_IMODE(original.st_mode))
    with contextlib.suppress(PermissionError):
        os.chown(target, original.st_uid, original.st_gid)
    if preserve_mtime:
        os.utime(target, ns=(original.st_atime_ns, original.st_mtime_ns))


def free_backup_path(original: Path) -> Path:
    for attempt in range(1000):
        candidate = original.parent / backup_name(original.name, attempt)
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"too many backups of {original}")


def replace_original(
    original: Path, destination: Path, output: Path, *, keep_backup: bool
) -> Path | None:
    """Put ``output`` at ``destination`` atomically; the original goes away or to a backup.

    Same path: one rename(2), so readers see the old or the new file, never neither.
    Conversion (new extension): link(2) refuses to clobber an existing file, then the
    original is removed; a crash in between leaves both files, never neither.
    Returns the backup path when one was kept.
    """
    backup: Path | None = None
    if keep_backup:
        backup = free_backup_path(original)
        backup.hardlink_to(original)
    if destination == original:
        output.replace(destination)
    else:
        destination.hardlink_to(output)
        output.unlink()
        original.unlink()
    fsync_directory(destination.parent)
    return backup


def install_output(
    original: Path,
    current: os.stat_result,
    verified: Path,
    destination: Path,
    *,
    staged_elsewhere: bool,
    preserve_mtime: bool,
    keep_backup: bool,
) -> Path | None:
    """Put a verified output in place of ``original``; returns the backup, if kept.

    ``verified`` is renamed over the original; when it was written on another
    filesystem (temp or scratch dir) a rename cannot cross, so it is first copied
    into a temp beside the original (fsynced, size-checked).
    """
    if not staged_elsewhere:
        copy_file_attributes(current, verified, preserve_mtime=preserve_mtime)
        return replace_original(original, destination, verified, keep_backup=keep_backup)
    with temp_output(original.parent, destination.name) as staged:
        copy_durably(verified, staged)
        if staged.stat().st_size != verified.stat().st_size:
            raise VerificationError(original, "the copy into the media directory is incomplete")
        copy_file_attributes(current, staged, preserve_mtime=preserve_mtime)
        return replace_original(original, destination, staged, keep_backup=keep_backup)


def with_stat(media: MediaFile, path: Path) -> MediaFile:
    """``media`` as it now is on disk at ``path``: final name, size, mtime, inode."""
    info = path.stat()
    return replace(
        media,
        path=path,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        inode=info.st_ino,
        device=info.st_dev,
    )
