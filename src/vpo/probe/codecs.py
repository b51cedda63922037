"""Canonical codec names: ffmpeg's ``codec_name`` values, whatever tool probed the file.

Policies name codecs once (``h264``, ``subrip``, ``truehd``); files come in
through ffprobe (which already speaks these names) or through Matroska
CodecIDs (mkvmerge -J and the in-process EBML reader), which are mapped here
the same way ffmpeg's own Matroska demuxer maps them, so a policy sees the
same name for the same stream in any container.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

UNKNOWN_CODEC = "unknown"
"""Returned for an empty CodecID; unmapped IDs are kept (lower-cased) instead."""

# Matroska CodecID → ffmpeg codec_name. Matched by prefix like ffmpeg does
# (``A_AAC/MPEG4/LC`` → ``A_AAC``, ``A_DTS/EXPRESS`` → ``A_DTS``); the longest
# prefix wins. PCM IDs depend on the bit depth and are handled separately.
_MATROSKA_IDS: Mapping[str, str] = MappingProxyType(
    {
        # video
        "V_MPEG4/ISO/AVC": "h264",
        "V_MPEGH/ISO/HEVC": "hevc",
        "V_MPEGI/ISO/VVC": "vvc",
        "V_AV1": "av1",
        "V_VP8": "vp8",
        "V_VP9": "vp9",
        "V_MPEG4/ISO/SP": "mpeg4",
        "V_MPEG4/ISO/ASP": "mpeg4",
        "V_MPEG4/ISO/AP": "mpeg4",
        "V_MPEG4/MS/V3": "msmpeg4v3",
        "V_MPEG1": "mpeg1video",
        "V_MPEG2": "mpeg2video",
        "V_MJPEG": "mjpeg",
        "V_PRORES": "prores",
        "V_FFV1": "ffv1",
        "V_DIRAC": "dirac",
        "V_THEORA": "theora",
        "V_UNCOMPRESSED": "rawvideo",
        "V_AVS2": "avs2",
        "V_AVS3": "avs3",
        "V_REAL/RV10": "rv10",
        "V_REAL/RV20": "rv20",
        "V_REAL/RV30": "rv30",
        "V_REAL/RV40": "rv40",
        # audio
        "A_AAC": "aac",
        "A_AC3": "ac3",
        "A_EAC3": "eac3",
        "A_DTS": "dts",
        "A_TRUEHD": "truehd",
        "A_MLP": "mlp",
        "A_FLAC": "flac",
        "A_OPUS": "opus",
        "A_VORBIS": "vorbis",
        "A_MPEG/L1": "mp1",
        "A_MPEG/L2": "mp2",
        "A_MPEG/L3": "mp3",
        "A_ALAC": "alac",
        "A_TTA1": "tta",
        "A_WAVPACK4": "wavpack",
        "A_QUICKTIME/QDMC": "qdmc",
        "A_QUICKTIME/QDM2": "qdm2",
        "A_REAL/14_4": "ra_144",
        "A_REAL/28_8": "ra_288",
        "A_REAL/ATRC": "atrac3",
        "A_REAL/COOK": "cook",
        "A_REAL/SIPR": "sipr",
        "A_REAL/RALF": "ralf",
        # subtitles (ffmpeg reads SSA as ASS, so both are "ass")
        "S_TEXT/UTF8": "subrip",
        "S_TEXT/ASCII": "text",
        "S_TEXT/ASS": "ass",
        "S_TEXT/SSA": "ass",
        "S_ASS": "ass",
        "S_SSA": "ass",
        "S_TEXT/WEBVTT": "webvtt",
        "D_WEBVTT": "webvtt",
        "S_VOBSUB": "dvd_subtitle",
        "S_DVBSUB": "dvb_subtitle",
        "S_HDMV/PGS": "hdmv_pgs_subtitle",
        "S_HDMV/TEXTST": "hdmv_text_subtitle",
        "S_ARIBSUB": "arib_caption",
        "S_KATE": "kate",
    }
)
_PREFIXES_LONGEST_FIRST = tuple(sorted(_MATROSKA_IDS, key=len, reverse=True))

_VFW_ID = "V_MS/VFW/FOURCC"  # CodecPrivate is a BITMAPINFOHEADER (AVI-sourced video)
_ACM_ID = "A_MS/ACM"  # CodecPrivate is a WAVEFORMATEX (AVI-sourced audio)

# FourCC (upper-cased) → ffmpeg codec_name, the common ones from ffmpeg's riff.c.
_FOURCCS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(
            ("XVID", "DIVX", "DX50", "FMP4", "MP4V", "3IV2", "M4S2", "RMP4", "UMP4", "DIV5"),
            "mpeg4",
        ),
        **dict.fromkeys(("DIV3", "DIV4", "MP43", "DVX3", "AP41"), "msmpeg4v3"),
        "MP42": "msmpeg4v2",
        "MPG4": "msmpeg4v1",
        "MP41": "msmpeg4v1",
        **dict.fromkeys(("H264", "X264", "AVC1", "DAVC", "VSSH"), "h264"),
        **dict.fromkeys(("HEVC", "H265", "HVC1", "X265"), "hevc"),
        **dict.fromkeys(("MJPG", "AVRN", "LJPG", "JPGL"), "mjpeg"),
        **dict.fromkeys(("MPG1", "PIM1"), "mpeg1video"),
        **dict.fromkeys(("MPG2", "MPEG", "MMES", "HDV2"), "mpeg2video"),
        "WMV1": "wmv1",
        "WMV2": "wmv2",
        "WMV3": "wmv3",
        "WVC1": "vc1",
        "VP80": "vp8",
        "VP90": "vp9",
        "AV01": "av1",
        "FFV1": "ffv1",
        "HFYU": "huffyuv",
        "FFVH": "ffvhuff",
        "DVSD": "dvvideo",
        "CVID": "cinepak",
        "IV50": "indeo5",
        "IV41": "indeo4",
        "IV31": "indeo3",
        "IV32": "indeo3",
    }
)

# WAVEFORMATEX wFormatTag → ffmpeg codec_name (riff.c); PCM (1) depends on the bit depth.
_WAVE_FORMATS: Mapping[int, str] = MappingProxyType(
    {
        0x0003: "pcm_f32le",
        0x0050: "mp2",
        0x0055: "mp3",
        0x00FF: "aac",
        0x1600: "aac",
        0x0161: "wmav2",
        0x0160: "wmav1",
        0x0162: "wmapro",
        0x2000: "ac3",
        0x2001: "dts",
        0xF1AC: "flac",
        0x674F: "vorbis",
    }
)

_PCM_INT_LITTLE = "A_PCM/INT/LIT"
_PCM_INT_BIG = "A_PCM/INT/BIG"
_PCM_FLOAT = "A_PCM/FLOAT/IEEE"


def codec_from_matroska_id(
    codec_id: str, *, bits_per_sample: int | None = None, codec_private: bytes | None = None
) -> str:
    """The ffmpeg codec name for a Matroska CodecID (``V_MPEG4/ISO/AVC`` → ``h264``).

    ``bits_per_sample`` (Matroska BitDepth) only matters for PCM, whose name
    carries the sample size as ffprobe reports it (``pcm_s24le``); without it
    16 bits is assumed, the Matroska default for integer PCM. ``codec_private``
    (CodecPrivate) names the codec of AVI-style tracks (``V_MS/VFW/FOURCC``,
    ``A_MS/ACM``), common in files remuxed from AVI. An unmapped ID is
    returned lower-cased so reports still say what the file holds.
    """
    text = codec_id.strip()
    if not text:
        return UNKNOWN_CODEC
    if text.startswith((_PCM_INT_LITTLE, _PCM_INT_BIG, _PCM_FLOAT)):
        return _pcm_codec(text, bits_per_sample)
    if text == _VFW_ID and codec_private is not None:
        return codec_from_fourcc(codec_private[16:20]) or text.lower()
    if text == _ACM_ID and codec_private is not None:
        return _codec_from_wave_format(codec_private, bits_per_sample) or text.lower()
    for prefix in _PREFIXES_LONGEST_FIRST:
        if text.startswith(prefix):
            return _MATROSKA_IDS[prefix]
    return text.lower()


def codec_from_fourcc(fourcc: bytes | str) -> str | None:
    """``XVID`` → ``mpeg4``, ``MP43`` → ``msmpeg4v3``; None when the FourCC is not known."""
    if isinstance(fourcc, bytes):
        fourcc = fourcc.decode("latin-1")
    return _FOURCCS.get(fourcc.upper()) if len(fourcc) == 4 else None


def _codec_from_wave_format(header: bytes, bits_per_sample: int | None) -> str | None:
    """The codec of a WAVEFORMATEX (wFormatTag, little-endian, at offset 0)."""
    if len(header) < 2:
        return None
    format_tag = int.from_bytes(header[:2], "little")
    if format_tag == 0x0001:
        bits = int.from_bytes(header[14:16], "little") if len(header) >= 16 else bits_per_sample
        return _pcm_codec(_PCM_INT_LITTLE, bits or bits_per_sample)
    return _WAVE_FORMATS.get(format_tag)


def _pcm_codec(codec_id: str, bits_per_sample: int | None) -> str:
    """PCM names as ffmpeg's Matroska demuxer derives them from CodecID + BitDepth."""
    if codec_id.startswith(_PCM_FLOAT):
        return "pcm_f64le" if bits_per_sample == 64 else "pcm_f32le"
    bits = bits_per_sample or 16
    if codec_id.startswith(_PCM_INT_BIG):
        return f"pcm_s{bits}be" if bits in (16, 24, 32) else "pcm_s16be"
    if bits == 8:
        return "pcm_u8"
    return f"pcm_s{bits}le" if bits in (16, 24, 32) else "pcm_s16le"


