from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vpo.apply.errors import FileBusyError, PreflightError
from vpo.apply.lock import locked_file


def test_second_holder_in_the_same_process_is_busy(tmp_path: Path) -> None:
    media = tmp_path / "m.mkv"
    media.write_bytes(b"x")
    with locked_file(media), pytest.raises(FileBusyError, match="busy"), locked_file(media):
        pass
    with locked_file(media) as info:  # released: can be taken again
        assert info.st_ino == media.stat().st_ino


def test_lock_held_by_another_process_is_busy_and_freed_by_its_death(tmp_path: Path) -> None:
    media = tmp_path / "m.mkv"
    media.write_bytes(b"x")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
            str(media),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(FileBusyError), locked_file(media):
            pass
    finally:
        holder.kill()  # SIGKILL: the kernel drops the lock, nothing goes stale
        holder.wait()
    with locked_file(media):
        pass


def test_missing_file_is_a_preflight_error(tmp_path: Path) -> None:
    with pytest.raises(PreflightError, match="file not found"), locked_file(tmp_path / "gone.mkv"):
        pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_a_preflight_error(tmp_path: Path) -> None:
    media = tmp_path / "m.mkv"
    media.write_bytes(b"x")
    media.chmod(0)
    with pytest.raises(PreflightError, match="permission denied"), locked_file(media):
        pass


def test_a_file_system_without_locks_fails_the_file_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NFSv3 without lockd answers flock with ENOLCK (no such mount here: the
    kernel's answer is stood in for)."""
    import errno
    import fcntl

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    media = tmp_path / "m.mkv"
    media.write_bytes(b"x")
    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(PreflightError) as raised, locked_file(media):
        pass
    assert str(raised.value).endswith(
        "cannot lock the file: No locks available (on NFSv3 lockd and rpc.statd must run; "
        "see docs/distributed.md)"
    )
