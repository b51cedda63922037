"""Durability helpers: a rename is only atomic *and* durable after the right fsyncs."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path


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
