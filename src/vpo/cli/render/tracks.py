"""MediaFile → JSON-ready dict and → readable track table (pure: data in, renderables out).

``vpo inspect`` prints these; other commands (scan reports, dry-run) reuse
them so a file looks the same everywhere. Every string that came from a file
(titles, names) is shown as plain text, never parsed as console markup.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from vpo.media.model import Attachment, MediaFile, Track, TrackFlags, TrackType
from vpo.probe.codecs import codec_label
from vpo.text import one_line

FLAG_LETTERS = (
    ("default", "D"),
    ("forced", "F"),
    ("hearing_impaired", "HI"),
    ("visual_impaired", "VI"),
    ("commentary", "C"),
    ("original", "O"),
)
FLAG_LEGEND = (
    "flags: D default, F forced, HI hearing impaired, VI visual impaired, C commentary, O original"
)
_CONTAINER_NAMES = {
    "mkv": "Matroska",
    "webm": "WebM",
    "mp4": "MP4",
    "avi": "AVI",
    "ts": "MPEG-TS",
    "mov": "QuickTime MOV",
    "ogg": "Ogg",
}


# --- JSON ----------------------------------------------------------------------------------


def media_to_dict(media: MediaFile) -> dict[str, Any]:
    """Everything probing found, with stable keys (documented in docs/inspect.md)."""
    return {
        "path": str(media.path),
        "container": media.container.value,
        "format_name": media.format_name,
        "size": media.size,
        "mtime_ns": media.mtime_ns,
        "duration": media.duration,
        "bit_rate": media.bit_rate,
        "title": media.title,
        "chapter_count": media.chapter_count,
        "attachments": [attachment_to_dict(a) for a in media.attachments],
        "tracks": [track_to_dict(t) for t in media.tracks],
    }


def track_to_dict(track: Track) -> dict[str, Any]:
    return {
        "index": track.index,
        "track_id": track.track_id,
        "type": track.type.value,
        "codec": track.codec,
        "language": track.language,
        "language_ietf": track.language_ietf,
        "title": track.title,
        "flags": {name: bool(getattr(track.flags, name)) for name, _ in FLAG_LETTERS},
        "channels": track.channels,
        "channel_layout": track.channel_layout,
        "sample_rate": track.sample_rate,
        "width": track.width,
        "height": track.height,
        "frame_rate": track.frame_rate,
        "bit_rate": track.bit_rate,
        "uid": track.uid,
    }


def attachment_to_dict(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.attachment_id,
        "file_name": attachment.file_name,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "description": attachment.description,
    }


# --- text ----------------------------------------------------------------------------------


display_path = one_line  # the one implementation: vpo.text


def flags_text(flags: TrackFlags) -> str:
    """``D F`` style letters (see FLAG_LEGEND); ``-`` when no flag is set."""
    letters = [letter for name, letter in FLAG_LETTERS if getattr(flags, name)]
    return " ".join(letters) or "-"


def human_size(size: int) -> str:
    """``146876`` → ``146.9 kB`` (decimal units, like file managers)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_duration(seconds: float | None) -> str:
    """``5533.2`` → ``1:32:13``; unknown → ``?``."""
    if seconds is None:
        return "?"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def human_bit_rate(bit_rate: int | None) -> str | None:
    if bit_rate is None:
        return None
    if bit_rate >= 1_000_000:
        return f"{bit_rate / 1_000_000:.1f} Mb/s"
    if bit_rate >= 1000:
        return f"{bit_rate / 1000:.0f} kb/s"
    return f"{bit_rate} b/s"


def media_header(media: MediaFile) -> str:
    """One line above the table: what the file is as a whole."""
    container = _CONTAINER_NAMES.get(media.container.value, media.format_name or "other")
    parts = [container, human_duration(media.duration), human_size(media.size)]
    overall = human_bit_rate(media.bit_rate)
    if overall:
        parts.append(overall)
    parts.append(_count(len(media.attachments), "attachment"))
    parts.append(_count(media.chapter_count, "chapter"))
    header = f"{display_path(media.path)}: {', '.join(parts)}"
    if media.title:
        header += f", title {display_path(media.title)!r}"
    return header


def track_details(track: Track) -> str:
    """The properties that matter for the track's type, e.g. ``6 ch (5.1), 48 kHz``."""
    parts: list[str] = []
    if track.type is TrackType.VIDEO:
        if track.width and track.height:
            parts.append(f"{track.width}x{track.height}")
        if track.frame_rate:
            parts.append(f"{track.frame_rate:g} fps")
    elif track.type is TrackType.AUDIO:
        if track.channels:
            layout = f" ({track.channel_layout})" if track.channel_layout else ""
            parts.append(f"{track.channels} ch{layout}")
        if track.sample_rate:
            parts.append(f"{track.sample_rate / 1000:g} kHz")
    rate = human_bit_rate(track.bit_rate)
    if rate:
        parts.append(rate)
    return ", ".join(parts)


def track_language(track: Track) -> str:
    """``fre (fr-CA)``: the normalised code, plus the file's IETF tag when it says more.

    A bare ``fr`` says nothing ``fre`` does not; a region or script does.
    """
    if track.language_ietf and "-" in track.language_ietf:
        return f"{track.language} ({track.language_ietf})"
    return track.language


def track_table(media: MediaFile) -> Table:
    """The per-track table: number, type, codec, language, title, flags, details."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("#", "type", "codec", "language", "title", "flags", "details"):
        table.add_column(column, no_wrap=column != "title", overflow="fold")
    for track in media.tracks:
        table.add_row(
            Text(str(track.track_id)),
            Text(track.type.value),
            Text(codec_label(track.codec)),
            Text(track_language(track)),
            Text(display_path(track.title) if track.title else ""),
            Text(flags_text(track.flags)),
            Text(track_details(track)),
        )
    return table


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
