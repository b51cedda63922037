"""``[jobs] replace = "copy"``: the verified output is written through the original
inode (shared library, hard links), crash-safe under a durable backup."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from vpo.apply.execute import apply_plan
from vpo.apply.recovery import RecoveryAction, RecoveryKind, recover_leftovers
from vpo.apply.settings import ApplySettings
from vpo.media.model import MediaFile
from vpo.plan import Plan, RemovedTrack, identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.testmedia.spec import AudioSpec, MediaSpec, SubtitleSpec
from vpo.tools.locate import ToolPaths

pytestmark = pytest.mark.integration

MediaFactory = Callable[..., Path]
COPY = ApplySettings(stable_seconds=0.0, copy_back=True)
SPEC = MediaSpec(
    audio=(AudioSpec(default=True), AudioSpec(language="fre"), AudioSpec(language="ger")),
    subtitles=(SubtitleSpec(),),
    duration=4.0,
)
OTHER = MediaSpec(audio=(AudioSpec(language="jpn", default=True),), duration=8.0)


def remux_plan(media: MediaFile) -> Plan:
    plan = identity_plan(media, "test")
    return replace(
        plan,
        tracks=plan.tracks[:2],
        removed=(RemovedTrack(2, "x"), RemovedTrack(3, "x"), RemovedTrack(4, "x")),
    )


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_copy_back_keeps_the_inode_and_writes_through_hard_links(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    link = path.parent / "same-movie.mkv"
    link.hardlink_to(path)
    path.chmod(0o640)
    before = path.stat()
    outcome = apply_plan(remux_plan(probe_matroska_headers(path)), tools, COPY)
    after = path.stat()
    assert after.st_ino == before.st_ino
    assert after.st_nlink == 2
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert after.st_mtime_ns == before.st_mtime_ns
    assert len(probe_matroska_headers(link).tracks) == 2  # the other name sees it too
    assert outcome.media.size == after.st_size
    assert listing(path.parent) == ["movie.mkv", "same-movie.mkv"]


def test_copy_back_with_keep_backup_keeps_the_original_beside(
    media_factory: MediaFactory, tools: ToolPaths
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    original = path.read_bytes()
    outcome = apply_plan(
        remux_plan(probe_matroska_headers(path)), tools, replace(COPY, keep_backup=True)
    )
    assert outcome.backup == path.parent / "movie.mkv.vpo-backup"
    assert outcome.backup.read_bytes() == original
    assert listing(path.parent) == ["movie.mkv", "movie.mkv.vpo-backup"]


# Runs in a child: a copy-back that SIGKILLs vpo half-way through writing the output
# into the original (or, with "after", once the copy is complete and verified).
CHILD = """
import os, signal, sys
from dataclasses import replace
from pathlib import Path
from vpo.apply import copyback
from vpo.apply.execute import apply_plan
from vpo.apply.settings import ApplySettings
from vpo.plan import RemovedTrack, identity_plan
from vpo.probe.matroska_headers import probe_matroska_headers
from vpo.tools.locate import locate_tools

path, when = Path(sys.argv[1]), sys.argv[2]
real_copy = copyback._copy
calls = []

def copy_then_die(source, target, *, exclusive):
    calls.append(target)
    if when == "during" and target == path:
        data = source.read_bytes()
        fd = os.open(target, os.O_WRONLY)
        os.pwrite(fd, data[: len(data) // 2], 0)
        os.fsync(fd)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_copy(source, target, exclusive=exclusive)

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

copyback._copy = copy_then_die
if when == "after":
    copyback._keep_or_drop = die
plan = identity_plan(probe_matroska_headers(path), "kill-test")
plan = replace(plan, tracks=plan.tracks[:2],
               removed=(RemovedTrack(2, "x"), RemovedTrack(3, "x"), RemovedTrack(4, "x")))
apply_plan(plan, locate_tools(), ApplySettings(stable_seconds=0.0, copy_back=True))
"""


def _kill_copy_back(path: Path, when: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), when], capture_output=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    names = listing(path.parent)
    assert ".vpo-copyback-movie.mkv" in names
    assert ".vpo-journal-movie.mkv.json" in names


def _recover(path: Path) -> list[RecoveryAction]:
    """Recovery of the directory, without the remux temp the kill also left (its
    removal is tested elsewhere)."""
    actions = recover_leftovers(path.parent)
    return [a for a in actions if a.kind is not RecoveryKind.REMOVED_TEMP]


def test_a_copy_back_killed_half_way_is_restored_from_its_backup(
    media_factory: MediaFactory,
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    original = path.read_bytes()
    _kill_copy_back(path, "during")
    assert path.read_bytes() != original
    actions = _recover(path)
    assert [(a.kind, a.path) for a in actions] == [(RecoveryKind.RESTORED, path)]
    assert actions[0].detail == "restored from its backup after an interrupted copy-back"
    assert path.read_bytes() == original
    assert listing(path.parent) == ["movie.mkv"]


def test_a_copy_back_killed_after_the_copy_keeps_the_verified_output(
    media_factory: MediaFactory,
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    _kill_copy_back(path, "after")
    output = path.read_bytes()
    actions = _recover(path)
    assert [a.kind for a in actions] == [RecoveryKind.RESTORED]
    assert "had completed" in actions[0].detail
    assert path.read_bytes() == output
    assert len(probe_matroska_headers(path).tracks) == 2
    assert listing(path.parent) == ["movie.mkv"]


def test_another_file_copied_over_a_killed_copy_back_is_never_touched(
    media_factory: MediaFactory,
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    other = media_factory(OTHER, "other/new.mkv")
    _kill_copy_back(path, "during")
    subprocess.run(["cp", str(other), str(path)], check=True)
    new_bytes = path.read_bytes()
    actions = _recover(path)
    assert [a.kind for a in actions] == [RecoveryKind.SET_ASIDE]
    assert actions[0].detail.endswith("its backup is kept as .vpo-copyback-movie.mkv")
    assert path.read_bytes() == new_bytes
    assert listing(path.parent) == [
        ".vpo-copyback-movie.mkv",
        "movie.mkv",
        "movie.mkv.vpo-journal-set-aside.json",
    ]


def test_the_replace_setting_reaches_apply_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load = pytest.importorskip("vpo.config.loader")
    models = pytest.importorskip("vpo.config.models")
    monkeypatch.setenv("VPO_JOBS_REPLACE", "copy")
    config = load.load_config().config
    assert ApplySettings.from_jobs_config(config.jobs).copy_back
    assert not ApplySettings.from_jobs_config(models.JobsConfig()).copy_back
    with pytest.raises(ValueError, match="replace"):
        models.JobsConfig(replace="hardlink")


def test_a_backup_left_before_the_journal_was_written_is_removed(
    media_factory: MediaFactory,
) -> None:
    path = media_factory(SPEC, "lib/movie.mkv")
    original = path.read_bytes()
    (path.parent / ".vpo-copyback-movie.mkv").write_bytes(original[:1000])
    actions = recover_leftovers(path.parent)
    assert [a.kind for a in actions] == [RecoveryKind.REMOVED_TEMP]
    assert path.read_bytes() == original
    assert listing(path.parent) == ["movie.mkv"]
