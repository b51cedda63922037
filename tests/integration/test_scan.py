"""``vpo scan`` end to end: the real CLI, real tools, generated media, a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vpo.library import FileStatus, Library
from vpo.library.scan import ScanOptions, scan_paths
from vpo.probe.cheapest import cheapest_prober
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.probe.probe import probe_file
from vpo.testmedia.factory import BrokenKind
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools import runner
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

VPO = str(Path(sys.executable).parent / "vpo")

RICH_MKV = MediaSpec(
    container="mkv",
    audio=(AudioSpec(language="jpn", default=True), AudioSpec(language="eng", title="Dub")),
    subtitles=(SubtitleSpec(language="eng", forced=True), SubtitleSpec(language="fre")),
    chapters=2,
    title="Rich",
)
PLAIN_MP4 = MediaSpec(container="mp4", audio=(AudioSpec(language="eng", default=True),))
WEBM = MediaSpec(container="webm", video_codec="vp9", audio=(AudioSpec(codec="opus"),))


def vpo(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VPO, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def scan_json(database: Path, *args: str | Path) -> tuple[int, dict[str, Any], str]:
    done = vpo("scan", "--db", database, "--json", *args)
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def counts(document: dict[str, Any]) -> dict[str, int]:
    keys = ("found", "new", "changed", "unchanged", "moved", "missing", "pruned", "errors")
    return {key: document[key] for key in keys}


def expect(**nonzero: int) -> dict[str, int]:
    keys = ("found", "new", "changed", "unchanged", "moved", "missing", "pruned", "errors")
    return {**dict.fromkeys(keys, 0), **nonzero}


@pytest.fixture
def library_tree(media_factory: Any, tmp_path: Path) -> Path:
    media_factory(RICH_MKV, "lib/Show/Season 1/-e01 'quoted'.mkv")
    media_factory(RICH_MKV, "lib/Show/Season 1/e02 ünïcødé.mkv")
    media_factory(PLAIN_MP4, "lib/Movies/movie.mp4")
    media_factory(WEBM, "lib/clips/clip.webm")
    media_factory(PLAIN_MP4, "lib/.hidden/skip.mp4")
    media_factory(PLAIN_MP4, "lib/Movies/.vpo-tmp-movie.mp4-x1y2.mp4")
    return tmp_path / "lib"


def test_first_scan_records_every_track_then_rescan_probes_nothing(
    library_tree: Path, tmp_path: Path, tools: ToolPaths
) -> None:
    database = tmp_path / "library.db"

    code, first, stderr = scan_json(database, library_tree)
    assert (code, stderr) == (0, "")
    assert counts(first) == expect(found=4, new=4)

    code, second, _ = scan_json(database, library_tree)
    assert code == 0
    assert counts(second) == expect(found=4, unchanged=4)

    with Library.open(database) as library:
        for path in library_tree.rglob("*"):
            if path.is_file() and not any(p.startswith(".") for p in path.parts):
                info = path.stat()
                cached = library.cached_media(
                    path, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns
                )
                expected = (
                    probe_matroska_headers(path)
                    if path.suffix in (".mkv", ".webm")
                    else probe_file(path, tools)
                )
                assert cached == expected, path


def test_cached_tracks_match_the_spec(media_factory: Any, tmp_path: Path) -> None:
    movie = media_factory(RICH_MKV, "lib/movie.mkv")
    database = tmp_path / "library.db"
    assert vpo("scan", "--db", database, "-q", movie).returncode == 0

    info = movie.stat()
    with Library.open(database) as library:
        cached = library.cached_media(
            movie, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns
        )
    assert cached is not None
    assert cached.title == "Rich"
    assert cached.chapter_count == 2
    audio = [(t.language, t.title, t.flags.default) for t in cached.audio_tracks]
    assert audio == [("jpn", None, True), ("eng", "Dub", False)]
    subtitles = [(t.language, t.flags.forced) for t in cached.subtitle_tracks]
    assert subtitles == [("eng", True), ("fre", False)]


def test_rescan_starts_no_process(library_tree: Path, tmp_path: Path, tools: ToolPaths) -> None:
    """The cache serves a rescan (and ``vpo process``): no external process per file."""
    started: list[tuple[str, ...]] = []
    real_popen = runner.subprocess.Popen

    def counting_popen(argv: list[str], **kwargs: Any) -> Any:
        started.append(tuple(argv))
        return real_popen(argv, **kwargs)

    options = ScanOptions(extensions=("mkv", "mp4", "webm"), workers=2)
    with Library.open(tmp_path / "library.db") as library:
        prober = cheapest_prober(tools, timeout=60)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(runner.subprocess, "Popen", counting_popen)
            first = scan_paths([library_tree], library, prober, options)
            first_processes = len(started)
            second = scan_paths([library_tree], library, prober, options)

    assert first.counts.new == 4
    assert first_processes == 1  # only the MP4 needs ffprobe; Matroska is read in-process
    assert second.counts.unchanged == 4
    assert len(started) == first_processes


def test_rescan_after_touch_rename_delete_and_replace(media_factory: Any, tmp_path: Path) -> None:
    touched = media_factory(RICH_MKV, "lib/touched.mkv")
    renamed = media_factory(PLAIN_MP4, "lib/old name.mp4")
    deleted = media_factory(WEBM, "lib/deleted.webm")
    replaced = media_factory(RICH_MKV, "lib/replaced.mkv")
    database = tmp_path / "library.db"
    assert scan_json(database, tmp_path / "lib")[1]["new"] == 4

    os.utime(touched, ns=(1_000_000_000, 1_000_000_000))
    new_name = renamed.with_name("new name.mp4")
    renamed.rename(new_name)
    deleted.unlink()
    replacement = media_factory(PLAIN_MP4, "elsewhere/replacement.mp4")
    replacement.replace(replaced)  # now an MP4 named .mkv: the bytes decide

    code, document, _ = scan_json(database, tmp_path / "lib")
    assert code == 0
    assert counts(document) == expect(found=3, changed=2, moved=1, missing=1)

    with Library.open(database) as library:
        state = library.file_state(deleted)
        assert state is not None and state.status is FileStatus.MISSING
        assert library.file_state(renamed) is None
        info = replaced.stat()
        cached = library.cached_media(
            replaced, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns
        )
        assert cached is not None and cached.container.value == "mp4"

    code, document, _ = scan_json(database, "--prune", tmp_path / "lib")
    assert counts(document) == expect(found=3, unchanged=3, pruned=1)
    with Library.open(database) as library:
        assert library.file_state(deleted) is None


@pytest.mark.parametrize(
    ("kind", "cause"),
    [
        (BrokenKind.ZERO_BYTES, "empty file (0 bytes)"),
        (BrokenKind.TRUNCATED_MKV, "truncated Matroska file"),
        (BrokenKind.TEXT_AS_MKV, "not a media file or corrupt"),
        (BrokenKind.RANDOM_BYTES, "not a media file or corrupt"),
    ],
)
def test_broken_files_give_one_line_and_exit_1(
    broken_factory: Any, media_factory: Any, tmp_path: Path, kind: BrokenKind, cause: str
) -> None:
    good = media_factory(PLAIN_MP4, "lib/good.mp4")
    broken = broken_factory(kind, "lib/broken file.mkv")

    done = vpo("scan", "--db", tmp_path / "library.db", good.parent)

    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"vpo: {broken}: {cause}")
    assert "1 new" in done.stdout and " 1 error in " in done.stdout and "errors" not in done.stdout

    again = vpo("scan", "--db", tmp_path / "library.db", good.parent)
    assert again.returncode == 1
    assert again.stderr == done.stderr  # reported again from the library, without a probe


def test_missing_argument_and_file_named_explicitly(media_factory: Any, tmp_path: Path) -> None:
    odd = media_factory(PLAIN_MP4, "lib/recording.weird")
    missing = tmp_path / "no such dir"

    code, document, stderr = scan_json(tmp_path / "library.db", missing, odd)

    assert code == 1
    assert counts(document) == expect(found=1, new=1, errors=1)
    assert stderr == f"vpo: {missing}: no such file or directory\n"
    assert document["problems"] == [
        {"path": str(missing), "message": f"{missing}: no such file or directory"}
    ]


def test_a_newline_in_a_name_stays_on_one_line(broken_factory: Any, tmp_path: Path) -> None:
    broken = broken_factory(BrokenKind.TEXT_AS_MKV, "lib/two\nlines.mkv")

    done = vpo("scan", "--db", tmp_path / "library.db", broken.parent)

    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "two\\nlines.mkv" in done.stderr


def test_unusable_database_is_one_line_exit_2(media_factory: Any, tmp_path: Path) -> None:
    movie = media_factory(PLAIN_MP4, "lib/movie.mp4")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"definitely not sqlite" * 200)

    done = vpo("scan", "--db", garbage, movie)

    assert done.returncode == 2
    assert done.stderr.startswith(f"vpo: {garbage}: not a vpo library database")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_database_location_comes_from_the_config(media_factory: Any, tmp_path: Path) -> None:
    movie = media_factory(PLAIN_MP4, "lib/movie.mp4")
    configured = tmp_path / "configured" / "vpo.db"
    config = Path(os.environ["VPO_CONFIG"])
    config.write_text(f'[library]\ndatabase = "{configured}"\n', encoding="utf-8")

    done = vpo("scan", "--json", movie)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["database"] == str(configured)
    with Library.open(configured) as library:
        assert library.file_state(movie) is not None


def test_default_database_lives_in_the_isolated_data_dir(
    media_factory: Any, isolated_home: Path
) -> None:
    movie = media_factory(PLAIN_MP4, "lib/movie.mp4")

    done = vpo("scan", "--json", movie)

    assert done.returncode == 0, done.stderr
    assert Path(json.loads(done.stdout)["database"]).is_relative_to(isolated_home)


def test_progress_goes_to_stderr_only_and_quiet_silences_it(
    library_tree: Path, tmp_path: Path
) -> None:
    done = vpo("scan", "--db", tmp_path / "library.db", "--quiet", library_tree)
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.startswith("Scanned: 4 found, 4 new")
