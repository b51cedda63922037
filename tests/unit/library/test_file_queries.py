"""The file list's filters and pages equal a brute-force filter over the same rows.

Schema 6 answers the filters from a per-file summary kept on ``files`` (written
with the tracks, last outcome kept by triggers). The oracle here reads the
ground truth instead (the tracks and file_results tables of the same database)
and applies each filter's meaning in Python, for libraries built through the
public write paths: scans, probe failures, re-probes, missing files, results
with and without a refreshed probe, results of files not in the library, pruning.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpo.library import FileOutcome, FileRecord, Library, ProbedFile
from vpo.library.file_queries import (
    _HEIGHTS,
    FileFilters,
    FileOrder,
    FileSummary,
    Resolution,
    page_files,
)
from vpo.library.records import ProbeFailure, StatKey
from vpo.media.model import Container, MediaFile, Track, TrackType

CODECS = ("h264", "hevc", "mjpeg")
# "" and a comma-holding tag are not what a probe gives (it normalises to ISO 639-2),
# but the list must stay right for any stored row: they take the exact fallback.
LANGUAGES = ("eng", "jpn", "fre", "und", "", "eng,jpn")
HEIGHTS = (None, 480, 720, 1080, 2160)
DIRECTORIES = ("films", "shows/a", "shows/b")


@dataclass(frozen=True)
class TrackSpec:
    type: TrackType
    codec: str
    language: str
    height: int | None


@dataclass(frozen=True)
class FileSpec:
    directory: str
    container: Container
    tracks: tuple[TrackSpec, ...]
    fate: str  # ok, error, missing, reprobed, pruned, unreadable (ok, then a failed probe)
    reprobe: tuple[TrackSpec, ...]


@dataclass(frozen=True)
class Built:  # what one example builds
    files: tuple[FileSpec, ...]
    results: tuple[tuple[int, FileOutcome, bool], ...]  # (file index, outcome, refresh)


track_specs = st.builds(
    TrackSpec,
    st.sampled_from(list(TrackType)),
    st.sampled_from(CODECS),
    st.sampled_from(LANGUAGES),
    st.sampled_from(HEIGHTS),
)
file_specs = st.builds(
    FileSpec,
    st.sampled_from(DIRECTORIES),
    st.sampled_from([Container.MATROSKA, Container.MP4, Container.WEBM]),
    st.lists(track_specs, max_size=5).map(tuple),
    st.sampled_from(["ok", "ok", "ok", "error", "missing", "reprobed", "pruned", "unreadable"]),
    st.lists(track_specs, max_size=4).map(tuple),
)
libraries = st.builds(
    Built,
    st.lists(file_specs, min_size=1, max_size=10).map(tuple),
    st.lists(
        st.tuples(st.integers(0, 12), st.sampled_from(list(FileOutcome)), st.booleans()),
        max_size=12,
    ).map(tuple),
)
maybe_language = st.none() | st.sampled_from(LANGUAGES)
filter_sets = st.builds(
    FileFilters,
    path_contains=st.none() | st.sampled_from(["shows", "a/", "0", "films/f1", ".mkv", ""]),
    container=st.none() | st.sampled_from(["mkv", "mp4", "webm"]),
    video_codec=st.none() | st.sampled_from(CODECS),
    audio_language=maybe_language,
    no_audio_language=maybe_language,
    subtitle_language=maybe_language,
    no_subtitle_language=maybe_language,
    resolution=st.none() | st.sampled_from(list(Resolution)),
    never_processed=st.booleans(),
    last_failed=st.booleans(),
)


def media_of(path: Path, container: Container, tracks: Sequence[TrackSpec], i: int) -> MediaFile:
    built = tuple(
        Track(n, n, spec.type, spec.codec, language=spec.language, height=spec.height)
        for n, spec in enumerate(tracks)
    )
    # Stored by position; give them out of order so the summary must sort.
    return MediaFile(path, container, 1000 + i, i, tuple(reversed(built)), inode=i, device=1)


def build(library: Library, root: Path, spec: Built) -> None:
    paths = [root / f.directory / f"f{i}.{f.container.value}" for i, f in enumerate(spec.files)]
    library.write_scan_batch(
        probed=[
            ProbedFile(media_of(paths[i], f.container, f.tracks, i), i)
            for i, f in enumerate(spec.files)
            if f.fate != "error"
        ],
        failures=[
            ProbeFailure(paths[i], StatKey(1, i, i, 1, i), "unreadable")
            for i, f in enumerate(spec.files)
            if f.fate == "error"
        ],
    )
    for i, f in enumerate(spec.files):
        if f.fate == "reprobed":
            library.record_probe(media_of(paths[i], f.container, f.reprobe, i), i)
    library.write_scan_batch(
        failures=[
            ProbeFailure(paths[i], StatKey(1, i, i, 1, i), "truncated")
            for i, f in enumerate(spec.files)
            if f.fate == "unreadable"
        ]
    )
    run = library.start_run(policy_name="p", policy_hash="h", workers=1)
    records = []
    for index, outcome, refresh in spec.results:
        if index >= len(paths):  # a file the library does not hold: file_id NULL
            records.append(FileRecord(root / "elsewhere" / f"x{index}.mkv", outcome))
            continue
        f = spec.files[index]
        after = media_of(paths[index], f.container, f.reprobe, index) if refresh else None
        records.append(FileRecord(paths[index], outcome, after=after, after_ctime_ns=index))
    library.record_file_results(run, records)
    library.mark_missing([paths[i] for i, f in enumerate(spec.files) if f.fate == "missing"])
    library.prune([paths[i] for i, f in enumerate(spec.files) if f.fate == "pruned"])


@dataclass(frozen=True)
class Truth:
    """One file as the tracks and file_results tables (not the summary) describe it."""

    id: int
    path: bytes
    status: str
    container: str | None
    size: int
    duration: float | None
    tracks: tuple[tuple[str, str, str, int | None], ...]  # type, codec, language, height
    outcomes: tuple[str, ...]  # oldest first


def truth(database: Path) -> list[Truth]:
    raw = sqlite3.connect(database)
    try:
        found = []
        for file_id, path, status, container, size, duration in raw.execute(
            "SELECT id, path, status, container, size, duration FROM files"
        ).fetchall():
            tracks = raw.execute(
                "SELECT type, codec, language, height FROM tracks WHERE file_id = ? "
                "ORDER BY position",
                (file_id,),
            ).fetchall()
            outcomes = raw.execute(
                "SELECT outcome FROM file_results WHERE file_id = ? ORDER BY id", (file_id,)
            ).fetchall()
            found.append(
                Truth(
                    file_id,
                    bytes(path),
                    status,
                    container,
                    size,
                    duration,
                    tuple(tracks),
                    tuple(o for (o,) in outcomes),
                )
            )
        return found
    finally:
        raw.close()


def matches(file: Truth, filters: FileFilters) -> bool:
    """Each filter's meaning, straight from the ground truth."""

    def values(track_type: str, index: int) -> list[object]:
        return [t[index] for t in file.tracks if t[0] == track_type]

    checks = [file.status != "missing"]
    if filters.path_contains:
        checks.append(os.fsencode(filters.path_contains) in file.path)
    if filters.container:
        checks.append(file.container == filters.container)
    if filters.video_codec:
        checks.append(filters.video_codec in values("video", 1))
    for track_type, value, present in (
        ("audio", filters.audio_language, True),
        ("audio", filters.no_audio_language, False),
        ("subtitle", filters.subtitle_language, True),
        ("subtitle", filters.no_subtitle_language, False),
    ):
        if value:
            checks.append((value in values(track_type, 2)) == present)
    if filters.resolution is not None:
        low, high = _HEIGHTS[filters.resolution]
        checks.append(any(h is not None and low <= int(str(h)) <= high for h in values("video", 3)))
    if filters.never_processed:
        checks.append(not file.outcomes)
    if filters.last_failed:
        checks.append(bool(file.outcomes) and file.outcomes[-1] == "failed")
    return all(checks)


