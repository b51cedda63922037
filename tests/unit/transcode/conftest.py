"""Builders for transcode tests: media files from short track lists, phases from YAML."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from vpo.media.model import Container, MediaFile, Track, TrackFlags, TrackType
from vpo.policy.loader import parse_policy
from vpo.policy.schema import Phase, PolicyConfig


class Tx:
    """Small factory so each test states only what matters to it."""

    @staticmethod
    def video(codec: str = "h264", width: int = 1920, height: int = 1080, **extra: Any) -> Track:
        return Track(0, 0, TrackType.VIDEO, codec, width=width, height=height, **extra)

    @staticmethod
    def audio(
        codec: str = "aac",
        channels: int = 2,
        language: str = "eng",
        bit_rate: int | None = None,
        **flags: bool,
    ) -> Track:
        return Track(
            0, 0, TrackType.AUDIO, codec, language=language, channels=channels,
            flags=TrackFlags(**flags), bit_rate=bit_rate,
        )  # fmt: skip

    @staticmethod
    def media(
        *tracks: Track, container: Container = Container.MATROSKA, bit_rate: int | None = None
    ) -> MediaFile:
        numbered = tuple(
            Track(**{**{s: getattr(t, s) for s in Track.__slots__}, "index": i, "track_id": i})
            for i, t in enumerate(tracks)
        )
        return MediaFile(
            Path("movie.mkv"), container, 1000, 0, numbered, duration=60.0, bit_rate=bit_rate
        )

    @staticmethod
    def phase(body: str) -> tuple[Phase, PolicyConfig]:
        text = "schema_version: 12\nphases:\n  - name: p\n" + textwrap.indent(
            textwrap.dedent(body).strip("\n") + "\n", "    "
        )
        policy = parse_policy(text, "test.yaml")
        return policy.phases[0], policy.config


@pytest.fixture
def tx() -> Tx:
    return Tx()
