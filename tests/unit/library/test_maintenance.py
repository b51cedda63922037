"""vpo db backup|restore|check|optimize, daily backups and the daemon lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from vpo.cli.main import main
from vpo.jobs.model import JobType, NewJob
from vpo.library import Library, LibraryError, maintenance


def run_vpo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def add_job(database: Path) -> None:
    with Library.open(database) as library:
        library.jobs.add(NewJob(type=JobType.SCAN, paths=["/x"]))


def test_backup_then_restore_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "lib.db"
    add_job(database)
    backup = tmp_path / "copy.db"
    code, out, _ = run_vpo(capsys, "db", "backup", "--db", str(database), str(backup))
    assert (code, out) == (0, f"Backed up {database} to {backup}\n")
    add_job(database)  # after the backup: the restore forgets it
    code, _, err = run_vpo(capsys, "db", "backup", "--db", str(database), str(backup))
    assert (code, err) == (2, f"vpo: {backup}: already exists; choose another backup name\n")
    code, out, err = run_vpo(capsys, "db", "restore", "--db", str(database), str(backup))
    assert code == 0, err
    assert out.startswith(f"Restored {database} from {backup} (schema ")
    with Library.open(database) as library:
        assert library.jobs.page()[1] == 1


def test_restore_refuses_a_file_that_is_not_a_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "lib.db"
    add_job(database)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    code, _, err = run_vpo(capsys, "db", "restore", "--db", str(database), str(junk))
    assert code == 2
    assert err.startswith(f"vpo: {junk}: ")
    with Library.open(database) as library:
        assert library.jobs.page()[1] == 1  # untouched


def test_restore_is_refused_while_a_daemon_holds_the_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "lib.db"
    add_job(database)
    backup = tmp_path / "copy.db"
    with Library.open(database) as library:
        maintenance.backup(library, backup)
    with maintenance.daemon_lock(database, "http://127.0.0.1:8321"):
        assert maintenance.running_daemon(database) == "http://127.0.0.1:8321"
        with (
            pytest.raises(LibraryError, match="already running"),
            maintenance.daemon_lock(database, "x"),
        ):
            pass
        code, _, err = run_vpo(capsys, "db", "restore", "--db", str(database), str(backup))
        assert code == 2
        assert "vpo serve is running on this library (http://127.0.0.1:8321); stop it first" in err
    assert maintenance.running_daemon(database) is None


def test_check_finds_a_dangling_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "lib.db"
    add_job(database)
    code, out, _ = run_vpo(capsys, "db", "check", "--db", str(database))
    assert (code, out) == (0, f"{database}: ok\n")
    raw = sqlite3.connect(database)
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute("INSERT INTO job_plans (job_id, path, plan) VALUES (99, x'2f61', '{}')")
    raw.commit()
    raw.close()
    code, out, _ = run_vpo(capsys, "db", "check", "--db", str(database))
    assert code == 1
    assert out == f"{database}: job_plans row 1: no jobs row it refers to\n"


def test_optimize(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "lib.db"
    add_job(database)
    code, out, _ = run_vpo(capsys, "db", "optimize", "--db", str(database))
    assert code == 0
    assert out.startswith(f"Optimized {database}: ")


def test_daily_backups_keep_the_newest(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib.db") as library:
        day = 86400.0
        made = [maintenance.daily_backup(library, 2, now=1_800_000_000 + i * day) for i in range(4)]
        assert all(path is not None for path in made)
        assert maintenance.daily_backup(library, 2, now=1_800_000_000 + 3 * day) is None  # today's
        kept = sorted(p.name for p in (tmp_path / "lib.db.backups").iterdir())
        assert kept == [made[2].name, made[3].name]  # type: ignore[union-attr]
        assert maintenance.daily_backup(library, 0) is None
