"""Checks before anything is written: unchanged since probe, not growing, writable, space.

The decisions are pure functions of numbers; ``run_preflight`` gathers the numbers.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from vpo.apply.errors import GrowingFileError, PreflightError
from vpo.media.model import MediaFile
from vpo.tools.runner import ToolError

# a rewrite needs the input's size plus a little for container overhead
SPACE_MARGIN = 1.02
SPACE_FLOOR = 16 * 1024 * 1024


def check_unchanged(path: Path, probed: MediaFile, current: os.stat_result) -> None:
    """The plan was made from ``probed``; refuse if the file changed since."""
    if current.st_size != probed.size or current.st_mtime_ns != probed.mtime_ns:
        raise PreflightError(path, "changed since it was probed (size or mtime differ); run again")
    if probed.inode is not None and current.st_ino != probed.inode:
        raise PreflightError(path, "replaced since it was probed (different inode); run again")


def check_not_growing(
    path: Path,
    mtime_ns: int,
    now_ns: int,
    stable_seconds: float,
    *,
    ctime_ns: int | None = None,
) -> None:
    """A file modified within ``stable_seconds`` may still be downloading: leave it alone.

    An mtime in the future (a wrong clock on the machine that wrote it, ``touch -d``)
    says nothing about growth and would keep the file "growing" forever: then the
    ctime decides, which the kernel sets to its own clock at every write and no
    program can set.
    """
    changed_ns = mtime_ns
    if mtime_ns > now_ns and ctime_ns is not None:
        changed_ns = ctime_ns
    age = (now_ns - changed_ns) / 1e9
    if age < stable_seconds:
        raise GrowingFileError(
            path,
            f"modified {max(age, 0):.1f} s ago, may still be growing; left alone "
            f"(files must be unchanged for {stable_seconds:g} s, see [jobs] stable_seconds)",
        )


def check_writable(path: Path, mode: int, *, file_writable: bool, dir_writable: bool) -> None:
    """A read-only file is the user saying "do not touch"; a read-only directory
    makes a safe replace impossible."""
    if not stat.S_ISREG(mode):
        raise PreflightError(path, "not a regular file")
    if mode & 0o222 == 0 or not file_writable:
        raise PreflightError(path, "read-only file: not modified (make it writable to process it)")
    if not dir_writable:
        raise PreflightError(
            path, f"directory {path.parent} is not writable: cannot write the temp file beside it"
        )


def check_ownership(
    path: Path,
    info: os.stat_result,
    *,
    euid: int,
    groups: frozenset[int],
    rewrite: bool,
    preserve_mtime: bool,
) -> None:
    """Refuse, before any work, what vpo could only do by silently losing something.

    A rewrite renames a new file over the original: it is owned by whoever runs
    vpo, so only root, or the owner in the file's group, can give it the original
    owner and group; and it gives only this name the new content (other hard links
    keep the old inode). Only the owner (or root) may put an mtime back.
    """
    if rewrite and info.st_nlink > 1:
        raise PreflightError(
            path,
            f"has {info.st_nlink} hard links: a rewrite would split them (only this name "
            'would get the new content); not modified (set [jobs] replace = "copy" to change '
            "the file under every name, or remove the other links)",
        )
    if euid == 0:
        return
    if rewrite and (info.st_uid != euid or info.st_gid not in groups):
        raise PreflightError(
            path,
            f"owned by uid {info.st_uid} gid {info.st_gid}, vpo runs as uid {euid}: a "
            "rewritten file would be yours and its owner and group could not be carried "
            'over; not modified (set [jobs] replace = "copy" to write into the file itself, '
            "or run vpo as its owner or as root)",
        )
    if preserve_mtime and info.st_uid != euid:
        raise PreflightError(
            path,
            f"owned by uid {info.st_uid}, vpo runs as uid {euid}: only the owner can keep "
            "its modification time; not modified (set [jobs] preserve_mtime = false to "
            "edit it anyway)",
        )


def space_needed(input_size: int) -> int:
    return max(int(input_size * SPACE_MARGIN), input_size + SPACE_FLOOR)


def check_free_space(path: Path, where: Path, needed: int, free: int) -> None:
    if free < needed:
        raise PreflightError(
            path,
            f"not enough free space in {where}: need {_mb(needed)}, {_mb(free)} free "
            "(free space or set [jobs] temp_dir)",
        )


def free_bytes(directory: Path) -> int:
    usage = os.statvfs(directory)
    return usage.f_bavail * usage.f_frsize


def run_preflight(
    path: Path,
    probed: MediaFile,
    current: os.stat_result,
    *,
    stable_seconds: float,
    rewrite_into: Path | None,
    preserve_mtime: bool,
    copy_back: bool = False,
) -> None:
    """All checks for one file; ``rewrite_into`` is the temp directory of a rewrite,
    ``copy_back`` when its output will be copied into the original inode."""
    check_unchanged(path, probed, current)
    check_ownership(
        path,
        current,
        euid=os.geteuid(),
        groups=frozenset((os.getegid(), *os.getgroups())),
        rewrite=rewrite_into is not None and not copy_back,
        preserve_mtime=preserve_mtime,
    )
    check_not_growing(
        path, current.st_mtime_ns, time.time_ns(), stable_seconds, ctime_ns=current.st_ctime_ns
    )
    check_writable(
        path,
        current.st_mode,
        file_writable=os.access(path, os.R_OK | os.W_OK),
        dir_writable=os.access(path.parent, os.W_OK | os.X_OK),
    )
    if rewrite_into is not None:
        needed = space_needed(current.st_size)
        if copy_back and rewrite_into == path.parent:
            needed += current.st_size  # the durable backup beside the original
        check_free_space(path, rewrite_into, needed, free_bytes(rewrite_into))
        if copy_back and rewrite_into != path.parent:
            check_free_space(path, path.parent, current.st_size, free_bytes(path.parent))


def name_disk_full(error: ToolError, where: Path) -> ToolError:
    """A tool that ran out of space often says something else on its last line
    (ffmpeg: "Error initializing output stream 0:1 --"); when its stderr says "No
    space left on device" the error says so, naming the directory it wrote to."""
    if type(error) is not ToolError or _NO_SPACE not in error.stderr.lower():
        return error
    if _NO_SPACE in error.cause.lower():
        return error
    return ToolError(
        error.tool,
        f"no space left on {where} while writing the output; the original is unchanged "
        "(free space or set [jobs] temp_dir)",
        path=error.path,
        returncode=error.returncode,
        stderr=error.stderr,
        argv=error.argv,
    )


_NO_SPACE = "no space left on device"


def _mb(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"
