"""vpo.cli.render.tracks: MediaFile → dict and → table text (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from vpo.cli.render.tracks import (
    display_path,
    flags_text,
    human_bit_rate,
    human_duration,
    human_size,
    media_header,
    media_to_dict,
    track_details,
    track_language,
    track_table,
)
from vpo.media.model import Attachment, Container, MediaFile, Track, TrackFlags, TrackType

VIDEO = Track(
    index=0,
    track_id=0,
    type=TrackType.VIDEO,
    codec="hevc",
    width=1920,
    height=1080,
    frame_rate=23.976,
    bit_rate=4_500_000,
    flags=TrackFlags(default=True),
)
AUDIO = Track(
    index=1,
    track_id=1,
    type=TrackType.AUDIO,
    codec="truehd",
    language="fre",
    language_ietf="fr-CA",
    title="[red]Commentaire[/red]",
    channels=8,
    channel_layout="7.1",
    sample_rate=48_000,
    flags=TrackFlags(commentary=True, original=True),
)
MEDIA = MediaFile(
    path=Path("dir/My Movie.mkv"),
    container=Container.MATROSKA,
    size=4_321_000_000,
    mtime_ns=123,
    tracks=(VIDEO, AUDIO),
    duration=5533.4,
    bit_rate=6_250_000,
    attachments=(Attachment(1, "font.ttf", "font/ttf", 1000, None),),
    chapter_count=12,
    title="My Movie",
    format_name="mkv",
)


def test_media_to_dict_is_json_and_complete() -> None:
    data = media_to_dict(MEDIA)
    assert json.loads(json.dumps(data)) == data
    assert data["path"] == "dir/My Movie.mkv"
    assert data["container"] == "mkv"
    assert data["chapter_count"] == 12
    (font,) = data["attachments"]
    assert font == {
        "id": 1,
        "file_name": "font.ttf",
        "mime_type": "font/ttf",
        "size": 1000,
        "description": None,
    }
    audio = data["tracks"][1]
    assert audio["type"] == "audio"
    assert audio["language_ietf"] == "fr-CA"
    assert audio["flags"] == {
        "default": False,
        "forced": False,
        "hearing_impaired": False,
        "visual_impaired": False,
        "commentary": True,
        "original": True,
    }
    assert set(audio) == set(data["tracks"][0])  # every track has every key


def test_header_line() -> None:
    assert media_header(MEDIA) == (
        "dir/My Movie.mkv: Matroska, 1:32:13, 4.3 GB, 6.2 Mb/s, 1 attachment, 12 chapters, "
        "title 'My Movie'"
    )


def test_track_cells() -> None:
    assert track_details(VIDEO) == "1920x1080, 23.976 fps, 4.5 Mb/s"
    assert track_details(AUDIO) == "8 ch (7.1), 48 kHz"
    assert track_language(AUDIO) == "fre (fr-CA)"
    assert track_language(VIDEO) == "und"
    assert flags_text(AUDIO.flags) == "C O"
    assert flags_text(TrackFlags()) == "-"


def test_table_prints_titles_literally() -> None:
    console = Console(width=200, record=True, color_system=None)
    console.print(track_table(MEDIA))
    text = console.export_text()
    assert "[red]Commentaire[/red]" in text
    assert "H.265/HEVC" in text and "TrueHD" in text


@pytest.mark.parametrize(
    ("size", "expected"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (146_876, "146.9 kB"), (5 * 10**12, "5.0 TB")],
)
def test_human_size(size: int, expected: str) -> None:
    assert human_size(size) == expected


def test_human_duration_and_bit_rate() -> None:
    assert human_duration(None) == "?"
    assert human_duration(2.4) == "0:00:02"
    assert human_duration(3600) == "1:00:00"
    assert human_bit_rate(None) is None
    assert human_bit_rate(40) == "40 b/s"
    assert human_bit_rate(192_000) == "192 kb/s"


@given(st.text(max_size=30))
def test_display_path_is_always_one_printable_line(name: str) -> None:
    shown = display_path(name)
    assert "\n" not in shown and "\r" not in shown
    assert shown.isprintable()