_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "h264": "H.264/AVC",
        "hevc": "H.265/HEVC",
        "vvc": "H.266/VVC",
        "av1": "AV1",
        "vp8": "VP8",
        "vp9": "VP9",
        "mpeg4": "MPEG-4 Part 2",
        "msmpeg4v3": "MS MPEG-4 v3",
        "mpeg1video": "MPEG-1",
        "mpeg2video": "MPEG-2",
        "mjpeg": "Motion JPEG",
        "prores": "ProRes",
        "ffv1": "FFV1",
        "theora": "Theora",
        "rawvideo": "Raw video",
        "aac": "AAC",
        "ac3": "AC-3",
        "eac3": "E-AC-3",
        "dts": "DTS",
        "truehd": "TrueHD",
        "mlp": "MLP",
        "flac": "FLAC",
        "opus": "Opus",
        "vorbis": "Vorbis",
        "mp1": "MP1",
        "mp2": "MP2",
        "mp3": "MP3",
        "alac": "ALAC",
        "wavpack": "WavPack",
        "subrip": "SubRip (SRT)",
        "text": "Plain text",
        "ass": "ASS",
        "ssa": "SSA",
        "webvtt": "WebVTT",
        "mov_text": "MP4 timed text",
        "hdmv_pgs_subtitle": "PGS",
        "hdmv_text_subtitle": "HDMV text",
        "dvd_subtitle": "VobSub",
        "dvb_subtitle": "DVB subtitle",
        "arib_caption": "ARIB caption",
        "eia_608": "CEA-608",
    }
)


def codec_label(codec: str) -> str:
    """A short human name for tables (``hdmv_pgs_subtitle`` → ``PGS``)."""
    if codec in _LABELS:
        return _LABELS[codec]
    if codec.startswith("pcm_"):
        return f"PCM ({codec[4:]})"
    return codec


TEXT_SUBTITLE_CODECS = frozenset(
    {"subrip", "text", "ass", "ssa", "webvtt", "mov_text", "hdmv_text_subtitle"}
)
"""Subtitle codecs that are text (convertible between containers); the rest are bitmaps."""


def is_text_subtitle(codec: str) -> bool:
    """Whether a subtitle codec is text (can become ``mov_text`` in MP4) rather than images."""
    return codec in TEXT_SUBTITLE_CODECS
