"""Plain-data builders for apply unit tests (no files, no tools)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.plan import Plan, PlannedTrack, identity_plan


def build_media(
    container: Container = Container.MATROSKA, path: str = "/lib/movie.mkv"
) -> MediaFile:
    tracks = (
        Track(0, 0, TrackType.VIDEO, "h264", uid=111),
        Track(
            1, 1, TrackType.AUDIO, "aac", language="eng", flags=TrackFlags(default=True), uid=222
        ),
        Track(2, 2, TrackType.AUDIO, "ac3", language="fre", title="VF", uid=333),
        Track(3, 3, TrackType.SUBTITLE, "subrip", language="eng", uid=444),
    )
    return MediaFile(
        path=Path(path),
        container=container,
        size=1000,
        mtime_ns=1,
        tracks=tracks,
        duration=120.0,
    )


def set_track(plan: Plan, position: int, **changes: object) -> Plan:
    tracks = list(plan.tracks)
    flags = {k: v for k, v in changes.items() if k in TrackFlags.__slots__}
    other = {k: v for k, v in changes.items() if k not in TrackFlags.__slots__}
    track: PlannedTrack = replace(tracks[position], **other)  # type: ignore[arg-type]
    if flags:
        track = replace(track, flags=replace(track.flags, **flags))  # type: ignore[arg-type]
    tracks[position] = track
    return replace(plan, tracks=tuple(tracks))


@pytest.fixture
def make_media() -> Callable[..., MediaFile]:
    return build_media


@pytest.fixture
def with_track() -> Callable[..., Plan]:
    return set_track


@pytest.fixture
def plan_of() -> Callable[..., Plan]:
    def build(container: Container = Container.MATROSKA, path: str = "/lib/movie.mkv") -> Plan:
        return identity_plan(build_media(container, path), "test")

    return build
