"""Time of schema migration 6 (per-file summary, last outcome, covering index) on a
100,000-file library.

    .venv/bin/python bench/migration.py [--files 100000] [--rounds 3]

Fills a library the way bench/api.py does (5 track layouts, 4 containers, a
processing history on every 10th file), takes schema 6 out of it again (its
index, triggers and columns, and its row in schema_migrations: the library a
vpo before schema 6 left), then opens copies of that library with
``Library.open`` (which applies migration 6) and prints the wall and CPU time
of each open, median over the rounds, and the file size before and after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from api import fill  # bench/api.py, beside this script
from vpo.library import Library

UNDO_6 = (
    "DROP INDEX files_browse",
    "DROP TRIGGER file_results_last_added",
    "DROP TRIGGER file_results_last_removed",
    "DROP TRIGGER file_results_last_changed",
    *(
        f"ALTER TABLE files DROP COLUMN {column}"
        for column in (
            "video_codec",
            "video_height",
            "audio_languages",
            "subtitle_languages",
            "summary_exact",
            "last_outcome",
        )
    ),
    "DELETE FROM schema_migrations WHERE version = 6",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before = Path(scratch) / "before.db"
        with Library.open(before) as library:
            fill(library, args.files)
        raw = sqlite3.connect(before, isolation_level=None)
        for statement in UNDO_6:
            raw.execute(statement)
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
        size_before = before.stat().st_size
        walls, cpus = [], []
        size_after = 0
        for n in range(args.rounds):
            copy = Path(scratch) / f"copy-{n}.db"
            shutil.copyfile(before, copy)
            wall, cpu = time.perf_counter(), time.process_time()
            with Library.open(copy) as library:
                assert library.schema_version() == 6
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            size_after = copy.stat().st_size  # the WAL is checkpointed on close
            copy.unlink()
        print(
            f"| migration 6 ({args.files:,} files) | median wall s | median CPU s | "
            "library before → after |"
        )
        print("| --- | --- | --- | --- |")
        print(
            f"| `Library.open` on a library without schema 6 | {statistics.median(walls):.2f} | "
            f"{statistics.median(cpus):.2f} | {size_before / 1e6:.1f} → {size_after / 1e6:.1f} MB |"
        )
    print()
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
