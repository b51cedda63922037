"""The ``transcode`` operation: which tracks are re-encoded, and with what settings (pure).

Skip rules are what make a second run a no-op. A video track is skipped when every
condition of ``skip_if`` holds (a value the probe does not know, such as the bit
rate of a Matroska track, counts as holding: it cannot be shown to be over the
limit). Without ``skip_if`` a track already in the target codec that needs no
scaling is skipped. Audio is re-encoded unless its codec is preserved or already
the target codec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from vpo.media.containers import capabilities
from vpo.media.model import Container, MediaFile, Track, TrackType
from vpo.plan import (
    AudioEncode,
    EncodeSettings,
    Hardware,
    PlannedTrack,
    RateControl,
    VideoEncode,
)
from vpo.policy.schema_transcode import (
    AudioTranscode,
    TranscodeOperation,
    VideoScaling,
    VideoSkipIf,
    VideoTranscode,
)
from vpo.policy.work import Work

# Codec names users write → the names ffprobe reports.
CODEC_ALIASES: dict[str, str] = {
    "h265": "hevc",
    "x265": "hevc",
    "h.265": "hevc",
    "x264": "h264",
    "avc": "h264",
    "h.264": "h264",
    "dts-hd": "dts",
    "dts-hd ma": "dts",
    "dtshd": "dts",
    "e-ac-3": "eac3",
    "ac-3": "ac3",
    "dolby truehd": "truehd",
}

# Most channels each audio encoder takes; more are downmixed (AC-3 and E-AC-3 stop at 5.1).
MAX_CHANNELS: dict[str, int] = {"ac3": 6, "eac3": 6}


def storable(codec: str, container: Container) -> bool:
    """Can ``container`` hold an encode to ``codec``? (vpo.media.containers' table)"""
    caps = capabilities(container)
    return any(caps.holds(track_type, codec) for track_type in TrackType)


def not_storable_warning(operation: str, codec: str, container: Container) -> str:
    return (
        f"{operation}: {codec} cannot be stored in {container.value}; not encoded "
        "(convert the container first, e.g. container: {target: mkv})"
    )


def canonical_codec(name: str) -> str:
    """``h265`` → ``hevc``, ``dts-hd`` → ``dts`` (ffprobe calls every DTS ``dts``)."""
    lowered = name.strip().lower()
    return CODEC_ALIASES.get(lowered, lowered)


def scaled_size(
    width: int | None, height: int | None, scaling: VideoScaling | None
) -> tuple[int, int] | None:
    """The output frame size, or None when the frame is kept as it is.

    The aspect ratio is kept and both sides are rounded down to even numbers
    (4:2:0 chroma needs them). ``max_resolution`` limits the height; without
    ``upscale`` a smaller frame is never enlarged.
    """
    if scaling is None or not width or not height:
        return None
    max_width = scaling.max_width
    max_height = scaling.max_resolution or scaling.max_height
    limits: list[float] = []
    if max_width:
        limits.append(max_width / width)
    if max_height:
        limits.append(max_height / height)
    if not limits:
        return None
    factor = min(limits)
    if not scaling.upscale and factor >= 1.0:
        return None
    new_width = max(2, int(width * factor) // 2 * 2)
    new_height = max(2, int(height * factor) // 2 * 2)
    if (new_width, new_height) == (width, height):
        return None
    return (new_width, new_height)


def video_bit_rate_estimate(media: MediaFile, track: Track) -> int | None:
    """The track's bit rate, else the file's minus every other track's when all of
    those are known (Matroska files written by ffmpeg carry no per-track bit rate).

    None when it cannot be told: the file's total alone would count the audio too,
    and a file vpo encoded just under ``bitrate_under`` could then be encoded again
    on every run.
    """
    if track.bit_rate:
        return track.bit_rate
    others = [t.bit_rate for t in media.tracks if t.index != track.index]
    if media.bit_rate is None or any(rate is None for rate in others):
        return None
    return max(0, media.bit_rate - sum(rate or 0 for rate in others))


def video_skip_reason(
    track: Track, current_codec: str, video: VideoTranscode, bit_rate: int | None
) -> str | None:
    """Why this video track is left alone, or None when it must be encoded."""
    resize = scaled_size(track.width, track.height, video.scaling)
    skip_if = video.skip_if
    if skip_if is None:
        if canonical_codec(current_codec) == video.target_codec and resize is None:
            return f"already {video.target_codec} within the size limits"
        return None
    failing = _failing_skip_conditions(track, current_codec, skip_if, bit_rate)
    if failing:
        return None
    return "skip_if holds"


def _failing_skip_conditions(
    track: Track, codec: str, skip_if: VideoSkipIf, bit_rate: int | None
) -> list[str]:
    failing: list[str] = []
    if skip_if.codec_matches:
        wanted = {canonical_codec(c) for c in skip_if.codec_matches}
        if canonical_codec(codec) not in wanted:
            failing.append("codec_matches")
    within = skip_if.resolution_within
    if within is not None and track.height is not None and track.height > within:
        failing.append("resolution_within")
    limit = skip_if.bitrate_under
    if limit is not None and bit_rate is not None and bit_rate >= limit:
        failing.append("bitrate_under")
    return failing


def video_settings(video: VideoTranscode, size: tuple[int, int] | None) -> VideoEncode:
    """The policy's video section as plan data."""
    quality = video.quality
    scaling = video.scaling
    hardware = video.hardware_acceleration
    settings = VideoEncode(
        scale_algorithm=scaling.algorithm if scaling else "lanczos",
        width=size[0] if size else None,
        height=size[1] if size else None,
        hardware=Hardware(hardware.enabled) if hardware else Hardware.NONE,
        fallback_to_cpu=hardware.fallback_to_cpu if hardware else True,
        extra_args=video.ffmpeg_args or (),
    )
    if quality is None:
        return settings
    return replace(
        settings,
        rate_control=RateControl(quality.mode),
        crf=quality.crf,
        bitrate=quality.bitrate,
        min_bitrate=quality.min_bitrate,
        max_bitrate=quality.max_bitrate,
        preset=quality.preset,
        tune=quality.tune,
        two_pass=quality.two_pass,
    )


def plan_transcode(
    work: Work, operation: TranscodeOperation, keep: Sequence[PlannedTrack] = ()
) -> None:
    """Mark the tracks of ``work`` that must be encoded.

    Left alone: synthesised tracks (audio_synthesis chose their codec) and ``keep``,
    the tracks that stand in for a synthesised one (re-encoding them would make the
    next run synthesise it after all).
    """
    for position, planned in enumerate(work.tracks):
        if planned.source_index is None or planned.encode is not None:
            continue
        if any(planned is kept for kept in keep):
            continue
        source = work.media.tracks[planned.source_index]
        if planned.type is TrackType.VIDEO and operation.video is not None:
            encoded = _transcode_video(work, planned, source, operation.video)
        elif planned.type is TrackType.AUDIO and operation.audio is not None:
            encoded = _transcode_audio(work, planned, operation.audio)
        else:
            continue
        if encoded is not None:
            work.tracks[position] = encoded


def _transcode_video(
    work: Work, planned: PlannedTrack, source: Track, video: VideoTranscode
) -> PlannedTrack | None:
    label = f"transcode: video track {planned.source_index} ({planned.codec}"
    reason = video_skip_reason(
        source, planned.codec, video, video_bit_rate_estimate(work.media, source)
    )
    if reason is not None:
        work.notes.append(f"{label}) kept: {reason}")
        return None
    if not storable(video.target_codec, work.container):
        work.warnings.append(not_storable_warning("transcode", video.target_codec, work.container))
        return None
    size = scaled_size(source.width, source.height, video.scaling)
    settings = video_settings(video, size)
    if settings.two_pass and settings.rate_control is not RateControl.BITRATE:
        work.warnings.append(f"{label}): two_pass needs mode 'bitrate'; encoding in one pass")
        settings = replace(settings, two_pass=False)
    scaled = f", scaled to {size[0]}x{size[1]}" if size else ""
    work.notes.append(f"{label}) → {video.target_codec}{scaled}")
    return replace(
        planned,
        codec=video.target_codec,
        encode=EncodeSettings(video.target_codec, video=settings),
    )


def _transcode_audio(
    work: Work, planned: PlannedTrack, audio: AudioTranscode
) -> PlannedTrack | None:
    codec = canonical_codec(planned.codec)
    preserved = {canonical_codec(c) for c in audio.preserve_codecs}
    if codec in preserved or codec == audio.transcode_to:
        return None
    if not storable(audio.transcode_to, work.container):
        work.warnings.append(not_storable_warning("transcode", audio.transcode_to, work.container))
        return None
    channels, _, _ = work.dimensions(planned)
    limit = MAX_CHANNELS.get(audio.transcode_to)
    downmix = limit if channels is not None and limit is not None and channels > limit else None
    to = f"{audio.transcode_to}, {downmix} channels" if downmix else audio.transcode_to
    work.notes.append(f"transcode: audio track {planned.source_index} ({planned.codec}) → {to}")
    return replace(
        planned,
        codec=audio.transcode_to,
        encode=EncodeSettings(
            audio.transcode_to,
            audio=AudioEncode(bitrate=audio.transcode_bitrate, channels=downmix),
        ),
    )


# What container.on_incompatible_codec: transcode turns MP4-incompatible audio into:
# E-AC-3 keeps 5.1 (AAC would too, but E-AC-3 is what TVs pass through to receivers).
MP4_AUDIO_TARGET = "eac3"
# … and video MP4 cannot hold (VC-1, Theora, VP8, old DivX variants) into H.264.
MP4_VIDEO_TARGET = "h264"


def transcode_for_mp4(work: Work, blockers: Sequence[PlannedTrack]) -> None:
    """``container: {target: mp4, on_incompatible_codec: transcode}``: make the tracks
    MP4 cannot hold fit. Audio (TrueHD, DTS, PCM, Vorbis) is encoded to E-AC-3 (7.1
    downmixed to 5.1), video (VC-1, Theora, VP8 …) to H.264; bitmap subtitles cannot
    be converted and are dropped with a warning. The caller then converts text
    subtitles and sets the container.
    """
    for track in blockers:
        position = work.tracks.index(track)
        if track.type is TrackType.AUDIO:
            channels, _, _ = work.dimensions(track)
            limit = MAX_CHANNELS[MP4_AUDIO_TARGET]
            downmix = limit if channels is not None and channels > limit else None
            work.tracks[position] = replace(
                track,
                codec=MP4_AUDIO_TARGET,
                encode=EncodeSettings(MP4_AUDIO_TARGET, audio=AudioEncode(channels=downmix)),
            )
            work.notes.append(
                f"container: audio track {track.source_index} ({track.codec}) → "
                f"{MP4_AUDIO_TARGET} for MP4"
            )
        elif track.type is TrackType.VIDEO:
            work.tracks[position] = replace(
                track,
                codec=MP4_VIDEO_TARGET,
                encode=EncodeSettings(MP4_VIDEO_TARGET, VideoEncode()),
            )
            work.notes.append(
                f"container: video track {track.source_index} ({track.codec}) → "
                f"{MP4_VIDEO_TARGET} for MP4"
            )
        elif track.type is TrackType.SUBTITLE:
            work.remove(track, f"{track.codec} subtitles cannot be stored in MP4")
            work.warnings.append(
                f"container: subtitle track {track.source_index} ({track.codec}) is a bitmap "
                "format MP4 cannot hold; dropped"
            )
