"""``vpo status`` and ``vpo report`` on a scanned library whose history was written
through the Library API (as ``vpo process`` records it)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from vpo.library import FileOutcome, FileRecord, Library, RunCounts, RunOutcome
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec

pytestmark = pytest.mark.integration

VPO = str(Path(sys.executable).parent / "vpo")
DAY = 86400.0
# Track summaries: '*' marks a default track (mkvmerge marks the video track default).
BEFORE = "v:h264* a:aac/jpn* a:aac/eng s:subrip/eng"
AFTER = "v:h264* a:aac/jpn* s:subrip/eng"

MKV = MediaSpec(
    container="mkv",
    audio=(AudioSpec(language="jpn", default=True), AudioSpec(language="eng")),
    subtitles=(SubtitleSpec(language="eng"),),
)
MP4 = MediaSpec(container="mp4", audio=(AudioSpec(language="fre", default=True),))


def vpo(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VPO, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def history(media_factory: Any, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A scanned two-file library with an old run of 'anime' and a recent one of 'movies'."""
    anime = media_factory(MKV, 'lib/anime, "quoted".mkv')
    movie = media_factory(MP4, "lib/movie.mp4")
    database = tmp_path / "library.db"
    assert vpo("scan", "--db", database, "-q", tmp_path / "lib").returncode == 0
    now = time.time()
    with Library.open(database) as library:
        info = anime.stat()
        before = library.cached_media(
            anime, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns
        )
        assert before is not None
        after = dataclasses.replace(
            before, tracks=(before.tracks[0], before.tracks[1], before.tracks[3])
        )
        old = library.start_run(
            policy_name="anime", policy_hash="a1", workers=2, started_at=now - 10 * DAY
        )
        library.record_file_result(
            old,
            FileRecord(
                path=anime,
                outcome=FileOutcome.CHANGED,
                plan_kind="remux",
                tool="mkvmerge",
                phase="tracks",
                before=before,
                after=after,
                changes=("audio 2 (eng): removed",),
                bytes_written=81234,
                seconds=0.42,
                after_ctime_ns=info.st_ctime_ns,
                original_size=90000,
                bytes_saved=90000 - 81234,
            ),
            recorded_at=now - 10 * DAY + 1,
        )
        library.finish_run(
            old, RunCounts(changed=1, bytes_written=81234), finished_at=now - 10 * DAY + 2
        )
        recent = library.start_run(
            policy_name="movies", policy_hash="m1", workers=1, started_at=now - 60
        )
        library.record_file_result(
            recent, FileRecord(path=movie, outcome=FileOutcome.UNCHANGED), recorded_at=now - 59
        )
        library.record_file_result(
            recent,
            FileRecord(
                path=tmp_path / "lib" / "gone.mkv", outcome=FileOutcome.FAILED, error="boom"
            ),
            recorded_at=now - 58,
        )
        library.finish_run(recent, RunCounts(unchanged=1, failed=1), outcome=RunOutcome.INTERRUPTED)
    return database, anime, movie


