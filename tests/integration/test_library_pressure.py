"""The library database under pressure (issue 10 item 6 and item 10's damaged database):
a full disk, a damaged file, a deleted write-ahead log. Always one clear line naming
the file and what to do, never a crash signal or a traceback, never a run left
"running" once there is space again.

The full-disk cases need a size-limited tmpfs (root); elsewhere they skip.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vpo.library import Library
from vpo.testmedia.policies import FOREIGN_FIRST, ORDER_POLICY

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
VPO = Path(sys.executable).with_name("vpo")


def vpo(
    tmp_path: Path, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VPO_JOBS_STABLE_SECONDS": "0", **(env or {})}
    return subprocess.run(
        [str(VPO), *map(str, args)], capture_output=True, text=True, env=env, check=False
    )


def process(tmp_path: Path, db: Path, target: Path) -> subprocess.CompletedProcess[str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(ORDER_POLICY, encoding="utf-8")
    return vpo(tmp_path, "process", "--db", db, "-p", policy, "-w", "1", target)


def outcomes(db: Path) -> list[str]:
    with sqlite3.connect(db) as raw:
        found = [row[0] for row in raw.execute("SELECT outcome FROM runs ORDER BY id")]
    raw.close()
    return found


def assert_clean_failure(result: subprocess.CompletedProcess[str], db: Path) -> None:
    assert 0 <= result.returncode < 128, f"killed by a signal: {result.returncode}"
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    if result.returncode != 0:
        assert result.returncode == 2, result.stderr
        assert str(db) in result.stderr
        assert "vpo db check" in result.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a size-limited tmpfs here (needs root): {done.stderr!r}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fill(mount: Path, leave_kib: int) -> Path:
    """Fill ``mount`` until ``leave_kib`` KiB are free."""
    filler = mount / "filler"
    stat = os.statvfs(mount)
    size = stat.f_bavail * stat.f_frsize - leave_kib * 1024
    with filler.open("wb") as out:
        try:
            out.write(b"\0" * max(0, size))
            out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_before_the_run_is_one_clear_line_and_touches_no_file(
    small_disk: Path, tmp_path: Path, media_factory: MediaFactory
) -> None:
    media = media_factory(FOREIGN_FIRST, "media/a.mkv")
    before = media.read_bytes()
    db = small_disk / "library.db"
    fill(small_disk, 0)
    result = process(tmp_path, db, media.parent)
    assert_clean_failure(result, db)
    assert result.returncode == 2
    assert "no space left for the library database" in result.stderr
    assert media.read_bytes() == before


@pytest.mark.parametrize("leave_kib", [0, 8, 16, 32, 48, 64, 96])
def test_a_nearly_full_database_disk_never_crashes_and_never_leaves_a_run_running(
    small_disk: Path, tmp_path: Path, media_factory: MediaFactory, leave_kib: int
) -> None:
    for i in range(4):
        media_factory(FOREIGN_FIRST, f"media/f{i}.mkv")
    db = small_disk / "library.db"
    (tmp_path / "empty").mkdir()
    assert process(tmp_path, db, tmp_path / "empty").returncode == 0  # the library exists
    filler = fill(small_disk, leave_kib)

    result = process(tmp_path, db, tmp_path / "media")
    assert_clean_failure(result, db)

    filler.unlink()  # space again: the next start closes what the full disk left open
    again = process(tmp_path, db, tmp_path / "empty")
    assert again.returncode == 0, again.stderr
    assert "running" not in outcomes(db)


def damage(db: Path) -> None:
    """Overwrite every page after the first (the schema) with junk."""
    data = bytearray(db.read_bytes())
    for offset in range(4096, len(data)):
        data[offset] = (offset * 7 + 13) % 256
    db.write_bytes(bytes(data))


@pytest.fixture
def library_with_rows(tmp_path: Path, media_factory: MediaFactory) -> Path:
    media = media_factory(FOREIGN_FIRST, "media/a.mkv")
    db = tmp_path / "library.db"
    assert vpo(tmp_path, "scan", "--db", db, "-q", media.parent).returncode == 0
    with Library.open(db) as library:
        for n in range(200):
            library.start_run(policy_name=f"p{n}" * 50, policy_hash="h", workers=1)
    assert not Path(f"{db}-wal").exists()
    return db


def test_a_damaged_database_says_what_to_do_and_doctor_sees_it(
    library_with_rows: Path, tmp_path: Path
) -> None:
    db = library_with_rows
    damage(db)
    result = process(tmp_path, db, tmp_path / "media")
    assert_clean_failure(result, db)
    assert result.returncode == 2
    assert "damaged" in result.stderr and "restore a backup" in result.stderr

    doctor = vpo(tmp_path, "doctor", "--json", env={"VPO_LIBRARY_DATABASE": str(db)})
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["database"]["level"] == "fail", checks["database"]
    assert "vpo db check" in checks["database"]["problem"]
    assert doctor.returncode == 2


def test_a_deleted_write_ahead_log_is_refused_not_silently_lost(tmp_path: Path) -> None:
    db = tmp_path / "library.db"
    writer = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from vpo.library import Library\n"
        "library = Library.open(Path(sys.argv[1]))\n"
        "for n in range(20):\n"
        "    library.start_run(policy_name='p', policy_hash='h', workers=1)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(db)], check=False)
    Path(f"{db}-wal").unlink()

    result = process(tmp_path, db, tmp_path)
    assert_clean_failure(result, db)
    assert result.returncode == 2
    assert "write-ahead log library.db-wal is missing" in result.stderr
