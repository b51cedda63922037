"""The scan coordinator on real trees and a real database, with an in-process prober.

The prober here reads the file's bytes (``bad`` → not media) instead of running
ffprobe, so these tests check the bookkeeping: what is probed, counted, written.
Real probes on generated media are in tests/integration/test_scan.py.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.library import FileOutcome, FileRecord, FileStatus, Library, RunCounts, StatKey
from vpo.library.records import FileState
from vpo.library.scan import ScanAction, ScanEvent, ScanOptions, ScanSummary, decide, scan_paths
from vpo.media.model import Container, MediaFile, Track, TrackType
from vpo.probe.errors import NotMediaError
from vpo.tools.runner import ToolNotFoundError

KEY = StatKey(size=10, mtime_ns=20, inode=30, device=40, ctime_ns=50)


class CountingProber:
    """Describes a file from its bytes; counts calls, thread-safely."""

    def __init__(self) -> None:
        self.calls: list[Path] = []
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> MediaFile:
        with self._lock:
            self.calls.append(path)
        content = path.read_bytes()
        if content.startswith(b"bad"):
            raise NotMediaError(path, "test says so")
        if content.startswith(b"tool"):
            raise ToolNotFoundError("ffprobe", "test")
        audio = Track(index=1, track_id=1, type=TrackType.AUDIO, codec="aac", language="eng")
        video = Track(index=0, track_id=0, type=TrackType.VIDEO, codec="h264")
        return MediaFile(
            path=path, container=Container.MATROSKA, size=0, mtime_ns=0, tracks=(video, audio)
        )


def write(path: Path, content: bytes = b"media") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def run_scan(
    library: Library,
    prober: CountingProber,
    *roots: Path,
    prune: bool = False,
    reprobe: bool = False,
    workers: int = 2,
    on_event: Callable[[ScanEvent], None] | None = None,
    stop: threading.Event | None = None,
) -> ScanSummary:
    options = ScanOptions(
        extensions=("mkv", "mp4"), workers=workers, prune=prune, reprobe=reprobe, batch_size=50
    )
    return scan_paths(list(roots), library, prober, options, on_event=on_event, stop=stop)


def counts(summary: ScanSummary) -> dict[str, int]:
    c = summary.counts
    return {
        "found": c.found,
        "new": c.new,
        "changed": c.changed,
        "unchanged": c.unchanged,
        "moved": c.moved,
        "missing": c.missing,
        "pruned": c.pruned,
        "errors": c.errors,
    }


def expect(**nonzero: int) -> dict[str, int]:
    base = dict.fromkeys(
        ("found", "new", "changed", "unchanged", "moved", "missing", "pruned", "errors"), 0
    )
    return {**base, **nonzero}


@pytest.mark.parametrize(
    ("state", "key", "reprobe", "action"),
    [
        (None, KEY, False, ScanAction.PROBE_NEW),
        (FileState(Path("/x"), KEY, FileStatus.OK, None), KEY, False, ScanAction.UNCHANGED),
        (FileState(Path("/x"), KEY, FileStatus.OK, None), KEY, True, ScanAction.PROBE_CHANGED),
        (
            FileState(Path("/x"), KEY, FileStatus.OK, None),
            StatKey(11, 20, 30, 40, 50),
            False,
            ScanAction.PROBE_CHANGED,
        ),
        (
            FileState(Path("/x"), KEY, FileStatus.OK, None),
            StatKey(10, 21, 30, 40, 50),
            False,
            ScanAction.PROBE_CHANGED,
        ),
        (
            FileState(Path("/x"), KEY, FileStatus.OK, None),
            StatKey(10, 20, 31, 40, 50),
            False,
            ScanAction.PROBE_CHANGED,
        ),
        (
            FileState(Path("/x"), KEY, FileStatus.OK, None),
            StatKey(10, 20, 30, 41, 50),  # a remounted disk may change the device number
            False,
            ScanAction.UNCHANGED,
        ),
        (
            FileState(Path("/x"), KEY, FileStatus.OK, None),
            StatKey(10, 20, 30, 40, 51),  # edited in place, mtime restored
            False,
            ScanAction.PROBE_CHANGED,
        ),
        (
            FileState(Path("/x"), StatKey(10, 20, 30, 40, None), FileStatus.OK, None),
            KEY,  # a row from schema 1 has no ctime: probed once, then known
            False,
            ScanAction.PROBE_CHANGED,
        ),
        (
            FileState(Path("/x"), StatKey(10, 20, 30, 40, None), FileStatus.ERROR, "e"),
            KEY,
            False,
            ScanAction.PROBE_CHANGED,
        ),
        (FileState(Path("/x"), KEY, FileStatus.MISSING, None), KEY, False, ScanAction.RESTORE),
        (FileState(Path("/x"), KEY, FileStatus.ERROR, "e"), KEY, False, ScanAction.KNOWN_ERROR),
        (FileState(Path("/x"), KEY, FileStatus.ERROR, "e"), KEY, True, ScanAction.PROBE_CHANGED),
    ],
)
def test_decide(state: FileState | None, key: StatKey, reprobe: bool, action: ScanAction) -> None:
    assert decide(state, key, reprobe=reprobe) is action


def test_first_scan_probes_rescan_probes_nothing(tmp_path: Path, library: Library) -> None:
    for name in ("a.mkv", "s/b.mkv", "s/c.mp4", "notes.txt"):
        write(tmp_path / "lib" / name)
    prober = CountingProber()

    first = run_scan(library, prober, tmp_path / "lib")
    assert counts(first) == expect(found=3, new=3)
    assert len(prober.calls) == 3

    second = run_scan(library, prober, tmp_path / "lib")
    assert counts(second) == expect(found=3, unchanged=3)
    assert len(prober.calls) == 3

    info = (tmp_path / "lib" / "a.mkv").stat()
    cached = library.cached_media(
        tmp_path / "lib" / "a.mkv", 5, info.st_mtime_ns, info.st_ino, info.st_ctime_ns
    )
    assert cached is not None
    assert (cached.size, cached.inode, cached.device) == (5, info.st_ino, info.st_dev)


def test_touched_and_replaced_files_are_probed_again(tmp_path: Path, library: Library) -> None:
    touched = write(tmp_path / "a.mkv")
    replaced = write(tmp_path / "b.mkv")
    write(tmp_path / "c.mkv")
    prober = CountingProber()
    run_scan(library, prober, tmp_path)
    prober.calls.clear()

    os.utime(touched, ns=(1, 1))
    replacement = write(tmp_path / ".new.mkv", b"other media")
    replacement.replace(replaced)

    summary = run_scan(library, prober, tmp_path)
    assert counts(summary) == expect(found=3, changed=2, unchanged=1)
    assert sorted(prober.calls) == [touched, replaced]


def test_rename_keeps_the_row_and_history_without_probing(tmp_path: Path, library: Library) -> None:
    old = write(tmp_path / "old name.mkv")
    prober = CountingProber()
    run_scan(library, prober, tmp_path)
    run_id = library.start_run(policy_name="p", policy_hash=None, workers=1)
    library.record_file_result(run_id, FileRecord(old, FileOutcome.UNCHANGED))
    library.finish_run(run_id, RunCounts(unchanged=1))
    prober.calls.clear()

    new = tmp_path / "sub" / "new name.mkv"
    new.parent.mkdir()
    old.rename(new)
    summary = run_scan(library, prober, tmp_path)

    assert counts(summary) == expect(found=1, moved=1)
    assert prober.calls == []
    assert library.file_state(old) is None
    assert library.totals().never_processed == 0  # the history followed the file


def test_deleted_files_are_marked_missing_then_restored_or_pruned(
    tmp_path: Path, library: Library
) -> None:
    keep = write(tmp_path / "keep.mkv")
    gone = write(tmp_path / "gone.mkv")
    back = write(tmp_path / "back.mkv")
    prober = CountingProber()
    run_scan(library, prober, tmp_path)

    hidden = tmp_path.parent / f"{tmp_path.name}-aside.mkv"
    back.rename(hidden)
    gone.unlink()
    summary = run_scan(library, prober, tmp_path)
    assert counts(summary) == expect(found=1, unchanged=1, missing=2)
    assert library.file_state(gone).status is FileStatus.MISSING  # type: ignore[union-attr]

    hidden.rename(back)  # same inode, size, mtime, but the renames moved the ctime
    prober.calls.clear()
    summary = run_scan(library, prober, tmp_path)
    assert counts(summary) == expect(found=2, changed=1, unchanged=1, missing=0)
    assert prober.calls == [back]
    assert library.file_state(back).status is FileStatus.OK  # type: ignore[union-attr]

    library.mark_missing([back])  # e.g. its disk was unmounted during a scan
    summary = run_scan(library, prober, tmp_path)  # back unchanged, ctime too: no probe
    assert counts(summary) == expect(found=2, unchanged=2, missing=0)
    assert prober.calls == [back]
    assert library.file_state(back).status is FileStatus.OK  # type: ignore[union-attr]

    summary = run_scan(library, prober, tmp_path, prune=True)
    assert counts(summary) == expect(found=2, unchanged=2, pruned=1)
    assert library.file_state(gone) is None
    assert library.file_state(keep) is not None


def test_a_missing_root_marks_nothing_missing(tmp_path: Path, library: Library) -> None:
    """An unmounted disk must not look like a deleted library."""
    root = tmp_path / "disk"
    write(root / "movie.mkv")
    prober = CountingProber()
    run_scan(library, prober, root)
    (root / "movie.mkv").rename(tmp_path / "movie.mkv")
    root.rmdir()

    summary = run_scan(library, prober, root, prune=True)

    assert counts(summary) == expect(errors=1)
    assert summary.problems[0].message == f"{root}: no such file or directory"
    assert library.file_state(root / "movie.mkv") is not None


def test_probe_errors_are_stored_and_reported_again_without_probing(
    tmp_path: Path, library: Library
) -> None:
    bad = write(tmp_path / "bad.mkv", b"bad bytes")
    write(tmp_path / "good.mkv")
    prober = CountingProber()
    events: list[ScanEvent] = []

    first = run_scan(library, prober, tmp_path, on_event=events.append)
    assert counts(first) == expect(found=2, new=1, errors=1)
    message = f"{bad}: not a media file or corrupt: test says so"
    assert [p.message for p in first.problems] == [message]
    assert message in [getattr(e, "message", None) for e in events]
    state = library.file_state(bad)
    assert state is not None
    assert (state.status, state.last_error) == (FileStatus.ERROR, message)

    prober.calls.clear()
    second = run_scan(library, prober, tmp_path)
    assert counts(second) == expect(found=2, unchanged=1, errors=1)
    assert [p.message for p in second.problems] == [message]
    assert prober.calls == []

    third = run_scan(library, prober, tmp_path, reprobe=True)
    assert counts(third) == expect(found=2, changed=1, errors=1)
    assert len(prober.calls) == 2


def test_a_missing_tool_stops_the_scan_after_writing_finished_work(
    tmp_path: Path, library: Library
) -> None:
    write(tmp_path / "a.mkv")
    write(tmp_path / "b.mkv", b"tool missing")
    with pytest.raises(ToolNotFoundError):
        run_scan(library, CountingProber(), tmp_path, workers=1)
    assert library.file_state(tmp_path / "a.mkv") is not None


def test_stop_ends_the_walk_and_skips_the_missing_pass(tmp_path: Path, library: Library) -> None:
    for n in range(20):
        write(tmp_path / f"{n:02}.mkv")
    run_scan(library, CountingProber(), tmp_path)
    (tmp_path / "19.mkv").unlink()
    for n in range(19):
        os.utime(tmp_path / f"{n:02}.mkv", ns=(1, 1))  # every file needs a probe again
    stop = threading.Event()

    class StoppingProber(CountingProber):
        def __call__(self, path: Path) -> MediaFile:
            if len(self.calls) == 4:
                stop.set()  # what the first Ctrl-C does
            return super().__call__(path)

    summary = run_scan(library, StoppingProber(), tmp_path, workers=1, stop=stop)

    assert summary.interrupted
    assert 5 <= summary.counts.found < 19
    assert summary.counts.changed == summary.counts.found  # in-flight probes were written
    assert library.file_state(tmp_path / "19.mkv").status is FileStatus.OK  # type: ignore[union-attr]


@pytest.mark.slow
def test_symlink_loop_unreadable_dir_and_ten_thousand_placeholders(
    tmp_path: Path, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lib"
    for d in range(100):
        folder = root / f"show{d:03}"
        folder.mkdir(parents=True)
        for e in range(100):
            (folder / f"e{e:03}.mkv").write_bytes(b"")
    (root / "show000" / "loop").symlink_to(root, target_is_directory=True)
    locked = root / "locked"
    write(locked / "secret.mkv")
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("vpo.discovery.os.scandir", scandir)
    prober = CountingProber()

    first = run_scan(library, prober, root, workers=2)
    assert counts(first) == expect(found=10_000, new=10_000, errors=1)
    assert [p.message for p in first.problems] == [f"{locked}: permission denied"]

    prober.calls.clear()
    second = run_scan(library, prober, root)
    assert counts(second) == expect(found=10_000, unchanged=10_000, errors=1)
    assert prober.calls == []
    assert library.totals().files == 10_000


def test_scan_while_a_processing_run_writes(tmp_path: Path) -> None:
    """Another vpo (its own Library object) records a run while the scan writes."""
    database = tmp_path / "library.db"
    for n in range(300):
        write(tmp_path / "lib" / f"{n:03}.mkv")
    errors: list[BaseException] = []
    with Library.open(database) as scanner, Library.open(database) as processor:
        run_id = processor.start_run(policy_name="p", policy_hash=None, workers=2)

        def process() -> None:
            try:
                for n in range(300):
                    path = tmp_path / "elsewhere" / f"{n}.mkv"
                    processor.record_file_result(run_id, FileRecord(path, FileOutcome.CHANGED))
                processor.finish_run(run_id, RunCounts(changed=300))
            except BaseException as error:
                errors.append(error)

        writer = threading.Thread(target=process)
        writer.start()
        summary = run_scan(scanner, CountingProber(), tmp_path / "lib", workers=4)
        writer.join()

        assert errors == []
        assert counts(summary) == expect(found=300, new=300)
        assert scanner.runs()[0].counts.changed == 300
        assert len(list(scanner.iter_file_results())) == 300


def test_failures_after_stop_are_not_stored_as_verdicts(tmp_path: Path, library: Library) -> None:
    """A probe killed by the second Ctrl-C must not brand the file as broken."""
    write(tmp_path / "a.mkv", b"bad: looks broken only because its probe was killed")
    stop = threading.Event()

    class KilledProber(CountingProber):
        def __call__(self, path: Path) -> MediaFile:
            stop.set()
            return super().__call__(path)

    summary = run_scan(library, KilledProber(), tmp_path, workers=1, stop=stop)

    assert summary.interrupted
    assert summary.counts.errors == 0
    assert library.file_state(tmp_path / "a.mkv") is None  # probed again next time


def test_an_in_place_edit_that_keeps_size_and_mtime_is_probed_again(
    tmp_path: Path, library: Library
) -> None:
    """Like mkvpropedit with preserve_mtime: same size, same mtime, same inode."""
    edited = write(tmp_path / "a.mkv", b"media one")
    write(tmp_path / "b.mkv")
    prober = CountingProber()
    run_scan(library, prober, tmp_path)
    prober.calls.clear()

    before = edited.stat()
    with edited.open("r+b") as handle:
        handle.write(b"MEDIA")
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = edited.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )

    summary = run_scan(library, prober, tmp_path)
    assert counts(summary) == expect(found=2, changed=1, unchanged=1)
    assert prober.calls == [edited]
    state = library.file_state(edited)
    assert state is not None
    assert state.key.ctime_ns == after.st_ctime_ns


def test_rows_without_ctime_are_probed_once_then_unchanged(
    tmp_path: Path, library: Library
) -> None:
    """After the schema-2 migration every row lacks a ctime; one scan fills them in."""
    for name in ("a.mkv", "b.mkv"):
        write(tmp_path / name)
    prober = CountingProber()
    run_scan(library, prober, tmp_path)
    for name in ("a.mkv", "b.mkv"):
        cached = library.cached_media(tmp_path / name, 5, *_stat(tmp_path / name))
        assert cached is not None
        library.record_probe(cached, None)  # what the migration leaves: no ctime
    prober.calls.clear()

    first = run_scan(library, prober, tmp_path)
    assert counts(first) == expect(found=2, changed=2)
    second = run_scan(library, prober, tmp_path)
    assert counts(second) == expect(found=2, unchanged=2)
    assert len(prober.calls) == 2


def test_a_rename_stores_the_new_ctime_so_the_next_scan_probes_nothing(
    tmp_path: Path, library: Library
) -> None:
    old = write(tmp_path / "old.mkv")
    prober = CountingProber()
    run_scan(library, prober, tmp_path)
    prober.calls.clear()

    new = tmp_path / "new.mkv"
    old.rename(new)
    assert counts(run_scan(library, prober, tmp_path)) == expect(found=1, moved=1)
    assert counts(run_scan(library, prober, tmp_path)) == expect(found=1, unchanged=1)
    assert prober.calls == []
    assert library.cached_media(new, 5, *_stat(new)) is not None


def _stat(path: Path) -> tuple[int, int, int]:
    """mtime, inode and ctime, the rest of a cache lookup after the size."""
    info = path.stat()
    return info.st_mtime_ns, info.st_ino, info.st_ctime_ns


@pytest.mark.slow
def test_a_rescan_of_10000_unchanged_files_probes_nothing(tmp_path: Path, library: Library) -> None:
    """ctime joined the key without a reprobe. How fast that is is measured by
    bench/scan.py, not asserted here: a wall-clock limit fails on a loaded machine."""
    for folder in range(100):
        for n in range(100):
            write(tmp_path / "lib" / f"d{folder:03}" / f"f{n:03}.mkv")
    prober = CountingProber()
    run_scan(library, prober, tmp_path / "lib")
    prober.calls.clear()

    summary = run_scan(library, prober, tmp_path / "lib")

    assert counts(summary) == expect(found=10_000, unchanged=10_000)
    assert prober.calls == []
