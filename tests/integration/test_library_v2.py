"""Library schema 2 end to end: a real encode recorded with its sizes and speed, and
the ctime in the cache key catching a real in-place edit that kept size and mtime."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vpo.cli.main import cli
from vpo.library import Library
from vpo.library.reporting import human_bytes, saved_text
from vpo.testmedia.spec import AudioSpec, MediaSpec
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

SOURCE = MediaSpec(width=128, height=96, duration=2.0)
ENCODE = """\
schema_version: 12
phases:
  - name: shrink
    transcode:
      video:
        target_codec: hevc
        quality: {mode: bitrate, bitrate: 40k, preset: ultrafast}
"""
METADATA = MediaSpec(audio=(AudioSpec(language="eng"),))
DEFAULTS = """\
schema_version: 12
config:
  audio_language_preference: [eng]
phases:
  - name: defaults
    default_flags: {set_preferred_audio_default: true}
"""


@pytest.fixture(autouse=True)
def settled_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated files are seconds old; the growing-file guard has its own test."""
    monkeypatch.setenv("VPO_JOBS_STABLE_SECONDS", "0")


def vpo(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def test_an_encode_is_recorded_with_sizes_speed_and_codecs(
    media_factory: MediaFactory, tmp_path: Path
) -> None:
    movie = media_factory(SOURCE)
    original = movie.stat().st_size
    policy = tmp_path / "shrink.yaml"
    policy.write_text(ENCODE, encoding="utf-8")
    database = tmp_path / "library.db"

    document = as_json(vpo("process", "--db", database, "--json", "--policy", policy, movie))
    final = movie.stat().st_size
    saved = original - final
    (entry,) = document["files"]
    assert (entry["status"], entry["bytes_saved"], document["summary"]["bytes_saved"]) == (
        "changed",
        saved,
        saved,
    )
    (phase,) = entry["phases"]
    assert (phase["kind"], phase["original_size"], phase["bytes_saved"]) == (
        "encode",
        original,
        saved,
    )
    assert phase["encode_seconds"] > 0 and phase["encode_speed"] > 0

    (record,) = as_json(vpo("report", "changes", "--db", database, "--json"))
    assert (record["original_size"], record["bytes_saved"]) == (original, saved)
    assert (record["codecs_before"], record["codecs_after"]) == ("v:h264 a:aac", "v:hevc a:aac")
    assert record["encode_seconds"] == phase["encode_seconds"]
    assert record["encode_speed"] == phase["encode_speed"]
    # 2 s of media: the speed is the media duration over the encode time.
    assert record["encode_speed"] * record["encode_seconds"] == pytest.approx(2.0, rel=0.05)

    text = vpo("report", "changes", "--db", database).stdout.splitlines()
    assert f" shrink.yaml changed [encode/ffmpeg] {movie} ({human_bytes(final)}, " in text[0]
    assert "saved" not in text[0]  # the encode line says it
    assert text[1] == "    v:h264* a:aac/eng → v:hevc* a:aac/eng"
    assert text[2].startswith("    encode: v:h264 a:aac → v:hevc a:aac, ")
    assert f"({saved_text(saved)}) in " in text[2] and "× real time" in text[2]
    (run,) = as_json(vpo("report", "runs", "--db", database, "--json", "--policy", "shrink.yaml"))
    assert run["bytes_saved"] == saved
    assert as_json(vpo("report", "runs", "--db", database, "--json", "--policy", "other")) == []
    status = as_json(vpo("status", "--db", database, "--json"))
    assert (status["bytes_saved"], status["bytes_saved_by_policy"]) == (
        saved,
        {"shrink.yaml": saved},
    )

    # The record refreshed the cache with the file's real ctime: the next run can use it.
    info = movie.stat()
    with Library.open(database) as library:
        cached = library.cached_media(
            movie, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns
        )
    assert cached is not None and cached.tracks[0].codec == "hevc"


def test_a_header_edit_that_kept_size_and_mtime_is_not_a_cache_hit(
    media_factory: MediaFactory, tmp_path: Path, tools: ToolPaths
) -> None:
    """The crash case: mkvpropedit changed the file (mtime restored) but the database
    write never happened. Size, mtime and inode are the same; the ctime is not."""
    movie = media_factory(METADATA, "a movie.mkv")
    policy = tmp_path / "defaults.yaml"
    policy.write_text(DEFAULTS, encoding="utf-8")
    database = tmp_path / "library.db"
    document = as_json(vpo("process", "--db", database, "--json", "--policy", policy, movie))
    assert document["files"][0]["phases"][0]["tool"] == "mkvpropedit"
    recorded = movie.stat()
    with Library.open(database) as library:
        state = library.file_state(movie)
        assert state is not None and state.key.ctime_ns == recorded.st_ctime_ns

    subprocess.run(
        [tools.require("mkvpropedit"), str(movie), "--edit", "track:a1", "--set", "language=ger"],
        capture_output=True,
        check=True,
    )
    os.utime(movie, ns=(recorded.st_atime_ns, recorded.st_mtime_ns))
    edited = movie.stat()
    assert (edited.st_size, edited.st_mtime_ns, edited.st_ino) == (
        recorded.st_size,
        recorded.st_mtime_ns,
        recorded.st_ino,
    )

    with Library.open(database) as library:
        assert (
            library.cached_media(
                movie, edited.st_size, edited.st_mtime_ns, edited.st_ino, edited.st_ctime_ns
            )
            is None
        )
    scan = as_json(vpo("scan", "--db", database, "--json", movie))
    assert (scan["changed"], scan["unchanged"]) == (1, 0)
    with Library.open(database) as library:
        cached = library.cached_media(
            movie, edited.st_size, edited.st_mtime_ns, edited.st_ino, edited.st_ctime_ns
        )
    assert cached is not None and cached.tracks[1].language == "ger"
    assert as_json(vpo("scan", "--db", database, "--json", movie))["unchanged"] == 1
