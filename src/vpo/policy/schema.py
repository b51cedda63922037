"""The one internal policy model (the shape of schema_version 12).

Every schema version (11, 12, 13) is a front door (vpo.policy.frontdoor) that
maps the file onto these models, so evaluation knows nothing of versions.
Pydantic v2 models, frozen, unknown keys forbidden. Loading with line numbers
lives in vpo.policy.loader; deciding what to do lives in vpo.policy.evaluate.
"""

from __future__ import annotations

import difflib
import enum
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from vpo.policy.schema_conditional import ConditionalRule
from vpo.policy.schema_transcode import AudioSynthesisOperation, TranscodeOperation
from vpo.policy.types import (
    ORIGINAL,
    Bitrate,
    ByteSize,
    CodecList,
    Height,
    LanguageList,
    LanguageListWithOriginal,
    PolicyModel,
    Regex,
    Seconds,
    as_tuple,
)

SUPPORTED_SCHEMA_VERSIONS = (11, 12, 13)
CURRENT_SCHEMA_VERSION = 13
RESERVED_PHASE_NAMES = frozenset({"config", "phases", "schema_version"})
RulesMatch = Literal["first", "all"]
_PHASE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")

OnError = Literal["skip", "continue", "fail"]


class TrackCategory(str, enum.Enum):
    """Categories that ``track_order`` sorts by (defined in docs/policy.md)."""

    VIDEO = "video"
    AUDIO_MAIN = "audio_main"
    AUDIO_ALTERNATE = "audio_alternate"
    AUDIO_COMMENTARY = "audio_commentary"
    SUBTITLE_MAIN = "subtitle_main"
    SUBTITLE_FORCED = "subtitle_forced"
    SUBTITLE_COMMENTARY = "subtitle_commentary"
    ATTACHMENT = "attachment"
    # Accepted for compatibility; telling music or effects from speech needs audio
    # analysis, which vpo does not provide, so nothing is ever in these.
    AUDIO_MUSIC = "audio_music"
    AUDIO_SFX = "audio_sfx"
    AUDIO_NON_SPEECH = "audio_non_speech"


ANALYSIS_CATEGORIES = frozenset(
    {TrackCategory.AUDIO_MUSIC, TrackCategory.AUDIO_SFX, TrackCategory.AUDIO_NON_SPEECH}
)


class PolicyConfig(PolicyModel):
    """The policy-wide ``config`` block."""

    on_error: OnError = "skip"
    audio_language_preference: LanguageListWithOriginal = ("eng", "und")
    subtitle_language_preference: LanguageListWithOriginal = ("eng", "und")
    commentary_patterns: Annotated[tuple[Regex, ...], BeforeValidator(as_tuple)] = (
        "commentary",
        "director",
    )

    @model_validator(mode="after")
    def _original_needs_company(self) -> PolicyConfig:
        for name in ("audio_language_preference", "subtitle_language_preference"):
            languages = getattr(self, name)
            if ORIGINAL in languages and not any(code != ORIGINAL for code in languages):
                raise ValueError(
                    f"{name}: 'original' needs at least one language after it, used when "
                    "the title's original language is unknown"
                )
        return self


MAPPED_CODECS = ("aac", "ac3", "eac3", "opus", "flac", "mp3", "h264", "hevc", "mov_text")
"""Codecs a ``codec_mappings`` entry may name (ones vpo encodes or converts to)."""


class CodecMapping(PolicyModel):
    """How ``container`` treats one source codec its target cannot hold (the
    original VPO's ``codec_mappings`` entry): ``transcode`` it into ``codec``
    (audio/video; ``bitrate`` for audio), ``convert`` it (text subtitles to
    ``mov_text``) or ``remove`` the track."""

    codec: str | None = None
    bitrate: Bitrate | None = None
    action: Literal["transcode", "convert", "remove"] | None = None

    @field_validator("codec")
    @classmethod
    def _known_codec(cls, value: str | None) -> str | None:
        if value is None:
            return None
        codec = value.strip().lower()
        if codec not in MAPPED_CODECS:
            raise ValueError(f"unknown codec {value!r}; expected one of {', '.join(MAPPED_CODECS)}")
        return codec

    @model_validator(mode="after")
    def _consistent(self) -> CodecMapping:
        if self.action == "remove" and (self.codec is not None or self.bitrate is not None):
            raise ValueError("action: remove takes no codec or bitrate")
        if self.action != "remove" and self.codec is None:
            raise ValueError("codec is required (or action: remove)")
        if self.action == "convert" and self.bitrate is not None:
            raise ValueError("bitrate is only for action: transcode")
        return self


