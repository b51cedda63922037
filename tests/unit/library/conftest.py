"""Shared builders for library unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vpo.library import Library
from vpo.media.model import Container, MediaFile, Track, TrackType


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    with Library.open(tmp_path / "db" / "library.db") as opened:
        yield opened


MediaBuilder = Callable[..., MediaFile]


@pytest.fixture
def make_media() -> MediaBuilder:
    return simple_media


def simple_media(
    path: Path,
    *,
    size: int = 1000,
    mtime_ns: int = 1_700_000_000_000_000_000,
    inode: int = 42,
    device: int = 7,
    container: Container = Container.MATROSKA,
    audio_languages: tuple[str, ...] = ("eng",),
    subtitle_languages: tuple[str, ...] = (),
    video_codec: str = "h264",
) -> MediaFile:
    """A plausible file: one video track, then audio, then subtitles."""
    track_list = [Track(index=0, track_id=0, type=TrackType.VIDEO, codec=video_codec)]
    for language in audio_languages:
        n = len(track_list)
        track_list.append(
            Track(index=n, track_id=n, type=TrackType.AUDIO, codec="aac", language=language)
        )
    for language in subtitle_languages:
        n = len(track_list)
        track_list.append(
            Track(index=n, track_id=n, type=TrackType.SUBTITLE, codec="subrip", language=language)
        )
    return MediaFile(
        path=path,
        container=container,
        size=size,
        mtime_ns=mtime_ns,
        tracks=tuple(track_list),
        duration=2.0,
        inode=inode,
        device=device,
    )
