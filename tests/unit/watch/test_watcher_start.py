"""The watcher says it is ready only once its inotify watches exist: a file that lands
right after ``wait_ready()`` (and the "watching" log line that ``vpo serve`` users and
tests wait for) is seen even on a machine so loaded that watchfiles starts late.
Real inotify on a temporary folder; the only change to watchfiles is a start delay."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import watchfiles

from vpo.library import Library
from vpo.watch import watcher as watcher_module
from vpo.watch.rules import NameFilter, WatchFolder
from vpo.watch.watcher import Watcher, WatchSettings

WAIT = 10.0


class Sink:
    def __init__(self) -> None:
        self.submitted: list[Path] = []
        self.arrived = threading.Condition()

    def submit(self, folder: WatchFolder, paths: Sequence[Path]) -> None:
        with self.arrived:
            self.submitted.extend(paths)
            self.arrived.notify_all()


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    with Library.open(tmp_path / "library.db") as opened:
        yield opened


def slow_start(delay: float) -> Any:
    """watchfiles.watch, but its watches are set up ``delay`` seconds late (a loaded CPU)."""
    real = watchfiles.watch

    def watch(*paths: str, **options: Any) -> Iterator[Any]:
        time.sleep(delay)
        yield from real(*paths, **options)

    return watch


def test_a_file_landing_right_after_ready_is_seen(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    monkeypatch.setattr(watcher_module.watchfiles, "watch", slow_start(1.0))
    settings = WatchSettings(
        folders=(WatchFolder(folder, "p"),),
        names=NameFilter(frozenset({"mkv"}), (), ()),
        stable_seconds=0.0,
        rescan_seconds=0.0,  # no rescan to find it later: only the event counts
    )
    sink = Sink()
    watcher = Watcher(library, settings, sink)
    watcher.start()
    try:
        assert watcher.wait_ready(WAIT)
        landed = folder / "film.mkv"
        landed.write_bytes(b"x" * 100)
        with sink.arrived:
            assert sink.arrived.wait_for(lambda: landed in sink.submitted, WAIT), sink.submitted
    finally:
        watcher.stop()
