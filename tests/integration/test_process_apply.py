"""``vpo process`` for real on generated media: what dry-run showed, with the cheapest tool.

Results are checked with mkvmerge -J and ffprobe run here, independently of vpo.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.errors import ExitCode
from vpo.testmedia.factory import BrokenKind
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
BrokenFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs" / "process"

REMUX = MediaSpec(
    audio=(
        AudioSpec(language="fre", default=True),
        AudioSpec(language="eng", title="English"),
        AudioSpec(language="eng", title="Commentary"),
    ),
    subtitles=(SubtitleSpec(language="ger"), SubtitleSpec(language="eng")),
)
METADATA = MediaSpec(
    audio=(AudioSpec(language="eng"),), subtitles=(SubtitleSpec(language="eng", default=True),)
)
MP4 = MediaSpec(
    container="mp4", audio=(AudioSpec(language="fre", default=True), AudioSpec(language="eng"))
)
CONFORMING = MediaSpec(audio=(AudioSpec(language="eng", default=True),))

POLICY = """\
schema_version: 12
config:
  audio_language_preference: [eng]
  subtitle_language_preference: [eng]
phases:
  - name: strip
    audio_filter: {languages: [eng]}
    subtitle_filter: {languages: [eng]}
  - name: order
    track_order: [video, audio_main, audio_commentary, subtitle_main]
    default_flags:
      set_preferred_audio_default: true
      clear_other_defaults: true
"""

# The rule renames the language its own condition tests: eng → fre, then fre → eng.
NON_CONVERGENT = """\
schema_version: 12
phases:
  - name: flip
    conditional:
      - name: to-french
        when: {exists: {track_type: audio, language: eng}}
        then:
          - set_language: {track_type: audio, language: eng, to: fre}
      - name: to-english
        when: {exists: {track_type: audio, language: fre}}
        then:
          - set_language: {track_type: audio, language: fre, to: eng}
"""

Track = tuple[str, str | None, str | None, bool]


@pytest.fixture(autouse=True)
def settled_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated files are seconds old; the growing-file guard has its own test."""
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")


@pytest.fixture
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    def write(text: str = POLICY) -> Path:
        path = tmp_path_factory.mktemp("policy") / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def run(tmp_path: Path, *args: str) -> Result:
    database = tmp_path.parent / f"{tmp_path.name}-lib.sqlite"
    return CliRunner().invoke(cli, ["process", "--db", str(database), *args])


def document(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def tracks_on_disk(path: Path) -> list[Track]:
    """(type, language, title, default) per track in file order, from mkvmerge -J or ffprobe."""
    if path.suffix == ".mkv":
        out = subprocess.run(["mkvmerge", "-J", str(path)], capture_output=True, check=True)
        return [
            (
                t["type"].replace("subtitles", "subtitle"),
                t["properties"].get("language"),
                t["properties"].get("track_name"),
                bool(t["properties"].get("default_track")),
            )
            for t in json.loads(out.stdout)["tracks"]
        ]
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    )
    return [
        (
            s["codec_type"],
            s.get("tags", {}).get("language"),
            None,
            bool(s["disposition"]["default"]),
        )
        for s in json.loads(out.stdout)["streams"]
    ]


def planned_tracks(entry: dict[str, Any], with_titles: bool) -> list[Track]:
    """The tracks the last planned phase of a dry-run entry ends with."""
    plan = [p["plan"] for p in entry["phases"] if p["plan"] is not None][-1]
    return [
        (
            t["type"],
            t["language"],
            t["title"] if with_titles else None,
            t["flags"]["default"],
        )
        for t in plan["tracks"]
    ]


def stat_key(path: Path) -> tuple[int, int, int, int]:
    info = path.stat()
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


@pytest.fixture
def library(media_factory: MediaFactory) -> Path:
    media_factory(REMUX, "lib/remux.mkv")
    media_factory(METADATA, "lib/metadata.mkv")
    media_factory(MP4, "lib/clip.mp4")
    return media_factory(CONFORMING, "lib/fine.mkv").parent


