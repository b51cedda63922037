"""``vpo doctor --repair PATH``: a damaged in-place edit is put back byte for byte."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from vpo.apply.journal import Journal, read_regions, write_journal
from vpo.cli.main import cli
from vpo.testmedia.spec import MediaSpec


def _journal_for(media: Path, ranges: list[tuple[int, int]]) -> Journal:
    info = media.stat()
    fd = os.open(media, os.O_RDONLY)
    try:
        regions = read_regions(fd, ranges)
    finally:
        os.close(fd)
    return Journal(media.name, info.st_size, info.st_mtime_ns, info.st_dev, info.st_ino, 1, regions)


def test_repair_restores_an_interrupted_edit_and_says_so(
    media_factory: Callable[..., Path],
) -> None:
    media = media_factory(MediaSpec(), "Show - 01.mkv")
    original = media.read_bytes()
    write_journal(media, _journal_for(media, [(0, 4096)]))
    with media.open("r+b") as stream:  # what a killed mkvpropedit leaves: headers half-written
        stream.seek(100)
        stream.write(b"\xff" * 2000)
        stream.seek(0, 2)
        stream.write(b"grown element")

    result = CliRunner().invoke(cli, ["doctor", "--repair", str(media.parent)])

    assert result.exit_code == 0, result.output
    assert media.read_bytes() == original
    assert f"restored: {media}" in result.output
    assert not any(p.name.startswith(".vpo-") for p in media.parent.iterdir())


def test_repair_with_nothing_to_do_and_a_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["doctor", "--repair", str(tmp_path), "--repair", str(tmp_path / "gone")]
    )
    assert result.exit_code == 1
    assert "nothing to repair" in result.output
    assert f"{tmp_path / 'gone'}: no such file or directory" in result.output


def test_repair_leaves_another_machines_edit_alone_until_told_other_hosts(
    media_factory: Callable[..., Path],
) -> None:
    from dataclasses import replace

    media = media_factory(MediaSpec(), "Show - 02.mkv")
    original = media.read_bytes()
    journal = replace(_journal_for(media, [(0, 4096)]), host="0badc0de")
    write_journal(media, journal)
    with media.open("r+b") as stream:
        stream.seek(100)
        stream.write(b"\xff" * 2000)

    waiting = CliRunner().invoke(cli, ["doctor", "--repair", str(media.parent)])
    assert waiting.exit_code == 1, waiting.output
    assert "journal of an edit by host 0badc0de on another machine" in waiting.output
    assert "vpo doctor --repair --other-hosts" in waiting.output
    assert media.read_bytes() != original

    told = CliRunner().invoke(cli, ["doctor", "--repair", str(media.parent), "--other-hosts"])
    assert told.exit_code == 0, told.output
    assert media.read_bytes() == original
