"""Pure argv builders for the tools that make a test file.

Matroska: ffmpeg encodes the video and audio, then mkvmerge muxes them with
the subtitle files, chapters and font and sets every track property
explicitly, so the file looks like the mkvmerge output users have. WebM:
ffmpeg muxes everything (mkvmerge refuses WebVTT in WebM), then mkvpropedit
sets the flags ffmpeg's WebM mode drops. MP4, MOV, AVI, MPEG-TS and Ogg: one
ffmpeg pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vpo.media.model import TrackFlags, TrackType
from vpo.testmedia.encoders import AUDIO_CODECS, VIDEO_CODECS
from vpo.testmedia.sidecars import FONT_FILE_NAME, FONT_MIME_TYPE
from vpo.testmedia.spec import MediaSpec, TrackLayout
from vpo.tools.commands.ffmpeg import MOV_LANGUAGE_CODES

FRAME_RATE = 25
SAMPLE_RATE = 48000

_FFMPEG_DISPOSITIONS = {
    "default": "default",
    "forced": "forced",
    "hearing_impaired": "hearing_impaired",
    "visual_impaired": "visual_impaired",
    "commentary": "comment",
    "original": "original",
}
_MKVMERGE_OPTIONAL_FLAGS = {
    "hearing_impaired": "--hearing-impaired-flag",
    "visual_impaired": "--visual-impaired-flag",
    "commentary": "--commentary-flag",
    "original": "--original-flag",
}
_MKVPROPEDIT_OPTIONAL_FLAGS = {
    "hearing_impaired": "flag-hearing-impaired",
    "visual_impaired": "flag-visual-impaired",
    "commentary": "flag-commentary",
    "original": "flag-original",
}
_FFMPEG_SUBTITLE_ENCODERS = {
    "subrip": "srt",
    "ass": "ass",
    "webvtt": "webvtt",
    "mov_text": "mov_text",
}


@dataclass(frozen=True, slots=True)
class Sidecars:
    """Files written before muxing: one per subtitle track, chapters, font."""

    subtitles: tuple[Path, ...] = ()
    chapters: Path | None = None
    font: Path | None = None


def _codec_options(encoder_args: Sequence[str], specifier: str) -> list[str]:
    """``-c:<spec> name`` then each ``option value`` pair scoped to the same stream."""
    name, *pairs = encoder_args
    argv = [f"-c:{specifier}", name]
    for option, value in zip(pairs[::2], pairs[1::2], strict=True):
        argv += [f"{option}:{specifier}", value]
    return argv


def _disposition(flags: TrackFlags) -> str:
    names = [ffmpeg for name, ffmpeg in _FFMPEG_DISPOSITIONS.items() if getattr(flags, name)]
    return "+".join(names) or "0"


def ffmpeg_argv(
    ffmpeg: str,
    spec: MediaSpec,
    output: Path,
    sidecars: Sidecars,
    *,
    with_metadata: bool,
) -> list[str]:
    """Encode lavfi test sources (plus any subtitle/chapter files) into ``output``.

    Without ``with_metadata`` every disposition is cleared and no language or
    title is written: a later mkvtoolnix step sets them all.
    """
    duration = f"{spec.duration:g}"
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    argv += [
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={spec.width}x{spec.height}:rate={FRAME_RATE}:duration={duration}",
    ]
    for number in range(len(spec.audio)):
        tone = 220 + 110 * number
        argv += [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={tone}:sample_rate={SAMPLE_RATE}:duration={duration}",
        ]
    argv += [item for path in sidecars.subtitles for item in ("-i", str(path))]
    if sidecars.chapters is not None:
        argv += ["-i", str(sidecars.chapters)]
    argv += ["-map", "0:v:0"]
    argv += [item for n in range(len(spec.audio)) for item in ("-map", f"{1 + n}:a:0")]
    first_subtitle = 1 + len(spec.audio)
    argv += [
        item
        for n in range(len(sidecars.subtitles))
        for item in ("-map", f"{first_subtitle + n}:s:0")
    ]
    if sidecars.chapters is not None:
        argv += ["-map_chapters", str(first_subtitle + len(sidecars.subtitles))]
    argv += [*_codec_options(VIDEO_CODECS[spec.video_codec].args, "v:0"), "-pix_fmt", "yuv420p"]
    for n, audio in enumerate(spec.audio):
        argv += _codec_options(AUDIO_CODECS[audio.codec].args, f"a:{n}")
        argv += [f"-ac:a:{n}", str(audio.channels)]
    for n, subtitle in enumerate(spec.subtitles[: len(sidecars.subtitles)]):
        argv += [f"-c:s:{n}", _FFMPEG_SUBTITLE_ENCODERS[subtitle.codec]]
    per_type: dict[TrackType, int] = {}
    for track in spec.tracks()[: 1 + len(spec.audio) + len(sidecars.subtitles)]:
        n = per_type.get(track.type, 0)
        per_type[track.type] = n + 1
        stream = f"{track.type.value[0]}:{n}"
        flags = track.flags if with_metadata else TrackFlags()
        argv += [f"-disposition:{stream}", _disposition(flags)]
        if with_metadata and track.language is not None:
            language = track.language
            if spec.container == "mov":
                language = MOV_LANGUAGE_CODES.get(language, language)
            argv += [f"-metadata:s:{stream}", f"language={language}"]
        if with_metadata and track.title is not None:
            argv += [f"-metadata:s:{stream}", f"title={track.title}"]
    if with_metadata and spec.title is not None:
        argv += ["-metadata", f"title={spec.title}"]
    return [*argv, str(output)]


def mkvmerge_argv(
    mkvmerge: str, spec: MediaSpec, encoded: Path, sidecars: Sidecars, output: Path
) -> list[str]:
    """Mux ffmpeg's streams with subtitles, chapters and font; set every property."""
    tracks = spec.tracks()
    streams = 1 + len(spec.audio)
    argv = [mkvmerge, "--quiet", "--output", str(output), "--title", spec.title or ""]
    for track_id, track in enumerate(tracks[:streams]):
        argv += _mkvmerge_track_options(track_id, track)
    argv.append(str(encoded))
    for track, source in zip(tracks[streams:], sidecars.subtitles, strict=True):
        argv += ["--sub-charset", "0:UTF-8", *_mkvmerge_track_options(0, track), str(source)]
    if sidecars.chapters is not None:
        argv += ["--chapters", str(sidecars.chapters)]
    if sidecars.font is not None:
        argv += [
            "--attachment-mime-type",
            FONT_MIME_TYPE,
            "--attachment-name",
            FONT_FILE_NAME,
            "--attach-file",
            str(sidecars.font),
        ]
    return argv


