"""Names of the files vpo writes beside a media file (pure).

Everything starts with ``.vpo-`` so scans skip it and a later run recognises
leftovers; temp names carry the writer's pid so recovery can tell a live writer
from a dead one.
"""

from __future__ import annotations

import re
from pathlib import Path

from vpo.media.model import Container

VPO_PREFIX = ".vpo-"
TEMP_PREFIX = ".vpo-tmp-"
JOURNAL_PREFIX = ".vpo-journal-"
JOURNAL_SUFFIX = ".json"
BACKUP_SUFFIX = ".vpo-backup"

_TEMP_PATTERN = re.compile(r"^\.vpo-tmp-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})-(?P<name>.+)$", re.S)

CONTAINER_SUFFIX: dict[Container, str] = {
    Container.MATROSKA: ".mkv",
    Container.WEBM: ".webm",
    Container.MP4: ".mp4",
    Container.AVI: ".avi",
    Container.MPEGTS: ".ts",
    Container.MOV: ".mov",
    Container.OGG: ".ogg",
}


def temp_name(final_name: str, pid: int, token: str) -> str:
    """``.vpo-tmp-<pid>-<token>-<final name>``: the extension stays last for the tools."""
    return f"{TEMP_PREFIX}{pid}-{token}-{final_name}"


def parse_temp_name(name: str) -> tuple[int, str] | None:
    """(writer pid, final name) of a vpo temp file, or None for any other name."""
    match = _TEMP_PATTERN.match(name)
    if match is None:
        return None
    return int(match["pid"]), match["name"]


def journal_name(media_name: str) -> str:
    return f"{JOURNAL_PREFIX}{media_name}{JOURNAL_SUFFIX}"


def parse_journal_name(name: str) -> str | None:
    """The media file name a journal belongs to, or None."""
    if name.startswith(JOURNAL_PREFIX) and name.endswith(JOURNAL_SUFFIX):
        media = name[len(JOURNAL_PREFIX) : -len(JOURNAL_SUFFIX)]
        return media or None
    return None


def set_aside_name(media_name: str, attempt: int = 0) -> str:
    """``movie.mkv.vpo-journal-set-aside.json`` (then ``-1`` …): a journal that did not
    match its file, kept visible for the user; recovery no longer acts on it."""
    return f"{media_name}.vpo-journal-set-aside" + (f"-{attempt}" if attempt else "") + ".json"


def free_set_aside_path(media: Path) -> Path:
    for attempt in range(1000):
        candidate = media.parent / set_aside_name(media.name, attempt)
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"too many set-aside journals of {media}")


def backup_name(media_name: str, attempt: int = 0) -> str:
    """``movie.mkv.vpo-backup`` (then ``.vpo-backup-1`` …): not a media extension, so
    scans skip it, but visible so the user finds it."""
    return f"{media_name}{BACKUP_SUFFIX}" + (f"-{attempt}" if attempt else "")


def destination_path(source: Path, source_container: Container, container: Container) -> Path:
    """Where the output ends up: the same path, or the new extension after a conversion."""
    if container is source_container:
        return source
    suffix = CONTAINER_SUFFIX.get(container)
    if suffix is None:
        raise ValueError(f"no file extension known for container {container.value!r}")
    return source.with_suffix(suffix)
