"""Paths are stored absolute with directory symlinks resolved; names keep their bytes."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from vpo.library import Library
from vpo.library.paths import db_key, normalise
from vpo.media.model import MediaFile

MediaBuilder = Callable[..., MediaFile]


def test_relative_absolute_and_symlinked_spellings_are_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real" / "films"
    real.mkdir(parents=True)
    (real / "a.mkv").write_bytes(b"x")
    (tmp_path / "link").symlink_to(real)
    monkeypatch.chdir(real)
    spellings = [
        Path("a.mkv"),
        Path("./a.mkv"),
        real / "a.mkv",
        tmp_path / "link" / "a.mkv",
        tmp_path / "real" / "films" / ".." / "films" / "a.mkv",
    ]
    assert {normalise(p) for p in spellings} == {real.resolve() / "a.mkv"}


def test_a_symlinked_file_keeps_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "target.mkv").write_bytes(b"x")
    (tmp_path / "alias.mkv").symlink_to(tmp_path / "target.mkv")
    assert normalise(tmp_path / "alias.mkv").name == "alias.mkv"


def test_nfc_and_nfd_names_stay_as_the_file_system_has_them(tmp_path: Path) -> None:
    nfc = unicodedata.normalize("NFC", "café.mkv")
    nfd = unicodedata.normalize("NFD", "café.mkv")
    assert db_key(tmp_path / nfc) != db_key(tmp_path / nfd)
    assert db_key(tmp_path / nfd).endswith(os.fsencode(nfd))


def test_a_repointed_directory_symlink_is_followed_not_cached(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    link = tmp_path / "current"
    link.symlink_to(tmp_path / "one")
    assert normalise(link / "a.mkv") == (tmp_path / "one").resolve() / "a.mkv"
    link.unlink()
    link.symlink_to(tmp_path / "two")
    assert normalise(link / "a.mkv") == (tmp_path / "two").resolve() / "a.mkv"


def test_the_library_finds_a_file_stored_relative_by_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_media: MediaBuilder
) -> None:
    (tmp_path / "lib").mkdir()
    monkeypatch.chdir(tmp_path / "lib")
    with Library.open(tmp_path / "library.db") as library:
        media: MediaFile = make_media(Path("a.mkv"))
        library.record_probe(media, 5)
        library.record_probe(make_media(tmp_path / "lib" / "a.mkv"), 5)
        assert library.totals().files == 1
        assert library.file_state(tmp_path / "lib" / "a.mkv") is not None
        assert [p for p, _ in library.iter_paths_under(Path())] == [
            tmp_path.resolve() / "lib" / "a.mkv"
        ]
