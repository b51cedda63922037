"""ffmpeg argv for MP4 and other non-Matroska outputs (and for encodes).

ffmpeg silently drops streams that are not mapped and inherits dispositions, so
every kept stream gets an explicit ``-map`` and a full ``-disposition``.
``-movflags +faststart`` is left out on purpose: it costs a second full pass over
the output, and vpo promises one pass per phase.
"""

from __future__ import annotations

from pathlib import Path

from vpo.media.model import Container, TrackFlags, TrackType
from vpo.plan import Plan, PlannedTrack
from vpo.tools.commands.common import FLAG_NAMES, absolute, flag_value
from vpo.tools.commands.encoders import (
    AUDIO_ENCODERS,
    SOFTWARE_VIDEO,
    VAAPI_DEVICE,
    EncoderChoice,
    EncoderInventory,
    audio_encoder_args,
    choose_audio_encoder,
    choose_video_encoder,
    needs_vaapi_device,
    video_encoder_args,
)

FFMPEG_FORMATS: dict[Container, str] = {
    Container.MATROSKA: "matroska",
    Container.WEBM: "webm",
    Container.MP4: "mp4",
    Container.AVI: "avi",
    Container.MPEGTS: "mpegts",
    Container.MOV: "mov",
    Container.OGG: "ogg",
}


def file_url(path: Path) -> str:
    """``file:`` + absolute path: a name containing ``:`` is never taken for a protocol."""
    return "file:" + absolute(path)


def disposition(flags: TrackFlags) -> str:
    """The full disposition string ("0" when no flag is set)."""
    names = [disp for flag, _p, _o, disp in FLAG_NAMES if flag_value(flags, flag)]
    return "+".join(names) if names else "0"


# mkvmerge's per-track statistics: ffmpeg copies them from the input stream, so an
# encoded track would keep its source's bit rate; an empty value deletes the tag.
STALE_STATISTICS_TAGS = (
    "BPS",
    "NUMBER_OF_FRAMES",
    "NUMBER_OF_BYTES",
    "_STATISTICS_TAGS",
    "_STATISTICS_WRITING_APP",
    "_STATISTICS_WRITING_DATE_UTC",
)
# Assumed when no inventory is given (tests, dry-run): every software encoder exists.
_ASSUMED = EncoderInventory(
    frozenset(
        name for names in (*SOFTWARE_VIDEO.values(), *AUDIO_ENCODERS.values()) for name in names
    )
)


def choose_encoders(
    plan: Plan, inventory: EncoderInventory | None = None
) -> tuple[EncoderChoice | None, ...]:
    """Per output track the encoder that makes it, None for a copied track.

    Raises EncoderUnavailableError when this ffmpeg cannot make a planned codec.
    """
    inventory = inventory or _ASSUMED
    choices: list[EncoderChoice | None] = []
    for planned in plan.tracks:
        encode = planned.encode
        if encode is None:
            choices.append(None)
        elif encode.video is not None:
            choices.append(choose_video_encoder(encode.codec, encode.video, inventory))
        elif planned.type is TrackType.AUDIO:
            choices.append(EncoderChoice(choose_audio_encoder(encode.codec, inventory)))
        else:
            choices.append(EncoderChoice(encode.codec))  # e.g. mov_text: encoder = codec
    return tuple(choices)


