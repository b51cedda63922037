"""probe_file on real generated media, cross-checked against the tools read independently."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vpo.media.language import normalize_language
from vpo.media.model import Container, MediaFile, TrackType
from vpo.probe.errors import (
    EmptyFileError,
    FileNotFoundProbeError,
    NotAFileError,
    NotMediaError,
    ProbeTimeoutError,
    TruncatedFileError,
    UnexpectedProbeOutputError,
    UnreadableFileError,
)
from vpo.probe.probe import probe_file
from vpo.testmedia.factory import BrokenKind
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec, expected_language
from vpo.tools.locate import ToolPaths
from vpo.tools.runner import ToolError, ToolNotFoundError

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]

RICH_MKV = MediaSpec(
    container="mkv",
    audio=(
        AudioSpec(language="eng", title="Main", default=True, channels=6, original=True),
        AudioSpec(codec="ac3", language="fre", language_ietf="fr-CA", commentary=True),
        AudioSpec(codec="opus", language=None, visual_impaired=True),
    ),
    subtitles=(
        SubtitleSpec(language="eng", title="Forced", forced=True),
        SubtitleSpec(codec="ass", language="ger", hearing_impaired=True),
    ),
    font_attachment=True,
    chapters=3,
    title="Rich Sample",
)
SPECS = {
    "mkv": RICH_MKV,
    "webm": MediaSpec(
        container="webm",
        video_codec="vp9",
        audio=(AudioSpec(codec="opus", language="jpn", default=True),),
    ),
    "mp4": MediaSpec(
        container="mp4",
        audio=(AudioSpec(language="spa", default=True), AudioSpec(language="eng", commentary=True)),
        subtitles=(SubtitleSpec(codec="mov_text", language="eng", default=True, forced=True),),
        chapters=2,
    ),
    "avi": MediaSpec(
        container="avi", video_codec="mpeg4", audio=(AudioSpec(codec="mp3", language=None),)
    ),
}


def run_json(argv: list[str]) -> dict[str, Any]:
    completed = subprocess.run(argv, capture_output=True, check=False, timeout=60)
    data: dict[str, Any] = json.loads(completed.stdout)
    return data


def ffprobe_streams(tools: ToolPaths, path: Path) -> list[dict[str, Any]]:
    data = run_json(
        [tools.require("ffprobe"), "-v", "error", "-of", "json", "-show_streams", str(path)]
    )
    kinds = ("video", "audio", "subtitle")
    return [s for s in data["streams"] if s["codec_type"] in kinds]


@pytest.mark.parametrize("container", sorted(SPECS))
def test_probe_matches_the_spec(
    container: str, media_factory: MediaFactory, tools: ToolPaths
) -> None:
    spec = SPECS[container]
    path = media_factory(spec)
    media = probe_file(path, tools)
    assert media.container is spec.container_kind
    assert media.size == path.stat().st_size
    assert media.inode == path.stat().st_ino
    assert media.duration == pytest.approx(spec.duration, abs=0.2)
    assert media.chapter_count == spec.chapters
    assert media.title == spec.title
    assert len(media.attachments) == int(spec.font_attachment)
    layouts = spec.tracks()
    assert [t.type for t in media.tracks] == [t.type for t in layouts]
    for track, layout in zip(media.tracks, layouts, strict=True):
        assert track.flags == layout.flags, track
        assert track.language == expected_language(layout.language, container), track
        if layout.type is not TrackType.VIDEO:
            assert track.title == layout.title, track
    video = media.video_tracks[0]
    assert (video.width, video.height) == (spec.width, spec.height)
    assert video.frame_rate is not None and video.frame_rate > 0


def test_matroska_probe_agrees_with_ffprobe(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(RICH_MKV)
    media = probe_file(path, tools)
    streams = ffprobe_streams(tools, path)
    assert [t.codec for t in media.tracks] == [s["codec_name"] for s in streams]
    for track, stream in zip(media.tracks, streams, strict=True):
        tags = {k.lower(): v for k, v in stream.get("tags", {}).items()}
        disposition = stream["disposition"]
        assert track.flags.default == bool(disposition["default"])
        assert track.flags.forced == bool(disposition["forced"])
        assert track.flags.commentary == bool(disposition["comment"])
        assert track.flags.hearing_impaired == bool(disposition["hearing_impaired"])
        assert track.flags.visual_impaired == bool(disposition["visual_impaired"])
        assert track.flags.original == bool(disposition["original"])
        # ffmpeg omits the tag for "und" and reports "eng" for an absent element
        assert track.language == normalize_language(tags.get("language", "und"))
        assert track.title == tags.get("title")
        assert track.channels == stream.get("channels")
        assert track.width == stream.get("width")
    french = media.audio_tracks[1]
    assert french.language_ietf == "fr-CA"
    assert all(t.bit_rate for t in media.tracks)  # mkvmerge's statistics tags


def test_matroska_probe_agrees_with_mkvmerge(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(RICH_MKV)
    media = probe_file(path, tools)
    data = run_json([tools.require("mkvmerge"), "-J", str(path)])
    assert [t.track_id for t in media.tracks] == [t["id"] for t in data["tracks"]]
    assert [t.uid for t in media.tracks] == [t["properties"]["uid"] for t in data["tracks"]]
    assert media.duration == pytest.approx(data["container"]["properties"]["duration"] / 1e9)
    assert [a.file_name for a in media.attachments] == [a["file_name"] for a in data["attachments"]]


@pytest.mark.parametrize("container", ["mp4", "avi", "webm"])
def test_non_matroska_probe_agrees_with_ffprobe(
    container: str, media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPECS[container])
    media = probe_file(path, tools)
    streams = ffprobe_streams(tools, path)
    assert [t.codec for t in media.tracks] == [s["codec_name"] for s in streams]
    assert [t.channels for t in media.tracks] == [s.get("channels") for s in streams]
    assert [t.sample_rate for t in media.tracks] == [
        int(s["sample_rate"]) if "sample_rate" in s else None for s in streams
    ]


def test_absent_matroska_language_reads_as_english(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    media = probe_file(media_factory(RICH_MKV), tools)
    assert media.audio_tracks[2].language == "eng"


def test_format_is_sniffed_not_taken_from_the_name(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    mp4_named_mkv = media_factory(SPECS["mp4"], "really-an-mp4.mkv")
    mkv_named_mp4 = media_factory(RICH_MKV, "really-an-mkv.mp4")
    assert probe_file(mp4_named_mkv, tools).container is Container.MP4
    assert probe_file(mkv_named_mp4, tools).container is Container.MATROSKA


@pytest.mark.parametrize(
    "name",
    [
        "with spaces.mkv",
        'it\'s "quoted".mkv',
        "new\nline.mkv",
        "ünïcødé 日本語.mkv",
        "-leading-dash.mkv",
        "@at-sign.mkv",
        "file:colon.mkv",
    ],
)
@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_odd_names_probe_fine(
    name: str,
    container: str,
    media_factory: MediaFactory,
    tools: ToolPaths,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = media_factory(SPECS[container], name)
    monkeypatch.chdir(path.parent)  # a relative name, so a leading dash reaches the argv
    media = probe_file(Path(name), tools)
    assert media.path == Path(name)
    assert len(media.tracks) == len(SPECS[container].tracks())


def expect_one_line(error: pytest.ExceptionInfo[Exception], path: Path, cause: str) -> None:
    text = str(error.value)
    assert text.startswith(f"{path}: "), text
    assert cause in text, text
    assert "\n" not in text.removeprefix(str(path)), text


def test_missing_file(tmp_path: Path, tools: ToolPaths) -> None:
    path = tmp_path / "gone.mkv"
    with pytest.raises(FileNotFoundProbeError) as caught:
        probe_file(path, tools)
    expect_one_line(caught, path, "file not found")


def test_broken_symlink(tmp_path: Path, tools: ToolPaths) -> None:
    path = tmp_path / "link.mkv"
    path.symlink_to(tmp_path / "nowhere.mkv")
    with pytest.raises(FileNotFoundProbeError) as caught:
        probe_file(path, tools)
    expect_one_line(caught, path, "broken symbolic link")


def test_directory(tmp_path: Path, tools: ToolPaths) -> None:
    path = tmp_path / "folder.mkv"
    path.mkdir()
    with pytest.raises(NotAFileError) as caught:
        probe_file(path, tools)
    expect_one_line(caught, path, "it is a directory")


def test_unreadable_file(
    media_factory: MediaFactory, tools: ToolPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, and root reads 0o000 files; so os.access is patched to say
    # what it says to an ordinary user for such a file.
    path = media_factory(RICH_MKV)
    path.chmod(0)
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode, **kw: False if Path(p) == path else real_access(p, mode)
    )
    with pytest.raises(UnreadableFileError) as caught:
        probe_file(path, tools)
    expect_one_line(caught, path, "permission denied")


@pytest.mark.parametrize(
    ("kind", "error_type", "cause"),
    [
        (BrokenKind.ZERO_BYTES, EmptyFileError, "empty file (0 bytes)"),
        (BrokenKind.RANDOM_BYTES, NotMediaError, "Invalid data found when processing input"),
        (BrokenKind.TEXT_AS_MKV, NotMediaError, "Invalid data found when processing input"),
        (BrokenKind.TRUNCATED_MKV, TruncatedFileError, "but the file ends after"),
    ],
)
def test_broken_files(
    kind: BrokenKind,
    error_type: type[Exception],
    cause: str,
    broken_factory: Callable[..., Path],
    tools: ToolPaths,
) -> None:
    path = broken_factory(kind, "broken.mkv")
    with pytest.raises(error_type) as caught:
        probe_file(path, tools)
    expect_one_line(caught, path, cause)


def test_mkv_cut_in_half_is_truncated(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(RICH_MKV)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFileError) as caught:
        probe_file(path, tools)
    expect_one_line(caught, path, "truncated Matroska file")


def test_subtitle_file_is_not_a_video(tmp_path: Path, tools: ToolPaths) -> None:
    path = tmp_path / "subs.mkv"
    path.write_text("1\n00:00:00,000 --> 00:00:01,000\nHello\n", encoding="utf-8")
    with pytest.raises(NotMediaError) as caught:
        probe_file(path, tools)
    expect_one_line(caught, path, "no audio or video tracks")


def test_still_image_is_not_a_video(tmp_path: Path, tools: ToolPaths) -> None:
    path = tmp_path / "picture.mkv"
    subprocess.run(
        [
            *(tools.require("ffmpeg"), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=32x32"),
            *("-frames:v", "1", "-f", "image2", "-c:v", "png", str(path)),
        ],
        check=True,
        timeout=60,
    )
    with pytest.raises(NotMediaError) as caught:
        probe_file(path, tools)
    expect_one_line(caught, path, "not a video")


def test_missing_tool_is_a_tool_error(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(RICH_MKV)
    with pytest.raises(ToolNotFoundError, match="mkvmerge"):
        probe_file(path, ToolPaths(ffprobe=tools.ffprobe, mkvmerge=None))


def test_hanging_tool_times_out(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path
) -> None:
    stub = tmp_path / "slow-ffprobe"
    stub.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    stub.chmod(0o755)
    path = media_factory(SPECS["mp4"])
    with pytest.raises(ProbeTimeoutError) as caught:
        probe_file(path, ToolPaths(ffprobe=str(stub)), timeout=0.5)
    expect_one_line(caught, path, "probe timed out: slow-ffprobe took longer than 0.5 s")


def test_probe_returns_what_the_file_is_now(media_factory: MediaFactory, tools: ToolPaths) -> None:
    path = media_factory(RICH_MKV)
    before = probe_file(path, tools)
    subprocess.run(
        [
            tools.require("mkvpropedit"),
            "-q",
            str(path),
            "--edit",
            "track:a2",
            "--set",
            "flag-default=1",
        ],
        check=True,
        timeout=60,
    )
    after = probe_file(path, tools)
    assert before.audio_tracks[1].flags.default is False
    assert after.audio_tracks[1].flags.default is True
    assert isinstance(after, MediaFile) and after.mtime_ns >= before.mtime_ns


def stub_tool(directory: Path, name: str, script: str) -> str:
    """A small executable standing in for a tool that misbehaves."""
    stub = directory / name
    stub.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    stub.chmod(0o755)
    return str(stub)


def test_tool_printing_garbage_is_unexpected_output(
    media_factory: MediaFactory, tmp_path: Path
) -> None:
    path = media_factory(SPECS["mp4"])
    ffprobe = stub_tool(tmp_path, "ffprobe", "echo 'this is not json'")
    with pytest.raises(UnexpectedProbeOutputError) as caught:
        probe_file(path, ToolPaths(ffprobe=ffprobe))
    expect_one_line(caught, path, "unexpected probe output: ffprobe did not print JSON")


def test_crashing_mkvmerge_is_a_tool_error(media_factory: MediaFactory, tmp_path: Path) -> None:
    path = media_factory(RICH_MKV)
    mkvmerge = stub_tool(tmp_path, "mkvmerge", "echo 'Segmentation fault' >&2; exit 139")
    with pytest.raises(ToolError) as caught:
        probe_file(path, ToolPaths(mkvmerge=mkvmerge))
    assert str(caught.value) == f"{path}: mkvmerge failed (exit 139): Segmentation fault"
