"""Is the file at a path still the one vpo planned from? (size, mtime, ctime, inode)

The identity is taken under the per-file lock, when the plan is checked against
the probe; it is compared again right before every irreversible step (the rename
over the original, the in-place edit) and, after a rename exchange, against the
file that was swapped out. The ctime catches what size and mtime miss: a program
that writes and puts the mtime back, or ``touch -d``; only the kernel sets it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vpo.apply.errors import FileChangedError


@dataclass(frozen=True, slots=True)
class FileIdentity:
    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> FileIdentity:
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def difference(
    planned: FileIdentity, now: FileIdentity | None, *, renamed: bool = False
) -> str | None:
    """Pure: what changed between the planned file and ``now`` (None: nothing).

    ``renamed``: vpo itself has just renamed the file, which sets its ctime, so the
    ctime is not compared (it was, just before the rename)."""
    if now is None:
        return "moved away or deleted"
    if (now.device, now.inode) != (planned.device, planned.inode):
        return "replaced by another file"
    if now.size != planned.size:
        return f"size {planned.size} → {now.size} bytes"
    if now.mtime_ns != planned.mtime_ns:
        return "modified (mtime changed)"
    if not renamed and now.ctime_ns != planned.ctime_ns:
        return "modified (ctime changed)"
    return None


def identity_at(path: Path) -> FileIdentity | None:
    """The identity of what ``path`` names now (not following a final symlink)."""
    try:
        return FileIdentity.of(os.lstat(path))
    except FileNotFoundError:
        return None


def check_identity(path: Path, planned: FileIdentity, *, step: str) -> None:
    """Raise FileChangedError (skipped, nothing replaced) when ``path`` is no longer
    the planned file; ``step`` names what was about to happen."""
    change = difference(planned, identity_at(path))
    if change is not None:
        raise changed_error(path, change, step)


def changed_error(path: Path, change: str, step: str) -> FileChangedError:
    return FileChangedError(
        path,
        f"changed during processing ({change}) before {step}; nothing replaced, the other "
        "program's version is kept; it will be processed again on the next run",
    )
