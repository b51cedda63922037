"""Names of the files vpo writes beside a media file (pure).

Everything starts with ``.vpo-`` so scans skip it and a later run recognises
leftovers; temp names carry the writer's pid and host id (``<pid>@<host>``) so
recovery can tell a live writer from a dead one, and a writer on another machine
from one on this machine (names without a host, written by older versions, are read as
this machine's).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from vpo.media.model import Container

NAME_MAX = 255  # bytes in one file name on Linux file systems (ext4, xfs, btrfs, tmpfs)
SHORTENED = "~"  # <cut stem>~<8 hex of the whole name's sha256><suffix>
_MAX_KEPT_SUFFIX = 16

VPO_PREFIX = ".vpo-"
TEMP_PREFIX = ".vpo-tmp-"
JOURNAL_PREFIX = ".vpo-journal-"
JOURNAL_SUFFIX = ".json"
BACKUP_SUFFIX = ".vpo-backup"

_TEMP_PATTERN = re.compile(
    r"^\.vpo-tmp-(?P<pid>\d+)(?:@(?P<host>[0-9a-f]{8}))?-(?P<token>[0-9a-f]{8})-(?P<name>.+)$",
    re.S,
)

CONTAINER_SUFFIX: dict[Container, str] = {
    Container.MATROSKA: ".mkv",
    Container.WEBM: ".webm",
    Container.MP4: ".mp4",
    Container.AVI: ".avi",
    Container.MPEGTS: ".ts",
    Container.MOV: ".mov",
    Container.OGG: ".ogg",
}


def fit_name(name: str, room: int) -> str:
    """Pure: ``name`` if it takes at most ``room`` bytes, else a shortened name that
    does: the stem cut to fit, ``~`` and 8 hex digits of the whole name's hash (so two
    long names sharing a prefix stay apart), and the extension kept last (the tools
    pick the output format from it)."""
    raw = os.fsencode(name)
    if len(raw) <= room:
        return name
    suffix = os.fsencode(Path(name).suffix)
    if len(suffix) > _MAX_KEPT_SUFFIX:
        suffix = b""
    tag = SHORTENED.encode() + hashlib.sha256(raw).hexdigest()[:8].encode()
    stem = raw[: len(raw) - len(suffix)][: max(room - len(tag) - len(suffix), 0)]
    while stem and not _whole_characters(stem):
        stem = stem[:-1]  # never cut a UTF-8 character in half
    return os.fsdecode(stem + tag + suffix)


def _whole_characters(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(raw) - 3  # invalid earlier on: not UTF-8, any cut will do
    return True


def temp_name(final_name: str, pid: int, token: str, host: str | None = None) -> str:
    """``.vpo-tmp-<pid>@<host>-<token>-<final name>`` (``<pid>-`` alone without a
    host): the extension stays last for the tools; a final name too long to fit in
    NAME_MAX with the prefix is shortened (fit_name)."""
    owner = f"{pid}@{host}" if host else str(pid)
    prefix = f"{TEMP_PREFIX}{owner}-{token}-"
    return prefix + fit_name(final_name, NAME_MAX - len(prefix))


@dataclass(frozen=True, slots=True)
class TempName:
    pid: int
    host: str | None  # None: a name written before host ids (read as this machine's)
    final_name: str


def parse_temp(name: str) -> TempName | None:
    """Writer pid, host id and final name of a vpo temp file, or None for any other name."""
    match = _TEMP_PATTERN.match(name)
    if match is None:
        return None
    return TempName(int(match["pid"]), match["host"], match["name"])


def parse_temp_name(name: str) -> tuple[int, str] | None:
    """(writer pid, final name) of a vpo temp file, or None for any other name."""
    parsed = parse_temp(name)
    return None if parsed is None else (parsed.pid, parsed.final_name)


def journal_name(media_name: str) -> str:
    """``.vpo-journal-<name>.json``, the name shortened to fit NAME_MAX (the journal
    itself records the full media name)."""
    room = NAME_MAX - len(JOURNAL_PREFIX) - len(JOURNAL_SUFFIX)
    return f"{JOURNAL_PREFIX}{fit_name(media_name, room)}{JOURNAL_SUFFIX}"


def is_shortened(name: str) -> bool:
    """Whether ``name`` may be a fit_name result (then it is not the real name)."""
    return re.search(r"~[0-9a-f]{8}(\.[^.]*)?$", name) is not None


def parse_journal_name(name: str) -> str | None:
    """The media file name a journal belongs to, or None."""
    if name.startswith(JOURNAL_PREFIX) and name.endswith(JOURNAL_SUFFIX):
        media = name[len(JOURNAL_PREFIX) : -len(JOURNAL_SUFFIX)]
        return media or None
    return None


def set_aside_name(media_name: str, attempt: int = 0) -> str:
    """``movie.mkv.vpo-journal-set-aside.json`` (then ``-1`` …): a journal that did not
    match its file, kept visible for the user; recovery no longer acts on it."""
    tail = ".vpo-journal-set-aside" + (f"-{attempt}" if attempt else "") + ".json"
    return fit_name(media_name, NAME_MAX - len(tail)) + tail


def free_set_aside_path(media: Path) -> Path:
    for attempt in range(1000):
        candidate = media.parent / set_aside_name(media.name, attempt)
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"too many set-aside journals of {media}")


def free_backup_path(original: Path) -> Path:
    """The first ``<name>.vpo-backup[-N]`` that does not exist yet."""
    for attempt in range(1000):
        candidate = original.parent / backup_name(original.name, attempt)
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"too many backups of {original}")


COPYBACK_PREFIX = ".vpo-copyback-"


def copyback_name(media_name: str) -> str:
    """``.vpo-copyback-<name>``: the durable backup of a copy-back in progress (not a
    temp: recovery deletes it only through its journal)."""
    return COPYBACK_PREFIX + fit_name(media_name, NAME_MAX - len(COPYBACK_PREFIX))


def backup_name(media_name: str, attempt: int = 0) -> str:
    """``movie.mkv.vpo-backup`` (then ``.vpo-backup-1`` …): not a media extension, so
    scans skip it, but visible so the user finds it."""
    tail = BACKUP_SUFFIX + (f"-{attempt}" if attempt else "")
    return fit_name(media_name, NAME_MAX - len(tail)) + tail


def destination_path(source: Path, source_container: Container, container: Container) -> Path:
    """Where the output ends up: the same path, or the new extension after a conversion."""
    if container is source_container:
        return source
    suffix = CONTAINER_SUFFIX.get(container)
    if suffix is None:
        raise ValueError(f"no file extension known for container {container.value!r}")
    return source.with_suffix(suffix)
