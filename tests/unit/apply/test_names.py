from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vpo.apply.names import (
    backup_name,
    destination_path,
    journal_name,
    parse_journal_name,
    parse_temp_name,
    temp_name,
)
from vpo.media.model import Container

file_names = st.text(min_size=1).filter(lambda s: "/" not in s and "\x00" not in s)


@given(name=file_names, pid=st.integers(1, 2**22), token=st.from_regex(r"\A[0-9a-f]{8}\Z"))
def test_temp_names_round_trip(name: str, pid: int, token: str) -> None:
    made = temp_name(name, pid, token)
    assert made.startswith(".vpo-")
    assert parse_temp_name(made) == (pid, name)
    assert made.endswith(name)  # the extension stays last for the tools


@given(name=file_names)
def test_journal_names_round_trip(name: str) -> None:
    made = journal_name(name)
    assert made.startswith(".vpo-")
    assert parse_journal_name(made) == name


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
