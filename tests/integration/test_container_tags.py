"""Container tags read from real files (written by mkvpropedit and ffmpeg), checked
against what ffprobe reports in ``format.tags``.

Matroska differs from ffprobe on purpose in two keys: ffprobe also shows the
Info element's MuxingApp as ``encoder`` and its DateUTC as ``creation_time``;
they are in every Matroska file and no tool removes them, so vpo's tags are the
Tags element's global tags plus the segment title only.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.probe.probe import probe_file
from vpo.testmedia.spec import MediaSpec
from vpo.tools.locate import ToolPaths

MediaFactory = Callable[..., Path]

TAGS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Tags>
  <Tag><Targets><TargetTypeValue>50</TargetTypeValue></Targets>
    <Simple><Name>DIRECTOR</Name><String>Jane Doe</String></Simple>
    <Simple><Name>Custom_Note</Name><String> spaced </String></Simple>
  </Tag>
  <Tag><Targets/>
    <Simple><Name>COMMENT</Name><String>hello &amp; ünïcode</String></Simple>
  </Tag>
</Tags>
"""


def ffprobe_tags(path: Path, tools: ToolPaths) -> dict[str, str]:
    out = subprocess.run(
        [tools.require("ffprobe"), "-v", "error", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    tags: dict[str, str] = json.loads(out)["format"].get("tags", {})
    return {key.lower(): value.strip() for key, value in tags.items()}


def test_matroska_global_tags_and_title_are_read(
    tmp_path: Path, tools: ToolPaths, media_factory: MediaFactory
) -> None:
    movie = media_factory(MediaSpec(container="mkv"))
    xml = tmp_path / "tags.xml"
    xml.write_text(TAGS_XML, encoding="utf-8")
    subprocess.run(
        [
            tools.require("mkvpropedit"),
            "-q",
            str(movie),
            "--tags",
            f"global:{xml}",
            "--edit",
            "info",
            "--set",
            "title=My Film",
        ],
        check=True,
    )
    expected = ffprobe_tags(movie, tools)
    del expected["encoder"], expected["creation_time"]  # Info's MuxingApp and DateUTC
    assert expected == {
        "title": "My Film",
        "director": "Jane Doe",
        "custom_note": "spaced",
        "comment": "hello & ünïcode",
    }
    in_process = probe_matroska_headers(movie)
    assert dict(in_process.tags) == expected
    assert probe_file(movie, tools).tags == in_process.tags  # the mkvmerge -J probe


def test_an_ffmpeg_matroska_encoder_tag_is_global_its_track_tags_are_not(
    tmp_path: Path, tools: ToolPaths
) -> None:
    movie = tmp_path / "ffmpeg.mkv"
    subprocess.run(
        [
            tools.require("ffmpeg"),
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10:duration=1",
            "-c:v",
            "libx264",
            "-metadata",
            "comment=from ffmpeg",
            "-metadata:s:v:0",
            "handler=not global",
            str(movie),
        ],
        check=True,
    )
    expected = ffprobe_tags(movie, tools)
    assert set(expected) == {"encoder", "comment"}  # the track's tags are not there
    assert dict(probe_matroska_headers(movie).tags) == expected


@pytest.mark.parametrize("container", ["mp4", "mov", "ts", "avi", "ogg"])
def test_other_containers_report_ffprobes_format_tags(
    tmp_path: Path, tools: ToolPaths, media_factory: MediaFactory, container: str
) -> None:
    video = "theora" if container == "ogg" else "h264"
    source = media_factory(MediaSpec(container=container, video_codec=video, audio=()))
    movie = tmp_path / f"tagged{source.suffix}"
    subprocess.run(
        [
            tools.require("ffmpeg"),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(source),
            "-map",
            "0",
            "-c",
            "copy",
            "-metadata",
            "title=Tagged",
            "-metadata",
            "comment=Some Comment",
            str(movie),
        ],
        check=True,
    )
    media = probe_file(movie, tools)
    assert dict(media.tags) == ffprobe_tags(movie, tools)
    assert media.tag("title") == media.title
