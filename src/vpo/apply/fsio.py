"""Durability helpers: a rename is only atomic *and* durable after the right fsyncs."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import cast


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Persist a directory entry change (create, rename, unlink)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes, *, staging: Path) -> None:
    """Write ``data`` to ``staging``, fsync it, rename it to ``path``, fsync the directory.

    Readers see either no file or the complete one, never a partial write.
    """
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            staging.unlink()
        raise
    os.close(fd)
    staging.replace(path)
    fsync_directory(path.parent)


def copy_durably(source: Path, target: Path) -> None:
    """Copy file contents (no metadata) and fsync the copy."""
    shutil.copyfile(source, target)
    fsync_file(target)


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def same_filesystem(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP}


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2, looked up on first use (ctypes is not imported at start-up)."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return cast("Callable[..., int]", function)


def _rename2(source: Path, target: Path, flags: int) -> bool:
    """renameat2(2) with ``flags``; False when the platform or file system lacks it."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), flags) == 0:
        return True
    import ctypes  # loaded by _renameat2 already

    code = ctypes.get_errno()
    if code in _UNSUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(source), None, str(target))


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap the two names (Linux ``RENAME_EXCHANGE``): both must exist.

    False when unsupported (other OS, old kernel, a file system without it): the
    caller falls back to a plain rename. Raises FileNotFoundError when one is gone.
    """
    return _rename2(a, b, _RENAME_EXCHANGE)


def rename_no_replace(source: Path, target: Path) -> None:
    """Rename, but never over an existing ``target`` (FileExistsError instead);
    falls back to link + unlink where ``RENAME_NOREPLACE`` is unsupported."""
    if not _rename2(source, target, _RENAME_NOREPLACE):
        target.hardlink_to(source)
        source.unlink()
