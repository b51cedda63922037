"""Small helpers shared by the argv builders."""

from __future__ import annotations

from pathlib import Path

from vpo.media.model import TrackFlags

# TrackFlags field → (mkvpropedit property, mkvmerge option, ffmpeg disposition)
FLAG_NAMES: tuple[tuple[str, str, str, str], ...] = (
    ("default", "flag-default", "--default-track-flag", "default"),
    ("forced", "flag-forced", "--forced-display-flag", "forced"),
    ("hearing_impaired", "flag-hearing-impaired", "--hearing-impaired-flag", "hearing_impaired"),
    ("visual_impaired", "flag-visual-impaired", "--visual-impaired-flag", "visual_impaired"),
    ("commentary", "flag-commentary", "--commentary-flag", "comment"),
    ("original", "flag-original", "--original-flag", "original"),
)


def absolute(path: Path) -> str:
    """An absolute path string: never mistaken for an option, whatever the file name."""
    return str(path if path.is_absolute() else Path.cwd() / path)


def flag_value(flags: TrackFlags, name: str) -> bool:
    value = getattr(flags, name)
    assert isinstance(value, bool)
    return value