def test_real_run_does_what_dry_run_showed_and_a_second_run_nothing(
    library: Path,
    policy_file: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = str(policy_file())
    planned = run(tmp_path, "-p", policy, "--dry-run", "--json", str(library))
    assert planned.exit_code == ExitCode.OK, planned.stderr
    dry = {Path(f["path"]).name: f for f in document(planned)["files"]}
    inodes = {name: (library / name).stat().st_ino for name in dry}

    applied = run(tmp_path, "-p", policy, "--json", str(library))
    assert applied.exit_code == ExitCode.OK, applied.stderr
    real = {Path(f["path"]).name: f for f in document(applied)["files"]}
    assert set(real) == set(dry)
    expected_tools = {  # strip and order: one transaction, one mkvmerge write
        "remux.mkv": {"mkvmerge"},
        "metadata.mkv": {"mkvpropedit"},
        "clip.mp4": {"ffmpeg"},
    }
    for name, entry in real.items():
        kind = dry[name]["kind"]
        assert entry["status"] == ("unchanged" if kind == "noop" else "changed"), name
        tools = {p["tool"] for p in entry["phases"] if p["tool"]}
        assert tools == expected_tools.get(name, set()), name
        with_titles = name.endswith(".mkv")
        assert tracks_on_disk(library / name) == planned_tracks(dry[name], with_titles), name
    assert (library / "metadata.mkv").stat().st_ino == inodes["metadata.mkv"]  # in place
    assert (library / "remux.mkv").stat().st_ino != inodes["remux.mkv"]  # replaced
    assert sorted(p.name for p in library.iterdir()) == sorted(dry)  # no temps, no backups

    # Second run: every file served from the library cache, no tool started, nothing written.
    log = tmp_path / "tools.log"
    for tool in ("mkvmerge", "mkvpropedit", "ffmpeg", "ffprobe"):
        monkeypatch.setenv(f"VPO_TOOLS_{tool.upper()}", str(STUBS / tool))
    monkeypatch.setenv("VPO_STUB_LOG", str(log))
    before = {name: stat_key(library / name) for name in real}
    again = run(tmp_path, "-p", policy, "--json", str(library))
    assert again.exit_code == ExitCode.OK, again.stderr
    summary = document(again)["summary"]
    assert (summary["changed"], summary["unchanged"], summary["bytes_written"]) == (0, 4, 0)
    assert {name: stat_key(library / name) for name in real} == before
    assert not log.exists(), log.read_text(encoding="utf-8")


def test_keep_backup_leaves_the_original_beside(
    media_factory: MediaFactory, policy_file: Callable[..., Path], tmp_path: Path
) -> None:
    movie = media_factory(REMUX, "lib/movie.mkv")
    original = movie.read_bytes()
    result = run(tmp_path, "-p", str(policy_file()), "--keep-backup", str(movie))
    assert result.exit_code == ExitCode.OK, result.stderr
    backups = [p for p in movie.parent.iterdir() if p != movie]
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert backups[0].name.endswith(".vpo-backup")
    assert [t[1] for t in tracks_on_disk(movie)] == ["und", "eng", "eng", "eng"]


ODD_NAMES = [
    "with spaces.mkv",
    'it\'s "quoted".mkv',
    "new\nline.mkv",
    "ünïcødé 映画.mkv",
    "-leading-dash.mkv",
]


def test_odd_file_names_are_processed(
    media_factory: MediaFactory, policy_file: Callable[..., Path], tmp_path: Path
) -> None:
    paths = [media_factory(REMUX, f"lib/{name}") for name in ODD_NAMES]
    directory = run(tmp_path, "-p", str(policy_file()), "--json", str(paths[0].parent))
    assert directory.exit_code == ExitCode.OK, directory.stderr
    statuses = {Path(f["path"]).name: f["status"] for f in document(directory)["files"]}
    assert statuses == dict.fromkeys(ODD_NAMES, "changed")
    assert "new\\nline.mkv" in directory.stderr  # one line per changed file, escaped
    assert len(directory.stderr.splitlines()) == len(ODD_NAMES)
    for path in paths:
        assert [t[1] for t in tracks_on_disk(path)] == ["und", "eng", "eng", "eng"], path.name
    assert sorted(p.name for p in paths[0].parent.iterdir()) == sorted(ODD_NAMES)
    # Named explicitly (after --): already conform now; off a terminal they are only counted.
    explicit = run(tmp_path, "-p", str(policy_file()), "--", *map(str, paths))
    assert explicit.exit_code == ExitCode.OK, explicit.stderr
    assert explicit.stdout.startswith("5 files: 0 changed, 5 unchanged")
    assert explicit.stderr == ""


def test_read_only_file_fails_with_one_line_and_stays_intact(
    media_factory: MediaFactory, policy_file: Callable[..., Path], tmp_path: Path
) -> None:
    movie = media_factory(REMUX, "lib/locked.mkv")
    fine = media_factory(REMUX, "lib/writable.mkv")
    movie.chmod(stat.S_IRUSR | stat.S_IRGRP)
    original = movie.read_bytes()
    result = run(tmp_path, "-p", str(policy_file()), str(movie.parent))
    assert result.exit_code == ExitCode.FILES_FAILED, result.stderr
    failures = [line for line in result.stdout.splitlines() if "locked.mkv" in line]
    assert len(failures) == 1, result.stdout
    assert failures[0].count("locked.mkv") == 1 and "read-only file" in failures[0]
    assert movie.read_bytes() == original
    assert "1 changed" in result.stdout
    assert [t[1] for t in tracks_on_disk(fine)] == ["und", "eng", "eng", "eng"]
    assert "Traceback" not in result.stderr + result.stdout


def test_corrupt_file_fails_and_the_others_are_processed(
    media_factory: MediaFactory,
    broken_factory: BrokenFactory,
    policy_file: Callable[..., Path],
    tmp_path: Path,
) -> None:
    first = media_factory(REMUX, "lib/a.mkv")
    broken = broken_factory(BrokenKind.RANDOM_BYTES, "lib/b.mkv")
    media_factory(METADATA, "lib/c.mkv")
    garbage = broken.read_bytes()
    result = run(tmp_path, "-p", str(policy_file()), "--json", str(first.parent))
    assert result.exit_code == ExitCode.FILES_FAILED
    files = {Path(f["path"]).name: f for f in document(result)["files"]}
    assert (files["a.mkv"]["status"], files["c.mkv"]["status"]) == ("changed", "changed")
    assert files["b.mkv"]["status"] == "failed" and files["b.mkv"]["error"]
    assert "\n" not in files["b.mkv"]["error"]
    assert broken.read_bytes() == garbage
    failure_lines = [line for line in result.stderr.splitlines() if "b.mkv" in line]
    assert len(failure_lines) == 1 and failure_lines[0].startswith("[2/3] failed")


def test_a_freshly_written_file_is_left_alone_as_growing(
    media_factory: MediaFactory,
    policy_file: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "30")
    settled = media_factory(REMUX, "lib/settled.mkv")
    fresh = media_factory(REMUX, "lib/fresh.mkv")
    old = time.time() - 120
    os.utime(settled, (old, old))
    original = fresh.read_bytes()
    result = run(tmp_path, "-p", str(policy_file()), "--json", str(settled.parent))
    assert result.exit_code == ExitCode.OK, result.stderr
    files = {Path(f["path"]).name: f for f in document(result)["files"]}
    assert files["settled.mkv"]["status"] == "changed"
    assert files["fresh.mkv"]["status"] == "skipped"
    assert "growing" in files["fresh.mkv"]["skip_reason"]
    assert fresh.read_bytes() == original


def test_library_records_every_processed_file(
    library: Path, policy_file: Callable[..., Path], tmp_path: Path
) -> None:
    result = run(tmp_path, "-p", str(policy_file()), str(library))
    assert result.exit_code == ExitCode.OK, result.stderr
    database = tmp_path.parent / f"{tmp_path.name}-lib.sqlite"
    report = CliRunner().invoke(cli, ["report", "files", "--json", "--db", str(database)])
    assert report.exit_code == 0, report.stderr
    rows = {Path(row["path"]).name: row for row in json.loads(report.stdout)}
    assert set(rows) == {"remux.mkv", "metadata.mkv", "clip.mp4", "fine.mkv"}
    assert {name: (row["outcome"], row["tool"]) for name, row in rows.items()} == {
        "remux.mkv": ("changed", "mkvmerge"),
        "metadata.mkv": ("changed", "mkvpropedit"),
        "clip.mp4": ("changed", "ffmpeg"),
        "fine.mkv": ("unchanged", None),
    }
    assert "removed" in rows["remux.mkv"]["changes"]
    assert "default on" in rows["metadata.mkv"]["changes"]
    assert rows["remux.mkv"]["before"] != rows["remux.mkv"]["after"]
    assert rows["fine.mkv"]["changes"] == ""


def test_a_policy_that_does_not_converge_is_reported_not_looped(
    media_factory: MediaFactory, policy_file: Callable[..., Path], tmp_path: Path
) -> None:
    movie = media_factory(CONFORMING, "lib/movie.mkv")
    result = run(tmp_path, "-p", str(policy_file(NON_CONVERGENT)), "--json", str(movie))
    assert result.exit_code == ExitCode.FILES_FAILED
    (entry,) = document(result)["files"]
    assert entry["status"] == "failed"
    assert "does not converge" in entry["error"] and "flip" in entry["error"]
    assert [t[1] for t in tracks_on_disk(movie)][1:] == ["eng"]  # found while planning: untouched


def test_missing_path_and_empty_file_give_one_line_each(
    media_factory: MediaFactory, policy_file: Callable[..., Path], tmp_path: Path
) -> None:
    empty = tmp_path / "lib" / "empty.mkv"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    missing = tmp_path / "lib" / "gone.mkv"
    result = run(tmp_path, "-p", str(policy_file()), str(empty), str(missing))
    assert result.exit_code == ExitCode.FILES_FAILED
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert len([line for line in result.stderr.splitlines() if "gone.mkv" in line]) == 1
    assert len([line for line in result.stderr.splitlines() if "empty.mkv" in line]) == 1
    assert empty.read_bytes() == b""
    as_json = run(tmp_path, "-p", str(policy_file()), "--json", str(empty), str(missing))
    assert as_json.exit_code == ExitCode.FILES_FAILED
    doc = document(as_json)
    assert doc["summary"]["failed"] == doc["summary"]["total"] == 2
    assert {Path(f["path"]).name: f["status"] for f in doc["files"]} == {
        "empty.mkv": "failed",
        "gone.mkv": "failed",
    }
    shutil.rmtree(empty.parent)


def test_the_same_file_named_twice_or_through_a_symlink_is_processed_once(
    media_factory: MediaFactory, policy_file: Callable[..., Path], tmp_path: Path
) -> None:
    movie = media_factory(REMUX, "lib/movie.mkv")
    link = tmp_path / "elsewhere" / "link.mkv"
    link.parent.mkdir()
    link.symlink_to(movie)
    result = run(
        tmp_path, "-p", str(policy_file()), "-w", "2", "--json", str(movie), str(link), str(movie)
    )
    assert result.exit_code == ExitCode.OK, result.stderr
    files = document(result)["files"]
    assert [f["status"] for f in files] == ["changed"]
    assert [t[1] for t in tracks_on_disk(movie)] == ["und", "eng", "eng", "eng"]
    assert link.is_symlink() and link.resolve() == movie
