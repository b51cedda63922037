"""Recovery of what an interrupted vpo left behind: journals and temp files.

Run at the start of ``vpo process`` and by ``vpo doctor --repair``. A journal is
only acted on when nobody holds the media file's lock (an edit in progress always
does), and only if the file is the one it was written for (``match_journal``: inode, the
bytes no edit writes, and the before or after state); a journal of another file
is set aside (renamed, kept) and the file never touched.

Temps and journals name the machine that wrote them (``apply.host``). A pid says
nothing about another machine's processes, so a leftover of another host is only
touched when nobody holds its lock and it has not changed for
``OTHER_HOST_GRACE`` seconds (its change time: a live writer keeps it fresh, a
rename refreshes it), or when the caller says that host's vpo is stopped
(``other_hosts``: ``vpo doctor --repair --other-hosts``).
"""

from __future__ import annotations

import enum
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from vpo.apply.copyback import KIND as COPY_BACK
from vpo.apply.copyback import CopyJournal, decode_copy_journal, recover_copy_back
from vpo.apply.fsio import fsync_directory, rename_no_replace
from vpo.apply.host import this_host
from vpo.apply.journal import (
    JournalFormatError,
    JournalMatch,
    decode_journal,
    discard_journal,
    match_journal,
    restore,
)
from vpo.apply.lock import try_lock
from vpo.apply.names import (
    COPYBACK_PREFIX,
    VPO_PREFIX,
    free_set_aside_path,
    is_shortened,
    journal_name,
    parse_journal_name,
    parse_temp,
    parse_temp_name,
)

OTHER_HOST_GRACE = 6 * 3600.0  # seconds unchanged before another machine's leftover is stale


class RecoveryKind(str, enum.Enum):
    RESTORED = "restored"  # media file put back byte for byte from its journal
    REMOVED_TEMP = "removed-temp"  # stale temp file of a dead process deleted
    REMOVED_JOURNAL = "removed-journal"  # journal whose media file is gone
    SET_ASIDE = "set-aside"  # journal of another file: renamed, kept, the file untouched
    BUSY = "busy"  # a live process owns it: left alone
    FAILED = "failed"  # could not be handled safely: left alone, see detail


@dataclass(frozen=True, slots=True)
class RecoveryAction:
    kind: RecoveryKind
    path: Path
    detail: str


def recover_leftovers(
    directory_or_file: Path,
    *,
    recursive: bool = True,
    other_hosts: bool = False,
    now: float | None = None,
) -> list[RecoveryAction]:
    """Restore media files from leftover journals and delete stale temps.

    Given a media file, only its own journal and temps are handled. For the
    ``[jobs] temp_dir`` use ``recover_temp_dir``. ``other_hosts``: leftovers of
    other machines count as abandoned without waiting ``OTHER_HOST_GRACE``
    (their lock must still be free); ``now`` (epoch seconds) is for tests.
    """
    owner = _Owners(this_host(), other_hosts, time.time() if now is None else now)
    actions: list[RecoveryAction] = []
    if directory_or_file.is_dir():
        candidates = list(_vpo_files(directory_or_file, recursive))
    else:
        candidates = _own_leftovers(directory_or_file)
    for path in candidates:
        action = _recover_one(path, owner)
        if action is not None:
            actions.append(action)
    return actions


def recover_temp_dir(
    *temp_dirs: Path | None, other_hosts: bool = False, now: float | None = None
) -> list[RecoveryAction]:
    """Delete stale vpo temps in ``[jobs] temp_dir`` / ``[transcode] scratch_dir``
    (their top level only: vpo writes nothing deeper, and a shared scratch
    directory's subfolders are not vpo's). None or a missing directory is skipped."""
    actions: list[RecoveryAction] = []
    for directory in dict.fromkeys(d for d in temp_dirs if d is not None):
        if directory.is_dir():
            actions.extend(
                recover_leftovers(directory, recursive=False, other_hosts=other_hosts, now=now)
            )
    return actions


@dataclass(frozen=True, slots=True)
class _Owners:
    """What recovery knows about the writers of leftovers."""

    here: str  # this machine's host id
    other_hosts: bool  # the user says the other machines' vpo is stopped
    now: float

    def elsewhere(self, host: str | None) -> bool:
        """Whether ``host`` is another machine (no host: an older name, this machine)."""
        return bool(host) and host != self.here

    def wait_for(self, path: Path, what: str) -> RecoveryAction | None:
        """BUSY while another machine's leftover ``path`` may still be its writer's."""
        if self.other_hosts:
            return None
        try:
            info = path.stat()
        except OSError:
            return None
        age = self.now - max(info.st_mtime, info.st_ctime)
        if age >= OTHER_HOST_GRACE:
            return None
        hours = OTHER_HOST_GRACE / 3600
        return RecoveryAction(
            RecoveryKind.BUSY,
            path,
            f"{what} on another machine; left alone until it is {hours:g} hours old "
            "(or run vpo doctor --repair --other-hosts once vpo on that machine is stopped)",
        )