class ContainerOperation(PolicyModel):
    target: Literal["mkv", "mp4"]
    on_incompatible_codec: Literal["error", "skip", "transcode"] = "error"
    # Keyed by source codec (ffprobe's name, e.g. truehd, dts, hdmv_pgs_subtitle).
    codec_mappings: dict[str, CodecMapping] | None = None
    # False: the converted file keeps none of the source's container tags or title.
    preserve_metadata: bool = True

    @field_validator("codec_mappings")
    @classmethod
    def _lower_keys(cls, value: dict[str, CodecMapping] | None) -> dict[str, CodecMapping] | None:
        if value is None:
            return None
        return {key.strip().lower(): mapping for key, mapping in value.items()}


class AudioFallback(PolicyModel):
    mode: Literal["content_language", "keep_all", "keep_first", "error"] = "content_language"


class AudioFilter(PolicyModel):
    languages: LanguageListWithOriginal = Field(min_length=1)
    minimum: Annotated[int, Field(ge=0)] = 1
    fallback: AudioFallback = AudioFallback()
    # Accepted for compatibility; they need audio analysis (never acted on).
    keep_music_tracks: bool | None = None
    exclude_music_from_language_filter: bool | None = None
    keep_sfx_tracks: bool | None = None
    exclude_sfx_from_language_filter: bool | None = None
    keep_non_speech_tracks: bool | None = None
    exclude_non_speech_from_language_filter: bool | None = None

    def analysis_needs(self) -> tuple[str, ...]:
        return tuple(
            name
            for name in (
                "keep_music_tracks",
                "exclude_music_from_language_filter",
                "keep_sfx_tracks",
                "exclude_sfx_from_language_filter",
                "keep_non_speech_tracks",
                "exclude_non_speech_from_language_filter",
            )
            if getattr(self, name) is not None
        )


class SubtitleFilter(PolicyModel):
    languages: LanguageListWithOriginal | None = None
    preserve_forced: bool = False
    remove_all: bool = False

    @model_validator(mode="after")
    def _remove_all_excludes_languages(self) -> SubtitleFilter:
        if self.remove_all and self.languages:
            raise ValueError("remove_all: true removes every subtitle; drop 'languages' or it")
        return self


class AttachmentFilter(PolicyModel):
    remove_all: bool = False


class DefaultFlags(PolicyModel):
    set_first_video_default: bool = True
    set_preferred_audio_default: bool = True
    set_preferred_subtitle_default: bool = False
    clear_other_defaults: bool = True
    set_subtitle_default_when_audio_differs: bool = False
    set_subtitle_forced_when_audio_differs: bool = False
    preferred_audio_codec: CodecList | None = None


class TrackActions(PolicyModel):
    """Per-type clean-ups applied before the filters."""

    clear_all_default: bool = False
    clear_all_forced: bool = False
    clear_all_titles: bool = False


class SkipWhen(PolicyModel):
    """Skip the phase when any (``match: any``, default) or all given tests hold."""

    match: Literal["any", "all"] = "any"
    video_codec: CodecList | None = None
    audio_codec_exists: CodecList | None = None
    subtitle_language_exists: LanguageList | None = None
    container: Annotated[
        tuple[Literal["mkv", "mp4", "webm", "avi", "ts", "other"], ...] | None,
        BeforeValidator(as_tuple),
    ] = None
    resolution: Height | None = None
    resolution_under: Height | None = None
    file_size_under: ByteSize | None = None
    file_size_over: ByteSize | None = None
    duration_under: Seconds | None = None
    duration_over: Seconds | None = None

    @model_validator(mode="after")
    def _needs_a_test(self) -> SkipWhen:
        tests = [name for name in type(self).model_fields if name != "match"]
        if all(getattr(self, name) is None for name in tests):
            raise ValueError(f"skip_when needs at least one of {', '.join(tests)}")
        return self


class FileTimestamp(PolicyModel):
    """Accepted for compatibility; vpo does not set file times (the plan says so)."""

    mode: Literal["preserve", "release_date", "now"] = "preserve"
    fallback: Literal["preserve", "now", "skip"] = "preserve"
    date_source: Literal["auto", "radarr", "sonarr"] = "auto"


class RunIf(PolicyModel):
    """Run only when an earlier phase modified the file / completed."""

    phase_modified: str | None = None
    phase_completed: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> RunIf:
        if (self.phase_modified is None) == (self.phase_completed is None):
            raise ValueError("run_if needs exactly one of phase_modified, phase_completed")
        return self

    @property
    def phase(self) -> str:
        return self.phase_modified or self.phase_completed or ""


