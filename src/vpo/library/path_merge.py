"""Schema 3's data step: store every path normalised and merge the duplicates.

Before schema 3 paths were stored as typed, so ``process .`` then
``process /abs/path`` made two rows for one file (and ``vpo status`` counted it
twice). This step gives every row of ``files`` its normalised key
(vpo.library.paths) and merges rows that share one:

* an absolute path is normalised (its directory symlinks resolved);
* a relative path was relative to a working directory nobody recorded. It is
  kept (made absolute) only if it names, from the current directory, the very
  file the row describes (same device and inode); otherwise the row is dropped
  from the cache (the file is probed again by the next scan or process; its
  processing records stay, like those of a pruned file);
* rows sharing a key are merged into the most recently updated one (the
  freshest probe); the others' processing records are pointed at it.

Runs inside the migration's transaction, after a backup of the database.
"""

from __future__ import annotations

import os
import sqlite3
from collections import defaultdict
from pathlib import Path

from vpo.library.paths import normalise


def merge_duplicate_paths(connection: sqlite3.Connection) -> None:
    groups: dict[bytes, list[tuple[int, float]]] = defaultdict(list)
    dropped: list[int] = []
    found = connection.execute("SELECT id, path, device, inode, updated_at FROM files")
    for file_id, stored, device, inode, updated_at in found.fetchall():
        key = _key(bytes(stored), device, inode)
        if key is None:
            dropped.append(file_id)
        else:
            groups[key].append((file_id, updated_at))
    renames: list[tuple[int, bytes]] = []
    for key, members in groups.items():
        members.sort(key=lambda member: (member[1], member[0]), reverse=True)
        keep, *others = (file_id for file_id, _ in members)
        for other in others:
            connection.execute(
                "UPDATE file_results SET file_id = ? WHERE file_id = ?", (keep, other)
            )
            dropped.append(other)
        renames.append((keep, key))
    connection.executemany("DELETE FROM files WHERE id = ?", [(i,) for i in dropped])
    # Two steps, so a row never takes a path another row still holds.
    connection.executemany(
        "UPDATE files SET path = ? WHERE id = ?",
        [(b"\0vpo-v3-" + str(file_id).encode(), file_id) for file_id, _ in renames],
    )
    connection.executemany(
        "UPDATE files SET path = ? WHERE id = ?", [(key, file_id) for file_id, key in renames]
    )


def _key(stored: bytes, device: int | None, inode: int | None) -> bytes | None:
    """The normalised key of a stored path, or None when it cannot be known."""
    path = Path(os.fsdecode(stored))
    if path.is_absolute():
        return os.fsencode(normalise(path))
    try:
        info = path.stat()
    except OSError:
        return None
    if inode is None or (info.st_dev, info.st_ino) != (device, inode):
        return None
    return os.fsencode(normalise(path))
