"""Runs whose vpo died are closed as interrupted at the next start; live ones are not."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from vpo.library import FileOutcome, FileRecord, Library, RunOutcome
from vpo.library.liveness import current_owner, owner_is_gone, process_start


def set_owner(database: Path, run_id: int, owner: str | None) -> None:
    with sqlite3.connect(database) as raw:
        raw.execute("UPDATE runs SET owner = ? WHERE id = ?", (owner, run_id))
    raw.close()


def dead_owner() -> str:
    """This host and boot, a pid that existed and has ended."""
    child = subprocess.Popen(["true"])
    start = process_start(child.pid)
    child.wait()
    host, boot, _, _ = current_owner().split(" ")
    return f"{host} {boot} {child.pid} {start or '1'}"


def test_a_run_whose_vpo_died_is_closed_with_the_counts_it_recorded(tmp_path: Path) -> None:
    database = tmp_path / "library.db"
    with Library.open(database) as library:
        run = library.start_run(policy_name="p", policy_hash="h", workers=1)
        library.record_file_results(
            run,
            [
                FileRecord(tmp_path / "a.mkv", FileOutcome.CHANGED, bytes_written=7),
                FileRecord(tmp_path / "b.mkv", FileOutcome.FAILED, error="x"),
            ],
            recorded_at=50.0,
        )
        set_owner(database, run, dead_owner())
        live = library.start_run(policy_name="p", policy_hash="h", workers=1)

        assert library.close_abandoned_runs() == [run]

        runs = {r.run_id: r for r in library.runs()}
    assert runs[run].outcome is RunOutcome.INTERRUPTED
    assert runs[run].finished_at == 50.0
    assert (runs[run].counts.changed, runs[run].counts.failed) == (1, 1)
    assert runs[run].counts.bytes_written == 7
    assert runs[live].outcome is RunOutcome.RUNNING  # this very process: alive


def test_a_run_from_before_schema_3_has_no_owner_and_is_closed(tmp_path: Path) -> None:
    database = tmp_path / "library.db"
    with Library.open(database) as library:
        run = library.start_run(policy_name="p", policy_hash="h", workers=1)
        set_owner(database, run, None)
        assert library.close_abandoned_runs() == [run]


def test_owner_rules() -> None:
    me = "host boot 100 555"
    alive = {100: "555", 200: "999"}.get
    assert not owner_is_gone("host boot 100 555", me, alive)
    assert owner_is_gone("host boot 200 111", me, alive)  # pid reused by another process
    assert owner_is_gone("host boot 300 1", me, alive)  # no such process
    assert owner_is_gone("host old-boot 100 555", me, alive)  # rebooted since
    assert not owner_is_gone("other boot 300 1", me, alive)  # cannot look at another host
    assert owner_is_gone(None, me, alive)
    assert owner_is_gone("garbage", me, alive)


def test_this_process_is_its_own_live_owner() -> None:
    assert not owner_is_gone(current_owner(), current_owner())
    assert process_start(os.getpid())
