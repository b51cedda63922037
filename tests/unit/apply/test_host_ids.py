"""Host ids in temp and journal names: recovery on one machine leaves another
machine's live leftovers alone (a pid means nothing across machines)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vpo.apply.host import host_id_of, this_host
from vpo.apply.journal import Journal, decode_journal, journal_path, read_regions, write_journal
from vpo.apply.names import parse_temp, parse_temp_name, temp_name
from vpo.apply.recovery import OTHER_HOST_GRACE, RecoveryKind, recover_leftovers
from vpo.apply.replace import temp_output

OTHER = "0badc0de"  # another machine's host id


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_host_ids_are_8_hex_digits_of_the_host_name_and_machine_id() -> None:
    one = host_id_of("nas", "4c4c4544")
    assert len(one) == 8 and int(one, 16) >= 0
    assert one == host_id_of("nas", "4c4c4544\n")
    assert one != host_id_of("pc2", "4c4c4544")  # same image, other name
    assert one != host_id_of("nas", "0000ffff")  # same name, other machine
    assert this_host() == this_host()


@pytest.mark.parametrize("name", ["movie.mkv", "a-b-c.mp4", "é 1.mkv"])
def test_temp_names_carry_pid_and_host_and_round_trip(name: str) -> None:
    made = temp_name(name, 4242, "0123abcd", "89abcdef")
    assert made == f".vpo-tmp-4242@89abcdef-0123abcd-{name}"
    parsed = parse_temp(made)
    assert parsed is not None
    assert (parsed.pid, parsed.host, parsed.final_name) == (4242, "89abcdef", name)
    assert parse_temp_name(made) == (4242, name)


def test_names_written_before_host_ids_are_still_read() -> None:
    parsed = parse_temp(".vpo-tmp-4242-0123abcd-movie.mkv")
    assert parsed is not None
    assert (parsed.pid, parsed.host, parsed.final_name) == (4242, None, "movie.mkv")


def test_vpo_writes_its_temps_with_this_hosts_id(tmp_path: Path) -> None:
    with temp_output(tmp_path, "movie.mkv") as path:
        parsed = parse_temp(path.name)
    assert parsed is not None
    assert (parsed.pid, parsed.host) == (os.getpid(), this_host())


def other_hosts_temp(directory: Path) -> Path:
    """A temp of another machine whose pid happens to be free on this one."""
    path = directory / temp_name("movie.mkv", dead_pid(), "0123abcd", OTHER)
    path.write_bytes(b"being written on the other machine")
    return path


def test_a_fresh_temp_of_another_host_is_left_alone_though_its_pid_is_dead_here(
    tmp_path: Path,
) -> None:
    temp = other_hosts_temp(tmp_path)
    [action] = recover_leftovers(tmp_path)
    assert action.kind is RecoveryKind.BUSY
    assert action.detail.startswith(f"temp file of process {parse_temp(temp.name).pid}")  # type: ignore[union-attr]
    assert f"of host {OTHER} on another machine; left alone until it is 6 hours old" in (
        action.detail
    )
    assert temp.exists()


def test_another_hosts_temp_goes_once_unchanged_for_the_grace_time_or_when_told(
    tmp_path: Path,
) -> None:
    temp = other_hosts_temp(tmp_path)
    later = time.time() + OTHER_HOST_GRACE + 60
    [action] = recover_leftovers(tmp_path, now=later)
    assert action.kind is RecoveryKind.REMOVED_TEMP
    assert action.detail.endswith(f"of host {OTHER}, which is gone")
    assert not temp.exists()

    temp = other_hosts_temp(tmp_path)
    [action] = recover_leftovers(tmp_path, other_hosts=True)
    assert action.kind is RecoveryKind.REMOVED_TEMP
    assert not temp.exists()


def test_another_hosts_temp_whose_lock_is_held_stays_even_when_told(tmp_path: Path) -> None:
    temp = other_hosts_temp(tmp_path)
    fd = os.open(temp, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # its writer (on a file system that shares locks)
        [action] = recover_leftovers(tmp_path, other_hosts=True)
    finally:
        os.close(fd)
    assert action.kind is RecoveryKind.BUSY
    assert temp.exists()


def test_an_old_style_temp_of_a_dead_pid_is_removed_as_before(tmp_path: Path) -> None:
    temp = tmp_path / f".vpo-tmp-{dead_pid()}-0123abcd-movie.mkv"
    temp.write_bytes(b"partial")
    [action] = recover_leftovers(tmp_path)
    assert action.kind is RecoveryKind.REMOVED_TEMP
    assert not temp.exists()


def damaged_with_journal(tmp_path: Path, host: str) -> tuple[Path, bytes]:
    media = tmp_path / "movie.mkv"
    original = os.urandom(4096)
    media.write_bytes(original)
    info = media.stat()
    fd = os.open(media, os.O_RDONLY)
    try:
        regions = read_regions(fd, [(0, 512)])
    finally:
        os.close(fd)
    journal = Journal(
        media.name, info.st_size, info.st_mtime_ns, info.st_dev, info.st_ino, 1, regions, host=host
    )
    write_journal(media, journal)
    with media.open("r+b") as stream:
        stream.write(b"\0" * 300)
    return media, original


def test_journals_name_their_host() -> None:
    journal = Journal("a.mkv", 1, 2, 3, 4, 5, (), host="89abcdef")
    from vpo.apply.journal import encode_journal

    assert decode_journal(encode_journal(journal)).host == "89abcdef"


def test_a_fresh_journal_of_another_host_is_not_replayed_here(tmp_path: Path) -> None:
    media, original = damaged_with_journal(tmp_path, OTHER)
    [action] = recover_leftovers(tmp_path)
    assert action.kind is RecoveryKind.BUSY
    assert f"journal of an edit by host {OTHER} on another machine" in action.detail
    assert media.read_bytes() != original  # left as the other machine's edit has it
    assert journal_path(media).exists()

    [action] = recover_leftovers(tmp_path, other_hosts=True)
    assert action.kind is RecoveryKind.RESTORED
    assert media.read_bytes() == original


def test_this_hosts_journal_is_replayed_at_once(tmp_path: Path) -> None:
    media, original = damaged_with_journal(tmp_path, this_host())
    [action] = recover_leftovers(tmp_path)
    assert action.kind is RecoveryKind.RESTORED
    assert media.read_bytes() == original
