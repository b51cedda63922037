"""Names at the file system's limit, clocks in the future, a full disk under ffmpeg
(issue 10 item 10, the apply parts)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from vpo.apply.execute import apply_plan
from vpo.apply.recovery import RecoveryKind, recover_leftovers
from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile
from vpo.plan import Plan, RemovedTrack, identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths
from vpo.tools.runner import ToolError

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
STUBS = Path(__file__).resolve().parents[1] / "stubs"
SETTINGS = ApplySettings(stable_seconds=0.0)
SPEC = MediaSpec(
    audio=(AudioSpec(default=True), AudioSpec(language="fre"), AudioSpec(language="ger")),
    subtitles=(SubtitleSpec(),),
)
MP4 = MediaSpec(container="mp4", audio=(AudioSpec(default=True), AudioSpec()))
LONG_NAMES = ["a" * 251 + ".mkv", "é" * 125 + ".mkv", "x" * 200 + " " + "ü" * 25 + ".mkv"]


def remux_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    return replace(
        plan,
        tracks=plan.tracks[:2],
        removed=(RemovedTrack(2, "x"), RemovedTrack(3, "x"), RemovedTrack(4, "x")),
    )


def header_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    tracks = list(plan.tracks)
    tracks[2] = replace(tracks[2], language="spa", title="Spanish")
    return replace(plan, tracks=tuple(tracks))


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("name", LONG_NAMES)
def test_a_name_of_255_bytes_is_remuxed(
    media_factory: MediaFactory, tools: ToolPaths, name: str
) -> None:
    assert len(os.fsencode(name)) in (254, 255)
    path = media_factory(SPEC, f"lib/{name}")
    outcome = apply_plan(remux_plan(probe_matroska_headers(path)), tools, SETTINGS)
    assert len(outcome.media.tracks) == 2
    assert listing(path.parent) == [name]


@pytest.mark.parametrize("name", LONG_NAMES)
def test_a_name_of_255_bytes_is_edited_in_place_and_with_a_backup(
    media_factory: MediaFactory, tools: ToolPaths, name: str
) -> None:
    path = media_factory(SPEC, f"lib/{name}")
    outcome = apply_plan(header_plan(probe_matroska_headers(path)), tools, SETTINGS)
    assert outcome.in_place
    assert probe_matroska_headers(path).tracks[2].language == "spa"
    assert listing(path.parent) == [name]
    again = header_plan(probe_matroska_headers(path))
    tracks = list(again.tracks)
    tracks[2] = replace(tracks[2], language="ita")
    kept = apply_plan(
        replace(again, tracks=tuple(tracks)), tools, replace(SETTINGS, keep_backup=True)
    )
    assert kept.backup is not None
    assert len(os.fsencode(kept.backup.name)) <= 255
    assert listing(path.parent) == sorted([name, kept.backup.name])


CHILD = """
import sys
from dataclasses import replace
from pathlib import Path
from vpo.apply.execute import apply_plan
from vpo.apply.settings import ApplySettings
from vpo.plan import identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.tools.locate import locate_tools

path = Path(sys.argv[1])
tools = replace(locate_tools(), mkvpropedit=sys.argv[2])
plan = identity_plan(probe_matroska_headers(path), "kill-test")
tracks = list(plan.tracks)
tracks[2] = replace(tracks[2], title="Killed", language="spa")
apply_plan(replace(plan, tracks=tuple(tracks)), tools, ApplySettings(stable_seconds=0.0))
"""


def test_a_killed_edit_of_a_255_byte_name_is_recovered(media_factory: MediaFactory) -> None:
    name = LONG_NAMES[0]
    path = media_factory(SPEC, f"lib/{name}")
    original = path.read_bytes()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(STUBS / "mkvpropedit-die-mid-write")],
        capture_output=True,
        env={**os.environ, "VPO_STUB_KILL_PARENT": "1"},
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert path.read_bytes() != original
    assert len(listing(path.parent)) == 2  # the media file and its (shortened) journal
    actions = recover_leftovers(path)  # one file: finds its own shortened journal
    assert [(a.kind, a.path) for a in actions] == [(RecoveryKind.RESTORED, path)]
    assert path.read_bytes() == original
    assert listing(path.parent) == [name]


def test_a_file_with_an_mtime_in_the_future_is_processed(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC)
    future = time.time_ns() + 365 * 24 * 3600 * 10**9
    os.utime(path, ns=(future, future))
    time.sleep(0.05)  # the ctime (set by utime just now) must be older than stable_seconds
    settings = replace(SETTINGS, stable_seconds=0.01)
    outcome = apply_plan(remux_plan(probe_matroska_headers(path)), tools, settings)
    assert len(outcome.media.tracks) == 2
    assert path.stat().st_mtime_ns == future  # preserve_mtime keeps even a future mtime


@contextlib.contextmanager
def small_filesystem(where: Path, megabytes: int) -> Iterator[Path]:
    image = where / "fs.img"
    mount_point = where / "mnt"
    mount_point.mkdir()
    with image.open("wb") as stream:
        stream.truncate(megabytes * 1024 * 1024)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("mkfs.ext4 unavailable")
    mounted = subprocess.run(
        ["mount", "-o", "loop", str(image), str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount ({mounted.stderr.decode().strip()})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)


def fill(filler: Path) -> None:
    """Take every free block, down to the last one."""
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 10, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)


def test_disk_full_under_ffmpeg_says_no_space_left(
    media_factory: MediaFactory, tools: ToolPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = pytest.importorskip("vpo.probe.probe")
    source = media_factory(MP4)
    with small_filesystem(tmp_path, 8) as disk:
        path = disk / "movie.mp4"
        shutil.copyfile(source, path)
        original = path.read_bytes()
        plan = identity_plan(probe.probe_file(path, tools), "test")
        plan = replace(plan, tracks=plan.tracks[:2], removed=(RemovedTrack(2, "x"),))
        fill(disk / "filler")
        monkeypatch.setattr("vpo.apply.preflight.free_bytes", lambda directory: 1 << 40)
        with pytest.raises(ToolError) as caught:
            apply_plan(plan, tools, SETTINGS)
        assert str(caught.value) == (
            f"{path}: ffmpeg failed (exit 1): no space left on {disk} while writing the "
            "output; the original is unchanged (free space or set [jobs] temp_dir)"
        )
        assert path.read_bytes() == original
        assert listing(disk) == ["filler", "lost+found", "movie.mp4"]
