"""Library against a real SQLite file in tmp_path: cache, history, totals, errors."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.library import (
    FileOutcome,
    FileRecord,
    FileStatus,
    Library,
    LibraryError,
    MovedFile,
    ProbedFile,
    ProbeFailure,
    RunCounts,
    RunOutcome,
    StatKey,
)
from vpo.library.schema import LATEST_VERSION
from vpo.media.model import Attachment, Container, MediaFile, TrackFlags

MediaBuilder = Callable[..., MediaFile]
CTIME = 1_700_000_000_500_000_000


def test_cached_media_round_trips_every_field(library: Library, make_media: MediaBuilder) -> None:
    media = make_media(Path("/media-lib/a movie.mkv"), subtitle_languages=("fre",))
    media = dataclasses.replace(
        media,
        attachments=(Attachment(1, "font.ttf", "font/ttf", 1234, "a font"),),
        chapter_count=3,
        title="A Movie",
        tracks=(media.tracks[0], media.tracks[1].with_flags(default=True), media.tracks[2]),
    )
    library.record_probe(media, CTIME)

    assert library.cached_media(media.path, media.size, media.mtime_ns, 42, CTIME) == media


@pytest.mark.parametrize(
    ("size", "mtime_ns", "inode", "ctime_ns"),
    [
        (1001, 1_700_000_000_000_000_000, 42, CTIME),
        (1000, 1, 42, CTIME),
        (1000, 1_700_000_000_000_000_000, 43, CTIME),
        # An in-place edit that restored size and mtime still moved the ctime.
        (1000, 1_700_000_000_000_000_000, 42, CTIME + 1),
    ],
)
def test_cache_misses_when_any_stat_field_differs(
    library: Library, make_media: MediaBuilder, size: int, mtime_ns: int, inode: int, ctime_ns: int
) -> None:
    media = make_media(Path("/media-lib/movie.mkv"))
    library.record_probe(media, CTIME)

    assert library.cached_media(media.path, size, mtime_ns, inode, ctime_ns) is None


def test_a_probe_stored_without_ctime_is_never_a_hit(
    library: Library, make_media: MediaBuilder
) -> None:
    media = make_media(Path("/media-lib/movie.mkv"))
    library.record_probe(media, None)

    assert library.cached_media(media.path, media.size, media.mtime_ns, 42, CTIME) is None
    library.record_probe(media, CTIME)
    assert library.cached_media(media.path, media.size, media.mtime_ns, 42, CTIME) == media


def test_a_result_without_after_ctime_drops_the_cache_hit(
    library: Library, make_media: MediaBuilder
) -> None:
    """The coordinator could not confirm the file on disk is the one described: no hit."""
    media = make_media(Path("/media-lib/movie.mkv"))
    library.record_probe(media, CTIME)
    run = library.start_run(policy_name="p", policy_hash=None, workers=1)
    library.record_file_result(run, FileRecord(media.path, FileOutcome.UNCHANGED, after=media))

    assert library.cached_media(media.path, media.size, media.mtime_ns, 42, CTIME) is None


def test_reprobe_replaces_tracks(library: Library, make_media: MediaBuilder) -> None:
    path = Path("/media-lib/movie.mkv")
    library.record_probe(make_media(path, audio_languages=("eng", "jpn", "fre")), CTIME)
    newer = make_media(path, audio_languages=("jpn",), mtime_ns=5)
    library.record_probe(newer, CTIME)

    assert library.cached_media(path, newer.size, 5, 42, CTIME) == newer


def test_probe_failure_is_not_a_cache_hit_and_keeps_the_error(
    library: Library, make_media: MediaBuilder
) -> None:
    path = Path("/media-lib/broken.mkv")
    library.record_probe(make_media(path), CTIME)
    key = StatKey(10, 20, 42, 7, CTIME)
    library.write_scan_batch(failures=(ProbeFailure(path, key, "truncated Matroska file"),))

    state = library.file_state(path)
    assert state is not None
    assert (state.status, state.key, state.last_error) == (
        FileStatus.ERROR,
        key,
        "truncated Matroska file",
    )
    assert library.cached_media(path, 10, 20, 42, CTIME) is None


def test_media_without_inode_is_stored_but_never_a_hit(
    library: Library, make_media: MediaBuilder
) -> None:
    media = dataclasses.replace(make_media(Path("/media-lib/x.mkv")), inode=None, device=None)
    library.record_probe(media, CTIME)

    assert library.file_state(media.path) is not None
    assert library.cached_media(media.path, media.size, media.mtime_ns, 42, CTIME) is None


def test_missing_restore_move_and_prune(library: Library, make_media: MediaBuilder) -> None:
    a, b = Path("/media-lib/a.mkv"), Path("/media-lib/b.mkv")
    library.record_probe(make_media(a, inode=1), CTIME)
    library.record_probe(make_media(b, inode=2), CTIME)

    library.mark_missing([a])
    assert _status(library, a) is FileStatus.MISSING
    library.write_scan_batch(restored=[a])
    assert _status(library, a) is FileStatus.OK

    renamed = Path("/media-lib/renamed.mkv")
    assert library.find_moved(StatKey(1000, 1_700_000_000_000_000_000, 2, 7, CTIME + 1)) == (b,)
    library.write_scan_batch(moved=[MovedFile(b, renamed, CTIME + 1)])
    assert library.file_state(b) is None
    assert library.cached_media(renamed, 1000, 1_700_000_000_000_000_000, 2, CTIME + 1) is not None

    library.prune([a])
    assert library.file_state(a) is None


def test_paths_under_a_root_exclude_siblings_with_the_same_prefix(
    library: Library, make_media: MediaBuilder
) -> None:
    names = [
        "/media-lib",
        "/media-lib/a.mkv",
        "/media-lib/sub/b.mkv",
        "/media-lib2/c.mkv",
        "/media-lib-x/d.mkv",
        "/li.mkv",
    ]
    for n, name in enumerate(names):
        library.record_probe(make_media(Path(name), inode=n + 1), CTIME)

    under = [path for path, _ in library.iter_paths_under(Path("/media-lib"))]

    assert under == [Path("/media-lib"), Path("/media-lib/a.mkv"), Path("/media-lib/sub/b.mkv")]
    assert len(list(library.iter_paths_under(Path("/")))) == len(names)


def test_paths_under_pages_through_many_rows(library: Library, make_media: MediaBuilder) -> None:
    library.write_scan_batch(
        probed=[
            ProbedFile(make_media(Path(f"/media-lib/{n:05}.mkv"), inode=n + 1), CTIME)
            for n in range(2500)
        ]
    )

    under = [path for path, _ in library.iter_paths_under(Path("/media-lib"))]

    assert under == [Path(f"/media-lib/{n:05}.mkv") for n in range(2500)]


def test_run_history_and_reports(library: Library, make_media: MediaBuilder) -> None:
    before = make_media(Path("/media-lib/a.mkv"), audio_languages=("eng", "jpn"))
    after = dataclasses.replace(
        before,
        size=900,
        mtime_ns=99,
        tracks=(before.tracks[0], before.tracks[2].with_flags(default=True)),
    )
    library.record_probe(before, CTIME)
    first = library.start_run(policy_name="anime", policy_hash="abc", workers=2, started_at=100.0)
    library.record_file_result(
        first,
        FileRecord(
            path=before.path,
            outcome=FileOutcome.CHANGED,
            plan_kind="remux",
            tool="mkvmerge",
            phase="tracks",
            before=before,
            after=after,
            changes=("audio eng: removed", "audio jpn: default on"),
            bytes_written=900,
            seconds=1.5,
            after_ctime_ns=CTIME,
            original_size=1000,
            bytes_saved=100,
        ),
        recorded_at=110.0,
    )
    library.record_file_result(
        first,
        FileRecord(path=Path("/media-lib/bad.mkv"), outcome=FileOutcome.FAILED, error="boom"),
        recorded_at=111.0,
    )
    library.finish_run(first, RunCounts(changed=1, failed=1, bytes_written=900), finished_at=120.0)
    second = library.start_run(policy_name="movies", policy_hash="def", workers=1, started_at=200.0)
    library.record_file_result(
        second, FileRecord(path=before.path, outcome=FileOutcome.UNCHANGED), recorded_at=201.0
    )
    library.finish_run(second, RunCounts(unchanged=1), outcome=RunOutcome.INTERRUPTED)

    runs = library.runs()
    assert [r.run_id for r in runs] == [first, second]
    assert runs[0].counts == RunCounts(changed=1, failed=1, bytes_written=900)
    assert runs[0].seconds == 20.0
    assert runs[1].outcome is RunOutcome.INTERRUPTED
    assert [r.run_id for r in library.runs(since=150.0)] == [second]
    assert [r.run_id for r in library.runs(policy="anime")] == [first]
    assert [r.run_id for r in library.runs(newest_first=True, limit=1)] == [second]

    changes = list(library.iter_file_results(outcomes=[FileOutcome.CHANGED]))
    assert len(changes) == 1
    change = changes[0]
    assert (change.policy_name, change.path, change.plan_kind, change.tool) == (
        "anime",
        before.path,
        "remux",
        "mkvmerge",
    )
    assert change.before_summary == "v:h264 a:aac/eng a:aac/jpn"
    assert change.after_summary == "v:h264 a:aac/jpn*"
    assert change.changes == ("audio eng: removed", "audio jpn: default on")
    assert (change.bytes_written, change.seconds) == (900, 1.5)
    assert [r.outcome for r in library.iter_file_results(policy="movies")] == [
        FileOutcome.UNCHANGED
    ]
    assert [r.error for r in library.iter_file_results(since=111.0, policy="anime")] == ["boom"]

    # The result's `after` refreshed the cache: the next run needs no probe.
    assert library.cached_media(before.path, 900, 99, 42, CTIME) == after


def test_file_results_stream_past_one_page(library: Library) -> None:
    run = library.start_run(policy_name="p", policy_hash=None, workers=1)
    records = [FileRecord(Path(f"/media-lib/{n}.mkv"), FileOutcome.UNCHANGED) for n in range(2100)]
    library.record_file_results(run, records)

    assert len(list(library.iter_file_results())) == 2100


def test_finish_unknown_run_is_an_error(library: Library) -> None:
    with pytest.raises(LibraryError, match="no processing run with id 999"):
        library.finish_run(999, RunCounts())


def test_totals(library: Library, make_media: MediaBuilder) -> None:
    library.record_probe(
        make_media(Path("/l/a.mkv"), inode=1, audio_languages=("eng", "jpn")), CTIME
    )
    library.record_probe(
        make_media(
            Path("/l/b.mp4"),
            inode=2,
            container=Container.MP4,
            video_codec="hevc",
            subtitle_languages=("eng",),
        ),
        CTIME,
    )
    library.record_probe(make_media(Path("/l/gone.mkv"), inode=3, audio_languages=("fre",)), CTIME)
    library.mark_missing([Path("/l/gone.mkv")])
    library.write_scan_batch(
        failures=[ProbeFailure(Path("/l/bad.mkv"), StatKey(5, 5, 4, 7, CTIME), "not a media file")]
    )
    run = library.start_run(policy_name="p", policy_hash="h", workers=1)
    library.record_file_result(run, FileRecord(Path("/l/a.mkv"), FileOutcome.UNCHANGED))
    library.finish_run(run, RunCounts(unchanged=1))

    totals = library.totals()

    assert totals.files == 3
    assert totals.total_bytes == 2005
    assert dict(totals.by_status) == {"ok": 2, "missing": 1, "error": 1}
    assert dict(totals.by_container) == {"mkv": 1, "mp4": 1}
    assert dict(totals.by_video_codec) == {"h264": 1, "hevc": 1}
    assert dict(totals.by_audio_language) == {"eng": 2, "jpn": 1}
    assert dict(totals.by_subtitle_language) == {"eng": 1}
    assert totals.never_processed == 2  # b.mp4 and bad.mkv; gone.mkv is missing
    assert [r.run_id for r in totals.recent_runs] == [run]


def test_many_threads_write_and_read_at_once(library: Library, make_media: MediaBuilder) -> None:
    run = library.start_run(policy_name="p", policy_hash=None, workers=4)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(50):
                path = Path(f"/media-lib/w{worker}/{n}.mkv")
                inode = worker * 1000 + n + 1
                media = make_media(path, inode=inode)
                library.record_probe(media, CTIME)
                assert library.cached_media(path, media.size, media.mtime_ns, inode, CTIME)
                library.record_file_result(run, FileRecord(path, FileOutcome.CHANGED, after=media))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert library.totals().files == 200
    assert len(list(library.iter_file_results())) == 200


def test_two_library_objects_share_one_file(tmp_path: Path, make_media: MediaBuilder) -> None:
    """Like two vpo processes: WAL lets one read while the other writes."""
    path = tmp_path / "library.db"
    with Library.open(path) as writer, Library.open(path) as reader:
        writer.record_probe(make_media(Path("/media-lib/a.mkv")), CTIME)
        assert reader.file_state(Path("/media-lib/a.mkv")) is not None


def test_a_fresh_database_is_at_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "library.db"
    with Library.open(path) as library:
        assert library.schema_version() == LATEST_VERSION
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_unusable_database_files_give_one_clear_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LibraryError, match=r"garbage\.db: not a vpo library database"):
        Library.open(garbage)

    directory = tmp_path / "dir.db"
    directory.mkdir()
    with pytest.raises(LibraryError, match=r"dir\.db: is a directory"):
        Library.open(directory)

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LibraryError, match="cannot create the library directory"):
        Library.open(blocker / "sub" / "library.db")


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE notes (text TEXT)")
    raw.close()

    with pytest.raises(LibraryError, match="not a vpo library"):
        Library.open(path)


def test_closed_library_refuses_new_threads(tmp_path: Path) -> None:
    library = Library.open(tmp_path / "library.db")
    library.close()
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _catch(errors, library))
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert "closed" in str(errors[0])


def _catch(errors: list[BaseException], library: Library) -> None:
    try:
        library.file_state(Path("/x"))
    except LibraryError as error:
        errors.append(error)


def _status(library: Library, path: Path) -> FileStatus:
    state = library.file_state(path)
    assert state is not None
    return state.status


def test_flags_survive_storage(library: Library, make_media: MediaBuilder) -> None:
    media = make_media(Path("/media-lib/f.mkv"), audio_languages=("eng",))
    flagged = media.tracks[1].with_flags(
        default=True, forced=True, hearing_impaired=True, commentary=True, original=True
    )
    media = dataclasses.replace(media, tracks=(media.tracks[0], flagged))
    library.record_probe(media, CTIME)
    cached = library.cached_media(media.path, media.size, media.mtime_ns, 42, CTIME)
    assert cached is not None
    assert cached.tracks[1].flags == TrackFlags(
        default=True, forced=True, hearing_impaired=True, commentary=True, original=True
    )


def test_a_result_that_renamed_the_file_moves_its_row_and_history(
    library: Library, make_media: MediaBuilder
) -> None:
    source = make_media(Path("/media-lib/movie.mp4"), container=Container.MP4)
    library.record_probe(source, CTIME)
    first = library.start_run(policy_name="p", policy_hash=None, workers=1)
    library.record_file_result(first, FileRecord(source.path, FileOutcome.UNCHANGED))
    converted = dataclasses.replace(
        source, path=Path("/media-lib/movie.mkv"), container=Container.MATROSKA, inode=43
    )
    second = library.start_run(policy_name="p", policy_hash=None, workers=1)
    library.record_file_result(
        second,
        FileRecord(
            source.path,
            FileOutcome.CHANGED,
            plan_kind="remux",
            after=converted,
            after_ctime_ns=CTIME,
        ),
    )

    assert library.file_state(source.path) is None
    assert (
        library.cached_media(converted.path, source.size, source.mtime_ns, 43, CTIME) == converted
    )
    assert library.totals().never_processed == 0
    assert [r.path for r in library.iter_file_results()] == [source.path, source.path]


def test_bytes_saved_add_up_per_run_and_per_policy(library: Library) -> None:
    def record(run: int, name: str, saved: int | None) -> None:
        library.record_file_result(
            run,
            FileRecord(
                Path(f"/media-lib/{name}.mkv"),
                FileOutcome.CHANGED if saved else FileOutcome.UNCHANGED,
                original_size=None if saved is None else 10_000,
                bytes_saved=saved,
                encode_seconds=2.0 if saved else None,
                encode_speed=1.5 if saved else None,
            ),
        )

    anime = library.start_run(policy_name="anime", policy_hash=None, workers=1, started_at=1.0)
    for name, saved in (("a", 4000), ("b", -500), ("c", 0), ("d", None)):
        record(anime, name, saved)
    movies = library.start_run(policy_name="movies", policy_hash=None, workers=1, started_at=2.0)
    record(movies, "e", 9000)
    idle = library.start_run(policy_name=None, policy_hash=None, workers=1, started_at=3.0)
    record(idle, "f", 0)

    assert [(r.policy_name, r.bytes_saved) for r in library.runs()] == [
        ("anime", 3500),
        ("movies", 9000),
        (None, 0),
    ]
    assert [r.bytes_saved for r in library.runs(policy="anime")] == [3500]
    first = next(library.iter_file_results(policy="anime"))
    assert (first.original_size, first.bytes_saved, first.encode_seconds, first.encode_speed) == (
        10_000,
        4000,
        2.0,
        1.5,
    )
    totals = library.totals()
    assert totals.bytes_saved == 12_500
    assert list(totals.saved_by_policy.items()) == [("movies", 9000), ("anime", 3500)]


def test_a_failed_probe_keeps_its_ctime_so_an_unchanged_file_is_not_probed_again(
    library: Library,
) -> None:
    key = StatKey(10, 20, 42, 7, CTIME)
    library.write_scan_batch(failures=(ProbeFailure(Path("/media-lib/bad.mkv"), key, "truncated"),))

    state = library.file_state(Path("/media-lib/bad.mkv"))
    assert state is not None and state.key.matches(key)
