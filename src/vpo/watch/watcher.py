"""The imperative shell of watching: inotify (watchfiles) + rescans → settled files → jobs.

One thread. Every event is only *noted* (coalesced per path); a sweep every
tick decides which paths have settled. A settled file is compared with the
library first: the same stat as the library's row means vpo already knows
those bytes (its own replacement, or a file unchanged since the last run), so
nothing is queued and nothing is probed. A new name whose inode, size and
mtime match a stored file that is gone is a rename: the row follows. A settled
path that no longer exists is marked missing (with the files below it, for a
folder). Everything else goes to the sink, one job per sweep and policy.
"""

from __future__ import annotations

import itertools
import logging
import os
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import watchfiles

from vpo.library import Library
from vpo.library.records import FileStatus, MovedFile, StatKey
from vpo.watch.rules import TEMP_MARK, NameFilter, Settler, WatchFolder

log = logging.getLogger("vpo.watch")


class JobSink(Protocol):
    """Where settled files go: a job on the queue (``vpo serve``, ``vpo watch``)."""

    def submit(self, folder: WatchFolder, paths: Sequence[Path]) -> None: ...


@dataclass(frozen=True, slots=True)
class WatchSettings:
    folders: tuple[WatchFolder, ...]
    names: NameFilter
    stable_seconds: float
    rescan_seconds: float = 300.0  # 0: no periodic rescan
    polling: bool = False  # stat polling instead of inotify (shares without events)

    @property
    def tick(self) -> float:
        """Seconds between sweeps: a quarter of stable_seconds, within 0.1–1 s."""
        return min(1.0, max(0.1, self.stable_seconds / 4))