def test_status_json_and_text(history: tuple[Path, Path, Path]) -> None:
    database, _, _ = history

    done = vpo("status", "--db", database, "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["files"] == 2
    assert document["by_container"] == {"mkv": 1, "mp4": 1}
    # The run's `after` refreshed the cache: the anime file no longer has its eng audio.
    assert document["by_audio_language"] == {"fre": 1, "jpn": 1}
    assert document["by_subtitle_language"] == {"eng": 1}
    assert document["never_processed"] == 0
    assert [r["policy"] for r in document["recent_runs"]] == ["movies", "anime"]
    assert (document["bytes_saved"], document["bytes_saved_by_policy"]) == (8766, {"anime": 8766})

    text = vpo("status", "--db", database).stdout
    assert "Containers: mkv 1, mp4 1" in text
    assert "Never processed: 0" in text
    assert "movies interrupted: 0 changed, 1 unchanged, 1 failed" in text
    assert "Space saved: 8.6 KiB (anime 8.6 KiB)" in text


def test_report_runs_filters_by_since_and_policy(history: tuple[Path, Path, Path]) -> None:
    database, _, _ = history

    all_runs = json.loads(vpo("report", "runs", "--db", database, "--json").stdout)
    assert [r["policy"] for r in all_runs] == ["anime", "movies"]
    assert all_runs[0]["bytes_written"] == 81234
    assert [r["bytes_saved"] for r in all_runs] == [8766, 0]

    text = vpo("report", "runs", "--db", database).stdout.splitlines()
    assert "anime completed: 1 changed, 0 unchanged (79.3 KiB written, 8.6 KiB saved, " in text[0]
    assert text[-1] == "Total: 2 runs, 1 changed, 79.3 KiB written, 8.6 KiB saved"

    recent = json.loads(vpo("report", "runs", "--db", database, "--json", "--since", "1d").stdout)
    assert [r["policy"] for r in recent] == ["movies"]

    anime = json.loads(
        vpo("report", "runs", "--db", database, "--json", "--policy", "anime").stdout
    )
    assert [(r["outcome"], r["bytes_saved"]) for r in anime] == [("completed", 8766)]
    anime_csv = list(csv.DictReader(io.StringIO(
        vpo("report", "runs", "--db", database, "--csv", "--policy", "anime").stdout
    )))  # fmt: skip
    assert [r["bytes_saved"] for r in anime_csv] == ["8766"]


def test_report_changes_says_what_where_when_and_by_which_policy(
    history: tuple[Path, Path, Path],
) -> None:
    database, anime, _ = history

    done = vpo("report", "changes", "--db", database, "--csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 1
    row = rows[0]
    assert (row["path"], row["policy"], row["plan_kind"], row["tool"]) == (
        str(anime),
        "anime",
        "remux",
        "mkvmerge",
    )
    assert (row["before"], row["after"]) == (BEFORE, AFTER)
    assert row["changes"] == "audio 2 (eng): removed"
    assert (row["bytes_written"], row["seconds"]) == ("81234", "0.42")
    assert (row["original_size"], row["bytes_saved"]) == ("90000", "8766")
    assert (row["codecs_before"], row["codecs_after"]) == ("v:h264 a:aac s:subrip",) * 2
    assert (row["encode_seconds"], row["encode_speed"]) == ("", "")  # a remux, no encode

    text = vpo("report", "changes", "--db", database).stdout.splitlines()
    assert text[0].endswith(
        f"anime changed [remux/mkvmerge] {anime} (79.3 KiB, 0.4 s, 8.6 KiB saved)"
    )
    assert text[1] == f"    {BEFORE} → {AFTER}"
    assert text[2] == "    audio 2 (eng): removed"

    recent = vpo("report", "changes", "--db", database, "--since", "1d")
    assert (recent.stdout, recent.stderr) == ("", "no changes recorded\n")


def test_report_files_lists_every_outcome(history: tuple[Path, Path, Path]) -> None:
    database, _, movie = history

    records = json.loads(vpo("report", "files", "--db", database, "--json").stdout)
    assert [r["outcome"] for r in records] == ["changed", "unchanged", "failed"]
    assert records[1]["path"] == str(movie)
    assert records[2]["error"] == "boom"

    movies = json.loads(
        vpo("report", "files", "--db", database, "--json", "--policy", "movies").stdout
    )
    assert [r["outcome"] for r in movies] == ["unchanged", "failed"]


def test_report_usage_errors_exit_2(history: tuple[Path, Path, Path]) -> None:
    database, _, _ = history

    for args in (
        ("report", "changes", "--since", "last tuesday"),
        ("report", "runs", "--json", "--csv"),
        ("report", "everything"),
    ):
        done = vpo(*args, "--db", database)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("Error:")


def test_status_on_a_new_database_is_empty_not_an_error(tmp_path: Path) -> None:
    done = vpo("status", "--db", tmp_path / "fresh" / "library.db")
    assert done.returncode == 0, done.stderr
    assert "Files: 0 (0 B)" in done.stdout
    assert "Space saved: 0 B\n" in done.stdout
    assert "Last runs: none yet" in done.stdout
