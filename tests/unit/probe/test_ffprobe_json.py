"""parse_ffprobe_json on captured ffprobe output (fixtures: make_fixtures.sh)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.media.language import COMMON_ALPHA2
from vpo.media.model import Container, MediaFile, TrackFlags, TrackType
from vpo.probe.errors import NotMediaError
from vpo.probe.ffprobe_json import (
    container_from_format,
    frame_rate_from_ratio,
    ietf_tag,
    parse_ffprobe_json,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "probe"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def parse(data: dict[str, Any], name: str = "movie.mp4", doctype: str | None = None) -> MediaFile:
    return parse_ffprobe_json(
        data, path=Path(name), size=43_740, mtime_ns=5, inode=None, device=None, doctype=doctype
    )


def test_mp4_file() -> None:
    media = parse(load("mp4.ffprobe.json"))
    assert media.container is Container.MP4
    assert media.format_name == "mp4"
    assert media.duration == pytest.approx(2.002)
    assert media.bit_rate == 174_785
    assert media.chapter_count == 0 and media.attachments == ()
    assert [t.type for t in media.tracks] == [
        TrackType.VIDEO,
        TrackType.AUDIO,
        TrackType.AUDIO,
        TrackType.SUBTITLE,
    ]
    assert [t.track_id for t in media.tracks] == [0, 1, 2, 3]
    assert [t.codec for t in media.tracks] == ["h264", "aac", "aac", "mov_text"]
    assert [t.language for t in media.tracks] == ["und", "eng", "spa", "eng"]
    assert [t.title for t in media.tracks] == [None, None, None, None]  # generic handler names


def test_mp4_dispositions_map_to_flags() -> None:
    video, english, spanish, subtitle = parse(load("mp4.ffprobe.json")).tracks
    assert video.flags == TrackFlags(default=True)
    assert english.flags == TrackFlags(default=True)
    assert spanish.flags == TrackFlags(commentary=True)
    assert subtitle.flags.forced is True


def test_mp4_stream_properties() -> None:
    video, english, *_ = parse(load("mp4.ffprobe.json")).tracks
    assert (video.width, video.height, video.frame_rate) == (64, 48, 23.976)
    assert video.bit_rate == 13_874
    assert (english.channels, english.channel_layout, english.sample_rate) == (1, "mono", 48_000)


def test_matroska_through_ffprobe_matches_what_mkvmerge_knows() -> None:
    media = parse(load("rich-mkv.ffprobe.json"), name="rich.mkv", doctype="matroska")
    assert media.container is Container.MATROSKA
    assert media.title == "Rich Sample"
    assert media.chapter_count == 3
    assert [t.codec for t in media.tracks] == ["h264", "aac", "ac3", "subrip", "ass"]
    assert [t.language for t in media.tracks] == ["und", "eng", "fre", "eng", "ger"]
    assert [t.title for t in media.tracks] == ["Picture", "Main", "Commentaire", "Forced", "SDH"]
    video, main, commentary, forced, sdh = media.tracks
    assert main.flags == TrackFlags(default=True, original=True)
    assert commentary.flags == TrackFlags(commentary=True, visual_impaired=True)
    assert forced.flags == TrackFlags(forced=True)
    assert sdh.flags == TrackFlags(hearing_impaired=True)
    assert main.channel_layout == "5.1"
    assert video.bit_rate == 13_458  # from the BPS tag when there is no stream bit_rate


def test_matroska_attachment_stream_is_an_attachment_not_a_track() -> None:
    media = parse(load("rich-mkv.ffprobe.json"), name="rich.mkv")
    (font,) = media.attachments
    assert font.attachment_id == 5  # the stream index, which ffmpeg -map uses
    assert (font.file_name, font.mime_type, font.size, font.description) == (
        "Font.ttf",
        "font/ttf",
        50,
        "Subtitle font",
    )
    assert len(media.tracks) == 5


def test_webm_needs_the_doctype_or_suffix() -> None:
    data = load("webm.ffprobe.json")
    assert parse(data, name="sample.webm").container is Container.WEBM
    assert parse(data, name="x.mkv", doctype="webm").container is Container.WEBM
    assert parse(data, name="x.mkv").container is Container.MATROSKA


def test_avi_file() -> None:
    media = parse(load("avi.ffprobe.json"), name="sample.avi")
    assert media.container is Container.AVI
    assert [t.codec for t in media.tracks] == ["mpeg4", "mp3"]
    assert all(t.language == "und" for t in media.tracks)
    assert media.video_tracks[0].bit_rate is None
    assert media.audio_tracks[0].bit_rate == 64_000


def test_mpegts_file() -> None:
    media = parse(load("ts.ffprobe.json"), name="sample.ts")
    assert media.container is Container.MPEGTS
    assert media.audio_tracks[0].codec == "ac3"
    assert media.audio_tracks[0].language == "jpn"


def test_missing_fields() -> None:
    media = parse(load("edge-missing-fields.ffprobe.json"))
    assert [t.index for t in media.tracks] == [0, 1]  # no index: skipped; data stream: skipped
    video, audio = media.tracks
    assert video.codec == "unknown" and video.frame_rate is None and video.width is None
    assert audio.sample_rate is None and audio.channels == 2
    assert media.duration is None and media.bit_rate is None and media.title is None


def test_garbage_languages_ietf_tags_and_mov_handler_titles() -> None:
    media = parse(load("edge-garbage-language.ffprobe.json"), name="clip.mov")
    assert (media.container, media.format_name) == (Container.MOV, "mov")
    assert [t.language for t in media.tracks] == ["und", "und", "eng", "fre", "por"]
    assert [t.language_ietf for t in media.tracks] == [None, None, "en-GB", None, "pt"]
    assert media.tracks[0].frame_rate == 30.0  # r_frame_rate when avg is 0/0
    assert media.tracks[3].title == "English SDH"  # a real handler name is the MP4 title


def test_cover_art_is_an_attachment() -> None:
    media = parse(load("edge-cover-art.ffprobe.json"))
    assert [t.codec for t in media.tracks] == ["hevc", "eac3"]
    (cover,) = media.attachments
    assert cover.attachment_id == 2
    assert cover.file_name == "stream-2.mjpeg"
    assert cover.size is None
    assert media.chapter_count == 2
    assert media.duration is None  # 0 s is no duration
    assert media.audio_tracks[0].channel_layout == "5.1(side)"


def test_no_streams_parses_to_no_tracks() -> None:
    media = parse(load("edge-no-streams.ffprobe.json"))
    assert media.tracks == ()
    assert media.format_name == "srt"


def test_no_format_is_not_media() -> None:
    with pytest.raises(NotMediaError, match=r"^movie\.mp4: .*no container format"):
        parse({"streams": []})


@pytest.mark.parametrize(
    ("format_name", "brand", "name", "expected"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", "isom", "a.mp4", (Container.MP4, "mp4")),
        ("mov,mp4,m4a,3gp,3g2,mj2", "M4V ", "a.m4v", (Container.MP4, "mp4")),
        ("mov,mp4,m4a,3gp,3g2,mj2", "qt  ", "a.mp4", (Container.MOV, "mov")),
        ("mov,mp4,m4a,3gp,3g2,mj2", None, "a.mov", (Container.MOV, "mov")),
        ("mov,mp4,m4a,3gp,3g2,mj2", None, "a.mp4", (Container.MP4, "mp4")),
        ("mov,mp4,m4a,3gp,3g2,mj2", "3gp4", "a.3gp", (Container.OTHER, "3gp")),
        ("avi", None, "a.avi", (Container.AVI, "avi")),
        ("mpegts", None, "a.m2ts", (Container.MPEGTS, "mpegts")),
        ("matroska,webm", None, "a.mkv", (Container.MATROSKA, "mkv")),
        ("ogg", None, "a.ogv", (Container.OGG, "ogg")),
        ("asf", None, "a.wmv", (Container.OTHER, "asf")),
    ],
)
def test_container_from_format(
    format_name: str, brand: str | None, name: str, expected: tuple[Container, str]
) -> None:
    assert container_from_format(format_name, brand, Path(name)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("25/1", 25.0), ("30000/1001", 29.97), ("0/0", None), ("", None), ("x/y", None), ("24", 24.0)],
)
def test_frame_rate_from_ratio(text: str, expected: float | None) -> None:
    assert frame_rate_from_ratio(text) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en", "en"),
        ("fr-CA", "fr-CA"),
        ("zh-Hant-TW", "zh-Hant-TW"),
        ("eng", None),
        ("und", None),
        ("", None),
        (None, None),
        ("xx-!!", None),
    ],
)
def test_ietf_tag(tag: str | None, expected: str | None) -> None:
    assert ietf_tag(tag) == expected


@given(st.text(max_size=20))
def test_ietf_tag_never_raises(text: str) -> None:
    result = ietf_tag(text)
    assert result is None or result == text.strip()


@given(st.text(max_size=12), st.text(max_size=12))
def test_frame_rate_from_ratio_is_positive_or_none(numerator: str, denominator: str) -> None:
    rate = frame_rate_from_ratio(f"{numerator}/{denominator}")
    assert rate is None or rate > 0


@pytest.mark.parametrize("tag", sorted(COMMON_ALPHA2))
def test_a_common_two_letter_tag_is_valid_as_langcodes_says(tag: str) -> None:
    import langcodes

    assert langcodes.Language.get(tag).is_valid()
    assert ietf_tag(tag) == tag
