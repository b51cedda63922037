from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.apply.names import (
    NAME_MAX,
    backup_name,
    destination_path,
    fit_name,
    is_shortened,
    journal_name,
    parse_journal_name,
    parse_temp_name,
    set_aside_name,
    temp_name,
)
from vpo.media.model import Container

file_names = st.text(min_size=1).filter(lambda s: "/" not in s and "\x00" not in s)


short_names = file_names.filter(lambda s: len(os.fsencode(s)) <= 180)
any_names = st.one_of(
    file_names,
    st.text(
        alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
        min_size=200,
        max_size=255,
    ),
)


@given(name=short_names, pid=st.integers(1, 2**22), token=st.from_regex(r"\A[0-9a-f]{8}\Z"))
def test_temp_names_round_trip(name: str, pid: int, token: str) -> None:
    made = temp_name(name, pid, token)
    assert made.startswith(".vpo-")
    assert parse_temp_name(made) == (pid, name)
    assert made.endswith(name)  # the extension stays last for the tools


@given(name=short_names)
def test_journal_names_round_trip(name: str) -> None:
    made = journal_name(name)
    assert made.startswith(".vpo-")
    assert parse_journal_name(made) == name


@given(name=any_names.filter(lambda s: len(os.fsencode(s)) <= NAME_MAX))
def test_every_name_vpo_writes_fits_in_name_max(name: str) -> None:
    """Any name the file system accepts: the temp, journal, backup and set-aside
    names beside it fit in NAME_MAX bytes and keep the extension last."""
    made = [
        temp_name(name, 4194304, "0123abcd"),
        journal_name(name),
        backup_name(name, 999),
        set_aside_name(name, 999),
    ]
    assert all(len(os.fsencode(m)) <= NAME_MAX for m in made), made
    assert parse_temp_name(made[0]) is not None
    assert parse_journal_name(made[1]) is not None
    suffix = Path(name).suffix
    if suffix and len(os.fsencode(suffix)) <= 16:
        assert made[0].endswith(suffix)


def test_a_long_name_is_shortened_with_its_hash_and_extension() -> None:
    name = "é" * 125 + ".mkv"  # 254 bytes
    short = fit_name(name, 200)
    assert len(os.fsencode(short)) <= 200
    assert short.endswith(".mkv")
    assert is_shortened(short)
    assert short.startswith("é" * 10)
    short.encode("utf-8")  # no character cut in half
    assert fit_name("é" * 124 + "x.mkv", 200) != short  # same prefix, other hash
    assert fit_name("movie.mkv", 200) == "movie.mkv"


@pytest.mark.parametrize("name", ["movie.mkv", ".vpo-tmp-x-movie.mkv", ".vpo-journal-.json", ""])
def test_other_names_are_not_vpo_leftovers(name: str) -> None:
    assert parse_temp_name(name) is None or name.startswith(".vpo-tmp-")
    assert parse_journal_name(name) is None


def test_backup_names_are_not_media_extensions() -> None:
    assert backup_name("movie.mkv") == "movie.mkv.vpo-backup"
    assert backup_name("movie.mkv", 2) == "movie.mkv.vpo-backup-2"


def test_destination_keeps_path_or_changes_extension() -> None:
    source = Path("/lib/a.b.m4v")
    assert destination_path(source, Container.MP4, Container.MP4) == source
    assert destination_path(source, Container.MP4, Container.MATROSKA) == Path("/lib/a.b.mkv")
    with pytest.raises(ValueError, match="other"):
        destination_path(source, Container.MP4, Container.OTHER)
