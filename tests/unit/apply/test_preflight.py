from __future__ import annotations

import os
from pathlib import Path

import pytest

from vpo.apply.errors import FileBusyError, GrowingFileError, PreflightError
from vpo.apply.preflight import (
    check_free_space,
    check_not_growing,
    check_ownership,
    check_unchanged,
    check_writable,
    space_needed,
)
from vpo.media.model import Container, MediaFile

P = Path("/lib/movie.mkv")


def test_growing_file_is_left_alone() -> None:
    with pytest.raises(GrowingFileError, match=r"modified 3\.0 s ago.*stable_seconds") as caught:
        check_not_growing(P, mtime_ns=10 * 10**9, now_ns=13 * 10**9, stable_seconds=10)
    assert caught.value.skipped
    check_not_growing(P, mtime_ns=0, now_ns=11 * 10**9, stable_seconds=10)


def test_a_future_mtime_is_judged_by_the_ctime_not_skipped_forever() -> None:
    year = 365 * 24 * 3600 * 10**9
    now = 100 * year
    check_not_growing(P, mtime_ns=now + year, now_ns=now, stable_seconds=10, ctime_ns=now - year)
    with pytest.raises(GrowingFileError, match=r"modified 2\.0 s ago"):
        check_not_growing(
            P, mtime_ns=now + year, now_ns=now, stable_seconds=10, ctime_ns=now - 2 * 10**9
        )


def test_free_space_message_names_path_need_and_free() -> None:
    with pytest.raises(PreflightError) as caught:
        check_free_space(P, Path("/lib"), needed=2_000_000_000, free=500_000_000)
    text = str(caught.value)
    assert text.startswith("/lib/movie.mkv: not enough free space in /lib")
    assert "need 2000.0 MB, 500.0 MB free" in text
    check_free_space(P, Path("/lib"), needed=10, free=10)


def test_space_needed_covers_the_input_with_margin() -> None:
    assert space_needed(10**9) >= 10**9 * 1.02
    assert space_needed(0) > 0


@pytest.mark.parametrize(
    ("mode", "file_ok", "dir_ok", "message"),
    [
        (0o100444, True, True, "read-only file"),
        (0o100644, False, True, "read-only file"),
        (0o100644, True, False, "directory /lib is not writable"),
        (0o040755, True, True, "not a regular file"),
    ],
)
def test_unwritable_is_refused(mode: int, file_ok: bool, dir_ok: bool, message: str) -> None:
    with pytest.raises(PreflightError, match=message):
        check_writable(P, mode, file_writable=file_ok, dir_writable=dir_ok)


def test_writable_passes() -> None:
    check_writable(P, 0o100644, file_writable=True, dir_writable=True)


def test_changed_since_probe_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "m.mkv"
    file.write_bytes(b"x" * 10)
    info = file.stat()
    probed = MediaFile(file, Container.MATROSKA, 10, info.st_mtime_ns, (), inode=info.st_ino)
    check_unchanged(file, probed, info)
    with pytest.raises(PreflightError, match="changed since it was probed"):
        check_unchanged(file, MediaFile(file, Container.MATROSKA, 11, info.st_mtime_ns, ()), info)
    other = MediaFile(file, Container.MATROSKA, 10, info.st_mtime_ns, (), inode=info.st_ino + 1)
    with pytest.raises(PreflightError, match="different inode"):
        check_unchanged(file, other, file.stat())


def test_only_busy_and_growing_files_count_as_skipped() -> None:
    assert FileBusyError(P, "busy").skipped
    assert not PreflightError(P, "read-only").skipped


def _stat(uid: int, gid: int, nlink: int = 1) -> os.stat_result:
    return os.stat_result((0o100664, 1, 1, nlink, uid, gid, 100, 0, 0, 0))


@pytest.mark.parametrize(
    ("info", "euid", "rewrite", "preserve_mtime", "refused"),
    [
        (_stat(1000, 100), 1000, True, True, None),  # own file in own group
        (_stat(1000, 100), 0, True, True, None),  # root may chown anything
        (_stat(2000, 100), 1000, True, False, "a rewritten file would be yours"),
        (_stat(1000, 300), 1000, True, False, "a rewritten file would be yours"),  # not my group
        (_stat(2000, 100), 1000, False, True, "only the owner can keep"),
        (_stat(2000, 100), 1000, False, False, None),  # in place, mtime not kept: fine
        (_stat(1000, 100, nlink=2), 0, True, True, "has 2 hard links"),
        (_stat(1000, 100, nlink=2), 0, False, True, None),  # in place writes the shared inode
    ],
)
def test_check_ownership(
    info: os.stat_result, euid: int, rewrite: bool, preserve_mtime: bool, refused: str | None
) -> None:
    def check() -> None:
        check_ownership(
            Path("m.mkv"),
            info,
            euid=euid,
            groups=frozenset({100, 200}),
            rewrite=rewrite,
            preserve_mtime=preserve_mtime,
        )

    if refused is None:
        check()
    else:
        with pytest.raises(PreflightError, match=refused):
            check()
