from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.apply.journal import (
    Journal,
    JournalMatch,
    Region,
    covered_bytes,
    decode_journal,
    encode_journal,
    journal_ranges,
    match_journal,
    merge_ranges,
    read_journal,
    read_regions,
    record_after_state,
    restore,
    sample_ranges,
)


@dataclass(frozen=True)
class El:
    name: str
    offset: int
    header_size: int
    data_size: int | None


@dataclass(frozen=True)
class Lay:
    data_offset: int
    declared_size: int | None
    file_size: int
    elements: tuple[El, ...]
    is_truncated: bool = False
    stopped_at: int | None = None


LAYOUT = Lay(
    52,
    1000 - 52,
    1000,
    (
        El("SeekHead", 52, 12, 50),
        El("Void", 114, 9, 100),
        El("Tracks", 223, 12, 77),
        El("Cluster", 312, 12, 500),
        El("Cues", 824, 6, 20),
        El("Tags", 850, 10, 140),
    ),
)


def test_journal_covers_everything_but_clusters() -> None:
    assert journal_ranges(LAYOUT) == [(0, 312), (824, 1000)]


def test_unbounded_layouts_cannot_be_journaled() -> None:
    assert journal_ranges(Lay(52, None, 1000, ())) is None
    assert journal_ranges(Lay(52, 900, 1000, (), is_truncated=True)) is None
    assert journal_ranges(Lay(52, 900, 1000, (), stopped_at=400)) is None
    unknown = Lay(52, 900, 1000, (El("Tags", 60, 10, None),))
    assert journal_ranges(unknown) is None


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 100))))
def test_merge_ranges_covers_the_same_bytes(raw: list[tuple[int, int]]) -> None:
    ranges = [(start, start + length) for start, length in raw]
    merged = merge_ranges(ranges)
    wanted = {b for start, end in ranges for b in range(start, end)}
    assert {b for start, end in merged for b in range(start, end)} == wanted
    assert covered_bytes(merged) == len(wanted)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))


@given(
    regions=st.lists(st.tuples(st.integers(0, 2**40), st.binary(max_size=64)), max_size=5),
    name=st.text(min_size=1),
)
def test_journal_encoding_round_trips(regions: list[tuple[int, bytes]], name: str) -> None:
    journal = Journal(name, 123, 456, 7, 8, 9, tuple(Region(o, d) for o, d in regions))
    assert decode_journal(encode_journal(journal)) == journal


def test_restore_gives_back_the_original_bytes(tmp_path: Path) -> None:
    media = tmp_path / "m.mkv"
    original = bytes(range(256)) * 8
    media.write_bytes(original)
    os.utime(media, ns=(10**18, 10**18))
    info = media.stat()
    fd = os.open(media, os.O_RDONLY)
    regions = read_regions(fd, [(0, 100), (1000, 2048)])
    os.close(fd)
    journal = Journal("m.mkv", info.st_size, info.st_mtime_ns, info.st_dev, info.st_ino, 1, regions)
    with media.open("r+b") as stream:  # what an interrupted edit might do
        stream.seek(10)
        stream.write(b"X" * 50)
        stream.seek(1500)
        stream.write(b"Y" * 300)
        stream.seek(0, 2)
        stream.write(b"appended element" * 10)
    restore(media, journal)
    assert media.read_bytes() == original
    assert media.stat().st_mtime_ns == 10**18


def test_samples_lie_outside_the_journalled_ranges() -> None:
    samples = sample_ranges([(0, 312), (824, 1000)], 1000, count=4, length=16)
    assert samples == ((312, 328), (440, 456), (568, 584), (696, 712))
    assert sample_ranges([(0, 1000)], 1000) == ()


@given(
    raw=st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 300)), max_size=6),
    size=st.integers(0, 6000),
)
def test_samples_never_touch_what_an_edit_may_write(raw: list[tuple[int, int]], size: int) -> None:
    ranges = [(start, start + length) for start, length in raw]
    for start, end in sample_ranges(ranges, size, count=8, length=64):
        assert 0 <= start < end <= size
        assert all(end <= a or start >= b for a, b in ranges)


def _journalled(tmp_path: Path, data: bytes, ranges: list[tuple[int, int]]) -> Journal:
    media = tmp_path / "m.mkv"
    media.write_bytes(data)
    return read_journal(media, media.stat(), ranges)


def _match(media: Path, journal: Journal) -> JournalMatch:
    fd = os.open(media, os.O_RDONLY)
    try:
        return match_journal(journal, fd)[0]
    finally:
        os.close(fd)


def test_match_journal_tells_the_states_apart(tmp_path: Path) -> None:
    data = os.urandom(20000)
    journal = _journalled(tmp_path, data, [(0, 500), (19000, 20000)])
    media = tmp_path / "m.mkv"
    assert _match(media, journal) is JournalMatch.BEFORE
    with media.open("r+b") as stream:
        stream.write(b"half an edit")
    assert _match(media, journal) is JournalMatch.PARTIAL
    with media.open("ab") as stream:
        stream.write(b"grown element")
    finished = record_after_state(media, journal)
    assert _match(media, finished) is JournalMatch.AFTER
    with media.open("r+b") as stream:
        stream.write(b"someone else")
    assert _match(media, finished) is JournalMatch.FOREIGN
    with media.open("r+b") as stream:  # same inode, other content where no edit writes
        stream.seek(10000)
        stream.write(b"other film")
    assert _match(media, journal) is JournalMatch.FOREIGN
    media.write_bytes(data[:10000])  # truncated by cp of a shorter file
    assert _match(media, journal) is JournalMatch.FOREIGN


def test_restore_without_the_right_to_set_times_still_restores_the_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the owner may set a file's mtime: in a shared library restore must not
    fail on it (else the journal could never be applied)."""
    data = os.urandom(4000)
    journal = _journalled(tmp_path, data, [(0, 100)])
    media = tmp_path / "m.mkv"
    with media.open("r+b") as stream:
        stream.write(b"X" * 100)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "utime", refuse)
    restore(media, journal)
    assert media.read_bytes() == data
