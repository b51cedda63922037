"""What a rename or a deletion reported by Sonarr/Radarr changes in the library."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from vpo.library import Library
from vpo.library.records import FileStatus, MovedFile, StatKey


def forget_deleted(library: Library, paths: Sequence[Path]) -> int:
    """Stored files that are gone from disk are marked missing; returns how many."""
    known = [
        path
        for path in paths
        if not os.path.lexists(path)
        and (state := library.file_state(path)) is not None
        and state.status is not FileStatus.MISSING
    ]
    library.mark_missing(known)
    return len(known)


def follow_renames(library: Library, pairs: Sequence[tuple[Path, Path]]) -> int:
    """Stored rows move to the new name (tracks, history kept); returns how many moved."""
    moves = []
    for old, new in pairs:
        if library.file_state(old) is None or library.file_state(new) is not None:
            continue
        try:
            key = StatKey.of(new.stat())
        except OSError:
            continue
        moves.append(MovedFile(old, new, key.ctime_ns))
    library.write_scan_batch(moved=moves)
    return len(moves)
