"""The pure identity comparison behind "changed during processing"."""

from __future__ import annotations

import pytest

from vpo.apply.identity import FileIdentity, difference

PLANNED = FileIdentity(device=1, inode=2, size=1000, mtime_ns=10, ctime_ns=20)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (None, "moved away or deleted"),
        (FileIdentity(1, 9, 1000, 10, 20), "replaced by another file"),
        (FileIdentity(7, 2, 1000, 10, 20), "replaced by another file"),
        (FileIdentity(1, 2, 1900, 10, 20), "size 1000 → 1900 bytes"),
        (FileIdentity(1, 2, 1000, 11, 20), "modified (mtime changed)"),
        (FileIdentity(1, 2, 1000, 10, 21), "modified (ctime changed)"),
        (PLANNED, None),
    ],
)
def test_difference_names_the_change(now: FileIdentity | None, expected: str | None) -> None:
    assert difference(PLANNED, now) == expected


def test_after_vpo_renamed_the_file_its_ctime_is_not_compared() -> None:
    moved = FileIdentity(1, 2, 1000, 10, 99)
    assert difference(PLANNED, moved, renamed=True) is None
    assert difference(PLANNED, FileIdentity(1, 2, 1001, 10, 99), renamed=True) is not None