def build_ffmpeg_argv(
    executable: str,
    plan: Plan,
    output: Path,
    *,
    inventory: EncoderInventory | None = None,
    progress: bool = False,
    pass_number: int | None = None,
    passlog: str | None = None,
) -> list[str]:
    """One ffmpeg pass from ``plan.source`` to ``output`` in the plan's container.

    Encoded tracks get the encoder ``inventory`` offers (see choose_encoders);
    ``progress`` adds ``-progress pipe:1 -nostats`` for the streaming runner.
    Pass 1 of a two-pass encode (``pass_number=1``) writes only the video
    statistics to ``passlog`` and no file; pass 2 then writes ``output``.
    """
    output_format = FFMPEG_FORMATS.get(plan.container)
    if output_format is None:
        raise ValueError(f"cannot write container {plan.container.value!r} with ffmpeg")
    source = plan.source
    choices = choose_encoders(plan, inventory)
    first_pass = pass_number == 1
    argv = [executable, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    if progress:
        argv += ["-progress", "pipe:1", "-nostats"]
    if needs_vaapi_device([c for c in choices if c is not None]):
        argv += ["-vaapi_device", VAAPI_DEVICE]
    argv += ["-i", file_url(source.path)]
    kept = [
        (planned, choice)
        for planned, choice in zip(plan.tracks, choices, strict=True)
        if not first_pass or (planned.encode is not None and planned.encode.video is not None)
    ]
    for planned, _ in kept:
        argv += ["-map", f"0:{source.tracks[_input_index(planned)].index}"]
    if first_pass:
        for position, (planned, choice) in enumerate(kept):
            assert planned.encode is not None and planned.encode.video is not None
            assert choice is not None
            argv += video_encoder_args(
                choice, position, planned.encode.video, pass_number=1, passlog=passlog
            )
            argv += planned.encode.video.extra_args  # the policy's ffmpeg_args
        return [*argv, "-f", "null", "-"]
    argv += ["-c", "copy", "-map_metadata", "0", "-map_chapters", "0"]
    title = plan.title_change()
    if title is not None:
        argv += ["-metadata", f"title={title[1] or ''}"]  # set_container_metadata
    for name, _before, after in plan.tag_changes():
        argv += ["-metadata", f"{name}={after or ''}"]  # empty: removed
    if any(choice is not None for choice in choices):
        argv += ["-max_muxing_queue_size", "4096"]
    for position, (planned, choice) in enumerate(kept):
        argv += _encode_args(planned, choice, position, pass_number, passlog)
        if choice is None:
            argv += _subtitle_conversion(
                planned, source.tracks[_input_index(planned)].codec, position
            )
        if plan.container is Container.MP4 and choice is not None and planned.codec == "hevc":
            argv += [f"-tag:{position}", "hvc1"]  # Apple devices and many TVs refuse hev1
        if choice is not None:
            for tag in STALE_STATISTICS_TAGS:
                argv += [f"-metadata:s:{position}", f"{tag}="]
        argv += [f"-disposition:{position}", disposition(planned.flags)]
        language = _language_for(plan.container, planned.language)
        argv += [f"-metadata:s:{position}", f"language={language}"]
        argv += [f"-metadata:s:{position}", f"title={planned.title or ''}"]
        if plan.container is Container.MP4:
            argv += [f"-metadata:s:{position}", f"handler_name={planned.title or ''}"]
    argv += ["-f", output_format, file_url(output)]
    return argv


# ffmpeg's subtitle encoder for each planned subtitle codec (text formats only).
SUBTITLE_ENCODERS: dict[str, str] = {
    "mov_text": "mov_text",
    "subrip": "srt",
    "webvtt": "webvtt",
    "ass": "ass",
}
# ffmpeg 5.1's mov muxer (QuickTime mode) stores a language as a Macintosh code
# where one exists and reads these ISO 639-2/B codes back as nothing; their
# terminology (T) forms survive. Measured for every code whose B and T differ.
MOV_LANGUAGE_CODES: dict[str, str] = {
    "fre": "fra",
    "cze": "ces",
    "mao": "mri",
    "rum": "ron",
    "slo": "slk",
}


def _language_for(container: Container, language: str) -> str:
    if container is Container.MOV:
        return MOV_LANGUAGE_CODES.get(language, language)
    return language


def _subtitle_conversion(planned: PlannedTrack, source_codec: str, position: int) -> list[str]:
    """``-c:N mov_text`` for a copied subtitle whose plan changes its format (SubRip
    into MP4 becomes mov_text; ``-c copy`` alone makes ffmpeg fail)."""
    if planned.type is not TrackType.SUBTITLE or planned.codec == source_codec:
        return []
    encoder = SUBTITLE_ENCODERS.get(planned.codec)
    if encoder is None:
        raise ValueError(f"cannot convert subtitles from {source_codec} to {planned.codec}")
    return [f"-c:{position}", encoder]


def _input_index(planned: PlannedTrack) -> int:
    """The source track an output track is read from (a synthesised one's origin)."""
    if planned.source_index is not None:
        return planned.source_index
    if planned.encode is None or planned.encode.derived_from is None:
        raise ValueError("a synthesised track needs encode settings naming its source")
    return planned.encode.derived_from


def _encode_args(
    planned: PlannedTrack,
    choice: EncoderChoice | None,
    position: int,
    pass_number: int | None,
    passlog: str | None,
) -> list[str]:
    encode = planned.encode
    if encode is None or choice is None:
        return []
    if encode.video is not None:
        return [
            *video_encoder_args(
                choice, position, encode.video, pass_number=pass_number, passlog=passlog
            ),
            *encode.video.extra_args,  # the policy's ffmpeg_args, checked at load time
        ]
    if planned.type is TrackType.AUDIO:
        return audio_encoder_args(choice.name, position, encode.audio)
    return [f"-c:{position}", choice.name]
