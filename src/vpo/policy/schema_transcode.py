"""Schema of ``transcode`` and ``audio_synthesis`` (validated here; carried out later).

Field names follow schema_version 12, which users' policies already use.
"""

from __future__ import annotations

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


class VideoTranscode(PolicyModel):
    target_codec: Literal["hevc", "h264", "vp9", "av1"]
    skip_if: VideoSkipIf | None = None
    quality: VideoQuality | None = None
    scaling: VideoScaling | None = None
    hardware_acceleration: HardwareAcceleration | None = None


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
