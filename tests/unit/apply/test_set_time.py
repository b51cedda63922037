"""FileTransaction.set_time: file_timestamp never stamps a file vpo did not plan from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vpo.apply.errors import FileChangedError
from vpo.apply.execute import file_transaction
from vpo.apply.settings import ApplySettings
from vpo.media.model import Container, MediaFile
from vpo.tools.locate import ToolPaths

OLD = 1_500_000_000 * 1_000_000_000
RELEASE = 995_587_200 * 1_000_000_000


def probed(path: Path) -> MediaFile:
    info = path.stat()
    return MediaFile(
        path=path,
        container=Container.MATROSKA,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        tracks=(),
        inode=info.st_ino,
        device=info.st_dev,
    )


@pytest.fixture
def film(tmp_path: Path) -> Path:
    path = tmp_path / "film.mkv"
    path.write_bytes(b"x" * 100)
    os.utime(path, ns=(OLD, OLD))
    return path


def test_sets_the_time_of_the_planned_file(film: Path) -> None:
    media = probed(film)
    with file_transaction(film, ToolPaths(), ApplySettings()) as transaction:
        after = transaction.set_time(media, RELEASE)
    assert film.stat().st_mtime_ns == RELEASE == after.mtime_ns
    assert film.read_bytes() == b"x" * 100


def test_a_file_changed_since_the_probe_keeps_its_time(film: Path) -> None:
    media = probed(film)
    with film.open("ab") as out:  # another program appends after vpo probed
        out.write(b"more")
    os.utime(film, ns=(OLD, OLD))
    with (
        file_transaction(film, ToolPaths(), ApplySettings()) as transaction,
        pytest.raises(FileChangedError, match="before setting its modification time"),
    ):
        transaction.set_time(media, RELEASE)
    assert film.stat().st_mtime_ns == OLD


def test_a_file_rewritten_in_place_after_the_lock_keeps_its_time(film: Path) -> None:
    """Same size, mtime put back (a tagger that preserves times): only the ctime tells."""
    media = probed(film)
    locked_ctime = film.stat().st_ctime_ns
    with file_transaction(film, ToolPaths(), ApplySettings()) as transaction:
        while film.stat().st_ctime_ns == locked_ctime:  # until the kernel's clock ticks
            film.write_bytes(b"y" * 100)
            os.utime(film, ns=(OLD, OLD))
        with pytest.raises(FileChangedError, match="ctime changed"):
            transaction.set_time(media, RELEASE)
    assert film.stat().st_mtime_ns == OLD
