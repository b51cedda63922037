"""Temp output files and the atomic replace of the original."""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from vpo.apply.copyback import copy_back as copy_back_output
from vpo.apply.errors import ApplyError, FileChangedError, VerificationError
from vpo.apply.fsio import (
    copy_durably,
    exchange,
    fsync_directory,
    remove_quietly,
    rename_no_replace,
)
from vpo.apply.host import this_host
from vpo.apply.identity import FileIdentity, changed_error, check_identity, difference, identity_at
from vpo.apply.names import free_backup_path, temp_name
from vpo.media.model import MediaFile


@contextmanager
def temp_output(directory: Path, final_name: str) -> Iterator[Path]:
    """A new, locked, empty ``.vpo-tmp-<pid>@<host>-<token>-<name>`` that is removed on exit
    unless it was renamed away, also from where it is now if its directory was
    renamed meanwhile. The flock tells recovery its writer is alive."""
    path = directory / temp_name(final_name, os.getpid(), secrets.token_hex(4), this_host())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield path
    finally:
        moved = None if path.exists() else _where_now(fd, path.name)
        os.close(fd)
        remove_quietly(moved or path)


def _where_now(fd: int, name: str) -> Path | None:
    """Where an open temp is now, if its directory was renamed meanwhile (Linux
    /proc/self/fd); None when it was renamed away (installed) or deleted."""
    try:
        current = Path(f"/proc/self/fd/{fd}").readlink()
    except OSError:
        return None
    return current if current.name == name and current.exists() else None


def copy_file_attributes(
    original: Path, info: os.stat_result, target: Path, *, preserve_mtime: bool
) -> None:
    """Give the output the original's owner and group, permission bits, extended
    attributes (``user.*``, POSIX ACLs as ``system.posix_acl_*``…) and mtime.

    Preflight refused files whose owner cannot be carried over, so a failure here is
    an error (the original stays), never a silent loss.
    """
    if (target.stat().st_uid, target.stat().st_gid) != (info.st_uid, info.st_gid):
        os.chown(target, info.st_uid, info.st_gid)
    target.chmod(stat.S_IMODE(info.st_mode))
    try:
        names = _xattr_names(original)
    except FileNotFoundError as error:
        raise changed_error(original, "moved away or deleted", "the rename over it") from error
    for name in names:
        if name == _SELINUX:
            continue  # the new file's label comes from the policy, not from its name
        try:
            value = os.getxattr(original, name, follow_symlinks=False)
            if _xattr(target, name) != value:
                os.setxattr(target, name, value, follow_symlinks=False)
        except OSError as error:
            raise ApplyError(
                original,
                f"cannot carry over extended attribute {name}: {error.strerror}; "
                "the original is unchanged",
            ) from error
    if preserve_mtime:
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))


_SELINUX = "security.selinux"


def _xattr_names(path: Path) -> list[str]:
    try:
        return os.listxattr(path, follow_symlinks=False)
    except OSError as error:
        if error.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return []
        raise


def _xattr(path: Path, name: str) -> bytes | None:
    try:
        return os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        return None


def replace_original(
    original: Path,
    destination: Path,
    output: Path,
    *,
    planned: FileIdentity,
    keep_backup: bool,
) -> Path | None:
    """Put ``output`` at ``destination`` atomically, only if ``original`` is still the
    ``planned`` file; it goes away or to a backup. Returns the backup path, if kept.

    Raises FileChangedError (nothing replaced) when another program replaced,
    edited, appended to or deleted the original. Same path: ``renameat2``
    (RENAME_EXCHANGE) swaps the two names in one step, then the swapped-out file is
    checked once more and swapped back if it is not the planned one, so a file
    moved in between check and swap survives (docs/apply.md, "the window").
    Conversion (new extension): link(2) puts the output at the new name (never
    clobbering), the original is renamed aside, checked, then removed.
    """
    step = "the rename over it"
    check_identity(original, planned, step=step)
    if destination == original:
        swapped = _swap_in(original, output, planned, step)
        if swapped is None:  # no RENAME_EXCHANGE here
            return _plain_rename(original, output, planned, step, keep_backup=keep_backup)
        old: Path = swapped
    else:
        destination.hardlink_to(output)
        try:
            old = _move_aside(original, planned, step)
        except BaseException:
            remove_quietly(destination)
            raise
        output.unlink()
    backup: Path | None = None
    if keep_backup:
        backup = free_backup_path(original)
        rename_no_replace(old, backup)
    else:
        old.unlink()
    fsync_directory(destination.parent)
    return backup