def listed(file: Truth, track_type: str) -> tuple[str, ...]:
    """As the list showed languages before schema 6: group_concat, split, once each."""
    joined = ",".join(t[2] for t in file.tracks if t[0] == track_type)
    return tuple(dict.fromkeys(joined.split(","))) if joined else ()


def expected_summary(file: Truth) -> tuple[object, ...]:
    video = [t for t in file.tracks if t[0] == "video"]
    return (
        file.id,
        os.fsdecode(file.path),
        file.size,
        file.status,
        file.container,
        file.duration,
        video[0][1] if video else None,
        video[0][3] if video else None,
        listed(file, "audio"),
        listed(file, "subtitle"),
    )


def shown(item: FileSummary) -> tuple[object, ...]:
    return (
        item.id,
        str(item.path),
        item.size,
        item.status.value,
        item.container,
        item.duration,
        item.video_codec,
        item.height,
        item.audio_languages,
        item.subtitle_languages,
    )


def oracle_order(files: list[Truth], order: FileOrder) -> list[Truth]:
    if order is FileOrder.ID:
        return sorted(files, key=lambda f: f.id)
    return sorted(files, key=lambda f: f.path, reverse=order is FileOrder.PATH_DESC)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=libraries,
    filter_list=st.lists(filter_sets, min_size=1, max_size=6),
    order=st.sampled_from(list(FileOrder)),
    limit=st.integers(1, 4),
    offset=st.integers(0, 6),
)
def test_filtered_pages_equal_a_brute_force_filter(
    spec: Built,
    filter_list: list[FileFilters],
    order: FileOrder,
    limit: int,
    offset: int,
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "library.db"
        with Library.open(database) as library:
            build(library, Path(scratch) / "media", spec)
            files = truth(database)
            for filters in filter_list:
                wanted = oracle_order([f for f in files if matches(f, filters)], order)
                with library._read() as connection:
                    items, total = page_files(connection, filters, limit, offset, order)
                    everything, _ = page_files(connection, filters, 500, 0, order)
                assert total == len(wanted), filters
                assert [shown(item) for item in everything] == [
                    expected_summary(f) for f in wanted
                ], filters
                assert [shown(item) for item in items] == [
                    expected_summary(f) for f in wanted[offset : offset + limit]
                ], filters


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (FileFilters(video_codec="mjpeg"), ["cover.mkv"]),  # its second video track
        (FileFilters(resolution=Resolution.SD), ["cover.mkv"]),  # the cover's 480
        (FileFilters(video_codec="hevc"), ["plain.mkv"]),
        (FileFilters(audio_language="jpn"), ["cover.mkv", "plain.mkv"]),
        (FileFilters(no_audio_language="jpn"), []),
        (FileFilters(subtitle_language="eng"), ["plain.mkv"]),
    ],
)
def test_a_file_with_two_video_tracks_is_filtered_on_every_track(
    library: Library, tmp_path: Path, filters: FileFilters, expected: list[str]
) -> None:
    """Cover art is a second video track: the summary names only the first, so such a
    file is answered from the tracks table."""
    cover = MediaFile(
        tmp_path / "cover.mkv",
        Container.MATROSKA,
        1,
        1,
        (
            Track(0, 0, TrackType.VIDEO, "h264", height=1080),
            Track(1, 1, TrackType.AUDIO, "aac", language="jpn"),
            Track(2, 2, TrackType.VIDEO, "mjpeg", height=480),
        ),
    )
    plain = MediaFile(
        tmp_path / "plain.mkv",
        Container.MATROSKA,
        1,
        2,
        (
            Track(0, 0, TrackType.VIDEO, "hevc", height=2160),
            Track(1, 1, TrackType.AUDIO, "aac", language="jpn"),
            Track(2, 2, TrackType.SUBTITLE, "subrip", language="eng"),
        ),
    )
    library.write_scan_batch(probed=[ProbedFile(cover, 1), ProbedFile(plain, 2)])
    items, total = library.files_page(filters, limit=10, offset=0)
    assert [item.path.name for item in items] == expected
    assert total == len(expected)
