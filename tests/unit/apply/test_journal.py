from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from vpo.apply.journal import (
    Journal,
    Region,
    covered_bytes,
    decode_journal,
    encode_journal,
    journal_ranges,
    merge_ranges,
    read_regions,
    restore,
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
