"""Builders for policy tests: tracks, media files and policies from short YAML."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vpo.media.containers import stored_flags, stored_language, stored_title
from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType
from vpo.policy.loader import parse_policy
from vpo.policy.schema import Phase, Policy


def read_back(media: MediaFile) -> MediaFile:
    """What a probe of the written file shows: only what the container stores."""
    tracks = tuple(
        replace(
            track,
            flags=stored_flags(media.container, track.flags),
            language=stored_language(media.container, track.type, track.language),
            title=stored_title(media.container, track.type, track.title),
        )
        for track in media.tracks
    )
    return replace(media, tracks=tracks)


class Build:
    """Small factory so each test states only what matters to it."""

    @staticmethod
    def track(
        kind: str, codec: str, language: str = "eng", title: str | None = None, **flags: Any
    ) -> Track:
        numbers = {k: flags.pop(k) for k in ("channels", "width", "height") if k in flags}
        return Track(
            index=-1,
            track_id=-1,
            type=TrackType(kind),
            codec=codec,
            language=language,
            title=title,
            flags=TrackFlags(**flags),
            **numbers,
        )

    @staticmethod
    def media(
        *tracks: Track,
        container: Container = Container.MATROSKA,
        attachments: int = 0,
        size: int = 1000,
        duration: float | None = 60.0,
        name: str = "movie.mkv",
    ) -> MediaFile:
        numbered = tuple(
            Track(**{**{s: getattr(t, s) for s in Track.__slots__}, "index": i, "track_id": i})
            for i, t in enumerate(tracks)
        )
        return MediaFile(
            path=Path(name),
            container=container,
            size=size,
            mtime_ns=0,
            tracks=numbered,
            duration=duration,
            attachments=tuple(
                Attachment(attachment_id=i + 1, file_name=f"font{i}.ttf")
                for i in range(attachments)
            ),
        )

    @staticmethod
    def policy(phases_yaml: str, config_yaml: str = "") -> Policy:
        text = "schema_version: 12\n"
        if config_yaml:
            text += "config:\n" + _indent(config_yaml)
        text += "phases:\n" + _indent(phases_yaml)
        return parse_policy(text, "test.yaml")

    def phase(self, body_yaml: str, config_yaml: str = "") -> tuple[Phase, Policy]:
        body = _indent(body_yaml) if body_yaml.strip() else ""
        policy = self.policy("- name: p\n" + body, config_yaml)
        return policy.phases[0], policy


def _indent(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n") + "\n", "  ")


@pytest.fixture
def build() -> Build:
    return Build()
