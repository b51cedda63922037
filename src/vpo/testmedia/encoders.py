"""Which ffmpeg encoder makes each codec, and what the result is called in each tool.

The settings favour speed over quality (tiny frames, fastest presets): test
files exist to carry tracks and metadata, not pictures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Encoder:
    """ffmpeg arguments (after ``-c:<stream>``) and the Matroska CodecID they produce."""

    args: tuple[str, ...]
    matroska_id: str
    channels: tuple[int, ...] = ()


VIDEO_CODECS: dict[str, Encoder] = {
    "h264": Encoder(("libx264", "-preset", "ultrafast", "-g", "25"), "V_MPEG4/ISO/AVC"),
    "hevc": Encoder(
        ("libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"), "V_MPEGH/ISO/HEVC"
    ),
    "mpeg4": Encoder(("mpeg4", "-q:v", "10"), "V_MPEG4/ISO/ASP"),
    "vp8": Encoder(("libvpx", "-deadline", "realtime", "-cpu-used", "16", "-b:v", "64k"), "V_VP8"),
    "vp9": Encoder(
        ("libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "64k"), "V_VP9"
    ),
    "av1": Encoder(("libaom-av1", "-usage", "realtime", "-cpu-used", "8"), "V_AV1"),
    "theora": Encoder(("libtheora", "-q:v", "3"), "V_THEORA"),
}

_STEREO = (1, 2)
_SURROUND = (1, 2, 6)

AUDIO_CODECS: dict[str, Encoder] = {
    "aac": Encoder(("aac",), "A_AAC", _SURROUND),
    "ac3": Encoder(("ac3",), "A_AC3", _SURROUND),
    "eac3": Encoder(("eac3",), "A_EAC3", _SURROUND),
    "dts": Encoder(("dca", "-strict", "-2"), "A_DTS", _SURROUND),
    "truehd": Encoder(("truehd", "-strict", "-2"), "A_TRUEHD", (2, 6)),
    "flac": Encoder(("flac",), "A_FLAC", _SURROUND),
    "opus": Encoder(("libopus", "-b", "48k"), "A_OPUS", _SURROUND),
    "vorbis": Encoder(("libvorbis",), "A_VORBIS", _SURROUND),
    "mp3": Encoder(("libmp3lame",), "A_MPEG/L3", _STEREO),
    "pcm_s16le": Encoder(("pcm_s16le",), "A_PCM/INT/LIT", _SURROUND),
}

# Subtitle codec → (suffix of the generated source text file, Matroska CodecID).
SUBTITLE_SOURCES: dict[str, tuple[str, str]] = {
    "subrip": (".srt", "S_TEXT/UTF8"),
    "ass": (".ass", "S_TEXT/ASS"),
    "webvtt": (".vtt", "S_TEXT/WEBVTT"),
    "mov_text": (".srt", ""),
}
# ffmpeg's WebM muxer writes WebVTT under the WebM spec's own CodecID.
WEBM_WEBVTT_ID = "D_WEBVTT/SUBTITLES"

CONTAINER_VIDEO: dict[str, tuple[str, ...]] = {
    "mkv": ("h264", "hevc", "mpeg4", "vp8", "vp9", "av1"),
    "webm": ("vp8", "vp9", "av1"),
    "mp4": ("h264", "hevc", "mpeg4", "av1"),
    "avi": ("mpeg4", "h264"),
    "ts": ("h264", "hevc", "mpeg4"),
    "mov": ("h264", "hevc", "mpeg4"),
    "ogg": ("theora", "vp8"),
}
CONTAINER_AUDIO: dict[str, tuple[str, ...]] = {
    "mkv": tuple(AUDIO_CODECS),
    "webm": ("opus", "vorbis"),
    "mp4": ("aac", "ac3", "eac3", "mp3", "opus", "flac"),
    "avi": ("mp3", "ac3", "pcm_s16le"),
    "ts": ("aac", "ac3", "eac3", "mp3"),
    "mov": ("aac", "ac3", "mp3", "pcm_s16le"),
    "ogg": ("vorbis", "opus", "flac"),
}
CONTAINER_SUBTITLES: dict[str, tuple[str, ...]] = {
    "mkv": ("subrip", "ass", "webvtt"),
    "webm": ("webvtt",),
    "mp4": ("mov_text",),
    "avi": (),
    "ts": (),
    "mov": ("mov_text",),
    "ogg": (),
}
