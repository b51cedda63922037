"""parse_mkvmerge_json on captured ``mkvmerge -J`` output (fixtures: make_fixtures.sh)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.media.model import Container, MediaFile, TrackFlags, TrackType
from vpo.probe.errors import NotMediaError, ProbeError, UnexpectedProbeOutputError
from vpo.probe.mkvmerge_json import (
    frame_rate_from_default_duration,
    overall_bit_rate,
    parse_mkvmerge_json,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "probe"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def parse(data: dict[str, Any], name: str = "movie.mkv", doctype: str | None = None) -> MediaFile:
    return parse_mkvmerge_json(
        data, path=Path(name), size=146_876, mtime_ns=7, inode=11, device=3, doctype=doctype
    )


def test_rich_file_header_fields() -> None:
    media = parse(load("rich.mkvmerge.json"), doctype="matroska")
    assert media.container is Container.MATROSKA
    assert media.format_name == "mkv"
    assert media.title == "Rich Sample"
    assert media.duration == pytest.approx(2.026)
    assert media.bit_rate == int(146_876 * 8 / 2.026)
    assert media.chapter_count == 3
    assert (media.size, media.mtime_ns, media.inode, media.device) == (146_876, 7, 11, 3)


def test_rich_file_attachment() -> None:
    (font,) = parse(load("rich.mkvmerge.json")).attachments
    assert font.attachment_id == 1
    assert font.file_name == "Font.ttf"
    assert font.mime_type == "font/ttf"
    assert font.size == 50
    assert font.description == "Subtitle font"


def test_rich_file_tracks_in_order_with_mkvmerge_ids() -> None:
    tracks = parse(load("rich.mkvmerge.json")).tracks
    assert [t.track_id for t in tracks] == [0, 1, 2, 3, 4]
    assert [t.index for t in tracks] == [0, 1, 2, 3, 4]
    assert [t.type for t in tracks] == [
        TrackType.VIDEO,
        TrackType.AUDIO,
        TrackType.AUDIO,
        TrackType.SUBTITLE,
        TrackType.SUBTITLE,
    ]
    assert [t.codec for t in tracks] == ["h264", "aac", "ac3", "subrip", "ass"]
    assert [t.title for t in tracks] == ["Picture", "Main", "Commentaire", "Forced", "SDH"]


def test_rich_file_every_flag() -> None:
    video, main, commentary, forced, sdh = parse(load("rich.mkvmerge.json")).tracks
    assert video.flags == TrackFlags(default=True)
    assert main.flags == TrackFlags(default=True, original=True)
    assert commentary.flags == TrackFlags(commentary=True, visual_impaired=True)
    assert forced.flags == TrackFlags(forced=True)
    assert sdh.flags == TrackFlags(hearing_impaired=True)


def test_rich_file_languages_keep_the_ietf_tag() -> None:
    tracks = parse(load("rich.mkvmerge.json")).tracks
    assert [t.language for t in tracks] == ["und", "eng", "fre", "eng", "ger"]
    assert [t.language_ietf for t in tracks] == ["und", "en", "fr-CA", "en", "de"]


def test_rich_file_stream_properties() -> None:
    video, main, commentary, *_ = parse(load("rich.mkvmerge.json")).tracks
    assert (video.width, video.height, video.frame_rate) == (64, 48, 23.976)
    assert video.channels is None and video.sample_rate is None
    assert (main.channels, main.sample_rate, main.frame_rate) == (6, 48000, None)
    assert main.channel_layout is None  # mkvmerge does not report layouts
    assert commentary.bit_rate == 192_000  # from the BPS statistics tag
    assert video.uid is not None and video.uid > 0


def test_absent_language_element_means_english() -> None:
    # nolang.mkv had its Language element deleted with mkvpropedit; mkvmerge says "eng".
    audio = parse(load("nolang.mkvmerge.json")).audio_tracks[0]
    assert audio.language == "eng"
    assert audio.language_ietf is None


def test_ffmpeg_muxed_file_has_no_default_flags() -> None:
    media = parse(load("nolang.mkvmerge.json"))
    assert not any(t.flags.default for t in media.tracks)


@pytest.mark.parametrize(
    ("doctype", "name", "expected"),
    [
        ("webm", "sample.webm", Container.WEBM),
        ("webm", "misnamed.mkv", Container.WEBM),
        ("matroska", "misnamed.webm", Container.MATROSKA),
        (None, "sample.webm", Container.WEBM),
        (None, "sample.mkv", Container.MATROSKA),
    ],
)
def test_webm_is_told_by_the_doctype(doctype: str | None, name: str, expected: Container) -> None:
    media = parse(load("webm.mkvmerge.json"), name=name, doctype=doctype)
    assert media.container is expected
    assert [t.codec for t in media.tracks] == ["vp9", "opus"]
    assert media.audio_tracks[0].language == "ger"


def test_missing_fields_fall_back_to_matroska_defaults() -> None:
    media = parse(load("edge-missing-fields.mkvmerge.json"))
    video, audio, subtitle = media.tracks
    assert video.codec == "unknown"
    assert video.language == "eng"  # absent Language element
    assert video.flags.default is True  # absent FlagDefault is 1
    assert (video.width, video.height, video.frame_rate) == (None, None, None)
    assert audio.codec == "aac" and audio.channels is None
    assert subtitle.flags.default is False
    assert media.duration is None and media.bit_rate is None and media.title is None
    assert media.attachments == () and media.chapter_count == 0


def test_garbage_languages_become_und_and_ietf_wins() -> None:
    tracks = parse(load("edge-garbage-language.mkvmerge.json")).tracks
    assert [t.language for t in tracks] == ["und", "por", "eng", "fre"]
    assert [t.language_ietf for t in tracks] == [None, "pt-BR", None, None]


def test_unknown_codecs_are_kept_and_buttons_skipped() -> None:
    media = parse(load("edge-unknown-codec.mkvmerge.json"))
    assert [t.track_id for t in media.tracks] == [0, 2]
    video, audio = media.tracks
    assert video.codec == "v_ms/vfw/fourcc"
    assert (video.width, video.height) == (720, 576)
    assert audio.codec == "pcm_s24le"
    assert audio.sample_rate == 96_000
    assert media.chapter_count == 5  # summed over editions, as mkvmerge counts them
    assert media.attachments[0].description is None


def test_no_tracks_is_a_valid_parse() -> None:
    media = parse(load("edge-no-tracks.mkvmerge.json"))
    assert media.tracks == ()
    assert media.duration == 0.0 and media.bit_rate is None
    assert media.title is None  # whitespace-only title


def test_unrecognised_file_is_not_media() -> None:
    with pytest.raises(NotMediaError, match=r"^movie\.mkv: .*mkvmerge does not recognise"):
        parse(load("edge-unrecognized.mkvmerge.json"))


def test_mkvmerge_error_gives_the_reason_line_not_the_file_name() -> None:
    with pytest.raises(NotMediaError) as caught:
        parse(load("edge-error.mkvmerge.json"))
    assert str(caught.value) == (
        "movie.mkv: not a media file or corrupt: The file headers could not be parsed, "
        "e.g. because they're incomplete, invalid or damaged."
    )


@pytest.mark.parametrize(
    "tracks",
    [["not an object"], [{"type": "audio", "properties": {}}]],
)
def test_malformed_track_entries_are_reported(tracks: list[object]) -> None:
    data = {"container": {"recognized": True, "supported": True, "type": "Matroska"}}
    with pytest.raises(UnexpectedProbeOutputError, match=r"^movie\.mkv: unexpected probe output"):
        parse({**data, "tracks": tracks})


def test_frame_rate_and_bit_rate_derivations() -> None:
    assert frame_rate_from_default_duration(40_000_000) == 25.0
    assert frame_rate_from_default_duration(41_708_333) == 23.976
    assert frame_rate_from_default_duration(0) is None
    assert frame_rate_from_default_duration(None) is None
    assert overall_bit_rate(1000, 2.0) == 4000
    assert overall_bit_rate(1000, 0.0) is None
    assert overall_bit_rate(1000, None) is None


_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_properties = st.dictionaries(
    st.sampled_from(
        [
            "codec_id",
            "language",
            "language_ietf",
            "track_name",
            "default_track",
            "forced_track",
            "audio_channels",
            "audio_sampling_frequency",
            "pixel_dimensions",
            "default_duration",
            "tag_bps",
            "uid",
        ]
    ),
    _json_scalars,
)


@given(
    st.lists(
        st.tuples(st.sampled_from(["video", "audio", "subtitles", "buttons"]), _properties),
        max_size=5,
    )
)
def test_any_loosely_typed_properties_parse_to_valid_tracks(
    entries: list[tuple[str, dict[str, object]]],
) -> None:
    data = {
        "container": {"recognized": True, "supported": True, "type": "Matroska"},
        "tracks": [
            {"id": i, "type": kind, "properties": props} for i, (kind, props) in enumerate(entries)
        ],
    }
    try:
        media = parse(data)
    except ProbeError:
        return
    assert len(media.tracks) == sum(kind != "buttons" for kind, _ in entries)
    for track in media.tracks:
        assert len(track.language) == 3 and track.language.isascii()
        assert track.codec
        assert track.frame_rate is None or track.frame_rate > 0


def test_avi_style_tracks_get_names_from_codec_private() -> None:
    # vfw.mkv: XviD and DivX 3 AVIs remuxed by mkvmerge keep V_MS/VFW/FOURCC.
    media = parse(load("vfw.mkvmerge.json"))
    assert [t.codec for t in media.tracks] == ["mpeg4", "msmpeg4v3"]
