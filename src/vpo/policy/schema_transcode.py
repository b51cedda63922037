"""Schema of ``transcode`` and ``audio_synthesis`` (validated here; carried out later).

Field names follow schema_version 12, which users' policies already use.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from vpo.media.language import normalize_language
from vpo.policy.schema_conditional import Comparison, Condition
from vpo.policy.types import (
    Bitrate,
    CodecList,
    Height,
    LanguageList,
    PolicyModel,
    as_tuple,
)

_CHANNEL_NAMES = {"mono": 1, "stereo": 2, "5.1": 6, "7.1": 8}
_SCALING_RESOLUTIONS = {480, 576, 720, 1080, 1440, 2160}


def _channels(value: Any) -> Any:
    """``stereo`` → 2, ``5.1`` → 6; a plain number is a channel count."""
    if isinstance(value, str) and value.strip().lower() in _CHANNEL_NAMES:
        return _CHANNEL_NAMES[value.strip().lower()]
    if isinstance(value, float) and str(value) in _CHANNEL_NAMES:
        return _CHANNEL_NAMES[str(value)]  # YAML reads an unquoted 5.1 as a float
    return value


ChannelCount = Annotated[int, BeforeValidator(_channels), Field(ge=1, le=24)]


class VideoSkipIf(PolicyModel):
    codec_matches: CodecList = ()
    resolution_within: Height | None = None
    bitrate_under: Bitrate | None = None


class VideoQuality(PolicyModel):
    mode: Literal["crf", "bitrate", "constrained_quality"] = "crf"
    crf: Annotated[int | None, Field(ge=0, le=63)] = None
    bitrate: Bitrate | None = None
    min_bitrate: Bitrate | None = None
    max_bitrate: Bitrate | None = None
    preset: str | None = None
    tune: str | None = None
    two_pass: bool = False

    @model_validator(mode="after")
    def _mode_needs_its_values(self) -> VideoQuality:
        if self.mode == "bitrate" and self.bitrate is None:
            raise ValueError("mode 'bitrate' needs a bitrate, like 'bitrate: 5M'")
        if self.mode == "constrained_quality" and (self.crf is None or self.max_bitrate is None):
            raise ValueError("mode 'constrained_quality' needs crf and max_bitrate")
        return self


class VideoScaling(PolicyModel):
    max_resolution: Height | None = None
    max_width: Annotated[int | None, Field(gt=0)] = None
    max_height: Annotated[int | None, Field(gt=0)] = None
    algorithm: Literal["lanczos", "bicubic", "bilinear"] = "lanczos"
    upscale: bool = False

    @field_validator("max_resolution")
    @classmethod
    def _named_resolution(cls, value: int | None) -> int | None:
        if value is not None and value not in _SCALING_RESOLUTIONS:
            raise ValueError("max_resolution must be one of 480p, 576p, 720p, 1080p, 1440p, 2160p")
        return value

    @model_validator(mode="after")
    def _one_way_to_limit(self) -> VideoScaling:
        if self.max_resolution is not None and (self.max_width or self.max_height):
            raise ValueError("give max_resolution or max_width/max_height, not both")
        return self


class HardwareAcceleration(PolicyModel):
    enabled: Literal["auto", "nvenc", "qsv", "vaapi", "none"] = "auto"
    fallback_to_cpu: bool = True


MAX_FFMPEG_ARGS = 50
MAX_FFMPEG_ARG_LENGTH = 1024
# Options that would add inputs or outputs, choose streams or take over the run:
# vpo decides those (the plan's tracks, one output, progress, two-pass files).
_REFUSED_OPTIONS = frozenset(
    {
        "-i", "-f", "-y", "-n", "-o", "-filter_complex", "-lavfi", "-progress",
        "-pass", "-passlogfile", "-vstats_file", "-dump_attachment", "-attach",
        "-stdin", "-nostdin", "-report", "-t", "-to", "-ss", "-fs", "-stream_loop",
    }
)  # fmt: skip
_OUTPUT_SUFFIXES = (
    ".mkv", ".mp4", ".m4v", ".mov", ".avi", ".ts", ".m2ts", ".webm", ".mka", ".mks",
    ".ogg", ".ogv", ".flv", ".nut", ".264", ".265", ".hevc", ".h264", ".aac", ".ac3",
)  # fmt: skip
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _ffmpeg_args(value: Any) -> Any:
    """An argument list only: never one shell string, never an input/output or -map."""
    if value is None:
        return None
    if isinstance(value, str):
        raise ValueError(
            "ffmpeg_args is a list of arguments, e.g. ['-x265-params', 'aq-mode=3'], not one string"
        )
    if not isinstance(value, list):
        raise ValueError("ffmpeg_args is a list of arguments")
    if len(value) > MAX_FFMPEG_ARGS:
        raise ValueError(f"ffmpeg_args has more than {MAX_FFMPEG_ARGS} arguments")
    arguments: list[str] = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValueError(f"ffmpeg_args[{index}] must be text or a number")
        text = str(item)
        arguments.append(text)
        problem = _argument_problem(text)
        if problem:
            raise ValueError(f"ffmpeg_args[{index}] '{text[:60]}': {problem}")
    return tuple(arguments)


def _argument_problem(text: str) -> str | None:
    if not text or len(text) > MAX_FFMPEG_ARG_LENGTH:
        return f"must be 1 to {MAX_FFMPEG_ARG_LENGTH} characters"
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        return "control characters are not allowed"
    option = text.split(":", 1)[0].lower() if text.startswith("-") else None
    if option is not None and (option.startswith("-map") or option in _REFUSED_OPTIONS):
        return f"{option} is refused: vpo chooses the streams, inputs and the output"
    if text == "-":
        return "'-' would name standard input or output; refused"
    if not text.startswith("-"):
        lowered = text.lower()
        if "/" in text or "\\" in text or _URL.match(text):
            return "looks like a file or URL (an extra input or output); refused"
        if lowered.endswith(_OUTPUT_SUFFIXES):
            return "looks like an output file name; refused"
    return None


class VideoTranscode(PolicyModel):
    target_codec: Literal["hevc", "h264", "vp9", "av1"]
    skip_if: VideoSkipIf | None = None
    quality: VideoQuality | None = None
    scaling: VideoScaling | None = None
    hardware_acceleration: HardwareAcceleration | None = None
    # Added after the video encoder's own options, as separate arguments (no shell).
    ffmpeg_args: Annotated[tuple[str, ...] | None, BeforeValidator(_ffmpeg_args)] = None


class AudioTranscode(PolicyModel):
    preserve_codecs: CodecList = ()
    transcode_to: Literal["aac", "ac3", "eac3", "opus", "flac"] = "aac"
    transcode_bitrate: Bitrate | None = None


class TranscodeOperation(PolicyModel):
    video: VideoTranscode | None = None
    audio: AudioTranscode | None = None


class SourcePreference(PolicyModel):
    """One ordered criterion for choosing the track to synthesise from.

    ``language`` and ``codec`` take one value or a list (any of them).
    """

    language: LanguageList | None = None
    not_commentary: bool | None = None
    channels: Literal["max", "min"] | ChannelCount | None = None
    codec: CodecList | None = None


class SynthesisSource(PolicyModel):
    prefer: Annotated[tuple[SourcePreference, ...], BeforeValidator(as_tuple)] = ()


def _channels_test(value: Any) -> Any:
    """``channels: 6`` / ``5.1`` is ``{eq: 6}``; a comparison stays one."""
    value = _channels(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return {"eq": value}
    return value


class SynthesisSkipIf(PolicyModel):
    codec: CodecList | None = None
    channels: Annotated[Comparison | None, BeforeValidator(_channels_test)] = None
    language: LanguageList | None = None
    not_commentary: bool | None = None


def _position(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        raise ValueError("position must be after_source, end or a track index >= 0")
    return value


class SynthesisTrack(PolicyModel):
    name: str
    codec: Literal["aac", "ac3", "eac3", "opus", "flac"]
    channels: ChannelCount
    source: SynthesisSource = SynthesisSource()
    bitrate: Bitrate | None = None
    skip_if_exists: SynthesisSkipIf | None = None
    title: str | None = None
    language: str = "inherit"
    position: Annotated[Literal["after_source", "end"] | int, BeforeValidator(_position)] = "end"
    create_if: Condition | None = None  # tested on the tracks as synthesis starts

    @field_validator("language")
    @classmethod
    def _language_or_inherit(cls, value: str) -> str:
        return value if value == "inherit" else normalize_language(str(value))


class AudioSynthesisOperation(PolicyModel):
    tracks: tuple[SynthesisTrack, ...] = Field(min_length=1)
