from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vpo.apply.journal import Journal, read_regions, write_journal
from vpo.apply.names import temp_name
from vpo.apply.recovery import RecoveryKind, recover_leftovers


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temp_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / temp_name("movie.mkv", _dead_pid(), "0123abcd")
    stale.write_bytes(b"partial")
    mine = tmp_path / temp_name("movie.mkv", os.getpid(), "0123abcd")
    mine.write_bytes(b"in progress")
    user = tmp_path / "movie.mkv"
    user.write_bytes(b"keep")
    actions = recover_leftovers(tmp_path)
    kinds = {a.path.name: a.kind for a in actions}
    assert kinds == {stale.name: RecoveryKind.REMOVED_TEMP, mine.name: RecoveryKind.BUSY}
    assert not stale.exists()
    assert mine.exists()
    assert user.read_bytes() == b"keep"


def _journal_for(media: Path, ranges: list[tuple[int, int]]) -> Journal:
    info = media.stat()
    fd = os.open(media, os.O_RDONLY)
    try:
        regions = read_regions(fd, ranges)
    finally:
        os.close(fd)
    return Journal(media.name, info.st_size, info.st_mtime_ns, info.st_dev, info.st_ino, 1, regions)


def test_leftover_journal_restores_the_file(tmp_path: Path) -> None:
    sub = tmp_path / "shows" / "odd 'name' \n é"
    sub.mkdir(parents=True)
    media = sub / "-ep 1.mkv"
    original = os.urandom(4096)
    media.write_bytes(original)
    write_journal(media, _journal_for(media, [(0, 512)]))
    with media.open("r+b") as stream:
        stream.write(b"\0" * 300)
        stream.seek(0, 2)
        stream.write(b"tail")
    actions = recover_leftovers(tmp_path)
    assert [(a.kind, a.path) for a in actions] == [(RecoveryKind.RESTORED, media)]
    assert media.read_bytes() == original
    assert sorted(p.name for p in sub.iterdir()) == ["-ep 1.mkv"]


def test_journal_for_a_replaced_file_is_left_alone(tmp_path: Path) -> None:
    media = tmp_path / "m.mkv"
    media.write_bytes(b"a" * 100)
    journal_file = write_journal(media, _journal_for(media, [(0, 10)]))
    replacement = tmp_path / "new"
    replacement.write_bytes(b"b" * 50)
    replacement.replace(media)
    actions = recover_leftovers(media)
    assert [a.kind for a in actions] == [RecoveryKind.SET_ASIDE]
    assert actions[0].detail == (
        "not the file the interrupted edit's journal was written for (another file "
        "(different device or inode)); left untouched; journal kept as "
        "m.mkv.vpo-journal-set-aside.json"
    )
    assert media.read_bytes() == b"b" * 50
    assert not journal_file.exists()
    assert (tmp_path / "m.mkv.vpo-journal-set-aside.json").exists()
    assert recover_leftovers(media) == []  # acted on once, then left for the user


def test_journal_of_a_deleted_file_is_dropped(tmp_path: Path) -> None:
    media = tmp_path / "m.mkv"
    media.write_bytes(b"a" * 100)
    journal_file = write_journal(media, _journal_for(media, [(0, 10)]))
    media.unlink()
    actions = recover_leftovers(tmp_path)
    assert [a.kind for a in actions] == [RecoveryKind.REMOVED_JOURNAL]
    assert not journal_file.exists()