def restore_journal(journal_file: Path, media: Path) -> RecoveryAction:
    """Restore ``media`` from ``journal_file``; the caller holds the media lock."""
    try:
        data = journal_file.read_bytes()
        copy_journal = _copy_journal(data)
        if copy_journal is not None:
            return _finish_copy_back(journal_file, media, copy_journal)
        journal = decode_journal(data)
    except (OSError, JournalFormatError) as error:
        return RecoveryAction(RecoveryKind.FAILED, journal_file, f"unreadable journal: {error}")
    try:
        fd = os.open(media, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        discard_journal(journal_file)
        return RecoveryAction(
            RecoveryKind.REMOVED_JOURNAL, journal_file, f"{media.name} no longer exists"
        )
    try:
        match, reason = match_journal(journal, fd)
    finally:
        os.close(fd)
    if match is JournalMatch.FOREIGN:
        return _set_aside(journal_file, media, reason)
    try:
        restore(media, journal)
    except OSError as error:
        return RecoveryAction(
            RecoveryKind.FAILED, media, f"cannot restore from journal: {error.strerror}"
        )
    discard_journal(journal_file)
    detail = "restored byte for byte after an interrupted edit"
    if match is JournalMatch.BEFORE:
        detail = "was still the original (the interrupted edit had written nothing)"
    return RecoveryAction(RecoveryKind.RESTORED, media, detail)


def _copy_journal(data: bytes) -> CopyJournal | None:
    """The copy-back journal in ``data``, None for an edit journal."""
    try:
        document = json.loads(data)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("kind") != COPY_BACK:
        return None
    try:
        return decode_copy_journal(document)
    except (ValueError, KeyError, TypeError) as error:
        raise JournalFormatError(f"unreadable copy-back journal: {error}") from error


def _finish_copy_back(journal_file: Path, media: Path, journal: CopyJournal) -> RecoveryAction:
    try:
        outcome, detail = recover_copy_back(journal_file, media, journal)
    except OSError as error:
        return RecoveryAction(
            RecoveryKind.FAILED, media, f"cannot finish an interrupted copy-back: {error}"
        )
    if outcome == "foreign":
        action = _set_aside(journal_file, media, detail)
        return replace(
            action, detail=f"{action.detail}; its backup is kept as {journal.backup_name}"
        )
    kind = RecoveryKind.FAILED if outcome == "failed" else RecoveryKind.RESTORED
    return RecoveryAction(kind, media, detail)


def _set_aside(journal_file: Path, media: Path, reason: str) -> RecoveryAction:
    """Keep the journal under a name recovery does not act on; never touch ``media``."""
    kept = free_set_aside_path(media)
    rename_no_replace(journal_file, kept)
    fsync_directory(kept.parent)
    return RecoveryAction(
        RecoveryKind.SET_ASIDE,
        media,
        f"not the file the interrupted edit's journal was written for ({reason}); left "
        f"untouched; journal kept as {kept.name}",
    )


def _recover_one(path: Path, owner: _Owners) -> RecoveryAction | None:
    media_name = _journal_media_name(path)
    if media_name is not None:
        media = path.parent / media_name
        fd = try_lock(media)
        if fd is None:
            if not media.exists():
                discard_journal(path)
                return RecoveryAction(
                    RecoveryKind.REMOVED_JOURNAL, path, f"{media_name} no longer exists"
                )
            return RecoveryAction(RecoveryKind.BUSY, media, "being edited by another process")
        try:
            host = _journal_host(path)
            if owner.elsewhere(host):
                waiting = owner.wait_for(path, f"journal of an edit by host {host}")
                if waiting is not None:
                    return waiting
            holders = processes_using(media)
            if holders:
                return RecoveryAction(
                    RecoveryKind.BUSY,
                    media,
                    f"still open in process {holders[0]} (an interrupted tool may still be "
                    "writing); try again when it has exited",
                )
            return restore_journal(path, media)
        finally:
            os.close(fd)
    if path.name.startswith(COPYBACK_PREFIX):
        return _orphan_copyback(path)
    parsed = parse_temp(path.name)
    if parsed is None:
        return None
    pid = parsed.pid
    writer = f"process {pid}"
    if owner.elsewhere(parsed.host):
        writer = f"process {pid} of host {parsed.host}"
        waiting = owner.wait_for(path, f"temp file of {writer}")
        if waiting is not None:
            return waiting
    elif _process_alive(pid):
        return RecoveryAction(RecoveryKind.BUSY, path, f"temp file of running process {pid}")
    fd = try_lock(path)
    if fd is None:
        return RecoveryAction(RecoveryKind.BUSY, path, "temp file still in use")
    try:
        holders = processes_using(path)
        if holders:  # e.g. a tool orphaned by a kill -9 of vpo, still writing it
            return RecoveryAction(
                RecoveryKind.BUSY,
                path,
                f"temp file still open in process {holders[0]}; left until it has exited",
            )
        path.unlink(missing_ok=True)
    finally:
        os.close(fd)
    return RecoveryAction(RecoveryKind.REMOVED_TEMP, path, f"left by {writer}, which is gone")


def _journal_host(path: Path) -> str | None:
    """The host id a journal names (None: unreadable, or written before host ids)."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    host = document.get("host") if isinstance(document, dict) else None
    return host if isinstance(host, str) and host else None


def _journal_media_name(path: Path) -> str | None:
    """The media file a journal belongs to: from its name, or, when the name was
    shortened to fit NAME_MAX, from the journal itself (checked against the name)."""
    named = parse_journal_name(path.name)
    if named is None or not is_shortened(named):
        return named
    try:
        recorded = decode_journal(path.read_bytes()).media_name
    except (OSError, JournalFormatError):
        return named
    return recorded if journal_name(recorded) == path.name else named


def _orphan_copyback(path: Path) -> RecoveryAction | None:
    """A copy-back backup without a journal: vpo died while making it, before it wrote
    anything into the original, so it can go once nobody works on that file."""
    media_name = path.name[len(COPYBACK_PREFIX) :]
    media = path.parent / media_name
    if is_shortened(media_name) or (path.parent / journal_name(media_name)).exists():
        return None  # its journal decides (or the name cannot be traced back)
    fd = try_lock(media) if media.exists() else None
    if fd is None and media.exists():
        return RecoveryAction(RecoveryKind.BUSY, path, "copy-back in progress")
    try:
        if processes_using(path):
            return RecoveryAction(RecoveryKind.BUSY, path, "copy-back backup still open")
        path.unlink(missing_ok=True)
    finally:
        if fd is not None:
            os.close(fd)
    return RecoveryAction(
        RecoveryKind.REMOVED_TEMP, path, "unfinished copy-back backup (the original was untouched)"
    )


def processes_using(path: Path, proc: Path = Path("/proc")) -> list[int]:
    """Other processes that have ``path`` open or name it in their argv (Linux /proc).

    vpo starts tools in their own session, so a tool can outlive a killed vpo and
    still be starting up or writing; a journal must not be replayed under it.
    """
    try:
        target = path.stat()
    except OSError:
        return []
    argument = os.fsencode(path.absolute())
    me = os.getpid()
    found: list[int] = []
    try:
        entries = [e for e in os.scandir(proc) if e.name.isdigit() and int(e.name) != me]
    except OSError:
        return []
    for entry in entries:
        process = Path(entry.path)
        if _names_in_argv(process, argument) or _has_open(process, target):
            found.append(int(entry.name))
    return found


def _names_in_argv(process: Path, argument: bytes) -> bool:
    try:
        return argument in (process / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False


def _has_open(process: Path, target: os.stat_result) -> bool:
    try:
        descriptors = list(os.scandir(process / "fd"))
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            info = Path(descriptor.path).stat()
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _own_leftovers(media: Path) -> list[Path]:
    directory = media.parent
    found: list[Path] = []
    journal = directory / journal_name(media.name)
    if journal.exists():
        found.append(journal)
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return found
    for entry in entries:
        parsed = parse_temp_name(entry.name)
        if parsed is not None and _temp_of(parsed[1], media):
            found.append(directory / entry.name)
    return found


def _temp_of(final_name: str, media: Path) -> bool:
    """Whether a temp's final name is ``media`` (or its conversion to another
    extension), also when it was shortened to fit NAME_MAX."""
    stem = Path(final_name).stem
    if stem == media.stem:
        return True
    return is_shortened(final_name) and media.name.startswith(stem.rsplit("~", 1)[0])


def _vpo_files(root: Path, recursive: bool) -> Iterator[Path]:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(VPO_PREFIX):
            if entry.is_file(follow_symlinks=False):
                yield Path(entry.path)
        elif recursive and entry.is_dir(follow_symlinks=False):
            yield from _vpo_files(Path(entry.path), recursive)
