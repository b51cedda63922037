"""Discovery walks real temporary trees; nothing here needs media tools."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vpo import discovery
from vpo.discovery import has_media_extension, iter_media_files, normalize_extensions

EXTENSIONS = ("mkv", "mp4")


def touch(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def discover(
    paths: Sequence[Path], *, recursive: bool = True, extensions: Sequence[str] = EXTENSIONS
) -> tuple[list[Path], list[tuple[Path, str]]]:
    errors: list[tuple[Path, str]] = []
    found = list(
        iter_media_files(
            paths,
            extensions,
            recursive=recursive,
            on_error=lambda path, cause: errors.append((path, cause)),
        )
    )
    return found, errors


def test_nested_tree_is_sorted_depth_first_and_filtered(tmp_path: Path) -> None:
    for name in ("b.mkv", "a.MP4", "notes.txt", "z/c.mkv", "m/n/d.mkv", "m/e.mp4", "m/x.srt"):
        touch(tmp_path / name)

    found, errors = discover([tmp_path])

    assert errors == []
    expected = ["a.MP4", "b.mkv", "m/e.mp4", "m/n/d.mkv", "z/c.mkv"]
    assert found == [tmp_path / name for name in expected]


def test_hidden_entries_and_vpo_files_are_skipped(tmp_path: Path) -> None:
    touch(tmp_path / "keep.mkv")
    touch(tmp_path / ".hidden.mkv")
    touch(tmp_path / ".vpo-tmp-keep.mkv-abc123.mkv")
    touch(tmp_path / ".vpo-journal-keep.mkv.json")
    touch(tmp_path / ".Trash" / "deleted.mkv")

    found, errors = discover([tmp_path])

    assert found == [tmp_path / "keep.mkv"]
    assert errors == []


def test_non_recursive_only_lists_the_top_directory(tmp_path: Path) -> None:
    touch(tmp_path / "top.mkv")
    touch(tmp_path / "sub" / "deep.mkv")

    found, _ = discover([tmp_path], recursive=False)

    assert found == [tmp_path / "top.mkv"]


def test_symlink_loop_terminates_and_yields_each_file_once(tmp_path: Path) -> None:
    touch(tmp_path / "a" / "movie.mkv")
    (tmp_path / "a" / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "a" / "self").symlink_to(tmp_path / "a", target_is_directory=True)

    found, errors = discover([tmp_path])

    assert found == [tmp_path / "a" / "movie.mkv"]
    assert errors == []


def test_symlinked_directory_outside_the_tree_is_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    touch(outside / "film.mkv")
    library = tmp_path / "library"
    library.mkdir()
    (library / "linked").symlink_to(outside, target_is_directory=True)

    found, _ = discover([library])

    assert found == [library / "linked" / "film.mkv"]


@pytest.mark.parametrize("link_name", ["0-link.mkv", "z-link.mkv"])
def test_symlink_to_a_file_in_the_walk_is_not_yielded_twice(tmp_path: Path, link_name: str) -> None:
    real = touch(tmp_path / "m-real.mkv")
    (tmp_path / link_name).symlink_to(real)

    found, _ = discover([tmp_path])

    assert found == [real]


def test_symlink_to_a_file_walked_later_is_yielded_once(tmp_path: Path) -> None:
    real = touch(tmp_path / "z" / "real.mkv")
    link = tmp_path / "a" / "link.mkv"
    link.parent.mkdir()
    link.symlink_to(real)

    found, _ = discover([tmp_path])

    assert found == [link]


def test_hard_links_are_yielded_once(tmp_path: Path) -> None:
    first = touch(tmp_path / "downloads" / "movie.mkv")
    second = tmp_path / "library" / "movie.mkv"
    second.parent.mkdir()
    os.link(first, second)

    found, _ = discover([tmp_path])

    assert found == [first]


def test_overlapping_arguments_yield_each_file_once(tmp_path: Path) -> None:
    inner = touch(tmp_path / "show" / "s01" / "e01.mkv")
    outer = touch(tmp_path / "show" / "extra.mkv")

    found, _ = discover([tmp_path / "show" / "s01", tmp_path, inner, outer])

    assert found == [inner, outer]


def test_explicit_file_is_yielded_whatever_its_extension(tmp_path: Path) -> None:
    odd = touch(tmp_path / "recording.weird")
    hidden = touch(tmp_path / ".explicit.mkv")

    found, errors = discover([odd, hidden])

    assert found == [odd, hidden]
    assert errors == []


def test_explicit_file_then_its_directory_is_yielded_once(tmp_path: Path) -> None:
    movie = touch(tmp_path / "movie.mkv")

    found, _ = discover([movie, tmp_path])

    assert found == [movie]


def test_explicit_vpo_temp_file_is_reported_not_yielded(tmp_path: Path) -> None:
    temp = touch(tmp_path / ".vpo-tmp-movie.mkv-1234.mkv")

    found, errors = discover([temp])

    assert found == []
    assert errors == [(temp, "a temporary file of vpo itself; skipped")]


def test_missing_path_is_reported_and_walk_goes_on(tmp_path: Path) -> None:
    present = touch(tmp_path / "present.mkv")
    missing = tmp_path / "gone.mkv"

    found, errors = discover([missing, present])

    assert found == [present]
    assert errors == [(missing, "no such file or directory")]


def test_broken_symlinks_are_reported(tmp_path: Path) -> None:
    (tmp_path / "dangling.mkv").symlink_to(tmp_path / "nowhere.mkv")

    found, errors = discover([tmp_path])

    assert found == []
    assert errors == [(tmp_path / "dangling.mkv", "broken symbolic link")]


def test_special_files_named_explicitly_are_reported(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.mkv"
    os.mkfifo(fifo)

    found, errors = discover([fifo, tmp_path])

    assert found == []
    assert errors == [(fifo, "not a regular file or directory")]


def test_unreadable_directory_is_reported_and_siblings_still_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, where chmod 000 does not stop reading; simulate the kernel's answer.
    locked = tmp_path / "locked"
    touch(locked / "secret.mkv")
    visible = touch(tmp_path / "open" / "movie.mkv")
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discovery.os, "scandir", scandir)

    found, errors = discover([tmp_path])

    assert found == [visible]
    assert errors == [(locked, "permission denied")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 directory anyway")
def test_chmod_000_directory_is_reported(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    touch(locked / "secret.mkv")
    locked.chmod(0)
    try:
        found, errors = discover([tmp_path])
    finally:
        locked.chmod(0o755)
    assert found == []
    assert errors == [(locked, "permission denied")]


@pytest.mark.parametrize(
    "name",
    ["with space.mkv", "new\nline.mkv", "ünïcødé 映画.mkv", "-leading-dash.mkv", "quo'te\".mkv"],
)
def test_odd_names_are_found_intact(tmp_path: Path, name: str) -> None:
    movie = touch(tmp_path / name)

    found, errors = discover([tmp_path])

    assert found == [movie]
    assert errors == []


def test_discovery_streams(tmp_path: Path) -> None:
    """The first file arrives before later directories are listed."""
    touch(tmp_path / "a" / "first.mkv")
    touch(tmp_path / "b" / "second.mkv")
    listed: list[Path] = []
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        listed.append(Path(path))
        return real_scandir(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(discovery.os, "scandir", scandir)
        iterator: Iterator[Path] = iter_media_files([tmp_path], EXTENSIONS, on_error=print)
        assert next(iterator) == tmp_path / "a" / "first.mkv"
        assert tmp_path / "b" not in listed
        assert list(iterator) == [tmp_path / "b" / "second.mkv"]


_PEAK_SCRIPT = """
import sys, tracemalloc
from pathlib import Path
from vpo.discovery import iter_media_files
tracemalloc.start()
count = sum(1 for _ in iter_media_files([Path(sys.argv[1])], ["mkv"], on_error=print))
print(count, tracemalloc.get_traced_memory()[1])
"""


@pytest.mark.slow
def test_memory_does_not_grow_with_file_count(tmp_path: Path) -> None:
    """Ten times the files costs only the bookkeeping of the extra directories.

    Measured in a fresh interpreter: threads left by other tests would allocate
    while tracemalloc watches and make the figure meaningless.
    """

    def peak_for(root: Path, groups: int, per_group: int) -> int:
        for g in range(groups):
            for d in range(per_group):
                folder = root / f"g{g:02}" / f"d{d:02}"
                folder.mkdir(parents=True)
                for f in range(100):
                    (folder / f"f{f:03}.mkv").touch()
        output = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, str(root)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        assert int(output[0]) == groups * per_group * 100
        return int(output[1])

    small = peak_for(tmp_path / "small", 20, 1)  # 2,000 files
    large = peak_for(tmp_path / "large", 20, 10)  # 20,000 files
    # Per-file state (a set entry is >= 60 bytes) would add more than 1 MB for the
    # 18,000 extra files. What does grow is a one-off resize of the interpreter's
    # interned-string table (about 400 kB, seen with tracemalloc snapshots; it stays
    # at that size up to 160,000 files), hence the margin.
    assert large - small < 700_000


@given(
    name=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"),
        min_size=1,
        max_size=20,
    ),
    extension=st.sampled_from(["mkv", "MKV", "Mp4", "avi", "txt", ""]),
)
@settings(max_examples=200)
def test_extension_match_is_case_insensitive_suffix(name: str, extension: str) -> None:
    filename = f"{name}.{extension}" if extension else name
    wanted = normalize_extensions([".MKV", "mp4"])
    expected = "." in filename and filename.rsplit(".", 1)[1].lower() in {"mkv", "mp4"}
    assert has_media_extension(filename, wanted) is expected