def _swap_in(original: Path, output: Path, planned: FileIdentity, step: str) -> Path | None:
    """Exchange ``output`` and ``original``; returns the name now holding the old file,
    None when the platform cannot exchange (nothing was done)."""
    try:
        swapped = exchange(output, original)
    except FileNotFoundError as error:
        raise changed_error(original, "moved away or deleted", step) from error
    if not swapped:
        return None
    change = difference(planned, identity_at(output), renamed=True)
    if change is not None:
        exchange(output, original)  # the other program's file goes back to its name
        raise changed_error(original, change, step)
    return output


def _plain_rename(
    original: Path, output: Path, planned: FileIdentity, step: str, *, keep_backup: bool
) -> Path | None:
    """Where RENAME_EXCHANGE is unsupported: (link a backup,) check, rename; the
    window is the time between one stat and the rename."""
    backup: Path | None = None
    if keep_backup:
        backup = free_backup_path(original)
        backup.hardlink_to(original)
        planned = replace(planned, ctime_ns=backup.lstat().st_ctime_ns)  # the link sets it
    try:
        check_identity(original, planned, step=step)
    except FileChangedError:
        if backup is not None:
            remove_quietly(backup)
        raise
    output.replace(original)
    fsync_directory(original.parent)
    return backup


def _move_aside(original: Path, planned: FileIdentity, step: str) -> Path:
    """Rename the original to a temp name (atomic), then check what was moved; a file
    that is not the planned one goes back to its name."""
    aside = original.parent / temp_name(
        original.name, os.getpid(), secrets.token_hex(4), this_host()
    )
    try:
        original.rename(aside)
    except FileNotFoundError as error:
        raise changed_error(original, "moved away or deleted", step) from error
    change = difference(planned, identity_at(aside), renamed=True)
    if change is not None:
        rename_no_replace(aside, original)
        raise changed_error(original, change, step)
    return aside


def install_output(
    original: Path,
    current: os.stat_result,
    verified: Path,
    destination: Path,
    *,
    staged_elsewhere: bool,
    preserve_mtime: bool,
    keep_backup: bool,
    copy_back: bool = False,
) -> Path | None:
    """Put a verified output in place of ``original``; returns the backup, if kept.

    ``verified`` is renamed over the original; when it was written on another
    filesystem (temp or scratch dir) a rename cannot cross, so it is first copied
    into a temp beside the original (fsynced, size-checked). With ``copy_back``
    (``[jobs] replace = "copy"``) it is copied into the original's inode instead
    (vpo.apply.copyback). Nothing is replaced
    (FileChangedError) unless the original is still the file ``current`` describes.
    """
    planned = FileIdentity.of(current)
    if copy_back and destination == original:
        return copy_back_output(
            original, current, verified, preserve_mtime=preserve_mtime, keep_backup=keep_backup
        )
    if not staged_elsewhere:
        copy_file_attributes(original, current, verified, preserve_mtime=preserve_mtime)
        return replace_original(
            original, destination, verified, planned=planned, keep_backup=keep_backup
        )
    with temp_output(original.parent, destination.name) as staged:
        copy_durably(verified, staged)
        if staged.stat().st_size != verified.stat().st_size:
            raise VerificationError(original, "the copy into the media directory is incomplete")
        copy_file_attributes(original, current, staged, preserve_mtime=preserve_mtime)
        return replace_original(
            original, destination, staged, planned=planned, keep_backup=keep_backup
        )


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