class Watcher:
    def __init__(self, library: Library, settings: WatchSettings, sink: JobSink) -> None:
        self._library = library
        self._settings = settings
        self._sink = sink
        self._settler = Settler(settings.stable_seconds)
        self._queued: dict[Path, StatKey] = {}  # the version of each file already queued
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> None:
        self._thread = threading.Thread(target=self._guarded_run, name="vpo-watch", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """True once the catch-up is done and events are being watched."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def run(self) -> None:
        """Catch up, then watch until ``stop()``; blocks."""
        for folder in self._settings.folders:
            if not folder.path.is_dir():
                log.warning(
                    "watch: %s is not a folder (yet); its events start when it exists", folder.path
                )
        folders = [str(folder.path) for folder in self._settings.folders if folder.path.is_dir()]
        tick_ms = int(self._settings.tick * 1000)
        if not folders:
            self._rescan(time.monotonic(), catch_up=True)
            self._watching("nothing")
            self._stop.wait()
            return
        changes_seen = watchfiles.watch(
            *folders,
            watch_filter=None,
            debounce=tick_ms,
            step=50,
            stop_event=self._stop,
            rust_timeout=tick_ms,
            yield_on_timeout=True,
            force_polling=self._settings.polling,
            poll_delay_ms=tick_ms,
            ignore_permission_denied=True,
        )
        # watchfiles registers its watches when the generator first runs: only then
        # catch up and say "watching", or a file landing in between is never seen
        first: set[tuple[watchfiles.Change, str]] = next(changes_seen, set())
        self._rescan(time.monotonic(), catch_up=True)
        last_rescan = time.monotonic()
        self._watching(", ".join(folders))
        for changes in itertools.chain([first], changes_seen):
            now = time.monotonic()
            for change, raw in changes:
                self._event(Path(raw), change, now)
            rescan = self._settings.rescan_seconds
            if rescan > 0 and now - last_rescan >= rescan:
                self._rescan(now, catch_up=False)
                last_rescan = now
            self._sweep(now)

    def _watching(self, folders: str) -> None:
        log.info(
            "watching %s (stable after %g s%s)",
            folders,
            self._settings.stable_seconds,
            ", polling" if self._settings.polling else "",
        )
        self._ready.set()

    def _guarded_run(self) -> None:
        try:
            self.run()
        except Exception as error:  # a bug must not pass silently in a thread
            self._error = error
            log.exception("watch: stopped by an internal error")
            self._ready.set()

    # ------------------------------------------------------------------ events

    def _folder_of(self, path: Path) -> WatchFolder | None:
        best: WatchFolder | None = None
        for folder in self._settings.folders:
            inside = path == folder.path or folder.path in path.parents
            if inside and (best is None or len(folder.path.parts) > len(best.path.parts)):
                best = folder
        return best

    def _event(self, path: Path, change: watchfiles.Change, now: float) -> None:
        folder = self._folder_of(path)
        if folder is None or any(TEMP_MARK in part for part in path.parts):
            return  # vpo's own temps, journals and backups never count
        if self._settings.names.wanted(path, folder.path) or not path.suffix:
            self._settler.note(path, now)  # a media file, or maybe a folder (moved in or away)

    def _rescan(self, now: float, *, catch_up: bool) -> None:
        """Files that differ from the library (catch-up after a restart, or a share
        without events) and stored files that are gone; unchanged files are not probed."""
        noted = 0
        for folder in self._settings.folders:
            if not folder.path.is_dir():
                continue
            for path, key in self._walk(folder):
                if self._known(path, key):
                    continue
                self._settler.note(path, now - self._settings.stable_seconds)
                noted += 1
            for path, status in self._library.iter_paths_under(folder.path):
                if status is not FileStatus.MISSING and not os.path.lexists(path):
                    self._settler.note(path, now)
                    noted += 1
        if noted:
            log.info(
                "watch: %s found %d changed file(s)", "catch-up" if catch_up else "rescan", noted
            )

    def _walk(self, folder: WatchFolder, top: Path | None = None) -> Iterator[tuple[Path, StatKey]]:
        names = self._settings.names
        for directory, dirs, files in os.walk(top or folder.path):
            base = Path(directory)
            dirs[:] = [name for name in dirs if not names.ignored_dir(base / name)]
            for name in files:
                path = base / name
                if not names.wanted(path, folder.path):
                    continue
                key = _stat(path)
                if key is not None and key[1]:
                    yield path, key[0]

    def _known(self, path: Path, key: StatKey) -> bool:
        """The library (or a queued job) already has exactly this version of the file."""
        if self._queued.get(path) == key:
            return True
        state = self._library.file_state(path)
        return state is not None and state.status is FileStatus.OK and state.key.matches(key)

    # ------------------------------------------------------------------ sweep

    def _sweep(self, now: float) -> None:
        wall = time.time()
        ready: dict[WatchFolder, list[Path]] = {}
        gone: list[Path] = []
        for path in self._settler.candidates(now):
            found = _stat(path)
            if found is not None and not found[1]:  # a folder: moved in, or created
                self._settler.settle(path, None, wall, now)
                folder = self._folder_of(path)
                if folder is not None:
                    for inner, _ in self._walk(folder, path):
                        self._settler.note(inner, now - self._settings.stable_seconds)
                continue
            key = found[0] if found is not None else None
            if not self._settler.settle(path, key, wall, now):
                continue
            folder = self._folder_of(path)
            if key is None:
                gone.append(path)
            elif folder is None or not self._settings.names.wanted(path, folder.path):
                continue
            elif not self._known(path, key) and not self._renamed(path, key):
                ready.setdefault(folder, []).append(path)
                self._queued[path] = key
        for folder, paths in ready.items():
            log.info("watch: %d settled file(s) in %s queued", len(paths), folder.path)
            self._sink.submit(folder, paths)
        if gone:
            self._forget(gone)

    def _renamed(self, path: Path, key: StatKey) -> bool:
        if self._library.file_state(path) is not None:
            return False
        old = [p for p in self._library.find_moved(key) if not os.path.lexists(p)]
        if not old:
            return False
        self._library.write_scan_batch(moved=(MovedFile(old[0], path, key.ctime_ns),))
        log.info("watch: %s renamed to %s (library follows)", old[0], path)
        return True

    def _forget(self, gone: list[Path]) -> None:
        missing: list[Path] = []
        for path in gone:
            self._queued.pop(path, None)
            for stored, status in self._library.iter_paths_under(path):
                if status is not FileStatus.MISSING and not os.path.lexists(stored):
                    missing.append(stored)
        if missing:
            self._library.mark_missing(missing)
            for path in missing:
                log.info("watch: %s deleted (marked missing in the library)", path)


def _stat(path: Path) -> tuple[StatKey, bool] | None:
    """(stat key, is a regular file), or None when it does not exist."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        log.warning("watch: cannot stat %s: %s", path, error.strerror or error)
        return None
    return StatKey.of(info), stat.S_ISREG(info.st_mode)
