"""Find the media files under the paths a user names.

The walk streams: one directory is listed (and sorted, so runs are
deterministic) at a time, and files are yielded as they are met, so memory
depends on the largest single directory and the number of directories, never
on the number of files. Each real file is yielded once even when hard links,
symlinks or overlapping arguments reach it several times, and symlink loops
end the moment a directory is met a second time.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

OnError = Callable[[Path, str], None]

# Every file vpo writes beside a media file (temp output, journal, lock) starts with this.
VPO_FILE_PREFIX = ".vpo-"

_FileIdentity = tuple[int, int]  # (st_dev, st_ino)


def iter_media_files(
    paths: Sequence[Path],
    extensions: Collection[str],
    *,
    recursive: bool = True,
    on_error: OnError,
) -> Iterator[Path]:
    """Yield the media files named by or found under ``paths``, each real file once.

    Directories are walked in sorted order (depth first; hidden entries and
    vpo's own ``.vpo-`` files skipped; symlinks followed, loops cut). A file
    named explicitly is yielded whatever its extension. Paths that are missing
    or unreadable are reported through ``on_error(path, cause)`` and skipped.
    """
    walker = _Walker(normalize_extensions(extensions), recursive, on_error)
    for path in paths:
        yield from walker.walk_argument(Path(path))


def normalize_extensions(extensions: Collection[str]) -> frozenset[str]:
    """Lower-case extensions without a leading dot (``".MKV"`` → ``"mkv"``)."""
    return frozenset(e.strip().lower().lstrip(".") for e in extensions if e.strip(". "))


def has_media_extension(name: str, extensions: frozenset[str]) -> bool:
    """True when ``name`` ends in one of ``extensions`` (case-insensitive)."""
    _, dot, suffix = name.rpartition(".")
    return bool(dot) and suffix.lower() in extensions


def is_ignored_name(name: str) -> bool:
    """Hidden entries, which include vpo's own temp, journal and lock files."""
    return name.startswith(".")


def describe_os_error(error: OSError) -> str:
    """A short lower-case cause such as ``permission denied``."""
    text = error.strerror or type(error).__name__
    return text[:1].lower() + text[1:]


class _Walker:
    """State shared across the arguments of one call: what has been seen already."""

    def __init__(self, extensions: frozenset[str], recursive: bool, on_error: OnError) -> None:
        self._extensions = extensions
        self._recursive = recursive
        self._on_error = on_error
        self._visited_dirs: set[_FileIdentity] = set()
        # Only files that can be reached twice are remembered: hard links and files
        # reached outside a plain directory walk (symlinks, explicit arguments).
        self._claimed_files: set[_FileIdentity] = set()

    def walk_argument(self, path: Path) -> Iterator[Path]:
        try:
            info = path.stat()
        except FileNotFoundError:
            cause = "broken symbolic link" if path.is_symlink() else "no such file or directory"
            self._on_error(path, cause)
            return
        except OSError as error:
            self._on_error(path, describe_os_error(error))
            return
        if stat.S_ISDIR(info.st_mode):
            yield from self._walk_tree(path, info)
        elif not stat.S_ISREG(info.st_mode):
            self._on_error(path, "not a regular file or directory")
        elif path.name.startswith(VPO_FILE_PREFIX):
            self._on_error(path, "a temporary file of vpo itself; skipped")
        elif self._claim_outside_walk(path, info):
            yield path

    def _walk_tree(self, root: Path, info: os.stat_result) -> Iterator[Path]:
        stack: list[tuple[Path, Iterator[os.DirEntry[str]]]] = []
        self._enter(root, info, stack)
        while stack:
            directory, entries = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
                continue
            if is_ignored_name(entry.name):
                continue
            path = directory / entry.name
            try:
                if self._visit(entry, path, stack):
                    yield path
            except FileNotFoundError:
                continue  # vanished between listing and looking: nothing to scan
            except OSError as error:
                self._on_error(path, describe_os_error(error))

    def _visit(
        self,
        entry: os.DirEntry[str],
        path: Path,
        stack: list[tuple[Path, Iterator[os.DirEntry[str]]]],
    ) -> bool:
        """Handle one directory entry; True when it is a media file to yield."""
        if entry.is_symlink():
            try:
                info = path.stat()
            except FileNotFoundError:
                self._on_error(path, "broken symbolic link")
                return False
            if stat.S_ISDIR(info.st_mode):
                if self._recursive:
                    self._enter(path, info, stack)
                return False
            return (
                stat.S_ISREG(info.st_mode)
                and has_media_extension(entry.name, self._extensions)
                and self._claim_outside_walk(path, info)
            )
        if entry.is_dir(follow_symlinks=False):
            if self._recursive:
                self._enter(path, entry.stat(follow_symlinks=False), stack)
            return False
        if not entry.is_file(follow_symlinks=False):
            return False
        if not has_media_extension(entry.name, self._extensions):
            return False
        info = entry.stat(follow_symlinks=False)
        identity = (info.st_dev, info.st_ino)
        if identity in self._claimed_files:
            return False
        if info.st_nlink > 1:
            self._claimed_files.add(identity)
        return True

    def _enter(
        self,
        directory: Path,
        info: os.stat_result,
        stack: list[tuple[Path, Iterator[os.DirEntry[str]]]],
    ) -> None:
        identity = (info.st_dev, info.st_ino)
        if identity in self._visited_dirs:
            return  # a loop, or a tree another argument or symlink already covered
        self._visited_dirs.add(identity)
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except FileNotFoundError:
            self._on_error(directory, "no such file or directory")
            return
        except OSError as error:
            self._on_error(directory, describe_os_error(error))
            return
        stack.append((directory, iter(entries)))

    def _claim_outside_walk(self, path: Path, info: os.stat_result) -> bool:
        """Decide for a file reached through a symlink or named explicitly.

        It is skipped when already yielded, or when it lives in a directory this
        call walks (or is walking) under a name that walk accepts: the walk
        yields it there.
        """
        identity = (info.st_dev, info.st_ino)
        if identity in self._claimed_files:
            return False
        real = Path(os.path.realpath(path))
        try:
            parent = real.parent.stat()
        except OSError:
            parent = None
        walked_there = (
            parent is not None
            and (parent.st_dev, parent.st_ino) in self._visited_dirs
            and not is_ignored_name(real.name)
            and has_media_extension(real.name, self._extensions)
        )
        if walked_there:
            return False
        self._claimed_files.add(identity)
        return True