class Phase(PolicyModel):
    """One named phase; its operations always run in OPERATION_ORDER."""

    name: str
    skip_when: SkipWhen | None = None
    depends_on: Annotated[tuple[str, ...], BeforeValidator(as_tuple)] = ()
    run_if: RunIf | None = None
    on_error: OnError | None = None
    audio_actions: TrackActions | None = None
    subtitle_actions: TrackActions | None = None
    video_actions: TrackActions | None = None
    container: ContainerOperation | None = None
    audio_filter: AudioFilter | None = None
    subtitle_filter: SubtitleFilter | None = None
    attachment_filter: AttachmentFilter | None = None
    track_order: tuple[TrackCategory, ...] | None = None
    default_flags: DefaultFlags | None = None
    conditional: Annotated[tuple[ConditionalRule, ...] | None, BeforeValidator(as_tuple)] = None
    rules_match: RulesMatch = "first"
    transcription: dict[str, Any] | None = None  # needs audio analysis: skipped
    file_timestamp: FileTimestamp | None = None
    audio_synthesis: AudioSynthesisOperation | None = None
    transcode: TranscodeOperation | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if name in RESERVED_PHASE_NAMES:
            raise ValueError(f"'{name}' is reserved; choose another phase name")
        if not _PHASE_NAME_RE.match(name):
            raise ValueError(
                "a phase name starts with a letter, then letters, digits, '-' or '_' "
                "(at most 64 characters)"
            )
        return name

    @field_validator("track_order")
    @classmethod
    def _unique_categories(
        cls, order: tuple[TrackCategory, ...] | None
    ) -> tuple[TrackCategory, ...] | None:
        if order is not None:
            seen: set[TrackCategory] = set()
            for category in order:
                if category in seen:
                    raise ValueError(f"'{category.value}' is listed twice")
                seen.add(category)
        return order


# The order evaluate() applies a phase's operations in, whatever the YAML order.
OPERATION_ORDER = (
    "video_actions",
    "audio_actions",
    "subtitle_actions",
    "container",
    "audio_filter",
    "subtitle_filter",
    "attachment_filter",
    "track_order",
    "default_flags",
    "conditional",
    "audio_synthesis",
    "transcode",
)


class Policy(PolicyModel):
    """A whole policy file."""

    schema_version: int
    name: str | None = None
    description: str | None = None
    category: str | None = None
    config: PolicyConfig = PolicyConfig()
    phases: tuple[Phase, ...] = Field(min_length=1)

    @field_validator("schema_version")
    @classmethod
    def _supported_version(cls, version: int) -> int:
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            raise ValueError(
                f"schema_version {version} is not supported; this vpo reads "
                f"{', '.join(str(v) for v in SUPPORTED_SCHEMA_VERSIONS)}"
            )
        return version

    def phase_names(self) -> tuple[str, ...]:
        return tuple(phase.name for phase in self.phases)

    def analysis_notice(self) -> str | None:
        """The one line telling the user what is skipped for lack of audio analysis."""
        needs = self.analysis_needs()
        if not needs:
            return None
        return (
            f"needs audio analysis ({', '.join(needs)}), which this version of vpo does "
            "not provide: phases with transcription and rules using these tests are "
            "skipped, music/effects options and categories never match"
        )

    def analysis_needs(self) -> tuple[str, ...]:
        """Features this policy uses that need audio analysis (vpo skips them)."""
        needs: list[str] = []
        for phase in self.phases:
            needs.extend(phase_analysis_needs(phase))
        return tuple(dict.fromkeys(needs))


def phase_analysis_needs(phase: Phase) -> tuple[str, ...]:
    """What in ``phase`` needs audio analysis, in YAML-ish order, without repeats."""
    needs: list[str] = []
    if phase.transcription is not None:
        needs.append("transcription")
    if phase.audio_filter is not None:
        needs.extend(phase.audio_filter.analysis_needs())
    for category in phase.track_order or ():
        if category in ANALYSIS_CATEGORIES:
            needs.append(category.value)
    for rule in phase.conditional or ():
        needs.extend(rule.when.analysis_needs())
    return tuple(dict.fromkeys(needs))


Location = tuple[str | int, ...]


def phase_reference_errors(policy: Policy) -> tuple[tuple[Location, str], ...]:
    """Cross-phase checks: unique names, and depends_on/run_if naming earlier phases.

    Kept out of the model so each problem can point at the exact YAML line.
    """
    errors: list[tuple[Location, str]] = []
    all_names = policy.phase_names()
    seen: list[str] = []
    for index, phase in enumerate(policy.phases):
        if phase.name in seen:
            errors.append((("phases", index, "name"), f"phase name '{phase.name}' is used twice"))
        references: list[tuple[Location, str]] = [
            (("phases", index, "depends_on", position), name)
            for position, name in enumerate(phase.depends_on)
        ]
        if phase.run_if is not None:
            key = "phase_modified" if phase.run_if.phase_modified else "phase_completed"
            references.append((("phases", index, "run_if", key), phase.run_if.phase))
        for location, name in references:
            if name in seen:
                continue
            where = "is not an earlier phase" if name in all_names else "does not exist"
            hint = _closest(name, seen)
            errors.append(
                (
                    location,
                    f"phase '{name}' {where}; depends_on and run_if name earlier phases"
                    + (f" (did you mean '{hint}'?)" if hint else ""),
                )
            )
        seen.append(phase.name)
    return tuple(errors)


def _closest(word: str, candidates: list[str]) -> str | None:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None
