"""How a path becomes the library's key: absolute, with directory symlinks resolved.

``process .`` and ``process /abs/path`` (or a path through a symlinked directory)
must find the same row, so every path is normalised at the library boundary:
made absolute against the current directory, ``.``/``..`` removed, and the
*directory* part resolved with ``realpath``. The last component is kept as it is
(a symlinked file stays the name it was found under), and so are the bytes of
every name: NFC and NFD spellings are different names to Linux file systems and
are stored as the file system has them. This reads the file system (one lstat per
directory component), which is why it lives here and not in the pure ``rows``.
"""

# ruff: noqa: PTH109, PTH116, PTH117, PTH118
# (str and os.path on purpose: this runs once per file lookup, and pathlib objects
# cost several times the two stats it needs)
from __future__ import annotations

import os
from pathlib import Path

_CACHE_LIMIT = 4096
# directory as given → (resolved, device, inode). A hit is trusted only while the
# directory as given and the resolved path are still that same directory (two stats
# instead of one lstat per component: a rescan of 10,000 files pays ~0.1 s, not 0.7 s).
_resolved: dict[str, tuple[str, int, int]] = {}


def normalise(path: Path) -> Path:
    """The key under which ``path`` is stored (see the module text)."""
    return Path(os.fsdecode(db_key(path)))


def db_key(path: Path) -> bytes:
    """normalise(path) as the raw bytes the database stores (no Path objects made)."""
    text = os.fspath(path)
    directory, name = os.path.split(text)
    if name in ("", ".", ".."):  # the root, or a directory given as . or ..
        return os.fsencode(Path(text).resolve())
    resolved = _resolve_directory(directory or ".")
    return os.fsencode(resolved + name if resolved.endswith("/") else f"{resolved}/{name}")


def normalise_directory(path: Path) -> Path:
    """A directory given as a root (``vpo scan DIR``): resolved completely, since the
    files below it are stored under the resolved path."""
    return Path(path).resolve()


def _resolve_directory(directory: str) -> str:
    key = directory if os.path.isabs(directory) else os.path.join(os.getcwd(), directory)
    try:
        info = os.stat(key)
    except OSError:
        return os.path.realpath(key)  # gone or not a real directory: nothing to cache
    cached = _resolved.get(key)
    if cached is not None and (cached[1], cached[2]) == (info.st_dev, info.st_ino):
        if cached[0] == key:  # no symlink on the way: the stat above was the check
            return key
        try:
            again = os.stat(cached[0])
        except OSError:
            again = None
        if again is not None and (again.st_dev, again.st_ino) == (info.st_dev, info.st_ino):
            return cached[0]
    resolved = os.path.realpath(key)
    if len(_resolved) >= _CACHE_LIMIT:
        _resolved.clear()
    _resolved[key] = (resolved, info.st_dev, info.st_ino)
    return resolved
