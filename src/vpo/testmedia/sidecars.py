"""Text inputs the factory muxes in: subtitle files, chapter lists, a font.

Pure functions of the spec, so the same spec always yields the same inputs.
"""

from __future__ import annotations

FONT_NAME = "VPO Test Sans"
FONT_FILE_NAME = "VPOTestSans.ttf"
FONT_MIME_TYPE = "application/x-truetype-font"


def cue_times(duration: float) -> list[tuple[float, float]]:
    """Two cues that both fit inside the file."""
    half = duration / 2
    return [(0.0, half * 0.9), (half, duration * 0.95)]


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt_text(label: str, duration: float) -> str:
    blocks = [
        f"{n}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{label} line {n}\n"
        for n, (start, end) in enumerate(cue_times(duration), start=1)
    ]
    return "\n".join(blocks)


def webvtt_text(label: str, duration: float) -> str:
    cues = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{label} line {n}\n"
        for n, (start, end) in enumerate(cue_times(duration), start=1)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def ass_text(label: str, duration: float) -> str:
    """An ASS script whose style names the attachable test font."""

    def ass_clock(seconds: float) -> str:
        centis = round(seconds * 100)
        hours, rest = divmod(centis, 360_000)
        minutes, rest = divmod(rest, 6000)
        secs, centis = divmod(rest, 100)
        return f"{hours}:{minutes:02d}:{secs:02d}.{centis:02d}"

    events = "\n".join(
        f"Dialogue: 0,{ass_clock(start)},{ass_clock(end)},Default,,0,0,0,,{label} line {n}"
        for n, (start, end) in enumerate(cue_times(duration), start=1)
    )
    return (
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 640\nPlayResY: 480\n\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Default,{FONT_NAME},24,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,"
        "0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1\n\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        f"{events}\n"
    )


def subtitle_text(codec: str, label: str, duration: float) -> str:
    if codec == "ass":
        return ass_text(label, duration)
    if codec == "webvtt":
        return webvtt_text(label, duration)
    return srt_text(label, duration)  # subrip, and mov_text's source


def chapter_starts(count: int, duration: float) -> list[float]:
    return [duration * n / count for n in range(count)]


def ogm_chapters(count: int, duration: float) -> str:
    """mkvmerge's simple chapter format."""
    lines: list[str] = []
    for n, start in enumerate(chapter_starts(count, duration), start=1):
        lines.append(f"CHAPTER{n:02d}={_clock(start, '.')}")
        lines.append(f"CHAPTER{n:02d}NAME=Chapter {n}")
    return "\n".join(lines) + "\n"


def ffmetadata_chapters(count: int, duration: float) -> str:
    """ffmpeg's metadata file format, carrying only chapters."""
    starts = chapter_starts(count, duration)
    ends = [*starts[1:], duration]
    header = ";FFMETADATA1\n"
    chapters = "".join(
        f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={round(start * 1000)}\nEND={round(end * 1000)}\n"
        f"title=Chapter {n}\n"
        for n, (start, end) in enumerate(zip(starts, ends, strict=True), start=1)
    )
    return header + chapters


def font_bytes() -> bytes:
    """A stand-in font: a TrueType header and filler, 2 KiB.

    vpo never renders subtitles; it only keeps or drops attachments, so the
    bytes need the right name, MIME type and size, not real glyphs.
    """
    header = bytes.fromhex("00010000") + FONT_NAME.encode("ascii")
    return header + bytes(range(256)) * 8