def _mkvmerge_track_options(track_id: int, track: TrackLayout) -> list[str]:
    language = track.language_ietf or track.language or "und"
    argv = [
        "--language",
        f"{track_id}:{language}",
        "--default-track-flag",
        f"{track_id}:{int(track.flags.default)}",
        "--forced-display-flag",
        f"{track_id}:{int(track.flags.forced)}",
    ]
    if track.title is not None:
        argv += ["--track-name", f"{track_id}:{track.title}"]
    for name, option in _MKVMERGE_OPTIONAL_FLAGS.items():
        if getattr(track.flags, name):
            argv += [option, f"{track_id}:1"]
    return argv


def mkvpropedit_argv(
    mkvpropedit: str, spec: MediaSpec, target: Path, *, set_everything: bool
) -> list[str] | None:
    """Header edits still needed on ``target`` (None when there are none).

    With ``set_everything`` (WebM) flags, languages, names and the title are all
    set; otherwise only languages the spec wants absent are deleted.
    """
    argv = [mkvpropedit, "--quiet", str(target)]
    if set_everything and spec.title is not None:
        argv += ["--edit", "info", "--set", f"title={spec.title}"]
    for number, track in enumerate(spec.tracks(), start=1):
        edits: list[str] = []
        if track.language is None:
            edits += ["--delete", "language", "--delete", "language-ietf"]
        elif set_everything:
            edits += ["--set", f"language={track.language_ietf or track.language}"]
        if set_everything:
            edits += [
                "--set",
                f"flag-default={int(track.flags.default)}",
                "--set",
                f"flag-forced={int(track.flags.forced)}",
            ]
            if track.title is not None:
                edits += ["--set", f"name={track.title}"]
            for name, prop in _MKVPROPEDIT_OPTIONAL_FLAGS.items():
                if getattr(track.flags, name):
                    edits += ["--set", f"{prop}=1"]
        if edits:
            argv += ["--edit", f"track:@{number}", *edits]
    return argv if len(argv) > 3 else None


def mkvmerge_identify_argv(mkvmerge: str, path: Path) -> list[str]:
    return [mkvmerge, "-J", str(path)]


def ffprobe_argv(ffprobe: str, path: Path) -> list[str]:
    return [
        ffprobe,
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        "-show_chapters",
        str(path),
    ]
