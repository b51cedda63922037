"""Per-file lock: one writer per media file across threads and processes.

An ``flock`` on the media file itself: no lock file to go stale (the kernel
drops the lock when its holder dies, even after kill -9), nothing written
beside the media, and two opens in one process conflict just like two processes.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vpo.apply.errors import FileBusyError, PreflightError


@contextmanager
def locked_file(path: Path) -> Iterator[os.stat_result]:
    """Hold an exclusive lock on ``path``; yields its stat at lock time.

    Raises FileBusyError when another holder has it, PreflightError when the file
    cannot be opened, or when it was replaced while we were acquiring the lock.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError as error:
        raise PreflightError(
            path, "file not found (moved or deleted since it was probed)"
        ) from error
    except PermissionError as error:
        raise PreflightError(path, "permission denied: cannot read the file") from error
    except OSError as error:
        raise PreflightError(path, f"cannot open: {error.strerror}") from error
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise FileBusyError(path, "busy: another vpo process is modifying it") from error
        except OSError as error:  # ENOLCK: NFSv3 without lockd, a share without locks
            raise PreflightError(
                path,
                f"cannot lock the file: {error.strerror or error} (on NFSv3 lockd and "
                "rpc.statd must run; see docs/distributed.md)",
            ) from error
        held = os.fstat(fd)
        try:
            current = path.stat()
        except FileNotFoundError as error:
            raise PreflightError(path, "file disappeared while being locked") from error
        if (current.st_dev, current.st_ino) != (held.st_dev, held.st_ino):
            raise FileBusyError(path, "busy: the file was replaced by another process")
        yield held
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def try_lock(path: Path) -> int | None:
    """A descriptor holding the lock on ``path``, or None if someone else holds it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
