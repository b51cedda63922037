"""Matroska CodecIDs map to the names ffprobe reports for the same streams."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.probe.codecs import (
    UNKNOWN_CODEC,
    codec_from_fourcc,
    codec_from_matroska_id,
    codec_label,
    is_text_subtitle,
)


@pytest.mark.parametrize(
    ("codec_id", "expected"),
    [
        ("V_MPEG4/ISO/AVC", "h264"),
        ("V_MPEGH/ISO/HEVC", "hevc"),
        ("V_MPEG4/ISO/ASP", "mpeg4"),
        ("V_MPEG4/ISO/SP", "mpeg4"),
        ("V_VP9", "vp9"),
        ("V_AV1", "av1"),
        ("V_MPEG2", "mpeg2video"),
        ("A_AAC", "aac"),
        ("A_AAC/MPEG4/LC/SBR", "aac"),
        ("A_AC3", "ac3"),
        ("A_AC3/BSID9", "ac3"),
        ("A_EAC3", "eac3"),
        ("A_DTS", "dts"),
        ("A_DTS/LOSSLESS", "dts"),
        ("A_TRUEHD", "truehd"),
        ("A_FLAC", "flac"),
        ("A_OPUS", "opus"),
        ("A_VORBIS", "vorbis"),
        ("A_MPEG/L3", "mp3"),
        ("A_MPEG/L2", "mp2"),
        ("S_TEXT/UTF8", "subrip"),
        ("S_TEXT/ASS", "ass"),
        ("S_TEXT/SSA", "ass"),  # ffprobe reports SSA-in-Matroska as ass (checked on ffmpeg 5.1)
        ("S_TEXT/WEBVTT", "webvtt"),
        ("D_WEBVTT/SUBTITLES", "webvtt"),
        ("S_HDMV/PGS", "hdmv_pgs_subtitle"),
        ("S_VOBSUB", "dvd_subtitle"),
        (" A_AAC ", "aac"),
    ],
)
def test_known_codec_ids(codec_id: str, expected: str) -> None:
    assert codec_from_matroska_id(codec_id) == expected


@pytest.mark.parametrize(
    ("codec_id", "bits", "expected"),
    [
        ("A_PCM/INT/LIT", None, "pcm_s16le"),
        ("A_PCM/INT/LIT", 16, "pcm_s16le"),
        ("A_PCM/INT/LIT", 24, "pcm_s24le"),
        ("A_PCM/INT/LIT", 32, "pcm_s32le"),
        ("A_PCM/INT/LIT", 8, "pcm_u8"),
        ("A_PCM/INT/BIG", 24, "pcm_s24be"),
        ("A_PCM/FLOAT/IEEE", 32, "pcm_f32le"),
        ("A_PCM/FLOAT/IEEE", 64, "pcm_f64le"),
    ],
)
def test_pcm_name_depends_on_bit_depth(codec_id: str, bits: int | None, expected: str) -> None:
    assert codec_from_matroska_id(codec_id, bits_per_sample=bits) == expected


def test_unmapped_id_is_kept_lower_case_and_empty_is_unknown() -> None:
    assert codec_from_matroska_id("V_MS/VFW/FOURCC") == "v_ms/vfw/fourcc"
    assert codec_from_matroska_id("") == UNKNOWN_CODEC
    assert codec_from_matroska_id("   ") == UNKNOWN_CODEC


@given(st.text(max_size=40))
def test_any_codec_id_gives_a_non_empty_name(codec_id: str) -> None:
    name = codec_from_matroska_id(codec_id)
    assert name
    assert name == name.lower()


def test_labels() -> None:
    assert codec_label("hdmv_pgs_subtitle") == "PGS"
    assert codec_label("h264") == "H.264/AVC"
    assert codec_label("pcm_s24le") == "PCM (s24le)"
    assert codec_label("something_new") == "something_new"


def test_text_subtitles() -> None:
    assert is_text_subtitle("subrip")
    assert is_text_subtitle("ass")
    assert not is_text_subtitle("hdmv_pgs_subtitle")
    assert not is_text_subtitle("dvd_subtitle")


def bitmap_info_header(fourcc: bytes) -> bytes:
    """A 40-byte BITMAPINFOHEADER whose biCompression is ``fourcc``."""
    return (40).to_bytes(4, "little") + bytes(12) + fourcc + bytes(20)


def wave_format(tag: int, bits: int = 16) -> bytes:
    """An 18-byte WAVEFORMATEX with wFormatTag ``tag`` and wBitsPerSample ``bits``."""
    return tag.to_bytes(2, "little") + bytes(12) + bits.to_bytes(2, "little") + bytes(2)


@pytest.mark.parametrize(
    ("fourcc", "expected"),
    [
        (b"XVID", "mpeg4"),
        (b"xvid", "mpeg4"),
        (b"DX50", "mpeg4"),
        (b"MP43", "msmpeg4v3"),
        (b"H264", "h264"),
        (b"WVC1", "vc1"),
    ],
)
def test_vfw_tracks_are_named_by_their_fourcc(fourcc: bytes, expected: str) -> None:
    private = bitmap_info_header(fourcc)
    assert codec_from_matroska_id("V_MS/VFW/FOURCC", codec_private=private) == expected


def test_vfw_without_a_known_fourcc_keeps_the_codec_id() -> None:
    assert codec_from_fourcc(b"ZZZZ") is None
    assert codec_from_fourcc("XVI") is None
    unknown = bitmap_info_header(b"ZZZZ")
    assert codec_from_matroska_id("V_MS/VFW/FOURCC", codec_private=unknown) == "v_ms/vfw/fourcc"
    assert codec_from_matroska_id("V_MS/VFW/FOURCC", codec_private=b"") == "v_ms/vfw/fourcc"


@pytest.mark.parametrize(
    ("private", "expected"),
    [
        (wave_format(0x0055), "mp3"),
        (wave_format(0x2000), "ac3"),
        (wave_format(0x0001, bits=24), "pcm_s24le"),
        (wave_format(0x0001, bits=8), "pcm_u8"),
        (wave_format(0x9999), "a_ms/acm"),
        (b"\x55", "a_ms/acm"),
    ],
)
def test_acm_tracks_are_named_by_their_format_tag(private: bytes, expected: str) -> None:
    assert codec_from_matroska_id("A_MS/ACM", codec_private=private) == expected
