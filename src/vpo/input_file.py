"""Reading a small input file (a policy, the config file) without trusting its path.

A path a user gives may name ``/dev/zero`` (endless bytes: MemoryError), a FIFO
(``open`` waits for a writer forever), a directory, or a regular file far larger
than any policy. ``read_input_file`` refuses all of these before parsing:

- it ``stat``s first and opens only regular files, and opens with
  ``O_NONBLOCK`` so that a path swapped for a FIFO between the two calls still
  cannot block (``fstat`` of the open descriptor is checked again);
- it refuses a file whose size exceeds ``limit``, and reads at most
  ``limit + 1`` bytes, so a file that grows while being read is refused too.

Directories raise IsADirectoryError and missing files FileNotFoundError, as
``Path.read_bytes`` would, so callers keep their wording for those.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class InputRefused(Exception):
    """The path exists but is not a file vpo will read; ``reason`` completes
    "<path>: …" in a one-line message ("is a FIFO (named pipe); a policy file
    must be a regular file")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def describe_size(size: int) -> str:
    """``1 MiB``, ``256 KiB``, ``10.0 MiB``: sizes in messages and docs."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            whole, rest = divmod(size, scale)
            return f"{whole} {unit}" if rest == 0 else f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _refuse_unless_regular(mode: int, path: Path, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(mode):
        raise InputRefused(f"is {_kind(mode)}; a {what} must be a regular file")


def _too_large(size_text: str, limit: int, what: str) -> InputRefused:
    return InputRefused(f"is {size_text}; a {what} may be at most {describe_size(limit)}")


def read_input_file(path: Path, limit: int, what: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises FileNotFoundError, IsADirectoryError, PermissionError (other
    OSErrors too) like ``Path.read_bytes``, and InputRefused for anything that
    is not a regular file or is larger than ``limit``; ``what`` ("policy file")
    names the file in InputRefused's reason.
    """
    _refuse_unless_regular(path.stat().st_mode, path, what)
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(descriptor)
        _refuse_unless_regular(info.st_mode, path, what)
        if info.st_size > limit:
            raise _too_large(describe_size(info.st_size), limit, what)
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise _too_large("growing while being read", limit, what)
    return data
