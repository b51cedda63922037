"""The parts of probe_file that need no tool: path pre-checks, failure causes, media rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vpo.media.model import Container, MediaFile, Track, TrackType
from vpo.probe.errors import (
    EmptyFileError,
    FileNotFoundProbeError,
    NotAFileError,
    UnreadableFileError,
)
from vpo.probe.probe import check_regular_file, ffprobe_failure_cause, unsupported_reason


def media(tracks: tuple[Track, ...], format_name: str | None = "mp4") -> MediaFile:
    return MediaFile(
        path=Path("x.mp4"),
        container=Container.MP4,
        size=10,
        mtime_ns=0,
        tracks=tracks,
        format_name=format_name,
    )


def track(kind: TrackType) -> Track:
    return Track(index=0, track_id=0, type=kind, codec="h264")


def test_regular_file_passes_and_returns_its_stat(tmp_path: Path) -> None:
    path = tmp_path / "a.mkv"
    path.write_bytes(b"x" * 10)
    assert check_regular_file(path).st_size == 10


def test_missing_path_and_missing_parent(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundProbeError, match=r"a\.mkv: file not found$"):
        check_regular_file(tmp_path / "a.mkv")
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(FileNotFoundProbeError):
        check_regular_file(tmp_path / "file" / "child.mkv")  # a file used as a folder


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mkv"
    os.mkfifo(fifo)
    with pytest.raises(NotAFileError, match=r"pipe\.mkv: not a regular file$"):
        check_regular_file(fifo)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mkv"
    path.touch()
    with pytest.raises(EmptyFileError, match=r"empty\.mkv: empty file \(0 bytes\)$"):
        check_regular_file(path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root every file is readable, so os.access is patched to answer as for a user.
    path = tmp_path / "secret.mkv"
    path.write_bytes(b"x")
    monkeypatch.setattr(os, "access", lambda *_args, **_kw: False)
    with pytest.raises(UnreadableFileError, match=r"secret\.mkv: permission denied$"):
        check_regular_file(path)


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (
            "Truncating packet of size 1530341 to 4996\n"
            "[matroska,webm @ 0x55fb80257180] EBML header parsing failed\n"
            "file:/tmp/x.mkv: Invalid data found when processing input\n",
            "Invalid data found when processing input (EBML header parsing failed)",
        ),
        (
            "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d3c10df180] moov atom not found\n"
            "file:/tmp/a: b.mp4: Invalid data found when processing input\n",
            "Invalid data found when processing input (moov atom not found)",
        ),
        (
            "file:/tmp/h.avi: Invalid data found when processing input\n",
            "Invalid data found when processing input",
        ),
        ("", "ffprobe gave no reason"),
    ],
)
def test_ffprobe_failure_cause(stderr: str, expected: str) -> None:
    assert ffprobe_failure_cause(stderr) == expected


def test_unsupported_reason() -> None:
    assert unsupported_reason(media((track(TrackType.VIDEO),))) is None
    assert unsupported_reason(media((track(TrackType.AUDIO),))) is None
    assert unsupported_reason(media((track(TrackType.SUBTITLE),))) == "no audio or video tracks"
    assert unsupported_reason(media(())) == "no audio or video tracks"
    still = media((track(TrackType.VIDEO),), format_name="png_pipe")
    assert unsupported_reason(still) == "a still image or text (png_pipe), not a video"


def test_ffprobe_failure_cause_removes_a_name_with_a_newline() -> None:
    url = "file:/tmp/two\nlines: odd.mkv"
    stderr = f"{url}: Invalid data found when processing input\n"
    assert ffprobe_failure_cause(stderr, url) == "Invalid data found when processing input"
